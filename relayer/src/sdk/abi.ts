/**
 * The tunnel's public ABI as the SDK uses it (human-readable, with the custom errors so that reverts decode),
 * and typed views of the structs it returns. Hashes are bytes32 in internal byte order, amounts are satoshis.
 */
import { TUNNEL_COMMON_FRAGMENTS, type DepositRecord } from "../evm/tunnelAbi";

/** BitcoinTunnel: deposits, withdrawals, vaults and their events and errors. */
export const TUNNEL_ABI = [
  ...TUNNEL_COMMON_FRAGMENTS,
  "error EnforcedPause()",
  "error UnknownVault(uint32 vaultId)",
  "error BadVaultStatus(uint32 vaultId, uint8 status)",
  "error OutputIndexOutOfRange(uint256 index, uint256 count)",
  "error NotACustodyScript(bytes32 scriptHash)",
  "error VaultNotAcceptingDeposits(uint32 vaultId, uint8 status, uint32 blockHeight)",
  "error DepositBelowMinimum(uint32 vaultId, uint64 sats, uint64 minDeposit)",
  "error MissingOpReturn()",
  "error MultipleOpReturns(uint256 firstIndex, uint256 secondIndex)",
  "error MalformedOpReturn(uint256 outputIndex)",
  "error ZeroRecipient()",
  "error DepositAlreadyConfirmed(bytes32 txid, uint32 vout, uint64 sequence)",
  "error UnsupportedWithdrawalScript(bytes script)",
  "error WithdrawalTooSmall(uint64 sats, uint64 fee, uint64 dustLimit)",
  "error NoVaultCanServe(uint64 sats)",
  "error InsufficientCustody(uint32 vaultId, uint64 available, uint64 sats)",
  "error InsufficientBond(uint32 vaultId, uint64 freeBond, uint64 sats)",
  "error WithdrawalNotPending(uint64 id, uint8 status)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
] as const;

/** HemiBTC: the ERC-20 parts a dApp reads. */
export const HEMI_BTC_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function totalSupply() view returns (uint256)",
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
] as const;

/** The light client views the SDK reads. */
export const SDK_LIGHT_CLIENT_ABI = [
  "function bestBlock() view returns (bytes32 hash, uint32 height)",
  "function confirmations(bytes32 blockHash, uint32 height) view returns (uint32)",
  "function blockHashAt(uint32 height) view returns (bytes32)",
] as const;

/** BitcoinTunnel.VaultStatus, by enum value. */
export const VAULT_STATUS = ["None", "Live", "Paused", "Closing", "Slashed"] as const;
export type VaultStatusName = (typeof VAULT_STATUS)[number];

/** BitcoinTunnel.WithdrawalStatus, by enum value. */
export const WITHDRAWAL_STATUS = ["None", "Pending", "Finalized", "Challenged"] as const;
export type WithdrawalStatusName = (typeof WITHDRAWAL_STATUS)[number];

/** A vault as `vault(id)` returns it, with the custody script from its VaultCreated event. */
export interface VaultInfo {
  id: number;
  status: VaultStatusName;
  operator: string;
  confirmations: number;
  depositFeeBps: number;
  depositFlatFee: bigint;
  withdrawalFeeBps: number;
  withdrawalFlatFee: bigint;
  minDeposit: bigint;
  /** Closing: deposits in Bitcoin blocks at or below this height are still minted (0 while not Closing). */
  depositsUntilHeight: number;
  custody: bigint;
  pending: bigint;
  accruedFees: bigint;
  bond: bigint;
  /** Raw custody script, hex without 0x. */
  custodyScript: string;
}

/** `depositRecord(txid, vout)`; sequence 0 means not minted. */
export type DepositRecordInfo = DepositRecord;

/** `withdrawal(id)`. */
export interface WithdrawalInfo {
  requester: string;
  vaultId: number;
  status: WithdrawalStatusName;
  deadline: number;
  sats: bigint;
  fee: bigint;
  /** First 16 bytes of keccak256(btcScript), 0x-hex. */
  btcScriptHash: string;
}

/** Reads field `name` of an ethers Result-like struct as a bigint. */
function big(v: unknown, name: string): bigint {
  if (typeof v !== "bigint") throw new Error(`tunnel ABI: field ${name} is not an integer`);
  return v;
}

/** Field `name` of a decoded struct (an ethers Result, turned into a plain object first). */
function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== "object") throw new Error(`tunnel ABI: not a struct (reading ${name})`);
  const withToObject = obj as { toObject?: () => Record<string, unknown> };
  const rec = typeof withToObject.toObject === "function" ? withToObject.toObject() : (obj as Record<string, unknown>);
  if (!(name in rec)) throw new Error(`tunnel ABI: missing field ${name}`);
  return rec[name];
}

/** Decodes the `vault(id)` tuple. */
export function toVaultInfo(id: number, raw: unknown, custodyScript: string): VaultInfo {
  const n = (k: string): number => Number(big(field(raw, k), k));
  const b = (k: string): bigint => big(field(raw, k), k);
  return {
    id,
    status: VAULT_STATUS[n("status")] ?? "None",
    operator: String(field(raw, "operator")),
    confirmations: n("confirmations"),
    depositFeeBps: n("depositFeeBps"),
    depositFlatFee: b("depositFlatFee"),
    withdrawalFeeBps: n("withdrawalFeeBps"),
    withdrawalFlatFee: b("withdrawalFlatFee"),
    minDeposit: b("minDeposit"),
    depositsUntilHeight: n("depositsUntilHeight"),
    custody: b("custody"),
    pending: b("pending"),
    accruedFees: b("accruedFees"),
    bond: b("bond"),
    custodyScript,
  };
}

/** Decodes the `depositRecord` tuple. */
export function toDepositRecord(raw: unknown): DepositRecordInfo {
  return {
    sequence: big(field(raw, "sequence"), "sequence"),
    blockHeight: Number(big(field(raw, "blockHeight"), "blockHeight")),
    txIndex: Number(big(field(raw, "txIndex"), "txIndex")),
    vaultId: Number(big(field(raw, "vaultId"), "vaultId")),
    inBitcoinOrder: field(raw, "inBitcoinOrder") === true,
  };
}

/** Decodes the `withdrawal(id)` tuple. */
export function toWithdrawalInfo(raw: unknown): WithdrawalInfo {
  return {
    requester: String(field(raw, "requester")),
    vaultId: Number(big(field(raw, "vaultId"), "vaultId")),
    status: WITHDRAWAL_STATUS[Number(big(field(raw, "status"), "status"))] ?? "None",
    deadline: Number(big(field(raw, "deadline"), "deadline")),
    sats: big(field(raw, "sats"), "sats"),
    fee: big(field(raw, "fee"), "fee"),
    btcScriptHash: String(field(raw, "btcScriptHash")),
  };
}
