/**
 * The withdrawals role's state in Redis (under the deployment's prefix):
 *   <p>:state:withdrawals:evm-cursor          last EVM block whose WithdrawalRequested events were enqueued
 *   <p>:state:withdrawals:payout:<id>         JSON PayoutRecord, written BEFORE the payout is broadcast (a crash between
 *                                       broadcast and record can therefore never lead to a second payout); expires
 *                                       PAYOUT_TTL_SECONDS after the withdrawal is seen Finalized or Challenged
 *   <p>:state:withdrawals:spent:<script>      set of custody outpoints "<txid>:<vout>" spent by our payouts and not yet
 *                                       seen spent on chain (so concurrent payouts never pick the same UTXO)
 */
import type { Redis } from "ioredis";

/** A payout transaction of a withdrawal (txid display order, raw hex with witnesses). */
export interface PayoutRecord {
  id: string;
  txid: string;
  hex: string;
  /** Custody outpoints it spends. */
  inputs: string[];
  /** "built" by us, or "found" on the node (a payout made by an earlier run). */
  origin: "built" | "found";
  createdAt: number;
  /**
   * The block the payout was last seen in (display order) and its height: recorded when first seen in a block, so
   * that a node without a transaction index can still serve it (`getrawtransaction txid true blockhash`) once it is
   * deeper than the payout search depth and its outputs are spent.
   */
  blockhash?: string;
  height?: number;
  /** A mempool transaction seen spending one of its inputs (recorded so that the wait is logged once). */
  conflict?: string;
}

/** How long a payout record is kept once its withdrawal is Finalized or Challenged on chain (30 days). */
export const PAYOUT_TTL_SECONDS = 30 * 24 * 3600;

export class PayoutStore {
  constructor(
    private readonly redis: Redis,
    private readonly p: string,
  ) {}

  private k(name: string): string {
    return `${this.p}:state:withdrawals:${name}`;
  }

  async evmCursor(): Promise<number | undefined> {
    const v = await this.redis.get(this.k("evm-cursor"));
    return v === null ? undefined : Number(v);
  }

  async setEvmCursor(block: number): Promise<void> {
    await this.redis.set(this.k("evm-cursor"), String(block));
  }

  async payout(id: bigint): Promise<PayoutRecord | undefined> {
    const raw = await this.redis.get(this.k(`payout:${id}`));
    return raw === null ? undefined : (JSON.parse(raw) as PayoutRecord);
  }

  /** Journals a payout and marks its inputs spent, atomically. */
  async savePayout(rec: PayoutRecord, custodyScript: string): Promise<void> {
    const m = this.redis.multi().set(this.k(`payout:${rec.id}`), JSON.stringify(rec));
    if (rec.inputs.length > 0) m.sadd(this.k(`spent:${custodyScript}`), ...rec.inputs);
    await m.exec();
  }

  /** Rewrites a journalled payout (its placement changed); its spent marks are untouched. */
  async updatePayout(rec: PayoutRecord): Promise<void> {
    await this.redis.set(this.k(`payout:${rec.id}`), JSON.stringify(rec), "KEEPTTL");
  }

  /** The withdrawal is settled on chain: its payout record expires after PAYOUT_TTL_SECONDS (no-op without one). */
  async expirePayout(id: bigint): Promise<void> {
    await this.redis.expire(this.k(`payout:${id}`), PAYOUT_TTL_SECONDS);
  }

  /** Forgets a payout that can never confirm (its inputs were spent by another transaction). */
  async dropPayout(rec: PayoutRecord, custodyScript: string): Promise<void> {
    const m = this.redis.multi().del(this.k(`payout:${rec.id}`));
    if (rec.inputs.length > 0) m.srem(this.k(`spent:${custodyScript}`), ...rec.inputs);
    await m.exec();
  }

  async spent(custodyScript: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.k(`spent:${custodyScript}`)));
  }

  /** Drops spent marks of outpoints that are no longer unspent on chain (their spends confirmed). */
  async pruneSpent(custodyScript: string, unspent: ReadonlySet<string>): Promise<void> {
    const marked = await this.spent(custodyScript);
    const gone = [...marked].filter((o) => !unspent.has(o));
    if (gone.length > 0) await this.redis.srem(this.k(`spent:${custodyScript}`), ...gone);
  }
}
