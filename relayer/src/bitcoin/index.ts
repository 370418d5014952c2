/** The relayer's Bitcoin side: the bitcoind JSON-RPC client, the embedded regtest node, tx and proof helpers. */
export * from "./byteOrder";
export * from "./rpcClient";
export * from "./txBuilder";
export * from "./txProof";
export {
  startRegtestNode,
  RegtestNode,
  RpcCode,
  RpcMethodError,
  TxRejectedError,
  DEFAULT_RPC_PORT,
  DEFAULT_RPC_USER,
  DEFAULT_RPC_PASSWORD,
  COOKIE_USER,
  type RegtestNodeOptions,
  type RunningRegtestNode,
} from "./node";
