import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { errorMessage } from "../../core/logger";
import type { QueueCore } from "../../core/queues";
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
}

/** Deterministic job id of a batch: the same plan from the same light-client state gives the same id. */
export function batchJobId(b: HeadersBatch): string {
  return `headers-${b.fromHeight}-${b.firstHash}-${b.count}-${b.plannedOnBest.slice(2, 18)}`;
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
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private consecutiveFailures = 0;
  private lastPollOkAt = 0;
  private lastStatus: SyncStatus | undefined;

  constructor(private readonly o: HeadersRoleOptions) {}

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
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    let delay = this.o.pollIntervalMs;
    try {
      await this.planAndEnqueue();
      if (this.consecutiveFailures > 0) this.o.log.info("Bitcoin/EVM polling recovered");
      this.consecutiveFailures = 0;
      this.lastPollOkAt = Date.now();
    } catch (err) {
      this.consecutiveFailures++;
      delay = Math.min(this.o.pollIntervalMs * 2 ** Math.min(this.consecutiveFailures, 5), 30_000);
      const level = err instanceof AnchorMismatchError ? "error" : "warn";
      this.o.log[level](
        { err: errorMessage(err), consecutiveFailures: this.consecutiveFailures, retryInMs: delay },
        "headers poll failed",
      );
    }
    this.schedule(delay);
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
    if (status.next !== undefined && this.queue !== undefined) {
      const jobId = batchJobId(status.next);
      const existing = await this.queue.getJob(jobId);
      if (existing !== undefined && (await existing.getState()) === "failed") {
        // Out of retries on transient errors (e.g. the EVM node was down for long): try again. A permanent
        // failure (stopped before its attempts ran out) stays failed, with its reason, for the operator.
        if (existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
          log.warn({ jobId, reason: existing.failedReason }, "retrying a batch that ran out of attempts");
          await existing.retry("failed");
        } else if (prev?.next === undefined || batchJobId(prev.next) !== jobId) {
          log.error({ jobId, reason: existing.failedReason }, "the next batch failed permanently; sync is stuck");
        }
      } else {
        await this.queue.add("submit", status.next, { jobId });
        log.debug({ jobId, lag: status.lag }, "batch planned");
      }
    }
    return status;
  }

  /** Health for /healthz: the last poll succeeded recently. */
  health(): { ok: boolean; detail: unknown } {
    const age = this.lastPollOkAt === 0 ? undefined : Date.now() - this.lastPollOkAt;
    const ok = age !== undefined && age < Math.max(10_000, this.o.pollIntervalMs * 5);
    return { ok, detail: { lastPollAgeMs: age, consecutiveFailures: this.consecutiveFailures, ...this.lastStatus } };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
