/**
 * The tunnel's deposit rules, checked off chain so that a deposit that can never be minted is recorded as failed
 * (with the reason the contract would give) instead of being retried forever, and never sinks a batch.
 * Mirrors TunnelDeposits._scanDeposit (transaction shape) and TunnelRules.takesDeposit (vault terms).
 */
import type { Transaction } from "bitcoinjs-lib";
import { VaultStatus, type VaultInfo } from "../../evm/tunnel";

/** The outcome of the shape check of a deposit output. */
export type DepositShape =
  { ok: true; value: bigint; script: string; recipient: string } | { ok: false; error: string; reason: string };

/**
 * Checks output `vout` of `tx` the way the contract does: the output exists, the transaction has exactly one
 * OP_RETURN output, which is exactly `0x6a14 || recipient`, and the recipient is not zero.
 */
export function checkDepositShape(tx: Transaction, vout: number): DepositShape {
  const out = tx.outs[vout];
  if (out === undefined) {
    return {
      ok: false,
      error: "OutputIndexOutOfRange",
      reason: `output ${vout} does not exist (${tx.outs.length} outputs)`,
    };
  }
  let opIndex = -1;
  let recipient = "";
  for (let i = 0; i < tx.outs.length; i++) {
    const s = tx.outs[i].script;
    if (s.length === 0 || s[0] !== 0x6a) continue;
    if (opIndex !== -1) {
      return {
        ok: false,
        error: "MultipleOpReturns",
        reason: `more than one OP_RETURN output (${opIndex} and ${i})`,
      };
    }
    opIndex = i;
    if (s.length !== 22 || s[1] !== 0x14) {
      return {
        ok: false,
        error: "MalformedOpReturn",
        reason: `OP_RETURN output ${i} is not exactly OP_RETURN PUSH20 <EVM address> (script ${Buffer.from(s).toString("hex")})`,
      };
    }
    recipient = "0x" + Buffer.from(s.subarray(2)).toString("hex");
  }
  if (opIndex === -1)
    return { ok: false, error: "MissingOpReturn", reason: "no OP_RETURN output naming the recipient" };
  if (/^0x0{40}$/.test(recipient)) return { ok: false, error: "ZeroRecipient", reason: "the recipient is address 0" };
  return { ok: true, value: BigInt(out.value), script: Buffer.from(out.script).toString("hex"), recipient };
}

/**
 * True for a withdrawal payout (it carries `OP_RETURN PUSH8 <id>`): its outputs to a custody script are the
 * operator's change, not deposits, and are ignored rather than recorded as failed deposits.
 */
export function isPayout(tx: Transaction): boolean {
  return tx.outs.some((o) => o.script.length === 10 && o.script[0] === 0x6a && o.script[1] === 0x08);
}

/**
 * Whether a deposit from `blockHeight` waits for its vault rather than failing: the vault is Paused (resumable), or
 * Live but short of collateral and the block is past its deposit window (minted once collateral is added).
 */
export function isHeld(vault: VaultInfo, blockHeight: number): boolean {
  if (vault.status === VaultStatus.Paused) return true;
  return (
    vault.status === VaultStatus.Live && vault.depositsUntilHeight !== 0 && blockHeight > vault.depositsUntilHeight
  );
}

/**
 * Why the vault does not take this deposit now (the contract's error and a reason), or undefined when it does.
 * `park` is true when time can fix it (see `isHeld`): the deposit is kept and retried once the vault takes it;
 * otherwise the deposit can never be minted.
 */
export function checkDepositTerms(
  vault: VaultInfo,
  value: bigint,
  blockHeight: number,
): { error: string; reason: string; park: boolean } | undefined {
  const s = vault.status;
  if (isHeld(vault, blockHeight)) {
    const why =
      s === VaultStatus.Paused
        ? "is paused"
        : `is short of collateral and mints only blocks up to ${vault.depositsUntilHeight} until collateral is added`;
    return {
      error: "VaultNotAcceptingDeposits",
      reason: `vault ${vault.id} ${why} (deposit of block ${blockHeight} kept until it takes it)`,
      park: true,
    };
  }
  if (s !== VaultStatus.Live && (s !== VaultStatus.Closing || blockHeight > vault.depositsUntilHeight)) {
    return {
      error: "VaultNotAcceptingDeposits",
      reason: `vault ${vault.id} does not take this deposit (status ${VaultStatus[s]}, block ${blockHeight})`,
      park: false,
    };
  }
  if (value < vault.minDeposit) {
    return {
      error: "DepositBelowMinimum",
      reason: `${value} sat is below vault ${vault.id}'s minimum of ${vault.minDeposit} sat`,
      park: false,
    };
  }
  return undefined;
}

/** Fixed-width key whose lexicographic order is Bitcoin order (height, position in block, output index). */
export function orderKey(height: number, txIndex: number, vout: number, txid: string): string {
  const pad = (n: number): string => n.toString().padStart(10, "0");
  return `${pad(height)}:${pad(txIndex)}:${pad(vout)}:${txid}`;
}

/** The BullMQ job id of a deposit: `deposit:<txid display order>:<vout>`. */
export function depositJobId(txid: string, vout: number): string {
  return `deposit:${txid}:${vout}`;
}
