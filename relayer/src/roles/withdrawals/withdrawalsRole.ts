import type { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import type { KeyPair } from "../../bitcoin/txBuilder";
import type { RelayerMetrics } from "../../core/metrics";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import type { RoleProgress } from "../../core/roleHealth";
import { WithdrawalStatus, type TunnelClient } from "../../evm/tunnel";
import type { EvmSender } from "../../evm/sender";
import { custodyScriptOf } from "./custodyKey";
import { PayoutFinder } from "./payoutFinder";
import { PayoutStore } from "./payoutStore";
import {
  processWithdrawalJob,
  type WithdrawalDeps,
  type WithdrawalJobData,
  type WithdrawalJobResult,
} from "./withdrawalProcessor";

/** Name of the withdrawals role's BullMQ queue. */
export const WITHDRAWALS_QUEUE = "withdrawals";

/**
 * The BullMQ job id of withdrawal `id`. (BullMQ rejects custom ids with exactly one ':', so it is
 * `withdrawal-<id>` rather than `withdrawal:<id>`.)
 */
export function withdrawalJobId(id: bigint | string): string {
  return `withdrawal-${id.toString()}`;
}

export interface WithdrawalsRoleOptions {
  core: QueueCore;
  log: Logger;
  redis: Redis;
  node: BitcoinRpcClient;
  tunnel: TunnelClient;
  provider: JsonRpcProvider;
  sender: EvmSender;
  metrics: RelayerMetrics;
  /** The deployment's Redis prefix; the role's keys live under `<prefix>:state:withdrawals:`. */
  prefix: string;
  /** The vault custody key (VAULT_CUSTODY_KEY): the role serves the vault whose custody script is its P2WPKH. */
  key: KeyPair;
  pollIntervalMs: number;
  lockTtlMs: number;
  concurrency: number;
  feeTarget: number;
  fallbackFeeRate: number;
  searchDepth: number;
  /** A role blocked this long is reported stuck by /healthz (default 5 minutes). */
  stuckAfterMs?: number;
  /** Redis outage errors told elsewhere (RedisWatch): not logged per poll. */
  outage?: { absorb(err: unknown): boolean };
}

/**
 * The `withdrawals` role (vault operator). A poller follows WithdrawalRequested events of the vault whose custody
 * script is the P2WPKH of VAULT_CUSTODY_KEY (from a persisted EVM block cursor) and enqueues one job per
 * withdrawal (`withdrawal-<id>`); a job pays the withdrawal on Bitcoin once (journal before broadcast, existing
 * payouts looked up first, payouts serialised per custody key with a Redis lock and spent UTXOs tracked), waits
 * for the vault's confirmations, then proves it with finalizeWithdrawal (see withdrawalProcessor.ts).
 *
 * Start it with `startRelayer(cfg, ["headers", "withdrawals"], log)` (VAULT_CUSTODY_KEY set) or
 * `hemi-fabric relayer --roles headers,deposits,withdrawals`.
 */
export class WithdrawalsRole {
  readonly name = "withdrawals";
  readonly custodyScript: string;
  private readonly store: PayoutStore;
  private readonly finder: PayoutFinder;
  private queue: Queue<WithdrawalJobData, WithdrawalJobResult> | undefined;
  private readonly poller: Poller;
  private vaultId = 0;
  private ticks = 0;
  private readonly blockTimes = new Map<number, number>();
  private lastStatus: Record<string, unknown> = {};
  readonly progress: RoleProgress;

  constructor(private readonly o: WithdrawalsRoleOptions) {
    this.poller = new Poller({
      name: "withdrawals",
      intervalMs: o.pollIntervalMs,
      poll: () => this.poll(),
      log: o.log,
      quietAfterStop: true, // a poll cut short by the shutdown (connections closed under it)
      absorb: o.outage === undefined ? undefined : (err) => o.outage?.absorb(err) === true,
    });
    this.progress = o.metrics.roles.role("withdrawals", {
      log: o.log,
      stuckAfterMs: o.stuckAfterMs ?? 300_000,
      poller: this.poller,
    });
    this.custodyScript = custodyScriptOf(o.key);
    this.store = new PayoutStore(o.redis, o.prefix);
    this.finder = new PayoutFinder(o.node, o.searchDepth);
  }

  private deps(): WithdrawalDeps {
    return {
      node: this.o.node,
      tunnel: this.o.tunnel,
      sender: this.o.sender,
      redis: this.o.redis,
      store: this.store,
      finder: this.finder,
      metrics: this.o.metrics,
      key: this.o.key,
      custodyScript: this.custodyScript,
      custodyLockKey: `${this.o.prefix}:state:withdrawals:custody:${this.custodyScript}:lock`,
      lockTtlMs: this.o.lockTtlMs,
      pollIntervalMs: this.o.pollIntervalMs,
      feeTarget: this.o.feeTarget,
      fallbackFeeRate: this.o.fallbackFeeRate,
      blockTime: (n) => this.blockTime(n),
    };
  }

  private async blockTime(n: number): Promise<number> {
    let t = this.blockTimes.get(n);
    if (t === undefined) {
      const b = await this.o.provider.getBlock(n);
      if (b === null) throw new Error(`EVM block ${n} not found`);
      t = b.timestamp;
      if (this.blockTimes.size > 10_000) this.blockTimes.clear();
      this.blockTimes.set(n, t);
    }
    return t;
  }

  start(): void {
    const { core, log } = this.o;
    this.queue = core.queue<WithdrawalJobData>(WITHDRAWALS_QUEUE) as unknown as Queue<
      WithdrawalJobData,
      WithdrawalJobResult
    >;
    const deps = this.deps();
    core.addWorker<WithdrawalJobData, WithdrawalJobResult>(
      WITHDRAWALS_QUEUE,
      (job, ctx) => processWithdrawalJob(deps, job, ctx.log, ctx.signal),
      { concurrency: this.o.concurrency },
    );
    log.info({ custodyScript: this.custodyScript, pollIntervalMs: this.o.pollIntervalMs }, "withdrawals role started");
    this.poller.start();
  }

  /** One poll: enqueue the withdrawals requested from our vault since the cursor. */
  async poll(): Promise<void> {
    this.ticks++;
    const { tunnel, provider, log } = this.o;
    const queue = this.queue;
    if (queue === undefined) throw new Error("withdrawals role not started");
    if (this.vaultId === 0) {
      this.vaultId = await tunnel.vaultOfScript(this.custodyScript);
      if (this.vaultId === 0) {
        if (this.ticks === 1 || this.ticks % 100 === 0) {
          log.warn(
            { custodyScript: this.custodyScript },
            "no vault has VAULT_CUSTODY_KEY's custody script yet (deploy with VAULT_CUSTODY_KEY); waiting",
          );
        }
        this.progress.blocked("no vault has VAULT_CUSTODY_KEY's custody script");
        return;
      }
      log.info({ vaultId: this.vaultId }, "serving withdrawals of the vault of VAULT_CUSTODY_KEY");
    }
    const latest = await provider.getBlockNumber();
    const from = ((await this.store.evmCursor()) ?? tunnel.fromBlock - 1) + 1;
    this.progress.setLag(Math.max(0, latest - (from - 1)), "evm-blocks");
    if (from - 1 > latest) {
      this.progress.fault(
        `saved EVM cursor (block ${from - 1}) is above the chain head (block ${latest}): the EVM chain was reset; ` +
          "restart the relayer (it removes the stale state) or redeploy",
      );
      return;
    }
    this.progress.clearFault();
    const to = Math.min(latest, from + 4_999);
    const requests = await tunnel.withdrawalRequests([this.vaultId], from, to);
    for (const r of requests) {
      await queue.add(
        "withdrawal",
        {
          id: r.id.toString(),
          vaultId: r.vaultId,
          btcScript: r.btcScript,
          sats: r.sats.toString(),
          fee: r.fee.toString(),
          requestBlock: r.blockNumber,
        },
        { jobId: withdrawalJobId(r.id) },
      );
    }
    if (requests.length > 0) log.info({ count: requests.length, fromBlock: from, toBlock: to }, "withdrawals enqueued");
    if (to >= from) await this.store.setEvmCursor(to);
    this.progress.setLag(latest - Math.max(to, from - 1), "evm-blocks");
    this.progress.progressed();
    this.lastStatus = { vaultId: this.vaultId, evmCursor: to };
    if (this.ticks % 25 === 0) await this.retryExhausted(queue);
  }

  /** Jobs out of attempts on transient errors whose withdrawal is still pending are tried again. */
  private async retryExhausted(queue: Queue<WithdrawalJobData, WithdrawalJobResult>): Promise<void> {
    for (const job of await queue.getFailed(0, 200)) {
      if (job.attemptsMade < (job.opts.attempts ?? 1)) continue; // a permanent failure: left for the operator
      const w = await this.o.tunnel.withdrawal(BigInt(job.data.id));
      if (w.status !== WithdrawalStatus.Pending) continue;
      this.o.log.warn(
        { jobId: job.id, reason: job.failedReason },
        "retrying a withdrawal job that ran out of attempts",
      );
      await job.retry("failed");
    }
  }

  /** Health for /healthz: the last poll succeeded recently. */
  health(): { ok: boolean; detail: unknown } {
    return this.progress.health({ ...this.lastStatus });
  }

  stop(): void {
    this.poller.stop();
  }
}
