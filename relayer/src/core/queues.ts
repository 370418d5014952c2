import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { isPermanent } from "./errors";
import { errorMessage } from "./logger";
import type { RelayerMetrics } from "./metrics";
import { sleep } from "./retry";

export interface QueueCoreOptions {
  /** Shared ioredis connection (maxRetriesPerRequest: null); workers duplicate it for their blocking calls. */
  connection: Redis;
  /** BullMQ key prefix, one per deployment, e.g. `hf:31337:0xabc…`. */
  prefix: string;
  log: Logger;
  metrics: RelayerMetrics;
  /** Attempts per job before it is failed for good (transient errors). */
  attempts: number;
  /** First retry delay; doubles per attempt. */
  backoffMs: number;
  /** How long a worker's job lock lasts without renewal; a crashed worker's job is recovered after this. */
  lockDurationMs: number;
  /** How often workers look for stalled jobs of crashed workers. */
  stalledIntervalMs: number;
  /** Takes Redis connection errors of queues and workers into the outage report instead of a line each (RedisWatch). */
  outage?: { absorb(err: unknown): boolean };
}

/** What a processor receives besides the job: a child logger and the shutdown/cancel signal. */
export interface JobContext {
  log: Logger;
  signal?: AbortSignal;
}

export type JobProcessor<D, R> = (job: Job<D, R>, ctx: JobContext) => Promise<R>;

/**
 * The relayer's queue core: BullMQ queues and workers over one Redis connection and one key prefix, with
 * retries and exponential backoff for transient errors, an immediate failure with a recorded reason for
 * permanent ones, stalled-job recovery, metrics, and a graceful close that finishes (or releases) jobs in hand.
 */
export class QueueCore {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];

  constructor(readonly options: QueueCoreOptions) {}

  /** Job options every job gets unless it overrides them. */
  get defaultJobOptions(): JobsOptions {
    return {
      attempts: this.options.attempts,
      backoff: { type: "exponential", delay: this.options.backoffMs },
      removeOnComplete: { age: 24 * 3600, count: 5_000 },
      removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
    };
  }

  /** The queue `name` under this deployment's prefix (created once). */
  queue<D = unknown>(name: string): Queue<D> {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new Queue(name, {
        connection: this.options.connection,
        prefix: this.options.prefix,
        defaultJobOptions: this.defaultJobOptions,
      });
      q.on("error", (err) => {
        if (this.options.outage?.absorb(err) !== true)
          this.options.log.error({ queue: name, err: errorMessage(err) }, "queue error");
      });
      this.queues.set(name, q);
      this.options.metrics.watchQueue(q);
    }
    return q as unknown as Queue<D>;
  }

  /** Starts a worker on queue `name`; permanent errors become BullMQ UnrecoverableErrors (no retry). */
  addWorker<D, R>(name: string, processor: JobProcessor<D, R>, opts: { concurrency?: number } = {}): Worker<D, R> {
    const { log, metrics } = this.options;
    this.queue(name);
    const worker = new Worker<D, R>(
      name,
      async (job, _token, signal) => {
        const jobLog = log.child({ queue: name, jobId: job.id, attempt: job.attemptsMade + 1 });
        try {
          return await processor(job, { log: jobLog, signal });
        } catch (err) {
          if (isPermanent(err)) throw new UnrecoverableError(errorMessage(err));
          throw err;
        }
      },
      {
        connection: this.options.connection,
        prefix: this.options.prefix,
        concurrency: opts.concurrency ?? 1,
        lockDuration: this.options.lockDurationMs,
        stalledInterval: this.options.stalledIntervalMs,
        maxStalledCount: 3,
        autorun: true,
      },
    );
    worker.on("completed", () => metrics.jobsCompleted.inc({ queue: name }));
    worker.on("failed", (job, err) => {
      const attempts = job?.opts.attempts ?? 1;
      const final = err instanceof UnrecoverableError || (job !== undefined && job.attemptsMade >= attempts);
      metrics.jobsFailed.inc({ queue: name, final: String(final) });
      const fields = { queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, reason: errorMessage(err) };
      if (final) log.error(fields, "job failed permanently; kept in the failed set with its reason");
      else log.warn(fields, "job attempt failed; will retry with backoff");
    });
    worker.on("stalled", (jobId) => log.warn({ queue: name, jobId }, "stalled job recovered (its worker died)"));
    worker.on("error", (err) => {
      if (this.options.outage?.absorb(err) !== true) log.error({ queue: name, err: errorMessage(err) }, "worker error");
    });
    this.workers.push(worker as unknown as Worker);
    return worker;
  }

  /**
   * Graceful close: workers stop taking jobs and finish the ones in hand; after `timeoutMs` the jobs still
   * running are cancelled (released: they fail this attempt and are retried by another worker) and the
   * workers are force-closed (their locks expire and the jobs are recovered as stalled).
   */
  async close(timeoutMs: number): Promise<void> {
    const graceful = Promise.all(this.workers.map((w) => w.close()));
    const finished = await Promise.race([graceful.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!finished) {
      this.options.log.warn({ timeoutMs }, "jobs still running at shutdown timeout; releasing them");
      for (const w of this.workers) w.cancelAllJobs("shutdown");
      await Promise.race([Promise.all(this.workers.map((w) => w.close(true))), sleep(5_000)]);
    }
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
