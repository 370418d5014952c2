/**
 * The deposits role's state in Redis (under the deployment's prefix), shared by every relayer on that Redis:
 *   <p>:state:deposits:scan      JSON {height, hash}: the last Bitcoin block scanned (display-order hash)
 *   <p>:state:deposits:scanned   hash height -> block hash of recently scanned blocks (to find the fork point of a reorg)
 *   <p>:state:deposits:pending   sorted set (score 0) of order keys: deposits found and not yet minted, in Bitcoin order
 *   <p>:state:deposits:parked    sorted set (score 0) of order keys: deposits to a Paused vault, kept out of the pending
 *                                order (so they block no one) until the vault is Live again
 *   <p>:state:deposits:items     hash "<txid>:<vout>" -> JSON PendingDeposit (where the deposit is now; pending or parked)
 *   <p>:state:deposits:failed:<txid>:<vout>   reason: a deposit found never mintable at confirm time (expires after
 *                                FAILED_TTL_SECONDS, so the set of failures stays bounded; the job keeps the reason as
 *                                its failedReason). Older versions kept them in the hash <p>:state:deposits:failed,
 *                                still read.
 */
import type { Redis } from "ioredis";

/** A deposit found in a block of the node's best chain (txid and block hash in display order). */
export interface PendingDeposit {
  txid: string;
  vout: number;
  height: number;
  blockHash: string;
  txIndex: number;
  vaultId: number;
  value: string;
  recipient: string;
  key: string;
}

export interface ScanCursor {
  height: number;
  hash: string | null;
}

/** How long the reason of a never-mintable deposit is kept (30 days). */
export const FAILED_TTL_SECONDS = 30 * 24 * 3600;

/** How many scanned block hashes are kept for reorg detection. */
const SCANNED_KEEP = 2_000;

export class DepositStore {
  constructor(
    private readonly redis: Redis,
    private readonly p: string,
  ) {}

  private k(name: string): string {
    return `${this.p}:state:deposits:${name}`;
  }

  async cursor(): Promise<ScanCursor | undefined> {
    const raw = await this.redis.get(this.k("scan"));
    return raw === null ? undefined : (JSON.parse(raw) as ScanCursor);
  }

  async scannedHash(height: number): Promise<string | undefined> {
    return (await this.redis.hget(this.k("scanned"), String(height))) ?? undefined;
  }

  /** Records a scanned block and its deposits in one transaction (MULTI), then moves the cursor to it. */
  async recordBlock(height: number, hash: string, deposits: readonly PendingDeposit[]): Promise<void> {
    const m = this.redis.multi();
    for (const d of deposits) {
      m.hset(this.k("items"), `${d.txid}:${d.vout}`, JSON.stringify(d));
      m.zadd(this.k("pending"), 0, d.key);
    }
    m.hset(this.k("scanned"), String(height), hash);
    if (height > SCANNED_KEEP) m.hdel(this.k("scanned"), String(height - SCANNED_KEEP));
    m.set(this.k("scan"), JSON.stringify({ height, hash } satisfies ScanCursor));
    await m.exec();
  }

  /** After a reorg: forgets the pending and parked deposits above `forkHeight`, moves the cursor back to the fork point. */
  async rewind(forkHeight: number, forkHash: string | null): Promise<PendingDeposit[]> {
    const all = [...(await this.pending()), ...(await this.parked())];
    const dropped = all.filter((d) => d.height > forkHeight);
    const m = this.redis.multi();
    for (const d of dropped) {
      m.zrem(this.k("pending"), d.key);
      m.zrem(this.k("parked"), d.key);
      m.hdel(this.k("items"), `${d.txid}:${d.vout}`);
    }
    m.set(this.k("scan"), JSON.stringify({ height: forkHeight, hash: forkHash } satisfies ScanCursor));
    await m.exec();
    return dropped;
  }

  /** Pending deposits in Bitcoin order (at most `limit`). */
  async pending(limit = 10_000): Promise<PendingDeposit[]> {
    return this.listed("pending", limit);
  }

  /** Parked deposits (their vault is Paused) in Bitcoin order (at most `limit`). */
  async parked(limit = 10_000): Promise<PendingDeposit[]> {
    return this.listed("parked", limit);
  }

  async isParked(d: PendingDeposit): Promise<boolean> {
    return (await this.redis.zscore(this.k("parked"), d.key)) !== null;
  }

  /** Takes a deposit out of the pending order (its vault is Paused), keeping it. */
  async park(d: PendingDeposit): Promise<void> {
    await this.redis.multi().zrem(this.k("pending"), d.key).zadd(this.k("parked"), 0, d.key).exec();
  }

  /** Puts a parked deposit back in the pending order (its vault is no longer Paused). */
  async unpark(d: PendingDeposit): Promise<void> {
    await this.redis.multi().zrem(this.k("parked"), d.key).zadd(this.k("pending"), 0, d.key).exec();
  }

  /**
   * Pending and parked deposits for a reader that must not change the relayer's state (the live view): an order key
   * whose item is gone is skipped, where pending() and parked() also remove it.
   */
  async snapshot(limit = 10_000): Promise<{ pending: PendingDeposit[]; parked: PendingDeposit[] }> {
    const [pending, parked] = await Promise.all([
      this.listed("pending", limit, false),
      this.listed("parked", limit, false),
    ]);
    return { pending, parked };
  }

  private async listed(set: "pending" | "parked", limit: number, prune = true): Promise<PendingDeposit[]> {
    const keys = await this.redis.zrange(this.k(set), 0, limit - 1);
    if (keys.length === 0) return [];
    const ids = keys.map((key) => {
      const [, , vout, txid] = key.split(":");
      return `${txid}:${Number(vout)}`;
    });
    const raws = await this.redis.hmget(this.k("items"), ...ids);
    const out: PendingDeposit[] = [];
    raws.forEach((raw, i) => {
      if (raw !== null) out.push(JSON.parse(raw) as PendingDeposit);
      else if (prune) void this.redis.zrem(this.k(set), keys[i]);
    });
    return out;
  }

  async pendingCount(): Promise<number> {
    return this.redis.zcard(this.k("pending"));
  }

  async item(txid: string, vout: number): Promise<PendingDeposit | undefined> {
    const raw = await this.redis.hget(this.k("items"), `${txid}:${vout}`);
    return raw === null ? undefined : (JSON.parse(raw) as PendingDeposit);
  }

  /** The deposit is minted (or will never be): no longer pending. */
  async done(d: PendingDeposit): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.k("pending"), d.key)
      .zrem(this.k("parked"), d.key)
      .hdel(this.k("items"), `${d.txid}:${d.vout}`)
      .exec();
  }

  async markFailed(d: PendingDeposit, reason: string): Promise<void> {
    await this.redis
      .multi()
      .set(this.k(`failed:${d.txid}:${d.vout}`), reason, "EX", FAILED_TTL_SECONDS)
      .zrem(this.k("pending"), d.key)
      .zrem(this.k("parked"), d.key)
      .hdel(this.k("items"), `${d.txid}:${d.vout}`)
      .exec();
  }

  async failure(txid: string, vout: number): Promise<string | undefined> {
    const reason = await this.redis.get(this.k(`failed:${txid}:${vout}`));
    if (reason !== null) return reason;
    return (await this.redis.hget(this.k("failed"), `${txid}:${vout}`)) ?? undefined;
  }
}
