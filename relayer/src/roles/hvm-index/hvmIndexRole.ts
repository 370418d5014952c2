import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { Gauge } from "prom-client";
import { errorMessage } from "../../core/logger";
import type { RelayerMetrics } from "../../core/metrics";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import { ConfigError } from "../../config/load";
import type { Deployment } from "../../evm/deployment";
// This factory alone: typechain's index loads every factory, which slows each CLI start.
import { BitcoinTxIndex__factory } from "../../../../typechain-types/factories/contracts/hvm/BitcoinTxIndex__factory";
import { indexBlockJob, indexedBlocksOf, type IndexBlockDeps, type IndexBlockResult } from "./indexBlockJob";
import { indexJobId, planNextBlock, type IndexedBlocks, type IndexJob, type IndexStatus } from "./planner";

/** Name of the hvm-index role's BullMQ queue. */
export const HVM_INDEX_QUEUE = "hvm-index";

export interface HvmIndexRoleOptions extends IndexBlockDeps {
  core: QueueCore;
  log: Logger;
  metrics: RelayerMetrics;
  pollIntervalMs: number;
  /** First Bitcoin height to index (the light client's anchor + 1 on a fresh deployment). */
  startHeight: number;
}

/** Gauges of this role, registered once per metrics registry. */
function indexGauges(metrics: RelayerMetrics): { height: Gauge; lag: Gauge } {
  const get = (name: string, help: string): Gauge =>
    (metrics.registry.getSingleMetric(name) as Gauge | undefined) ??
    new Gauge({ name, help, registers: [metrics.registry] });
  return {
    height: get("hemi_fabric_hvm_index_height", "Highest Bitcoin height up to which BitcoinTxIndex holds every block"),
    lag: get("hemi_fabric_hvm_index_lag_blocks", "Blocks the hVM index is behind the light client"),
  };
}

/**
 * Enqueues `job` under its content id unless that job is already waiting or running. A completed job with that id
 * is replaced (the block is wanted again after a reorg back to its branch; the job itself skips if it is indexed).
 */
async function enqueue(queue: Queue<IndexJob>, job: IndexJob, log: Logger): Promise<"queued" | "stuck"> {
  const jobId = indexJobId(job);
  const existing = await queue.getJob(jobId);
  if (existing !== undefined) {
    const state = await existing.getState();
    if (state === "failed") {
      if (existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
        log.warn({ jobId, reason: existing.failedReason }, "retrying a block that ran out of attempts");
        await existing.retry("failed");
        return "queued";
      }
      return "stuck";
    }
    if (state !== "completed") return "queued"; // waiting, delayed or active
    await existing.remove();
  }
  await queue.add("index", job, { jobId });
  return "queued";
}

/**
 * The `hvm-index` role: feeds BitcoinTxIndex block by block behind the light client (which the headers role
 * feeds), through reorgs. A poller finds the first canonical light-client block the index lacks and enqueues it
 * under a content-derived job id (`hvm-index-<height>-<hash>`), so every relayer sharing the Redis plans the same
 * job; one worker indexes it through the serialised EVM sender and plans the next block at once. One block at a
 * time, in height order: a block's inputs then always find their source transactions already indexed.
 */
export class HvmIndexRole {
  readonly name = "hvm-index";
  private queue: Queue<IndexJob> | undefined;
  private readonly poller: Poller;
  private lastStatus: IndexStatus | undefined;
  /** Job id of a permanently failed next block (logged once). */
  private stuckJob: string | undefined;
  private readonly gauges: { height: Gauge; lag: Gauge };
  private readonly indexed: IndexedBlocks;

  constructor(private readonly o: HvmIndexRoleOptions) {
    this.poller = new Poller({
      name: "hvm-index",
      intervalMs: o.pollIntervalMs,
      poll: () => this.planAndEnqueue(),
      log: o.log,
      quietAfterStop: true,
    });
    this.gauges = indexGauges(o.metrics);
    this.indexed = indexedBlocksOf(o.index, o.redis, o.prefix);
  }

  start(): void {
    const { core, log } = this.o;
    this.queue = core.queue<IndexJob>(HVM_INDEX_QUEUE);
    core.addWorker<IndexJob, IndexBlockResult>(
      HVM_INDEX_QUEUE,
      async (job, ctx) => {
        const result = await indexBlockJob(this.o, job.data, job.id ?? indexJobId(job.data), ctx.log, ctx.signal);
        await this.planAndEnqueue().catch((err: unknown) =>
          ctx.log.warn({ err: errorMessage(err) }, "planning the next block failed; the poller will retry"),
        );
        return result;
      },
      { concurrency: 1 },
    );
    log.info({ pollIntervalMs: this.o.pollIntervalMs, startHeight: this.o.startHeight }, "hvm-index role started");
    this.poller.start();
  }

  /** Compares the index with the light client and enqueues the next block if one is missing. */
  async planAndEnqueue(): Promise<IndexStatus> {
    const status = await planNextBlock(this.o.lc, this.indexed, this.o.startHeight);
    this.lastStatus = status;
    this.gauges.height.set(status.indexedHeight);
    this.gauges.lag.set(status.lag);
    if (status.next !== undefined && this.queue !== undefined) {
      const jobId = indexJobId(status.next);
      if ((await enqueue(this.queue, status.next, this.o.log)) === "stuck") {
        if (this.stuckJob !== jobId)
          this.o.log.error({ jobId }, "the next block failed permanently; indexing is stuck");
        this.stuckJob = jobId;
      } else this.stuckJob = undefined;
    }
    return status;
  }

  /** Health for /healthz: the last poll succeeded recently. */
  health(): { ok: boolean; detail: unknown } {
    const { ok, lastPollAgeMs, consecutiveFailures } = this.poller.health();
    return { ok, detail: { lastPollAgeMs, consecutiveFailures, ...this.lastStatus } };
  }

  stop(): void {
    this.poller.stop();
  }
}

/** The index's ABI (custom errors included), for the sender's revert decoder. */
export const hvmIndexAbi = BitcoinTxIndex__factory.abi;

/**
 * Builds and starts the role for a deployment: the index is `contracts.BitcoinTxIndex`; blocks are indexed from the
 * light client's anchor height up (`syncIndex`'s default too).
 */
export function startHvmIndexRole(
  deps: Omit<HvmIndexRoleOptions, "index" | "startHeight"> & {
    deployment: Deployment | undefined;
    anchorHeight: number;
  },
): HvmIndexRole {
  const address = deps.deployment?.contracts.BitcoinTxIndex;
  if (address === undefined) {
    throw new ConfigError(
      "role hvm-index needs the hVM: use a deployment file with contracts.BitcoinTxIndex (redeploy with `npx hemi-fabric deploy`)",
      ["DEPLOYMENT_FILE"],
    );
  }
  const index = BitcoinTxIndex__factory.connect(address, deps.lc.contract.runner);
  const role = new HvmIndexRole({ ...deps, index, startHeight: deps.anchorHeight });
  role.start();
  return role;
}
