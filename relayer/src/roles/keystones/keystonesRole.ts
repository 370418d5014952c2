import type { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import type { Logger } from "pino";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import type { LightClientReader } from "../../evm/lightClient";
import type { EvmSender } from "../../evm/sender";
import type { KeystoneLedgerClient } from "../../pop/popContracts";
import type { PopMetrics } from "../pop/popMetrics";
import { recordKeystone, type RecordKeystoneResult } from "./keystoneRecorder";

/** Name of the keystones role's BullMQ queue. */
export const KEYSTONES_QUEUE = "keystones";

/** Most keystone jobs enqueued per poll (a long backlog is worked through poll after poll). */
const MAX_ENQUEUE = 50;

/** The job id of keystone n (BullMQ rejects ids with exactly one ':'). */
export function keystoneJobId(n: number): string {
  return `keystone-${n}`;
}

export interface KeystonesRoleOptions {
  core: QueueCore;
  log: Logger;
  provider: JsonRpcProvider;
  ledger: KeystoneLedgerClient;
  lc: LightClientReader;
  sender: EvmSender;
  metrics: PopMetrics;
  pollIntervalMs: number;
}

/**
 * The `keystones` role (the sequencer's side of Bitcoin-secure sequencing): a poller compares the EVM head with the
 * ledger's last keystone and enqueues `keystone-<n>` for every keystone block that exists and is not recorded; one
 * worker (concurrency 1, so keystones are recorded in order) records each through the serialised EVM sender. Job
 * ids are keystone numbers, so relayers sharing a Redis plan the same jobs; a completed job whose keystone is no
 * longer on chain (the EVM chain was rewound, e.g. evm_revert) is replaced and runs again.
 *
 * The role does not produce EVM blocks: on a chain where no transaction flows the head does not move and no
 * keystone falls due. The devnet mines an empty block every second (Hardhat interval mining) besides automine.
 */
export class KeystonesRole {
  readonly name = "keystones";
  private queue: Queue<{ n: number }, RecordKeystoneResult> | undefined;
  private readonly poller: Poller;
  private interval = 0;
  private lastStatus: Record<string, unknown> = {};
  private stuck: { l2BlockNumber: number; reason: string } | undefined;

  constructor(private readonly o: KeystonesRoleOptions) {
    this.poller = new Poller({
      name: "keystones",
      intervalMs: o.pollIntervalMs,
      poll: () => this.poll(),
      log: o.log,
      quietAfterStop: true,
    });
  }

  start(): void {
    const { core, log } = this.o;
    this.queue = core.queue<{ n: number }>(KEYSTONES_QUEUE) as unknown as Queue<{ n: number }, RecordKeystoneResult>;
    core.addWorker<{ n: number }, RecordKeystoneResult>(
      KEYSTONES_QUEUE,
      async (job, ctx) => {
        if (this.interval === 0) this.interval = await this.o.ledger.interval();
        const r = await recordKeystone({ ...this.o, interval: this.interval }, job.data.n, ctx.log, ctx.signal);
        if (r.status === "recorded") this.o.metrics.keystonesRecorded.inc();
        return r;
      },
      { concurrency: 1 },
    );
    log.info({ ledger: this.o.ledger.address, pollIntervalMs: this.o.pollIntervalMs }, "keystones role started");
    this.poller.start();
  }

  /** One poll: enqueue every keystone block that exists and is not recorded. */
  async poll(): Promise<void> {
    const queue = this.queue;
    if (queue === undefined) throw new Error("keystones role not started");
    const { ledger, provider, metrics } = this.o;
    if (this.interval === 0) this.interval = await ledger.interval();
    const [head, last, first] = await Promise.all([
      provider.getBlockNumber(),
      ledger.lastKeystoneNumber(),
      ledger.firstKeystoneNumber(),
    ]);
    metrics.lastKeystone.set(last);
    const next = last === 0 ? first : last + this.interval;
    const due = head >= next ? Math.floor((head - next) / this.interval) + 1 : 0;
    metrics.keystonesDue.set(due);
    this.lastStatus = { evmHead: head, lastKeystone: last, nextKeystone: next, due };
    if (this.stuck !== undefined && this.stuck.l2BlockNumber !== next) this.stuck = undefined;
    for (let n = next, i = 0; n <= head && i < MAX_ENQUEUE; n += this.interval, i++) {
      const jobId = keystoneJobId(n);
      const existing = await queue.getJob(jobId);
      if (existing !== undefined) {
        const state = await existing.getState();
        if (state === "completed") {
          // Completed earlier, yet not recorded now: the EVM chain was rewound under it. Record it again.
          await existing.remove();
          this.o.log.warn({ l2BlockNumber: n }, "keystone recorded earlier is no longer on chain; recording it again");
        } else if (state === "failed") {
          if (existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
            this.o.log.warn({ l2BlockNumber: n, reason: existing.failedReason }, "retrying a keystone out of attempts");
            await existing.retry("failed");
          } else {
            // A permanent failure (e.g. the ledger rejects the keystone): later keystones wait behind it.
            this.stuck = { l2BlockNumber: n, reason: existing.failedReason };
          }
          break;
        } else continue;
      }
      await queue.add("record", { n }, { jobId });
    }
  }

  /**
   * Health for /healthz: the last poll succeeded recently and no keystone failed for good (which would hold every later
   * keystone back); the detail says how far behind the ledger is, and why it is stuck.
   */
  health(): { ok: boolean; detail: unknown } {
    const { ok, lastPollAgeMs, consecutiveFailures } = this.poller.health();
    return {
      ok: ok && this.stuck === undefined,
      detail: { lastPollAgeMs, consecutiveFailures, ...this.lastStatus, stuck: this.stuck },
    };
  }

  stop(): void {
    this.poller.stop();
  }
}
