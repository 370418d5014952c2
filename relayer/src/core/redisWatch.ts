/**
 * Watches the relayer's Redis on a connection of its own (no offline queue, a time limit on every command), so that
 * /healthz notices a Redis that is down or hung (a PING that does not answer in time), an outage is told in a few
 * lines (one when it starts, one when it ends with the number of connection errors absorbed meanwhile) instead of one
 * per reconnect attempt of every queue and worker, and a Redis that comes back EMPTY (restarted without persistence:
 * the deployment marker is gone) is announced and the roles re-derive their state from the chains.
 */
import { Redis } from "ioredis";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "pino";
import { redactUrl } from "../config/load";
import { errorMessage } from "./logger";
import { markerKey } from "./stateMarker";

/** Messages only ioredis gives (a connection that is down, closed, or does not answer in time). */
const IOREDIS_DOWN =
  /Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries|enableOfflineQueue|Socket closed unexpectedly/i;
/** Socket errors, which any client gives: Redis's only when they name its port. */
const SOCKET_DOWN = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/;

/**
 * Errors of a Redis connection that is down (refused, reset, closed, timed out): part of an outage. A socket error
 * counts only when it is about Redis's port (`redisPort`), so that the Bitcoin or EVM node going away is still told.
 */
export function isRedisConnectionError(err: unknown, redisPort?: number): boolean {
  const msg = errorMessage(err);
  if (/bitcoind|JSON-RPC/i.test(msg)) return false;
  if (IOREDIS_DOWN.test(msg)) return true;
  if (!SOCKET_DOWN.test(msg)) return false;
  return (
    redisPort === undefined || msg.includes(`:${redisPort}`) || (err as { port?: unknown } | null)?.port === redisPort
  );
}

export type RedisState = "up" | "down" | "hung" | "unknown";

export interface RedisWatchOptions {
  url: string;
  prefix: string;
  /** The deployment marker's value, written again when Redis comes back empty. */
  marker: string;
  /** Time limit of the health PING. */
  pingTimeoutMs: number;
  /** How often Redis is checked. */
  intervalMs: number;
  log: Logger;
  registry: Registry;
}

export class RedisWatch {
  private readonly conn: Redis;
  private timer: NodeJS.Timeout | undefined;
  private state: RedisState = "unknown";
  private since = Date.now();
  private lastError: string | undefined;
  private absorbed = 0;
  private lastPingMs: number | undefined;
  private checking: Promise<void> | undefined;
  private readonly stateLostHandlers: (() => void | Promise<void>)[] = [];
  private readonly stateLost: Counter;
  private readonly port: number;

  constructor(private readonly o: RedisWatchOptions) {
    this.port = Number(new URL(o.url).port || "6379");
    this.conn = new Redis(o.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.pingTimeoutMs,
      connectTimeout: o.pingTimeoutMs,
      retryStrategy: () => Math.max(200, Math.min(o.intervalMs, 2_000)),
    });
    this.conn.on("error", () => undefined); // told by check(), once per outage
    this.stateLost = new Counter({
      name: "hemi_fabric_redis_state_lost_total",
      help: "Times Redis came back without the relayer's state (restarted without persistence); the state was re-derived",
      registers: [o.registry],
    });
  }

  /** Called when Redis comes back empty, after the marker is written again (roles forget their caches). */
  onStateLost(handler: () => void | Promise<void>): void {
    this.stateLostHandlers.push(handler);
  }

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    this.conn.disconnect();
  }

  /**
   * A connection error seen elsewhere (a queue, a worker, a poll): absorbed into the outage (counted, told when it
   * ends) when it is one; returns false for other errors, which the caller logs.
   */
  absorb(err: unknown): boolean {
    if (!isRedisConnectionError(err, this.port)) return false;
    this.absorbed++;
    return true;
  }

  /** For /healthz: a PING now, within the time limit. */
  async health(): Promise<{ ok: boolean; detail: Record<string, unknown> }> {
    await this.check();
    const ok = this.state === "up";
    return {
      ok,
      detail: {
        state: this.state,
        sinceMs: Date.now() - this.since,
        ...(ok ? { pingMs: this.lastPingMs } : { reason: this.reason() }),
      },
    };
  }

  private reason(): string {
    if (this.state === "hung")
      return `Redis accepts connections but did not answer PING within ${this.o.pingTimeoutMs} ms (hung or overloaded)`;
    return `Redis unreachable at ${redactUrl(this.o.url)}: ${this.lastError ?? "no answer"}`;
  }

  private check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const t0 = Date.now();
    let next: RedisState;
    try {
      if (this.conn.status === "wait" || this.conn.status === "end") await this.conn.connect();
      await this.conn.ping();
      this.lastPingMs = Date.now() - t0;
      next = "up";
    } catch (err) {
      this.lastError = errorMessage(err);
      next = /timed out/i.test(this.lastError) && this.conn.status === "ready" ? "hung" : "down";
    }
    this.transition(next);
    if (next === "up") await this.checkMarker().catch(() => undefined);
  }

  private transition(next: RedisState): void {
    const prev = this.state;
    if (prev === next) return;
    const { log } = this.o;
    const lastedMs = Date.now() - this.since;
    this.state = next;
    this.since = Date.now();
    if (next === "up") {
      if (prev !== "unknown") {
        log.info(
          { downForMs: lastedMs, connectionErrorsAbsorbed: this.absorbed },
          "Redis answering again; work resumes",
        );
      }
      this.absorbed = 0;
    } else {
      log.error(
        { reason: this.reason() },
        `Redis ${next === "hung" ? "not answering" : "unreachable"}: queued work waits until it is back (one line per outage; /healthz shows it)`,
      );
    }
  }

  /** A missing marker on a Redis that answers: it lost its data. */
  private async checkMarker(): Promise<void> {
    if ((await this.conn.exists(markerKey(this.o.prefix))) === 1) return;
    this.stateLost.inc();
    await this.conn.set(markerKey(this.o.prefix), this.o.marker);
    this.o.log.error(
      { prefix: this.o.prefix },
      "Redis came back EMPTY (restarted without persistence?): the relayer's state under its prefix is gone; " +
        "re-deriving it from the chains (deposits rescanned from the light client's anchor, withdrawals from the " +
        "deployment block; payouts already on Bitcoin are found, not paid again)",
    );
    for (const h of this.stateLostHandlers) await Promise.resolve(h()).catch(() => undefined);
  }
}
