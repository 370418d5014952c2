import { expect } from "chai";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { createLogger } from "../../relayer/src/core/logger";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import { QueueCore } from "../../relayer/src/core/queues";
import { sleep } from "../../relayer/src/core/retry";
import {
  HEADERS_QUEUE,
  MAX_BATCH_RETRY_ROUNDS,
  batchJobId,
  enqueueBatch,
} from "../../relayer/src/roles/headers/headersRole";
import type { HeadersBatch } from "../../relayer/src/roles/headers/planner";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** The headers role never loops on one failing batch: bounded retry rounds, then it gives up on it (real Redis). */
describe("relayer headers role: a batch that keeps failing", function () {
  this.timeout(60_000);
  const prefix = `hf-test-${randomBytes(6).toString("hex")}`;
  const connection = new Redis(REDIS, { maxRetriesPerRequest: null });
  const core = new QueueCore({
    connection,
    prefix,
    log: createLogger({ level: "silent" }),
    metrics: new RelayerMetrics({ defaultMetrics: false }),
    attempts: 2,
    backoffMs: 20,
    lockDurationMs: 2_000,
    stalledIntervalMs: 500,
  });

  after(async () => {
    await core.close(2_000);
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length > 0) await connection.del(...keys);
    connection.disconnect();
  });

  it(`is retried at most ${MAX_BATCH_RETRY_ROUNDS} rounds, then given up (and stays given up)`, async () => {
    let runs = 0;
    core.addWorker<HeadersBatch, void>(HEADERS_QUEUE, async () => {
      runs++;
      throw new Error("reverted: HeaderAlreadyKnown (will retry: the light client changed under the batch)");
    });
    const q = core.queue<HeadersBatch>(HEADERS_QUEUE);
    const batch: HeadersBatch = {
      fromHeight: 7,
      count: 3,
      firstHash: "cc".repeat(32),
      plannedOnBest: "0x" + "dd".repeat(32),
    };
    /** Waits until the job has run again (more than `before` runs in all) and is failed once more. */
    const failedAfterMoreThan = async (before: number): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        const state = await (await q.getJob(batchJobId(batch)))?.getState();
        if (state === "failed" && runs > before) return;
        await sleep(25);
      }
      throw new Error(`the batch did not run and fail again after ${before} runs`);
    };
    const log = createLogger({ level: "silent" });
    const rounds = new Map<string, number>();
    const outcomes: string[] = [await enqueueBatch(q, batch, undefined, log, rounds)];
    await failedAfterMoreThan(0);
    for (let round = 1; round <= MAX_BATCH_RETRY_ROUNDS + 2; round++) {
      const before = runs;
      outcomes.push(await enqueueBatch(q, batch, batch, log, rounds));
      if (outcomes[outcomes.length - 1] === "retried") await failedAfterMoreThan(before);
    }
    expect(outcomes).to.deep.equal([
      "added",
      ...Array.from({ length: MAX_BATCH_RETRY_ROUNDS }, () => "retried"),
      "gave-up",
      "gave-up",
    ]);
    const given = runs;
    await sleep(300);
    expect(runs).to.equal(given);
  });
});
