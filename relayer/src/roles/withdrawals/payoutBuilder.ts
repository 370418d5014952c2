/**
 * Builds and signs a withdrawal payout with bitcoinjs-lib: custody UTXOs in, exactly
 *   output 0: the requested script, exactly sats - fee
 *   output 1: OP_RETURN PUSH8 <withdrawal id, 8 bytes big-endian>
 *   output 2: change back to the custody script (when above dust)
 * which is the shape BitcoinTunnel.finalizeWithdrawal accepts.
 */
import type { Transaction } from "bitcoinjs-lib";
import { buildSignedTxWithChange, type KeyPair } from "../../bitcoin/txBuilder";

/** A custody output that can be spent (txid display order). */
export interface CustodyUtxo {
  txid: string;
  vout: number;
  value: bigint;
}

/** The payout OP_RETURN data: the id as 8 bytes big-endian. */
export function payoutIdBytes(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(id);
  return b;
}

/** The payout OP_RETURN script hex of `id` (0x6a08 || id). */
export function payoutOpReturnHex(id: bigint): string {
  return "6a08" + payoutIdBytes(id).toString("hex");
}

/** Not enough spendable custody funds for a payout (transient: deposits or change confirm later). */
export class InsufficientCustodyFundsError extends Error {
  constructor(
    readonly needed: bigint,
    readonly available: bigint,
  ) {
    super(`custody UTXOs cannot fund the payout: need about ${needed} sat, ${available} sat spendable`);
    this.name = "InsufficientCustodyFundsError";
  }
}

export interface PayoutRequest {
  id: bigint;
  /** Script to pay, hex. */
  btcScript: string;
  /** Exactly sats - fee. */
  amount: bigint;
  utxos: readonly CustodyUtxo[];
  key: KeyPair;
  custodyScript: string;
  /** sat/vB. */
  feeRate: number;
}

/** Chooses inputs (largest first) and builds the signed payout; the miner fee comes out of the change. */
export function buildPayout(r: PayoutRequest): { tx: Transaction; inputs: CustodyUtxo[]; minerFee: bigint } {
  const sorted = [...r.utxos].sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : 0));
  const available = sorted.reduce((s, u) => s + u.value, 0n);
  const outputs = [
    { script: r.btcScript, value: r.amount },
    { opReturn: payoutIdBytes(r.id), value: 0n },
  ];
  const estimate = (n: number): bigint => BigInt(Math.ceil((11 + 43 + 20 + 31 + 68 * n) * r.feeRate)) + r.amount;
  let total = 0n;
  for (let n = 1; n <= sorted.length; n++) {
    total += sorted[n - 1].value;
    if (total < estimate(n)) continue;
    const inputs = sorted.slice(0, n);
    try {
      const built = buildSignedTxWithChange({
        inputs: inputs.map((u) => ({ ...u, script: r.custodyScript, key: r.key })),
        outputs,
        changeScript: r.custodyScript,
        feeRate: r.feeRate,
      });
      return { tx: built.tx, inputs, minerFee: built.fee };
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("insufficient funds")) throw err;
    }
  }
  throw new InsufficientCustodyFundsError(estimate(Math.max(1, sorted.length)), available);
}
