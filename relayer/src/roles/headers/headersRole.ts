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
  return `headers-${b.fromHeight}-${b.firstHash}-${b.count}-${b.plannedOnBest.slice(2, 18)}`;
}

/**
 * Enqueues a planned batch under its content job id. A completed job with that id (kept 24 h by BullMQ, which would
 * silently ignore the add) is removed first, so the same batch can run again when it is needed again. A failed job
 * that ran out of attempts on transient errors is retried; a permanent failure stays failed, with its reason, for the
 * operator (logged at error level once per newly planned batch).
 */
export async function enqueueBatch(
  queue: Queue<HeadersBatch>,
  next: HeadersBatch,
  prevNext: HeadersBatch | undefined,
  log: Logger,
): Promise<"added" | "re-added" | "retried" | "failed-permanently"> {
  const jobId = batchJobId(next);
  const existing = await queue.getJob(jobId);
  const state = existing === undefined ? undefined : await existing.getState();
  if (existing !== undefined && state === "failed") {
    if (existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
      log.warn({ jobId, reason: existing.failedReason }, "retrying a batch that ran out of attempts");
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
    const status = await planNextBatch(this.o.node, this.o.lc, this.o.batchSize, this.o.anchorHeight);
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
    let outcome: Awaited<ReturnType<typeof enqueueBatch>> | undefined;
    if (status.next !== undefined && this.queue !== undefined) {
      outcome = await enqueueBatch(this.queue, status.next, prev?.next, log);
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
    if (outcome === "failed-permanently") {
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
