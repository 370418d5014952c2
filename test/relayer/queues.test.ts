import { expect } from "chai";
import { removeState } from "../../relayer/src/core/stateMarker";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { PermanentError } from "../../relayer/src/core/errors";
import { createLogger } from "../../relayer/src/core/logger";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import { QueueCore } from "../../relayer/src/core/queues";
import { sleep } from "../../relayer/src/core/retry";
import { HEADERS_QUEUE, batchJobId, enqueueBatch } from "../../relayer/src/roles/headers/headersRole";
import type { HeadersBatch } from "../../relayer/src/roles/headers/planner";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("relayer queue core", function () {
  this.timeout(60_000);
  let connection: Redis;
  let core: QueueCore;
  let prefix: string;
  let metrics: RelayerMetrics;

  beforeEach(() => {
    connection = new Redis(REDIS, { maxRetriesPerRequest: null });
    prefix = `hf-test-${randomBytes(6).toString("hex")}`;
    metrics = new RelayerMetrics({ defaultMetrics: false });
    core = new QueueCore({
      connection,
      prefix,
      log: createLogger({ level: "silent" }),
      metrics,
      attempts: 4,
      backoffMs: 50,
      lockDurationMs: 2_000,
      stalledIntervalMs: 500,
    });
  });

  afterEach(async () => {
    await core.close(2_000);
    await removeState(connection, prefix);
    connection.disconnect();
  });

  async function settled(queue: string, jobId: string): Promise<Job> {
    for (let i = 0; i < 200; i++) {
      const job = await core.queue(queue).getJob(jobId);
      const state = await job?.getState();
      if (job !== undefined && (state === "completed" || state === "failed")) {
        return (await core.queue(queue).getJob(jobId)) ?? job;
      }
      await sleep(50);
    }
    throw new Error(`job ${jobId} did not settle`);
  }

  it("retries transient errors with backoff until the job succeeds", async () => {
    const seen: number[] = [];
    core.addWorker<{ n: number }, string>("flaky", async (job) => {
      seen.push(Date.now());
      if (job.attemptsMade < 2) throw new Error("ECONNREFUSED (transient)");
      return `done ${job.data.n}`;
    });
    await core.queue("flaky").add("x", { n: 7 }, { jobId: "flaky-1" });
    const job = await settled("flaky", "flaky-1");
    expect(await job.getState()).to.equal("completed");
    expect(job.returnvalue).to.equal("done 7");
    expect(seen.length).to.equal(3);
    // Exponential backoff: the second wait is longer than the first (50 ms, then 100 ms).
    expect(seen[2] - seen[1]).to.be.at.least(90);
  });

  it("fails a permanent error at once and keeps the reason in the failed set", async () => {
    let calls = 0;
    core.addWorker("doomed", async () => {
      calls++;
      throw new PermanentError("UnexpectedBits(1, 545259519, 486604799)");
    });
    await core.queue("doomed").add("x", {}, { jobId: "doomed-1" });
    const job = await settled("doomed", "doomed-1");
    expect(await job.getState()).to.equal("failed");
    expect(job.failedReason).to.equal("UnexpectedBits(1, 545259519, 486604799)");
    expect(calls).to.equal(1);
    const failed = await core.queue("doomed").getFailed();
    expect(failed.map((j) => j.id)).to.deep.equal(["doomed-1"]);
    expect(await metrics.registry.getSingleMetricAsString("hemi_fabric_jobs_failed_total")).to.match(
      /queue="doomed",final="true"} 1/,
    );
  });

  it("the same job id is taken once, however many times it is added", async () => {
    let runs = 0;
    core.addWorker("dedup", async () => {
      runs++;
      await sleep(100);
    });
    await Promise.all([1, 2, 3].map(() => core.queue("dedup").add("x", {}, { jobId: "same-id" })));
    await settled("dedup", "same-id");
    await core.queue("dedup").add("x", {}, { jobId: "same-id" });
    await sleep(300);
    expect(runs).to.equal(1);
  });

  it("headers: a batch planned again after its job completed runs again (the completed job is replaced)", async () => {
    let runs = 0;
    core.addWorker<HeadersBatch, void>(HEADERS_QUEUE, async () => {
      runs++;
    });
    const q = core.queue<HeadersBatch>(HEADERS_QUEUE);
    const batch: HeadersBatch = {
      fromHeight: 5,
      count: 3,
      firstHash: "aa".repeat(32),
      plannedOnBest: "0x" + "bb".repeat(32),
    };
    const log = createLogger({ level: "silent" });
    expect(await enqueueBatch(q, batch, undefined, log)).to.equal("added");
    expect((await settled(HEADERS_QUEUE, batchJobId(batch))).finishedOn).to.be.a("number");
    expect(runs).to.equal(1);
    expect(await enqueueBatch(q, batch, batch, log)).to.equal("re-added");
    for (let i = 0; i < 100 && runs < 2; i++) await sleep(50);
    expect(runs).to.equal(2);
    expect(await (await q.getJob(batchJobId(batch)))?.getState()).to.equal("completed");
  });

  it("a graceful close finishes the job in hand", async () => {
    let finished = false;
    core.addWorker("slow", async () => {
      await sleep(500);
      finished = true;
    });
    await core.queue("slow").add("x", {}, { jobId: "slow-1" });
    while ((await (await core.queue("slow").getJob("slow-1"))?.getState()) !== "active") await sleep(20);
    await core.close(5_000);
    expect(finished).to.equal(true);
    const other = new Redis(REDIS);
    const state = await other.hget(`${prefix}:slow:slow-1`, "finishedOn");
    expect(state).to.not.equal(null);
    other.disconnect();
  });

  it("recovers the job of a worker that died (stalled) and runs it on another worker", async () => {
    // Worker 1 takes the job and never finishes it nor renews its lock (a SIGKILLed process).
    const deadConn = new Redis(REDIS, { maxRetriesPerRequest: null });
    const dead = new QueueCore({ ...core.options, connection: deadConn, lockDurationMs: 1_000 });
    let started = false;
    const w = dead.addWorker("stall", async () => {
      started = true;
      await new Promise(() => undefined);
    });
    await core.queue("stall").add("x", { v: 1 }, { jobId: "stall-1" });
    while (!started) await sleep(20);
    await w.close(true); // stop its lock renewal: it is gone
    deadConn.disconnect();
    core.addWorker("stall", async () => "recovered");
    const job = await settled("stall", "stall-1");
    expect(job.returnvalue).to.equal("recovered");
  });
});
