import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { ShutdownError } from "./errors";
import { sleep } from "./retry";

/** The lock is held by someone else and did not come free in time (a transient condition: retry later). */
export class LockBusyError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} is held by another worker`);
    this.name = "LockBusyError";
  }
}

/** The lock expired while we held it (e.g. the process stalled); work done under it must be re-checked. */
export class LockLostError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} was lost (expired while held)`);
    this.name = "LockLostError";
  }
}

const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** A held lock: `assertHeld()` before an irreversible step. */
export interface HeldLock {
  readonly key: string;
  assertHeld(): void;
}

export interface LockOptions {
  /** Expiry of the lock; it is renewed every ttl/3 while held, so a crashed holder frees it after at most ttl. */
  ttlMs: number;
  /** How long to wait for a busy lock before LockBusyError (default: ttl + 1 s). */
  waitMs?: number;
  /** Stops waiting for a busy lock (graceful shutdown): rejects with ShutdownError. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` while holding the Redis lock `key` (SET NX PX with a random token, renewed while held, released by
 * compare-and-delete). Works across processes sharing the Redis, which is what serialises a signer's nonces.
 */
export async function withLock<T>(
  redis: Redis,
  key: string,
  opts: LockOptions,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const token = randomBytes(16).toString("hex");
  const deadline = Date.now() + (opts.waitMs ?? opts.ttlMs + 1_000);
  let delay = 20;
  while ((await redis.set(key, token, "PX", opts.ttlMs, "NX")) !== "OK") {
    if (Date.now() > deadline) throw new LockBusyError(key);
    if (opts.signal?.aborted === true) throw new ShutdownError(`waiting for lock ${key}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  let lost = false;
  const timer = setInterval(
    () => {
      redis
        .eval(RENEW, 1, key, token, String(opts.ttlMs))
        .then((r) => {
          if (r !== 1) lost = true;
        })
        .catch(() => undefined);
    },
    Math.max(100, Math.floor(opts.ttlMs / 3)),
  );
  const held: HeldLock = {
    key,
    assertHeld: () => {
      if (lost) throw new LockLostError(key);
    },
  };
  try {
    return await fn(held);
  } finally {
    clearInterval(timer);
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}
