/**
 * The SDK's tunnel types: options, deposit and withdrawal states, summaries. Txids and block hashes are display
 * order (as bitcoind shows them).
 */
import type { Provider, Signer } from "ethers";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import type { WithdrawalRequestedFields } from "../evm/tunnelAbi";
import type { VaultInfo, VaultStatusName, WithdrawalStatusName } from "./abi";
import type { BitcoinNetworkName } from "./addresses";
import type { BuiltDeposit } from "./depositTx";

export interface TunnelClientOptions {
  /** EVM provider for reads and event queries. */
  provider: Provider;
  /** EVM signer for withdrawals and for proving deposits yourself (optional for read-only use). */
  signer?: Signer;
  /** A bitcoind JSON-RPC client (the embedded regtest node or a real bitcoind). */
  bitcoin: BitcoinRpcClient;
  /** BitcoinTunnel address. */
  tunnel: string;
  /** Bitcoin network of the tunnel's light client (addresses are checked against it). */
  network: BitcoinNetworkName;
  /** EVM block to search the tunnel's events from (its deployment block); default 0. */
  fromBlock?: number;
  /** Poll interval of `trackDeposit` / `trackWithdrawal`, default 1000 ms. */
  pollIntervalMs?: number;
}

/** What a wallet needs to make a deposit to a vault for `recipient`. */
export interface DepositInstructions {
  vaultId: number;
  /** Address of the vault's custody script on the tunnel's network (pay the amount here). */
  address: string;
  /** Custody script, hex. */
  custodyScript: string;
  recipient: string;
  /** The OP_RETURN output's script, `6a14 || recipient`, hex (the transaction must have exactly one OP_RETURN). */
  opReturnScript: string;
  /** The OP_RETURN data alone (the recipient's 20 bytes), hex: what wallets that take "data" outputs ask for. */
  opReturnHex: string;
  /** Smaller outputs are never minted. */
  minDeposit: bigint;
  /** Bitcoin confirmations before the deposit can be minted. */
  confirmations: number;
  depositFeeBps: number;
  depositFlatFee: bigint;
  /** The tunnel's fee for `amount` (flat + amount * bps / 10000, capped at the amount). */
  tunnelFee(amount: bigint): bigint;
  /** Approximate Bitcoin network fee of a one-input P2WPKH deposit at `feeRate` sat/vB. */
  networkFee(feeRate: number): bigint;
}

/** Stages of a deposit, in order. */
export type DepositStage = "not-found" | "mempool" | "mined" | "ready" | "minted";

/**
 * Where a deposit is. `not-found`: the node does not know the transaction. `mempool`: broadcast, unconfirmed.
 * `mined`: in a block, waiting for confirmations, for the light client to learn the block, or for its Paused vault to
 * be resumed. `ready`: the light client has the block with the vault's confirmations and the vault takes it; anyone
 * (the relayer) may mint it now. `minted`: done. A deposit to a Closing vault in a block above the vault's
 * `depositsUntilHeight` (or still unconfirmed once the tip has reached it) can never be minted: NotADepositError.
 */
export interface DepositStatus {
  stage: DepositStage;
  /** Display order. */
  txid: string;
  vout?: number;
  vaultId?: number;
  recipient?: string;
  sats?: bigint;
  blockHash?: string;
  blockHeight?: number;
  /** Bitcoin confirmations as the node counts them. */
  confirmations: number;
  /** Confirmations of the deposit's block in the light client (0 until it has the block). */
  lightClientConfirmations: number;
  /** The vault's required confirmations. */
  required: number;
  /** The vault's status (set once the deposit is decoded and not yet minted); Paused holds the deposit at `mined`. */
  vaultStatus?: VaultStatusName;
  sequence?: bigint;
  minted?: bigint;
  inBitcoinOrder?: boolean;
  evmTxHash?: string;
  evmBlockNumber?: number;
}

/** A deposit sent from the Bitcoin node's wallet. */
export interface SentDeposit extends BuiltDeposit {
  /** The wallet transaction that funded the one-time key that signed the deposit. */
  fundingTxid: string;
  vaultId: number;
  recipient: string;
  amountSats: bigint;
}

/** A withdrawal just requested. */
export interface WithdrawalRequest extends WithdrawalRequestedFields {
  /** What the payout pays: sats - fee. */
  payout: bigint;
  evmTxHash: string;
  evmBlockNumber: number;
}

/** Stages of a withdrawal, in order (`challenged` replaces the payout stages when the operator did not pay). */
export type WithdrawalStage = "requested" | "payout-broadcast" | "payout-mined" | "finalized" | "challenged";

/** Where a withdrawal is. */
export interface WithdrawalStatus {
  stage: WithdrawalStage;
  id: bigint;
  vaultId: number;
  requester: string;
  status: WithdrawalStatusName;
  btcScript: string;
  /** The destination as an address, when the script has one. */
  btcAddress?: string;
  sats: bigint;
  fee: bigint;
  deadline: number;
  /** Payout transaction, display order (found by its OP_RETURN <id>, amount and script checked). */
  payoutTxid?: string;
  payoutBlockHash?: string;
  payoutBlockHeight?: number;
  confirmations: number;
  lightClientConfirmations: number;
  required: number;
  paid?: bigint;
  requestTxHash: string;
  finalizeTxHash?: string;
}

/** A line of the tunnel's recent deposits. */
export interface DepositEventInfo {
  txid: string;
  vout: number;
  recipient: string;
  sats: bigint;
  minted: bigint;
  sequence: bigint;
  evmTxHash: string;
  evmBlockNumber: number;
}

/** The tunnel at a glance. */
export interface TunnelSummary {
  network: BitcoinNetworkName;
  tunnel: string;
  token: string;
  lightClient: string;
  paused: boolean;
  bitcoinTip: { height: number; hash: string };
  lightClientBest: { height: number; hash: string };
  totalSupply: bigint;
  depositCount: bigint;
  withdrawalCount: bigint;
  vaults: (VaultInfo & { address?: string })[];
  recentDeposits: DepositEventInfo[];
  recentWithdrawals: WithdrawalStatusLine[];
}

/** A line of the tunnel's recent withdrawals. */
export interface WithdrawalStatusLine {
  id: bigint;
  vaultId: number;
  requester: string;
  status: WithdrawalStatusName;
  sats: bigint;
  fee: bigint;
  btcAddress?: string;
  btcScript: string;
}

export interface TrackOptions<S> {
  /** Called with every new state (a change of stage or of a confirmation count). */
  onUpdate?: (status: S) => void;
  /** Give up after this long (TrackTimeoutError); default 10 minutes. */
  timeoutMs?: number;
}
