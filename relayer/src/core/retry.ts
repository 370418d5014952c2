import type { Logger } from "pino";
import { errorMessage } from "./logger";

export interface RetryOptions {
  /** Attempts after the first (0: try once). */
  retries: number;
  delayMs: number;
  /** Multiplier of the delay per attempt (default 2), capped at maxDelayMs. */
  factor?: number;
  maxDelayMs?: number;
  log?: Logger;
  /** What is being tried, for the log line and the final error. */
  what: string;
  /** Return false to stop retrying at once (a permanent error). */
  shouldRetry?: (err: unknown) => boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Error thrown when a bounded retry gives up; `cause` is the last error. */
export class RetryExhaustedError extends Error {
  constructor(
    readonly what: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`${what} failed after ${attempts} attempt(s): ${errorMessage(cause)}`);
    this.name = "RetryExhaustedError";
  }
}

/** Runs `fn` until it succeeds, with exponential backoff, a log line per failure and a bounded number of tries. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const last = attempt > opts.retries || (opts.shouldRetry !== undefined && !opts.shouldRetry(err));
      if (last) throw new RetryExhaustedError(opts.what, attempt, err);
      opts.log?.warn(
        { attempt, of: opts.retries + 1, retryInMs: delay, err: errorMessage(err) },
        `${opts.what} failed, retrying`,
      );
      await sleep(delay);
      delay = Math.min(delay * (opts.factor ?? 2), opts.maxDelayMs ?? 30_000);
    }
  }
}
