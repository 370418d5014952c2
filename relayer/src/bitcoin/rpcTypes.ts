/**
 * Result shapes of the bitcoind JSON-RPC methods the project uses, with Bitcoin Core's field names.
 * Hashes and txids are display-order hex, amounts are BTC numbers, as bitcoind returns them.
 */

export interface ScriptPubKeyInfo {
  asm: string;
  desc: string;
  hex: string;
  address?: string;
  type: string;
}

export interface TxInputInfo {
  /** Coinbase inputs: the scriptSig hex. */
  coinbase?: string;
  txid?: string;
  vout?: number;
  scriptSig?: { asm: string; hex: string };
  txinwitness?: string[];
  /** getblock verbosity 3: the output this input spends. */
  prevout?: { generated: boolean; height: number; value: number; scriptPubKey: ScriptPubKeyInfo };
  sequence: number;
}

/** gettxspendingprevout: one queried outpoint, with the mempool transaction spending it if any. */
export interface TxSpendingPrevout {
  txid: string;
  vout: number;
  spendingtxid?: string;
}

export interface TxOutputInfo {
  value: number;
  n: number;
  scriptPubKey: ScriptPubKeyInfo;
}

/** decoderawtransaction. */
export interface DecodedTransaction {
  txid: string;
  hash: string;
  version: number;
  size: number;
  vsize: number;
  weight: number;
  locktime: number;
  vin: TxInputInfo[];
  vout: TxOutputInfo[];
}

/** getrawtransaction with verbose = true. */
export interface RawTransactionInfo extends DecodedTransaction {
  hex: string;
  blockhash?: string;
  confirmations?: number;
  time?: number;
  blocktime?: number;
}

/** A transaction inside getblock verbosity 2. */
export interface BlockTransactionInfo extends DecodedTransaction {
  hex: string;
  /** Absent for the coinbase. */
  fee?: number;
}

/** getblockheader with verbose = true. */
export interface BlockHeaderInfo {
  hash: string;
  /** -1 when the block is not on the active chain. */
  confirmations: number;
  height: number;
  version: number;
  versionHex: string;
  merkleroot: string;
  time: number;
  mediantime: number;
  nonce: number;
  /** Compact target as 8 hex digits, e.g. "207fffff". */
  bits: string;
  target: string;
  difficulty: number;
  chainwork: string;
  nTx: number;
  previousblockhash?: string;
  nextblockhash?: string;
}

/** getblock verbosity 1. */
export interface BlockInfo extends BlockHeaderInfo {
  strippedsize: number;
  size: number;
  weight: number;
  tx: string[];
}

/** getblock verbosity 2. */
export interface BlockInfoWithTxs extends Omit<BlockInfo, "tx"> {
  tx: BlockTransactionInfo[];
}

export interface BlockchainInfo {
  chain: string;
  blocks: number;
  headers: number;
  bestblockhash: string;
  bits: string;
  target: string;
  difficulty: number;
  time: number;
  mediantime: number;
  verificationprogress: number;
  initialblockdownload: boolean;
  chainwork: string;
  size_on_disk: number;
  pruned: boolean;
  warnings: string[];
}

/** gettxout (null when spent or unknown). */
export interface TxOutInfo {
  bestblock: string;
  confirmations: number;
  value: number;
  scriptPubKey: ScriptPubKeyInfo;
  coinbase: boolean;
}

export interface MempoolEntryInfo {
  vsize: number;
  weight: number;
  time: number;
  height: number;
  descendantcount: number;
  descendantsize: number;
  ancestorcount: number;
  ancestorsize: number;
  wtxid: string;
  fees: { base: number; modified: number; ancestor: number; descendant: number };
  depends: string[];
  spentby: string[];
  "bip125-replaceable": boolean;
  unbroadcast: boolean;
}

export interface MempoolInfo {
  loaded: boolean;
  size: number;
  bytes: number;
  usage: number;
  total_fee: number;
  maxmempool: number;
  mempoolminfee: number;
  minrelaytxfee: number;
  /** BTC/kvB a replacement pays for its own size (Core 24+). */
  incrementalrelayfee?: number;
  /** Replacement without BIP125 signalling (Core 24+; on by default since 28). */
  fullrbf?: boolean;
}

/** listunspent entries. */
export interface UnspentOutput {
  txid: string;
  vout: number;
  address: string;
  label: string;
  scriptPubKey: string;
  amount: number;
  confirmations: number;
  spendable: boolean;
  solvable: boolean;
  desc: string;
  parent_descs: string[];
  safe: boolean;
}

export interface ScanTxOutSetUnspent {
  txid: string;
  vout: number;
  scriptPubKey: string;
  desc: string;
  amount: number;
  coinbase: boolean;
  height: number;
  blockhash: string;
  confirmations: number;
}

export interface ScanTxOutSetResult {
  success: boolean;
  txouts: number;
  height: number;
  bestblock: string;
  unspents: ScanTxOutSetUnspent[];
  total_amount: number;
}

export interface EstimateSmartFeeResult {
  /** BTC/kvB. */
  feerate?: number;
  errors?: string[];
  blocks: number;
}

export interface GenerateBlockResult {
  hash: string;
  hex?: string;
}

export interface ChainTip {
  height: number;
  hash: string;
  branchlen: number;
  status: string;
}

export interface MempoolAcceptResult {
  txid: string;
  wtxid: string;
  allowed?: boolean;
  vsize?: number;
  fees?: { base: number };
  "reject-reason"?: string;
}

export interface NetworkInfo {
  version: number;
  subversion: string;
  protocolversion: number;
  localservices: string;
  localrelay: boolean;
  timeoffset: number;
  networkactive: boolean;
  connections: number;
  networks: unknown[];
  relayfee: number;
  incrementalfee: number;
  localaddresses: unknown[];
  warnings: string[];
}
