import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { redactUrl } from "../config/load";
import { errorMessage } from "./logger";
import { freePort } from "./ports";
import { sleep, withRetry } from "./retry";

/** Where the default local Redis is looked for when REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** A Redis the relayer can use; `close()` stops it when it is a private server started by us. */
export interface RedisEndpoint {
  url: string;
  /** True when we started a private redis-server for this process. */
  private: boolean;
  close(): Promise<void>;
}

/** Redis could not be found or started; the message says what to do. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

const INSTALL_HINT =
  "Install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) so that " +
  "`redis-server` is on PATH, or point REDIS_URL at a running Redis (e.g. REDIS_URL=redis://127.0.0.1:6379).";

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The absolute path of an executable on PATH, or undefined. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts a private, non-persistent redis-server on a free port of 127.0.0.1 and waits until it answers. */
export async function startPrivateRedis(log?: Logger, binary?: string): Promise<RedisEndpoint> {
  const bin = binary ?? findOnPath("redis-server");
  if (bin === undefined) {
    throw new RedisUnavailableError(
      `REDIS_URL is unset, nothing answers on ${DEFAULT_REDIS_URL} and no redis-server is on PATH. ${INSTALL_HINT}`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), "hemi-fabric-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const killChild = (): void => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  process.once("exit", killChild);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) {
      throw new RedisUnavailableError(
        `private redis-server (${bin}) exited with code ${child.exitCode}: ${stderr.trim()}`,
      );
    }
    if (await redisAnswers(url, 300)) {
      log?.info({ url, pid: child.pid, binary: bin }, "started a private redis-server");
      return {
        url,
        private: true,
        close: async () => {
          process.removeListener("exit", killChild);
          if (child.exitCode === null) {
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGTERM");
            await Promise.race([exited, sleep(3_000)]);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await sleep(50);
  }
  killChild();
  throw new RedisUnavailableError(`private redis-server on port ${port} did not answer within 5 s: ${stderr.trim()}`);
}

export interface ResolveRedisOptions {
  /** REDIS_URL, if set: used as is (its reachability is checked separately, with retries). */
  url?: string;
  /** Where to look for a local Redis when `url` is unset (default redis://127.0.0.1:6379). */
  probeUrl?: string;
  /** redis-server binary (default: from PATH). */
  redisServerBinary?: string;
  log?: Logger;
}

/**
 * The Redis to use: REDIS_URL when set; otherwise a Redis answering on 127.0.0.1:6379; otherwise a private
 * redis-server from PATH on a free port; otherwise a RedisUnavailableError that says how to install Redis.
 */
export async function resolveRedis(opts: ResolveRedisOptions = {}): Promise<RedisEndpoint> {
  if (opts.url !== undefined) return { url: opts.url, private: false, close: async () => undefined };
  const probe = opts.probeUrl ?? DEFAULT_REDIS_URL;
  if (await redisAnswers(probe)) {
    opts.log?.info({ url: probe }, "using the local Redis (REDIS_URL is unset)");
    return { url: probe, private: false, close: async () => undefined };
  }
  opts.log?.info({ probed: probe }, "REDIS_URL is unset and no local Redis answers; starting a private redis-server");
  return startPrivateRedis(opts.log, opts.redisServerBinary);
}

/** Checks that the Redis at `url` answers, with a bounded number of retries and a log line per failure. */
export async function checkRedis(url: string, retries: number, delayMs: number, log?: Logger): Promise<void> {
  await withRetry(
    async () => {
      if (!(await redisAnswers(url, 2_000))) throw new Error("no PONG (connection refused or timed out)");
    },
    { retries, delayMs, log, what: `Redis at ${redactUrl(url)} (REDIS_URL)` },
  );
}

/**
 * An ioredis connection for BullMQ (maxRetriesPerRequest: null) that reconnects with capped backoff and logs
 * each connection error once per outage instead of crashing.
 */
export function createRedisConnection(url: string, log: Logger, extra: RedisOptions = {}): Redis {
  let down = false;
  const conn = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    ...extra,
  });
  conn.on("error", (err: Error) => {
    if (!down) log.error({ url: redactUrl(url), err: errorMessage(err) }, "Redis connection error; reconnecting");
    down = true;
  });
  conn.on("ready", () => {
    if (down) log.info({ url: redactUrl(url) }, "Redis connection restored");
    down = false;
  });
  return conn;
}
