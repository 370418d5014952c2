import type { Logger } from "pino";
import { Poller } from "../../core/poller";
import { checkAnchors, type AnchorCheckDeps, type AnchorReport } from "../../pop/anchorCheck";
import type { PopMetrics } from "../pop/popMetrics";

export interface AnchorsRoleOptions extends AnchorCheckDeps {
  log: Logger;
  metrics: PopMetrics;
  intervalMs: number;
}

/**
 * The `anchors` role: runs verify-anchors' check every ANCHORS_CHECK_INTERVAL_MS, sets the hemi_fabric_anchors_*
 * gauges, logs each new contradiction once (error level), and makes /healthz answer not ok, with the reasons, while
 * a contradiction stands.
 */
export class AnchorsRole {
  readonly name = "anchors";
  private readonly poller: Poller;
  private last: AnchorReport | undefined;
  private readonly reported = new Set<string>();

  constructor(private readonly o: AnchorsRoleOptions) {
    this.poller = new Poller({
      name: "anchors",
      intervalMs: o.intervalMs,
      poll: () => this.check(),
      log: o.log,
      quietAfterStop: true,
    });
  }

  start(): void {
    this.o.log.info({ intervalMs: this.o.intervalMs }, "anchors role started (continuous verify-anchors)");
    this.poller.start();
  }

  async check(): Promise<AnchorReport> {
    const r = await checkAnchors(this.o);
    const { metrics, log } = this.o;
    metrics.anchorsKeystones.set(r.keystones.length);
    metrics.anchorsAnchored.set(r.keystones.filter((k) => k.anchored).length);
    metrics.anchorsContradictions.set(r.contradictions.length);
    metrics.anchorsWarnings.set(r.warnings.length);
    metrics.anchorsLastCheck.set(Date.now() / 1000);
    for (const i of [...r.contradictions, ...r.warnings]) {
      const key = `${i.kind}:${i.keystoneId}:${i.message}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      log[i.severity === "error" ? "error" : "warn"](
        { kind: i.kind, l2BlockNumber: i.l2BlockNumber, keystoneId: i.keystoneId },
        i.message,
      );
    }
    if (r.ok && this.last !== undefined && !this.last.ok) log.info("anchors check passes again");
    this.last = r;
    return r;
  }

  /** Not ok while the last check found a contradiction (or checks keep failing); the reasons are in the detail. */
  health(): { ok: boolean; detail: unknown } {
    const p = this.poller.health();
    const r = this.last;
    return {
      ok: p.ok && r !== undefined && r.ok,
      detail: {
        lastPollAgeMs: p.lastPollAgeMs,
        consecutiveFailures: p.consecutiveFailures,
        keystones: r?.keystones.length,
        anchored: r?.keystones.filter((k) => k.anchored).length,
        contradictions: r?.contradictions.map((c) => c.message),
        warnings: r?.warnings.length,
      },
    };
  }

  stop(): void {
    this.poller.stop();
  }
}
