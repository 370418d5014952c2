/** Bitcoin Core's JSON-RPC error codes (src/rpc/protocol.h) and the error the node's methods throw. */

export const RpcCode = {
  MISC_ERROR: -1,
  TYPE_ERROR: -3,
  WALLET_ERROR: -4,
  INVALID_ADDRESS_OR_KEY: -5,
  WALLET_INSUFFICIENT_FUNDS: -6,
  INVALID_PARAMETER: -8,
  WALLET_NOT_FOUND: -18,
  WALLET_NOT_SPECIFIED: -19,
  WALLET_ALREADY_LOADED: -35,
  WALLET_ALREADY_EXISTS: -36,
  DATABASE_ERROR: -20,
  METHOD_DEPRECATED: -32,
  DESERIALIZATION_ERROR: -22,
  VERIFY_ERROR: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  PARSE_ERROR: -32700,
} as const;

/** An error a node method reports to the caller as a JSON-RPC error object `{code, message}`. */
export class RpcMethodError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "RpcMethodError";
  }
}

/** A transaction rejected by validation: Bitcoin Core's reject reason (e.g. "bad-txns-in-belowout, ...") and code. */
export class TxRejectedError extends RpcMethodError {
  constructor(
    code: number,
    readonly reason: string,
  ) {
    super(code, reason);
    this.name = "TxRejectedError";
  }
}
