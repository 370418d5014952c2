/** The per-role health API (core/roleHealth.ts) and the Redis outage classifier (core/redisWatch.ts). */
import { expect } from "chai";
import pino from "pino";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import { isRedisConnectionError } from "../../relayer/src/core/redisWatch";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("relayer role health and Redis outage errors", () => {
  const log = pino({ level: "silent" });

  it("a role is healthy while progressing, stuck once blocked longer than stuckAfterMs, faulty at once", async () => {
    const metrics = new RelayerMetrics({ defaultMetrics: false });
    const p = metrics.roles.role("keystones", { log, stuckAfterMs: 150 });
    p.progressed();
    p.setLag(3, "blocks");
    expect(p.health().ok).to.equal(true);
    p.blocked("light client behind");
    expect(p.health().ok).to.equal(true); // not yet
    await sleep(200);
    p.blocked("light client behind");
    const stuck = p.health();
    expect(stuck.ok).to.equal(false);
    expect(stuck.detail.reason).to.match(/^stuck: light client behind \(for 0 s\)$/);
    let text = await metrics.registry.metrics();
    expect(text).to.match(/^hemi_fabric_role_healthy\{role="keystones"\} 0$/m);
    expect(text).to.match(/^hemi_fabric_role_lag\{role="keystones",unit="blocks"\} 3$/m);
    expect(text).to.match(/^hemi_fabric_role_blocked_seconds\{role="keystones"\} 0\.[2-9]/m);
    p.progressed();
    expect(p.health().ok).to.equal(true);
    p.fault("cursor above the chain head");
    expect(p.health().detail.reason).to.equal("fault: cursor above the chain head");
    p.progressed(); // progress does not clear a fault
    expect(p.health().ok).to.equal(false);
    p.clearFault();
    expect(p.health().ok).to.equal(true);
    text = await metrics.registry.metrics();
    expect(text).to.match(/^hemi_fabric_role_healthy\{role="keystones"\} 1$/m);
    expect(text).to.match(/^hemi_fabric_role_last_progress_timestamp_seconds\{role="keystones"\} \d{10}$/m);
  });

  it("failing polls make a role unhealthy with the reason", () => {
    const metrics = new RelayerMetrics({ defaultMetrics: false });
    const poller = { health: () => ({ ok: false, lastPollAgeMs: 42_000, consecutiveFailures: 7 }) };
    const p = metrics.roles.role("pop", { log, stuckAfterMs: 1_000, poller });
    p.progressed();
    expect(p.health().detail.reason).to.equal("last successful poll 42 s ago (7 failed since)");
  });

  it("takes only Redis's own connection errors for the outage, not the Bitcoin node's", () => {
    const ioredis = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6390"), { port: 6390 });
    expect(isRedisConnectionError(ioredis, 6390)).to.equal(true);
    expect(isRedisConnectionError(new Error("Connection is closed."), 6390)).to.equal(true);
    expect(isRedisConnectionError(new Error("Command timed out"), 6390)).to.equal(true);
    expect(isRedisConnectionError(new Error("connect ECONNREFUSED 127.0.0.1:18443"), 6390)).to.equal(false);
    expect(
      isRedisConnectionError(
        new Error("bitcoind getblockcount at http://127.0.0.1:6390/: connect ECONNREFUSED 127.0.0.1:6390"),
        6390,
      ),
    ).to.equal(false);
    expect(isRedisConnectionError(new Error("execution reverted"), 6390)).to.equal(false);
  });
});
