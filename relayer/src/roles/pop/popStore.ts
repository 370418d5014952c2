/**
 * The PoP miner's state in Redis, one namespace per miner key (several miners may share a Redis and a deployment
 * prefix), under `<prefix>:state:pop:<minerId>:` where minerId is the hash160 of the miner's public key:
 *   pub:<keystoneNumber>:<keystoneId>   JSON PopRecord, written BEFORE each broadcast (first transaction and every
 *                                       replacement), so a crash between broadcast and record can never make the
 *                                       same miner publish a keystone twice
 *   spent                               outpoints "<txid>:<vout>" spent by our pending PoP transactions (so two
 *                                       keystones in flight never pick the same coin); pruned once spent on chain
 *   feewait:<keystoneNumber>            present while a keystone waits for the fee rate to fall (one log line)
 */
import type { Redis } from "ioredis";

/** One broadcast transaction of a PoP record (txid display order). */
export interface PopBroadcast {
  txid: string;
  hex: string;
  /** sat/vB. */
  feeRate: number;
  fee: number;
  vsize: number;
  /** Bitcoin tip height when it was broadcast. */
  tipAtBroadcast: number;
  at: number;
}

/** A keystone this miner publishes: its transactions (the last is current; earlier ones were replaced). */
export interface PopRecord {
  keystoneNumber: number;
  /** Keystone id, bytes32 internal order (0x-hex). */
  keystoneId: string;
  /** The miner's coin it spends, "<txid>:<vout>" (every replacement spends the same one). */
  input: string;
  txs: PopBroadcast[];
  /** The block (display order) and height the publication was last proven in, when it was. */
  provenBlock?: string;
  provenHeight?: number;
  createdAt: number;
}

/** How long a finished (settled) record is kept. */
export const POP_RECORD_TTL_SECONDS = 30 * 24 * 3600;

export class PopStore {
  private readonly p: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    minerId: string,
  ) {
    this.p = `${prefix}:state:pop:${minerId}`;
  }

  private k(name: string): string {
    return `${this.p}:${name}`;
  }

  private recordKey(n: number, id: string): string {
    return this.k(`pub:${n}:${id.toLowerCase()}`);
  }

  async record(n: number, id: string): Promise<PopRecord | undefined> {
    const raw = await this.redis.get(this.recordKey(n, id));
    return raw === null ? undefined : (JSON.parse(raw) as PopRecord);
  }

  /** Journals a record (new or with a new transaction appended) and marks its input spent, atomically. */
  async save(rec: PopRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.recordKey(rec.keystoneNumber, rec.keystoneId), JSON.stringify(rec))
      .sadd(this.k("spent"), rec.input)
      .exec();
  }

  /** Rewrites a record without touching its spent mark (its proof state changed). */
  async update(rec: PopRecord): Promise<void> {
    await this.redis.set(this.recordKey(rec.keystoneNumber, rec.keystoneId), JSON.stringify(rec), "KEEPTTL");
  }

  /** The publication is settled: the record expires after POP_RECORD_TTL_SECONDS. */
  async expire(rec: PopRecord): Promise<void> {
    await this.redis.expire(this.recordKey(rec.keystoneNumber, rec.keystoneId), POP_RECORD_TTL_SECONDS);
  }

  /** Forgets a record whose transactions can never confirm (its coin was spent by another transaction). */
  async drop(rec: PopRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.recordKey(rec.keystoneNumber, rec.keystoneId))
      .srem(this.k("spent"), rec.input)
      .exec();
  }

  async spent(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.k("spent")));
  }

  /** Drops spent marks of coins no longer unspent on chain (their spends confirmed). */
  async pruneSpent(unspent: ReadonlySet<string>): Promise<void> {
    const gone = [...(await this.spent())].filter((o) => !unspent.has(o));
    if (gone.length > 0) await this.redis.srem(this.k("spent"), ...gone);
  }

  /**
   * Marks keystone `n` as waiting for the fee (the mark lasts 4 retry intervals and is renewed by every retry); true
   * when it was not marked yet, i.e. once per wait (one log line).
   */
  async markFeeWait(n: number, retryMs: number): Promise<boolean> {
    const key = this.k(`feewait:${n}`);
    const ttl = Math.max(1_000, retryMs * 4);
    if ((await this.redis.set(key, "1", "PX", ttl, "NX")) === "OK") return true;
    await this.redis.pexpire(key, ttl);
    return false;
  }

  async clearFeeWait(n: number): Promise<void> {
    await this.redis.del(this.k(`feewait:${n}`));
  }
}
