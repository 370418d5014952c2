/**
 * The tunnel's ABIs as the SDK uses them, taken from the compiled contracts (typechain-types; every custom error
 * included, so reverts decode), and plain views of the structs they return. Hashes are bytes32 in internal byte
 * order, amounts are satoshis.
 */
import { BitcoinLightClient__factory } from "../../../typechain-types/factories/contracts/bitcoin/BitcoinLightClient__factory";
import {
  toDepositRecord as toRecord,
  type DepositRecord,
  type DepositRecordStructOutput,
  type VaultStructOutput,
  type WithdrawalStructOutput,
} from "../evm/tunnelAbi";

/** BitcoinTunnel (with its modules' events and errors) and HemiBTC, compiled. */
export { HEMI_BTC_ABI, TUNNEL_ABI } from "../evm/tunnelAbi";

/** The light client, compiled. */
export const SDK_LIGHT_CLIENT_ABI = BitcoinLightClient__factory.abi;

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
  /** The withdrawal fee in force now (a scheduled raise is in `withdrawalFeeRaise`). */
  withdrawalFeeBps: number;
  withdrawalFlatFee: bigint;
  /** A withdrawal fee raise that applies to requests from `at` (unix seconds) on, if scheduled. */
  withdrawalFeeRaise?: { feeBps: number; flatFee: bigint; at: number };
  minDeposit: bigint;
  /**
   * Closing, or Live and short of collateral: deposits in Bitcoin blocks at or below this height are still minted,
   * later ones are not. 0 on a Live vault: it takes deposits.
   */
  depositsUntilHeight: number;
  custody: bigint;
  pending: bigint;
  accruedFees: bigint;
  /** Units of the collateral token backing the custody. */
  collateral: bigint;
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
  /** Confirmations the payout needs (the vault's when it was requested). */
  confirmations: number;
  sats: bigint;
  fee: bigint;
  /** First 16 bytes of keccak256(btcScript), 0x-hex. */
  btcScriptHash: string;
}

/** Decodes the `vault(id)` struct. */
export function toVaultInfo(id: number, v: VaultStructOutput, custodyScript: string): VaultInfo {
  const raiseAt = Number(v.withdrawalFeeRaiseAt);
  const raised = raiseAt !== 0 && raiseAt <= Math.floor(Date.now() / 1000);
  return {
    id,
    status: VAULT_STATUS[Number(v.status)] ?? "None",
    operator: v.operator,
    confirmations: Number(v.confirmations),
    depositFeeBps: Number(v.depositFeeBps),
    depositFlatFee: v.depositFlatFee,
    withdrawalFeeBps: Number(raised ? v.nextWithdrawalFeeBps : v.withdrawalFeeBps),
    withdrawalFlatFee: raised ? v.nextWithdrawalFlatFee : v.withdrawalFlatFee,
    withdrawalFeeRaise:
      raiseAt === 0 || raised
        ? undefined
        : { feeBps: Number(v.nextWithdrawalFeeBps), flatFee: v.nextWithdrawalFlatFee, at: raiseAt },
    minDeposit: v.minDeposit,
    depositsUntilHeight: Number(v.depositsUntilHeight),
    custody: v.custody,
    pending: v.pending,
    accruedFees: v.accruedFees,
    collateral: v.collateral,
    custodyScript,
  };
}

/** Decodes the `depositRecord` struct. */
export function toDepositRecord(raw: DepositRecordStructOutput): DepositRecordInfo {
  return toRecord(raw);
}

/** Decodes the `withdrawal(id)` struct. */
export function toWithdrawalInfo(w: WithdrawalStructOutput): WithdrawalInfo {
  return {
    requester: w.requester,
    vaultId: Number(w.vaultId),
    status: WITHDRAWAL_STATUS[Number(w.status)] ?? "None",
    deadline: Number(w.deadline),
    confirmations: Number(w.confirmations),
    sats: w.sats,
    fee: w.fee,
    btcScriptHash: w.btcScriptHash,
  };
}
