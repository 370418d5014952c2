import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { RoleMonitor } from "./roleHealth";

/** Something whose job counts can be read (a BullMQ Queue). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed", "prioritized", "waiting-children"];

/** How long a scrape waits for the queue depths from Redis before answering without them (Redis down or hung). */
export const QUEUE_COUNTS_TIMEOUT_MS = 1_000;

/** The relayer's Prometheus metrics, in a registry of their own. */
export class RelayerMetrics {
  readonly registry = new Registry();
  private readonly queues: CountableQueue[] = [];

  readonly queueJobs = new Gauge({
    name: "hemi_fabric_queue_jobs",
    help: "Jobs in each queue by state (read from Redis at scrape time)",
    labelNames: ["queue", "state"] as const,
    registers: [this.registry],
    collect: async () => {
      // A scrape must answer while Redis is down or hung: the depths are read with a time limit (and not again while
      // an earlier read is still hanging); without an answer, the gauge is left out rather than stale.
      this.queueJobs.reset();
      this.countsInFlight ??= Promise.all(
        this.queues.map(async (q) => [q.name, await q.getJobCounts(...QUEUE_STATES).catch(() => undefined)] as const),
      ).finally(() => (this.countsInFlight = undefined));
      let timer: NodeJS.Timeout | undefined;
      const all = await Promise.race([
        this.countsInFlight,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), QUEUE_COUNTS_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      for (const [name, counts] of all ?? []) {
        if (counts === undefined) continue;
        for (const state of QUEUE_STATES) this.queueJobs.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
  private countsInFlight: Promise<(readonly [string, Record<string, number> | undefined])[]> | undefined;
  /** Per-role progress, lag and health (see roleHealth.ts). */
  readonly roles = new RoleMonitor(this.registry);
  readonly jobsCompleted = new Counter({
    name: "hemi_fabric_jobs_completed_total",
    help: "Jobs completed by this process",
    labelNames: ["queue"] as const,
    registers: [this.registry],
  });
  readonly jobsFailed = new Counter({
    name: "hemi_fabric_jobs_failed_total",
    help: "Job attempts that failed in this process (final=true: no retry left or a permanent error)",
    labelNames: ["queue", "final"] as const,
    registers: [this.registry],
  });
  readonly lightClientLag = new Gauge({
    name: "hemi_fabric_light_client_lag_blocks",
    help: "Bitcoin node tip height minus the light client's best height",
    registers: [this.registry],
  });
  readonly lightClientHeight = new Gauge({
    name: "hemi_fabric_light_client_height",
    help: "The light client's best Bitcoin height",
    registers: [this.registry],
  });
  readonly bitcoinTipHeight = new Gauge({
    name: "hemi_fabric_bitcoin_tip_height",
    help: "The Bitcoin node's best height",
    registers: [this.registry],
  });
  readonly gasUsed = new Counter({
    name: "hemi_fabric_gas_used_total",
    help: "Gas used by this process's mined transactions",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly gasCostWei = new Counter({
    name: "hemi_fabric_gas_cost_wei_total",
    help: "Fees paid by this process's mined transactions, in wei",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly transactions = new Counter({
    name: "hemi_fabric_evm_transactions_total",
    help: "EVM transactions by outcome (mined, reverted, replaced, skipped: already done on chain)",
    labelNames: ["role", "outcome"] as const,
    registers: [this.registry],
  });
  readonly headersSubmitted = new Counter({
    name: "hemi_fabric_headers_submitted_total",
    help: "Bitcoin headers submitted to the light client by this process",
    registers: [this.registry],
  });
  readonly reorgs = new Counter({
    name: "hemi_fabric_bitcoin_reorgs_total",
    help: "Bitcoin reorganisations detected (light client best not on the node's best chain)",
    registers: [this.registry],
  });

  readonly depositsFound = new Counter({
    name: "hemi_fabric_deposits_found_total",
    help: "Outputs to a vault's custody script found by this process's deposit scanner",
    registers: [this.registry],
  });
  readonly depositsConfirmed = new Counter({
    name: "hemi_fabric_deposits_confirmed_total",
    help: "Deposits minted by this process's transactions",
    registers: [this.registry],
  });
  readonly depositsFailed = new Counter({
    name: "hemi_fabric_deposits_failed_total",
    help: "Deposits recorded as never mintable (malformed, below minimum, vault not taking deposits)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly depositScanHeight = new Gauge({
    name: "hemi_fabric_deposits_scan_height",
    help: "Last Bitcoin block height the deposit scanner has scanned",
    registers: [this.registry],
  });
  readonly depositsPending = new Gauge({
    name: "hemi_fabric_deposits_pending",
    help: "Deposits found and not yet minted (waiting for confirmations or in flight)",
    registers: [this.registry],
  });
  readonly depositLagBlocks = new Gauge({
    name: "hemi_fabric_deposits_lag_blocks",
    help: "Bitcoin tip height minus the height of the oldest deposit not yet minted (0 when none is pending)",
    registers: [this.registry],
  });
  readonly withdrawalsPaid = new Counter({
    name: "hemi_fabric_withdrawals_paid_total",
    help: "Withdrawal payouts broadcast on Bitcoin by this process",
    registers: [this.registry],
  });
  readonly withdrawalsFinalized = new Counter({
    name: "hemi_fabric_withdrawals_finalized_total",
    help: "Withdrawals finalized (payout proven) by this process's transactions",
    registers: [this.registry],
  });
  readonly withdrawalLagSeconds = new Gauge({
    name: "hemi_fabric_withdrawals_last_lag_seconds",
    help: "Seconds from the request (its EVM block) to the finalization of the last withdrawal this process finalized",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "hemi_fabric_" });
  }

  /** Adds a queue whose depths are reported. */
  watchQueue(queue: CountableQueue): void {
    this.queues.push(queue);
  }
}
