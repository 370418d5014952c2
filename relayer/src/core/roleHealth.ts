/**
 * Per-role progress for /healthz and /metrics: when each role last made progress, how far behind it is, whether it
 * is blocked (work it cannot advance) or faulty (a state that cannot resolve by itself, e.g. Redis state of another
 * deployment). Every role gets one `RoleProgress` from the process's `RoleMonitor` and reports to it from its poll:
 *
 *   const progress = metrics.roles.role("keystones", { log, stuckAfterMs, poller });
 *   progress.progressed();                       // did work, or has nothing to do (up to date)
 *   progress.blocked("light client behind");     // has work it cannot advance now; unhealthy once it lasts
 *   progress.fault("cursor above the chain head"); progress.clearFault();   // unhealthy at once, logged once
 *   progress.setLag(12, "blocks");               // hemi_fabric_role_lag{role,unit}
 *   role.health = () => progress.health({ ...extra detail });
 *
 * Metrics: hemi_fabric_role_last_progress_timestamp_seconds{role}, hemi_fabric_role_lag{role,unit},
 * hemi_fabric_role_healthy{role} (1/0, computed at scrape time), hemi_fabric_role_blocked_seconds{role}.
 */
import { Gauge, type Registry } from "prom-client";
import type { Logger } from "pino";
import type { PollerHealth } from "./poller";

/** What /healthz shows for a role: ok, and a detail whose `reason` says why not. */
export interface RoleHealthReport {
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface RoleProgressOptions {
  log: Logger;
  /** A role blocked for longer than this is reported stuck (not ok). */
  stuckAfterMs: number;
  /** The role's poller: failing polls make the role unhealthy too. */
  poller?: { health(): PollerHealth };
}

/** One role's progress record (see the module comment). */
export class RoleProgress {
  private lastProgressAt = 0;
  private blockedSince: number | undefined;
  private blockedReason: string | undefined;
  private faultReason: string | undefined;
  private stuckLogged = false;
  private readonly lags = new Map<string, number>();

  constructor(
    readonly role: string,
    private readonly monitor: RoleMonitor,
    private readonly o: RoleProgressOptions,
  ) {}

  /** The role did work or is up to date. Ends a blocked period. */
  progressed(): void {
    this.lastProgressAt = Date.now();
    this.monitor.lastProgress.set({ role: this.role }, Math.floor(this.lastProgressAt / 1000));
    if (this.stuckLogged) this.o.log.info({ role: this.role }, "role progressing again");
    this.blockedSince = undefined;
    this.blockedReason = undefined;
    this.stuckLogged = false;
  }

  /** The role has work it cannot advance now; after `stuckAfterMs` of this, it is reported stuck. */
  blocked(reason: string): void {
    this.blockedSince ??= Date.now();
    this.blockedReason = reason;
    if (!this.stuckLogged && this.isStuck()) {
      this.stuckLogged = true;
      this.o.log.error(
        { role: this.role, reason, blockedForMs: Date.now() - this.blockedSince },
        "role is stuck: no progress",
      );
    }
  }

  /** A state that will not resolve by itself: unhealthy at once; logged once per distinct reason. */
  fault(reason: string): void {
    if (this.faultReason !== reason) this.o.log.error({ role: this.role, reason }, "role fault");
    this.faultReason = reason;
  }

  clearFault(): void {
    if (this.faultReason !== undefined) this.o.log.info({ role: this.role }, "role fault cleared");
    this.faultReason = undefined;
  }

  /** How far behind the role is, in `unit` (blocks, evm-blocks, ...). */
  setLag(value: number, unit: string): void {
    this.lags.set(unit, value);
    this.monitor.lag.set({ role: this.role, unit }, value);
  }

  private isStuck(): boolean {
    return this.blockedSince !== undefined && Date.now() - this.blockedSince >= this.o.stuckAfterMs;
  }

  /** Health for /healthz: not ok on a fault, on failing polls, or when blocked longer than stuckAfterMs. */
  health(extra: Record<string, unknown> = {}): RoleHealthReport {
    const now = Date.now();
    const poll = this.o.poller?.health();
    const blockedForMs = this.blockedSince === undefined ? undefined : now - this.blockedSince;
    let reason: string | undefined;
    if (this.faultReason !== undefined) reason = `fault: ${this.faultReason}`;
    else if (this.isStuck())
      reason = `stuck: ${this.blockedReason ?? "no progress"} (for ${Math.round((blockedForMs ?? 0) / 1000)} s)`;
    else if (poll !== undefined && !poll.ok)
      reason =
        poll.lastPollAgeMs === undefined
          ? `no successful poll yet (${poll.consecutiveFailures} failed)`
          : `last successful poll ${Math.round(poll.lastPollAgeMs / 1000)} s ago (${poll.consecutiveFailures} failed since)`;
    const detail: Record<string, unknown> = {
      ...(reason === undefined ? {} : { reason }),
      lastProgressAgeMs: this.lastProgressAt === 0 ? undefined : now - this.lastProgressAt,
      ...(this.blockedReason === undefined ? {} : { blocked: this.blockedReason, blockedForMs }),
      ...(this.lags.size === 0 ? {} : { lag: Object.fromEntries(this.lags) }),
      ...(poll === undefined
        ? {}
        : { lastPollAgeMs: poll.lastPollAgeMs, consecutiveFailures: poll.consecutiveFailures }),
      ...extra,
    };
    return { ok: reason === undefined, detail };
  }

  /** For the scrape-time gauges. */
  blockedSeconds(): number {
    return this.blockedSince === undefined ? 0 : (Date.now() - this.blockedSince) / 1000;
  }
}

/** The process's roles and their progress gauges, in the relayer's metrics registry. */
export class RoleMonitor {
  private readonly roles = new Map<string, RoleProgress>();
  readonly lastProgress: Gauge<"role">;
  readonly lag: Gauge<"role" | "unit">;

  constructor(registry: Registry) {
    this.lastProgress = new Gauge({
      name: "hemi_fabric_role_last_progress_timestamp_seconds",
      help: "Unix time of the last progress of each role (work done, or nothing to do)",
      labelNames: ["role"] as const,
      registers: [registry],
    });
    this.lag = new Gauge({
      name: "hemi_fabric_role_lag",
      help: "How far behind each role is (unit: blocks = Bitcoin blocks, evm-blocks = EVM blocks)",
      labelNames: ["role", "unit"] as const,
      registers: [registry],
    });
    const roles = this.roles;
    new Gauge({
      name: "hemi_fabric_role_healthy",
      help: "1 when the role is healthy (/healthz), 0 when it is stuck, faulty or its polls fail",
      labelNames: ["role"] as const,
      registers: [registry],
      collect() {
        for (const [name, p] of roles) this.set({ role: name }, p.health().ok ? 1 : 0);
      },
    });
    new Gauge({
      name: "hemi_fabric_role_blocked_seconds",
      help: "Seconds each role has had work it could not advance (0 when progressing)",
      labelNames: ["role"] as const,
      registers: [registry],
      collect() {
        for (const [name, p] of roles) this.set({ role: name }, p.blockedSeconds());
      },
    });
  }

  /** The progress record of `role` (created once). */
  role(role: string, opts: RoleProgressOptions): RoleProgress {
    let p = this.roles.get(role);
    if (p === undefined) {
      p = new RoleProgress(role, this, opts);
      this.roles.set(role, p);
    }
    return p;
  }
}
