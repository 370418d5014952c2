import { expect } from "chai";
import type { LightClientReader } from "../../relayer/src/evm/lightClient";
import { indexJobId, planNextBlock } from "../../relayer/src/roles/hvm-index/planner";

/** A light client chain of `best + 1` heights with distinct hashes, and an index holding `indexed` of them. */
function chain(best: number, indexed: Set<number>, tag = "a") {
  const hashOf = (h: number): string => "0x" + Buffer.from(`${tag}${h}`.padEnd(32, ".")).toString("hex");
  const reads = { isIndexed: 0 };
  const lc = {
    bestBlock: async () => ({ hash: hashOf(best), height: best }),
    blockHashAt: async (h: number) => hashOf(h),
  } as unknown as LightClientReader;
  const index = {
    isIndexed: async (hash: string) => {
      reads.isIndexed++;
      for (const h of indexed) if (hashOf(h) === hash) return true;
      return false;
    },
  };
  return { lc, index, reads, hashOf };
}

const range = (a: number, b: number): Set<number> => new Set(Array.from({ length: b - a + 1 }, (_, i) => a + i));

describe("hvm-index planner", () => {
  it("plans the block after the indexed prefix, walking down a short distance", async () => {
    const c = chain(120, range(100, 118));
    const s = await planNextBlock(c.lc, c.index, 100);
    expect(s).to.include({ lightClientHeight: 120, indexedHeight: 118, lag: 2 });
    expect(s.next?.height).to.equal(119);
    expect(c.reads.isIndexed).to.equal(3); // 120, 119, 118
  });

  it("finds a long missing run by binary search instead of walking it all", async () => {
    const c = chain(5_000, range(100, 1_234));
    const s = await planNextBlock(c.lc, c.index, 100);
    expect(s.indexedHeight).to.equal(1_234);
    expect(s.next?.height).to.equal(1_235);
    expect(c.reads.isIndexed).to.be.lessThan(16 + 20);
  });

  it("starts at the start height on a fresh index and has nothing to do when all is indexed", async () => {
    const fresh = chain(110, new Set());
    expect((await planNextBlock(fresh.lc, fresh.index, 100)).next?.height).to.equal(100);
    const done = chain(110, range(100, 110));
    const s = await planNextBlock(done.lc, done.index, 100);
    expect(s.next).to.equal(undefined);
    expect(s.lag).to.equal(0);
  });

  it("after a reorg plans the new branch's first block, with a job id naming that block", async () => {
    // Heights 100..110 indexed on branch a; the light client now has branch b from 108 up.
    const a = chain(110, range(100, 110), "a");
    const b = chain(112, range(100, 107), "b");
    const reorged = {
      lc: { ...b.lc, blockHashAt: async (h: number) => (h < 108 ? a.hashOf(h) : b.hashOf(h)) } as LightClientReader,
      index: { isIndexed: async (hash: string) => await a.index.isIndexed(hash) },
    };
    const s = await planNextBlock(reorged.lc, reorged.index, 100);
    expect(s.next?.height).to.equal(108);
    const job = s.next ?? { height: 0, hash: "" };
    expect(indexJobId(job)).to.equal(`hvm-index-108-${job.hash}`);
    expect(job.hash).to.equal(Buffer.from(b.hashOf(108).slice(2), "hex").reverse().toString("hex"));
  });
});
