import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { errorMessage } from "../../core/logger";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import type { RoleProgress } from "../../core/roleHealth";
import { AnchorMismatchError, planNextBatch, type HeadersBatch, type SyncStatus } from "./planner";
import { submitBatch, type SubmitBatchDeps, type SubmitBatchResult } from "./submitBatch";

/** Name of the headers role's BullMQ queue. */
export const HEADERS_QUEUE = "btc-headers";

/** How many times a batch that ran out of attempts on transient errors is retried before the role gives up on it. */
export const MAX_BATCH_RETRY_ROUNDS = 3;

export interface HeadersRoleOptions extends SubmitBatchDeps {
  core: QueueCore;
  log: Logger;
  pollIntervalMs: number;
  batchSize: number;
  anchorHeight: number;
  /** A role blocked this long is reported stuck by /healthz (default 5 minutes). */
  stuckAfterMs?: number;
  /** Redis outage errors told elsewhere (RedisWatch): not logged per poll. */
  outage?: { absorb(err: unknown): boolean };
}

/** Deterministic job id of a batch: the same plan from the same light-client state gives the same id. */
export function batchJobId(b: HeadersBatch): string {
  const kind = b.continueReorg === true ? "-continue" : b.fromForkPoint === true ? "-fromfork" : "";
  return `headers-${b.fromHeight}-${b.firstHash}-${b.count}-${b.plannedOnBest.slice(2, 18)}${kind}`;
}

/**
 * Enqueues a planned batch under its content job id. A completed job with that id (kept 24 h by BullMQ, which would
 * silently ignore the add) is removed first, so the same batch can run again when it is needed again. A failed job
 * that ran out of attempts on transient errors is retried, at most `maxRetryRounds` times (counted in `retryRounds`),
 * then given up ("gave-up", logged once at error level with the reason) so that the caller plans differently; a
 * permanent failure stays failed, with its reason, for the operator (logged at error level once per newly planned
 * batch).
 */
export async function enqueueBatch(
  queue: Queue<HeadersBatch>,
  next: HeadersBatch,
  prevNext: HeadersBatch | undefined,
  log: Logger,
  retryRounds: Map<string, number> = new Map(),
  maxRetryRounds = MAX_BATCH_RETRY_ROUNDS,
): Promise<"added" | "re-added" | "retried" | "failed-permanently" | "gave-up"> {
  const jobId = batchJobId(next);
  const existing = await queue.getJob(jobId);
  const state = existing === undefined ? undefined : await existing.getState();
  if (existing !== undefined && state === "failed") {
    if (existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
      const rounds = retryRounds.get(jobId) ?? 0;
      if (rounds >= maxRetryRounds) {
        if (rounds === maxRetryRounds) {
          retryRounds.set(jobId, rounds + 1);
          log.error(
            { jobId, rounds, reason: existing.failedReason },
            "giving up on a batch that keeps failing after every retry",
          );
        }
        return "gave-up";
      }
      retryRounds.set(jobId, rounds + 1);
      log.warn(
        { jobId, round: rounds + 1, reason: existing.failedReason },
        "retrying a batch that ran out of attempts",
      );
      await existing.retry("failed");
      return "retried";
    }
    if (prevNext === undefined || batchJobId(prevNext) !== jobId) {
      log.error({ jobId, reason: existing.failedReason }, "the next batch failed permanently; sync is stuck");
    }
    return "failed-permanently";
  }
  let outcome: "added" | "re-added" = "added";
  if (existing !== undefined && state === "completed") {
    await existing.remove();
    outcome = "re-added";
    log.info({ jobId }, "the same batch is needed again: replacing its completed job");
  }
  await queue.add("submit", next, { jobId });
  log.debug({ jobId }, "batch planned");
  return outcome;
}

/**
 * The `headers` role: keeps BitcoinLightClient on the node's best chain. A poller compares the node's tip with
 * the light client and enqueues the next batch (job ids from content, so every relayer sharing the Redis plans
 * the same job); a worker submits it and plans the following batch at once, so a long sync runs batch after
 * batch without waiting for the poll interval.
 */
export class HeadersRole {
  readonly name = "headers";
  private queue: Queue<HeadersBatch> | undefined;
  private readonly poller: Poller;
  private lastStatus: SyncStatus | undefined;
  /** Retry rounds per batch job id (bounded: see enqueueBatch). */
  private readonly retryRounds = new Map<string, number>();
  /** Set after a batch was given up: plan the node's branch from the last common block until a batch goes in. */
  private fromForkPoint = false;
  /** Batches already reported as stuck (once each). */
  private readonly stuckReported = new Set<string>();
  readonly progress: RoleProgress;

  constructor(private readonly o: HeadersRoleOptions) {
    this.poller = new Poller({
      name: "headers",
      intervalMs: o.pollIntervalMs,
      poll: () => this.planAndEnqueue(),
      log: o.log,
      recoveredMessage: "Bitcoin/EVM polling recovered",
      failureLevel: (err) => (err instanceof AnchorMismatchError ? "error" : "warn"),
      absorb: o.outage === undefined ? undefined : (err) => o.outage?.absorb(err) === true,
    });
    this.progress = o.metrics.roles.role("headers", {
      log: o.log,
      stuckAfterMs: o.stuckAfterMs ?? 300_000,
      poller: this.poller,
    });
  }

  start(): void {
    const { core, log } = this.o;
    this.queue = core.queue<HeadersBatch>(HEADERS_QUEUE);
    core.addWorker<HeadersBatch, SubmitBatchResult>(
      HEADERS_QUEUE,
      async (job, ctx) => {
        const result = await submitBatch(this.o, job.data, job.id ?? batchJobId(job.data), ctx.log, ctx.signal);
        if (result.status === "submitted") this.fromForkPoint = false;
        await this.planAndEnqueue().catch((err: unknown) =>
          ctx.log.warn({ err: errorMessage(err) }, "planning the next batch failed; the poller will retry"),
        );
        return result;
      },
      { concurrency: 1 },
    );
    log.info({ pollIntervalMs: this.o.pollIntervalMs, batchSize: this.o.batchSize }, "headers role started (polling)");
    this.poller.start();
  }

  /** Compares the node and the light client, updates the metrics and enqueues the next batch if one is needed. */
  async planAndEnqueue(): Promise<SyncStatus> {
    const status = await planNextBatch(this.o.node, this.o.lc, this.o.batchSize, this.o.anchorHeight, {
      fromForkPoint: this.fromForkPoint,
    });
    const { metrics, log } = this.o;
    metrics.bitcoinTipHeight.set(status.nodeHeight);
    metrics.lightClientHeight.set(status.lightClientHeight);
    metrics.lightClientLag.set(status.lag);
    const prev = this.lastStatus;
    this.lastStatus = status;
    if (status.reorg !== undefined && prev?.reorg?.lightClientBest !== status.reorg.lightClientBest) {
      log.warn(
        {
          forkHeight: status.reorg.forkHeight,
          lightClientHeight: status.lightClientHeight,
          nodeHeight: status.nodeHeight,
        },
        "Bitcoin reorg: the light client's best block is not on the node's best chain",
      );
    }
    if (status.nodeChainStoredButNotBest === true && prev?.nodeChainStoredButNotBest !== true) {
      log.warn("the node's chain is stored in the light client but another stored branch has more work");
    }
    if (status.reorgPending !== undefined && prev?.reorgPending === undefined) {
      log.warn(status.reorgPending, "the light client is applying a deep reorganisation in steps: continuing it");
    }
    let outcome: Awaited<ReturnType<typeof enqueueBatch>> | undefined;
    if (status.next !== undefined && this.queue !== undefined) {
      outcome = await enqueueBatch(this.queue, status.next, prev?.next, log, this.retryRounds);
      if (outcome === "gave-up") {
        if (!this.fromForkPoint && status.next.continueReorg !== true) {
          this.fromForkPoint = true;
          log.warn({ fromHeight: status.next.fromHeight }, "re-planning the node's branch from the last common block");
        } else if (!this.stuckReported.has(batchJobId(status.next))) {
          this.stuckReported.add(batchJobId(status.next));
          log.error(
            { fromHeight: status.next.fromHeight, lightClientHeight: status.lightClientHeight },
            "header sync is stuck: the batch from the last common block fails too; see the reason above",
          );
        }
      }
    }
    this.report(status, prev, outcome);
    return status;
  }

  /** Progress for /healthz and /metrics: caught up or moving is progress; a permanently failed batch is a fault. */
  private report(
    status: SyncStatus,
    prev: SyncStatus | undefined,
    outcome: Awaited<ReturnType<typeof enqueueBatch>> | undefined,
  ): void {
    const p = this.progress;
    p.setLag(status.lag, "blocks");
    const stuck = outcome === "gave-up" && status.next !== undefined && this.stuckReported.has(batchJobId(status.next));
    if (outcome === "failed-permanently" || stuck) {
      p.fault(`the next header batch (from height ${status.next?.fromHeight}) failed permanently; sync is stuck`);
    } else p.clearFault();
    const moved = prev !== undefined && (prev.lightClientHeight !== status.lightClientHeight || prev.lag > status.lag);
    if (status.lag === 0 || status.next === undefined || moved) p.progressed();
    else p.blocked(`light client ${status.lag} blocks behind the node and not moving`);
  }

  /** Health for /healthz: the last poll succeeded recently. */
  health(): { ok: boolean; detail: unknown } {
    return this.progress.health({ ...this.lastStatus });
  }

  stop(): void {
    this.poller.stop();
  }
}
