import type { Logger } from "pino";
import { errorMessage } from "./logger";

/** Longest wait between two polls after failures. */
export const POLL_MAX_BACKOFF_MS = 30_000;

export interface PollerOptions {
  /** Used in the failure log line: `<name> poll failed`. */
  name: string;
  intervalMs: number;
  /** One poll; a rejection counts as a failure and backs off. */
  poll: () => Promise<unknown>;
  log: Logger;
  /** Log line after a success that follows failures (default `<name> polling recovered`). */
  recoveredMessage?: string;
  /** Level of the failure log line for `err` (default "warn"). */
  failureLevel?: (err: unknown) => "warn" | "error";
  /** A failure after stop() is a poll cut short by the shutdown: not logged (default false: logged). */
  quietAfterStop?: boolean;
  /** Returns true for a failure told elsewhere (a Redis outage, see RedisWatch): counted, not logged. */
  absorb?: (err: unknown) => boolean;
}

/** The poller's view for /healthz. */
export interface PollerHealth {
  ok: boolean;
  lastPollAgeMs: number | undefined;
  consecutiveFailures: number;
}

/**
 * A role's polling loop: runs `poll` every `intervalMs` (the next poll is scheduled when the previous one ends),
 * backs off exponentially on consecutive failures (interval × 2^min(failures, 5), capped at 30 s), logs each
 * failure and the recovery, and records the time of the last successful poll for health.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private lastOkAt = 0;

  constructor(private readonly o: PollerOptions) {}

  /** Starts polling at once. */
  start(): void {
    this.schedule(0);
  }

  /** Stops polling; a poll already running finishes but schedules no other. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds since Epoch of the last successful poll, 0 if none yet. */
  get lastPollOkAt(): number {
    return this.lastOkAt;
  }

  /** Healthy when the last poll succeeded less than max(10 s, 5 intervals) ago. */
  health(): PollerHealth {
    const age = this.lastOkAt === 0 ? undefined : Date.now() - this.lastOkAt;
    const ok = age !== undefined && age < Math.max(10_000, this.o.intervalMs * 5);
    return { ok, lastPollAgeMs: age, consecutiveFailures: this.failures };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    const { o } = this;
    let delay = o.intervalMs;
    try {
      await o.poll();
      if (this.failures > 0) o.log.info(o.recoveredMessage ?? `${o.name} polling recovered`);
      this.failures = 0;
      this.lastOkAt = Date.now();
    } catch (err) {
      if (this.stopped && o.quietAfterStop === true) return;
      this.failures++;
      delay = Math.min(o.intervalMs * 2 ** Math.min(this.failures, 5), POLL_MAX_BACKOFF_MS);
      if (o.absorb?.(err) === true) {
        this.schedule(delay);
        return;
      }
      const level = o.failureLevel?.(err) ?? "warn";
      o.log[level](
        { err: errorMessage(err), consecutiveFailures: this.failures, retryInMs: delay },
        `${o.name} poll failed`,
      );
    }
    this.schedule(delay);
  }
}
