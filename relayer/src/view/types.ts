/**
 * The JSON the live view's page polls (GET /api/state). Hashes and txids are display order (as bitcoind shows
 * them) for Bitcoin and 0x-hex for the EVM; amounts are strings of satoshis (no bigint in JSON).
 */

export interface ViewBitcoinBlock {
  height: number;
  hash: string;
  /** Block time, unix seconds. */
  time: number;
  txs: number;
}

export interface ViewBitcoin {
  tipHeight: number;
  tipHash: string;
  /** The newest blocks, tip first. */
  blocks: ViewBitcoinBlock[];
  mempool: number;
}

export interface ViewLightClient {
  height: number;
  hash: string;
  /** The node's best-chain block at the light client's height. */
  nodeHashAtHeight: string | null;
  /** The light client's best block is the node's block at that height. */
  matches: boolean;
  /** Node tip height - light client height. */
  behind: number;
}

export interface ViewPublication {
  /** Display order. */
  txid: string;
  btcHeight: number;
  btcBlockHash: string;
  miner: string;
}

/** Finality stage of a keystone: recorded in the ledger, published (a proven publication), superfinal. */
export type KeystoneStage = "recorded" | "published" | "superfinal";

export interface ViewKeystone {
  number: number;
  /** Keystone hash, 0x internal order (what BFG's API takes). */
  id: string;
  /** The ledger's Bitcoin height field (L1 block number). */
  btcHeight: number;
  recordedAtBlock: number;
  publications: ViewPublication[];
  /** PopVerifier.keystoneFinality: BFG's rule on chain. */
  effectiveConfirmations: number;
  superfinal: boolean;
  /** The keystone whose publication gives the confirmations (0: none). */
  fromKeystone: number;
  stage: KeystoneStage;
}

export interface ViewKeystones {
  interval: number;
  first: number;
  /** The last recorded keystone (0: none yet). */
  last: number;
  /** The newest recorded keystones, newest first. */
  items: ViewKeystone[];
  /** The newest superfinal keystone (searched further back than `items` when none of them is), or null. */
  newestSuperfinal: ViewKeystone | null;
}

/** mempool: broadcast, unconfirmed; confirming: in a block, found by the relayer, not minted yet; minted. */
export type DepositState = "mempool" | "confirming" | "minted";

export interface ViewDeposit {
  /** "<txid>:<vout>". */
  key: string;
  txid: string;
  vout: number;
  state: DepositState;
  sats: string;
  recipient: string | null;
  vaultId: number | null;
  blockHeight: number | null;
  /** Node confirmations (0 in the mempool); null once minted. */
  confirmations: number | null;
  /** The vault's required confirmations, when known. */
  required: number | null;
  sequence: number | null;
  minted: string | null;
  evmTxHash: string | null;
  evmBlock: number | null;
}

/** requested: hemiBTC burnt, no payout yet; paid: the relayer's payout is broadcast; finalized; challenged. */
export type WithdrawalState = "requested" | "paid" | "finalized" | "challenged";

export interface ViewWithdrawal {
  id: string;
  vaultId: number;
  requester: string;
  sats: string;
  fee: string;
  /** Unix seconds (the tunnel's deadline for the payout proof). */
  deadline: number;
  state: WithdrawalState;
  payoutTxid: string | null;
  payoutHeight: number | null;
  paid: string | null;
  requestTxHash: string;
  closeTxHash: string | null;
}

export interface ViewState {
  /** When this snapshot was read (ISO). */
  at: string;
  chainId: number;
  evmHead: number;
  bitcoin: ViewBitcoin;
  lightClient: ViewLightClient;
  keystones: ViewKeystones;
  /** Newest first (unminted first, then minted by sequence, highest first). */
  deposits: ViewDeposit[];
  /** Newest first. */
  withdrawals: ViewWithdrawal[];
  /** Reads that failed in this snapshot (the rest is still shown). */
  errors: string[];
}
