import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import { LockBusyError, withLock } from "../../core/lock";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import type { RoleProgress } from "../../core/roleHealth";
import type { TunnelClient, VaultInfo } from "../../evm/tunnel";
import { blockReadiness, processDepositJob, type ConfirmDeps, type DepositJobResult } from "./depositConfirmer";
import { depositJobId, isHeld } from "./depositRules";
import { scanDeposits, type DepositJobData, type ScanResult } from "./depositScanner";
import { DepositStore, type PendingDeposit } from "./depositStore";

/** Name of the deposits role's BullMQ queue. */
export const DEPOSITS_QUEUE = "deposits";

export interface DepositsRoleOptions extends Omit<ConfirmDeps, "store" | "lockKey"> {
  core: QueueCore;
  log: Logger;
  redis: Redis;
  node: BitcoinRpcClient;
  tunnel: TunnelClient;
  /** The deployment's Redis prefix; the role's keys live under `<prefix>:state:deposits:`. */
  prefix: string;
  pollIntervalMs: number;
  /** First Bitcoin height to scan on a fresh deployment (the light client's anchor). */
  startHeight: number;
  /** Most blocks scanned per poll. */
  scanBlocks: number;
  /** A role blocked this long is reported stuck by /healthz (default 5 minutes). */
  stuckAfterMs?: number;
  /** Redis outage errors told elsewhere (RedisWatch): not logged per poll. */
  outage?: { absorb(err: unknown): boolean };
}

/**
 * The `deposits` role. A poller (under a deployment-wide scan lock, so several relayers on one Redis scan once)
 * walks new Bitcoin blocks for outputs to any vault's custody script, keeps the well-formed deposits as pending
 * in Bitcoin order, and enqueues one job per deposit (`deposit:<txid>:<vout>`) as soon as its block has the
 * vault's confirmations on the node and in the light client (fed by the headers role); malformed deposits get a
 * job that fails at once with the reason. A job confirms, in order and one block per transaction, every pending
 * deposit up to its own (see depositConfirmer.ts), so the tunnel's sequence follows Bitcoin order.
 *
 * Start it with `startRelayer(cfg, ["headers", "deposits"], log)` or `hemi-fabric relayer --roles headers,deposits`.
 */
export class DepositsRole {
  readonly name = "deposits";
  readonly store: DepositStore;
  private queue: Queue<DepositJobData, DepositJobResult> | undefined;
  private readonly poller: Poller;
  private lastScan: ScanResult | undefined;
  private ticks = 0;
  /** Job ids this process already enqueued (re-checked in Redis every 25 polls). */
  private readonly enqueued = new Set<string>();
  readonly progress: RoleProgress;
  /** The oldest pending deposit at the last poll ("<txid>:<vout>"), to tell progress from a deposit that stays. */
  private lastHead: string | undefined;

  constructor(private readonly o: DepositsRoleOptions) {
    this.poller = new Poller({
      name: "deposits",
      intervalMs: o.pollIntervalMs,
      poll: () => this.poll(),
      log: o.log,
      quietAfterStop: true, // a poll cut short by the shutdown (connections closed under it)
      absorb: o.outage === undefined ? undefined : (err) => o.outage?.absorb(err) === true,
    });
    this.store = new DepositStore(o.redis, o.prefix);
    this.progress = o.metrics.roles.role("deposits", {
      log: o.log,
      stuckAfterMs: o.stuckAfterMs ?? 300_000,
      poller: this.poller,
    });
  }

  /** Redis lost its data: forget what this process remembers having enqueued (the jobs are gone too). */
  forgetCaches(): void {
    this.enqueued.clear();
    this.lastHead = undefined;
  }

  private get confirmDeps(): ConfirmDeps {
    return { ...this.o, store: this.store, lockKey: `${this.o.prefix}:state:deposits:confirm-lock` };
  }

  start(): void {
    const { core, log } = this.o;
    this.queue = core.queue<DepositJobData>(DEPOSITS_QUEUE) as unknown as Queue<DepositJobData, DepositJobResult>;
    core.addWorker<DepositJobData, DepositJobResult>(
      DEPOSITS_QUEUE,
      (job, ctx) => processDepositJob(this.confirmDeps, job.data, ctx.log, ctx.signal),
      // Several at once: most jobs only find their deposit minted by the batch of an earlier job; confirming is
      // serialised by the confirm lock, which is what keeps the order.
      { concurrency: 4 },
    );
    log.info({ pollIntervalMs: this.o.pollIntervalMs, startHeight: this.o.startHeight }, "deposits role started");
    this.poller.start();
  }

  /** One poll: scan new blocks (if no other relayer is scanning), then enqueue the deposits that are ready. */
  async poll(): Promise<void> {
    this.ticks++;
    try {
      this.lastScan = await withLock(
        this.o.redis,
        `${this.o.prefix}:state:deposits:scan-lock`,
        { ttlMs: this.o.lockTtlMs, waitMs: 0 },
        () =>
          scanDeposits({
            node: this.o.node,
            tunnel: this.o.tunnel,
            store: this.store,
            jobs: this.queueOrThrow(),
            log: this.o.log,
            metrics: this.o.metrics,
            startHeight: this.o.startHeight,
            maxBlocks: this.o.scanBlocks,
          }),
      );
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
    }
    await this.enqueueReady();
  }

  private queueOrThrow(): Queue<DepositJobData, DepositJobResult> {
    if (this.queue === undefined) throw new Error("deposits role not started");
    return this.queue;
  }

  /** Enqueues the jobs of pending deposits whose blocks are ready, oldest block first, stopping at the first not ready. */
  private async enqueueReady(): Promise<void> {
    const queue = this.queueOrThrow();
    const { node, tunnel, metrics, log } = this.o;
    await this.unparkResumed();
    const pending = await this.store.pending();
    const tip = await node.getBlockCount();
    metrics.depositsPending.set(pending.length);
    metrics.depositLagBlocks.set(pending.length === 0 ? 0 : tip - pending[0].height);
    this.progress.setLag(pending.length === 0 ? 0 : tip - pending[0].height, "blocks");
    const head = pending[0] === undefined ? undefined : `${pending[0].txid}:${pending[0].vout}`;
    const moved = head !== this.lastHead;
    this.lastHead = head;
    if (pending.length > 0 && pending[0].height < this.o.startHeight) {
      // The light client has nothing below its anchor: such a deposit can never be proven, and it holds every later one.
      this.progress.fault(
        `pending deposit ${head} is in Bitcoin block ${pending[0].height}, below the light client's anchor ` +
          `${this.o.startHeight}: it can never be proven (Redis state of another deployment?)`,
      );
    } else this.progress.clearFault();
    if (pending.length === 0 || moved) this.progress.progressed();
    const fullCheck = this.ticks % 25 === 0;
    // Forget job ids of deposits that are no longer pending (minted or failed), so the set stays small.
    const pendingIds = new Set(pending.map((d) => depositJobId(d.txid, d.vout)));
    for (const id of this.enqueued) if (!pendingIds.has(id)) this.enqueued.delete(id);
    const confs = new Map<number, number>();
    for (let i = 0; i < pending.length;) {
      const head = pending[i];
      let j = i;
      const group: PendingDeposit[] = [];
      while (j < pending.length && pending[j].height === head.height && pending[j].blockHash === head.blockHash) {
        group.push(pending[j++]);
      }
      const isHead = i === 0;
      i = j;
      for (const d of group)
        if (!confs.has(d.vaultId)) confs.set(d.vaultId, (await tunnel.vault(d.vaultId)).confirmations);
      const conf = Math.max(...group.map((d) => confs.get(d.vaultId) ?? 6));
      const ready = await blockReadiness(node, tunnel, head.height, head.blockHash, conf, tip);
      if (!ready.ready) {
        log.debug({ height: head.height, why: ready.why }, "oldest pending deposit block not ready");
        // Waiting for Bitcoin confirmations is normal; anything else (light client behind, ...) must not last.
        if (/confirmations on the node/.test(ready.why ?? "")) {
          if (isHead) this.progress.progressed();
        } else if (isHead) this.progress.blocked(`oldest pending deposit not ready: ${ready.why ?? "?"}`);
        return;
      }
      if (isHead && !moved) this.progress.blocked("oldest pending deposit ready but not minted yet");
      for (const d of group) {
        const jobId = depositJobId(d.txid, d.vout);
        if (this.enqueued.has(jobId) && !fullCheck) continue;
        const existing = await queue.getJob(jobId);
        if (existing !== undefined) {
          const state = await existing.getState();
          if (state === "failed" && existing.attemptsMade >= (existing.opts.attempts ?? 1)) {
            log.warn({ jobId, reason: existing.failedReason }, "retrying a deposit job that ran out of attempts");
            await existing.retry("failed");
          } else if (state === "completed") {
            // Minted (the job only completes then); forget it if a reorg put it back in the pending set.
            await this.store.done(d);
          }
        } else {
          await queue.add("deposit", { txid: d.txid, vout: d.vout }, { jobId });
        }
        this.enqueued.add(jobId);
      }
    }
  }

  /** Puts parked deposits whose vault takes them again back in the pending order (their jobs run again). */
  private async unparkResumed(): Promise<void> {
    const vaults = new Map<number, VaultInfo>();
    for (const d of await this.store.parked()) {
      let v = vaults.get(d.vaultId);
      if (v === undefined) {
        v = await this.o.tunnel.vault(d.vaultId);
        vaults.set(d.vaultId, v);
      }
      if (isHeld(v, d.height)) continue;
      await this.store.unpark(d);
      this.o.log.info({ txid: d.txid, vout: d.vout, vaultId: d.vaultId }, "vault takes it again: deposit unparked");
    }
  }

  /** Health for /healthz: the last poll succeeded recently. */
  health(): { ok: boolean; detail: unknown } {
    return this.progress.health({ ...this.lastScan });
  }

  stop(): void {
    this.poller.stop();
  }
}
