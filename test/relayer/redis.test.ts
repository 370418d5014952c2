import { expect } from "chai";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { LockBusyError, withLock } from "../../relayer/src/core/lock";
import { freePort } from "../../relayer/src/core/ports";
import { checkRedis, redisAnswers, resolveRedis, startPrivateRedis } from "../../relayer/src/core/redis";
import { rejection } from "./helpers/rejects";
import { RetryExhaustedError, sleep } from "../../relayer/src/core/retry";

const LOCAL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("relayer Redis management", () => {
  it("uses REDIS_URL as given", async () => {
    const ep = await resolveRedis({ url: "redis://10.1.2.3:7000" });
    expect(ep).to.include({ url: "redis://10.1.2.3:7000", private: false });
  });

  it("uses the local Redis when one answers", async () => {
    const ep = await resolveRedis({ probeUrl: LOCAL });
    expect(ep.private).to.equal(false);
    expect(ep.url).to.equal(LOCAL);
  });

  it("starts a private redis-server on a free port when nothing answers, and stops it", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const ep = await resolveRedis({ probeUrl: dead });
    try {
      expect(ep.private).to.equal(true);
      expect(ep.url).to.not.equal(dead);
      expect(await redisAnswers(ep.url)).to.equal(true);
    } finally {
      await ep.close();
    }
    expect(await redisAnswers(ep.url, 300)).to.equal(false);
  });

  it("says how to install Redis when there is no redis-server", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await startPrivateRedis(undefined);
      expect.fail("expected an error");
    } catch (err) {
      expect((err as Error).message).to.match(/apt-get install redis-server/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it("gives up on a dead Redis after a bounded number of attempts, naming REDIS_URL", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const t0 = Date.now();
    try {
      await checkRedis(dead, 2, 20);
      expect.fail("expected an error");
    } catch (err) {
      expect(err).to.be.instanceOf(RetryExhaustedError);
      expect((err as Error).message).to.match(/REDIS_URL\) failed after 3 attempt/);
    }
    expect(Date.now() - t0).to.be.lessThan(10_000);
  });

  it("a lock admits one holder at a time across connections and frees itself when the holder dies", async () => {
    const a = new Redis(LOCAL);
    const b = new Redis(LOCAL);
    const key = `hf-test:${randomBytes(6).toString("hex")}:lock`;
    try {
      let inside = 0;
      let maxInside = 0;
      const work = (r: Redis) =>
        withLock(r, key, { ttlMs: 2_000 }, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(50);
          inside--;
        });
      await Promise.all([work(a), work(b), work(a), work(b)]);
      expect(maxInside).to.equal(1);

      // A holder that never releases (a crashed process): the lock expires after its ttl.
      await a.set(key, "crashed-holder", "PX", 600);
      expect(await rejection(withLock(b, key, { ttlMs: 1_000, waitMs: 100 }, async () => 1))).to.be.instanceOf(
        LockBusyError,
      );
      expect(await withLock(b, key, { ttlMs: 1_000, waitMs: 2_000 }, async () => 42)).to.equal(42);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});
