import { expect } from "chai";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import type { LightClientReader, PendingReorg } from "../../relayer/src/evm/lightClient";
import type { BitcoinHeaderSource } from "../../relayer/src/roles/headers/bitcoinSource";
import { planNextBatch } from "../../relayer/src/roles/headers/planner";

/** Display-order hash of block `h` of branch `branch` (distinct per branch above the fork). */
const hashOf = (branch: string, h: number): string => (branch + h.toString(16)).padStart(64, "0");

/** A node serving heights 0..tip of `chain` (display-order hashes). */
function nodeWith(chain: string[]): BitcoinHeaderSource {
  return {
    getBlockCount: async () => chain.length - 1,
    getBlockHash: async (h) => {
      if (h >= chain.length) throw new Error(`Block height out of range: ${h}`);
      return chain[h];
    },
    getRawHeaders: async () => [],
  };
}

/**
 * A light client whose canonical chain is `chain` (display-order hashes); `forks` are further stored blocks (display
 * order), and `pending` a reorganisation being applied.
 */
function lightClientWith(chain: string[], forks: string[] = [], pending?: PendingReorg): LightClientReader {
  const internal = chain.map(displayToInternal);
  const stored = [...internal, ...forks.map(displayToInternal)];
  return {
    bestBlock: async () => ({ height: chain.length - 1, hash: internal[chain.length - 1] }),
    blockHashAt: async (h: number) => internal[h] ?? "0x" + "00".repeat(32),
    isStored: async (hash: string) => stored.includes(hash),
    pendingReorg: async () => pending,
  } as unknown as LightClientReader;
}

describe("relayer headers planner", function () {
  const main = Array.from({ length: 21 }, (_, h) => hashOf("a", h));

  it("a node behind the light client on the same chain is no reorg and needs no batch", async function () {
    const status = await planNextBatch(nodeWith(main.slice(0, 13)), lightClientWith(main), 5, 0);
    expect(status.reorg).to.equal(undefined);
    expect(status.next).to.equal(undefined);
    expect(status.nodeBehind).to.equal(true);
    expect(status).to.include({ nodeHeight: 12, lightClientHeight: 20, lag: 0 });
  });

  it("a node behind the light client on another branch is a reorg, with the batch from the fork", async function () {
    const other = [...main.slice(0, 9), ...Array.from({ length: 4 }, (_, i) => hashOf("b", 9 + i))];
    const status = await planNextBatch(nodeWith(other), lightClientWith(main), 5, 0);
    expect(status.nodeBehind).to.equal(undefined);
    expect(status.reorg?.forkHeight).to.equal(8);
    expect(status.next).to.include({ fromHeight: 9, count: 4, firstHash: hashOf("b", 9) });
  });

  it("a node ahead on the same chain gets the next batch", async function () {
    const status = await planNextBatch(nodeWith(main), lightClientWith(main.slice(0, 11)), 5, 0);
    expect(status.reorg).to.equal(undefined);
    expect(status).to.include({ lag: 10 });
    expect(status.next).to.include({ fromHeight: 11, count: 5, firstHash: main[11] });
  });

  it("on a reorg, starts after the node's stored blocks, or from the fork point when asked to", async function () {
    const other = [...main.slice(0, 9), ...Array.from({ length: 12 }, (_, i) => hashOf("b", 9 + i))];
    const lc = lightClientWith(main.slice(0, 15), other.slice(9, 13));
    const usual = await planNextBatch(nodeWith(other), lc, 5, 0);
    expect(usual.reorg?.forkHeight).to.equal(8);
    expect(usual.next).to.include({ fromHeight: 13, count: 5, firstHash: hashOf("b", 13) });
    expect(usual.next?.fromForkPoint).to.equal(undefined);
    const low = await planNextBatch(nodeWith(other), lc, 5, 0, { fromForkPoint: true });
    expect(low.next).to.include({ fromHeight: 9, count: 5, firstHash: hashOf("b", 9), fromForkPoint: true });
  });

  it("while the light client applies a reorganisation in steps, the next job continues it", async function () {
    const pending: PendingReorg = {
      newBest: "0x" + "ab".repeat(32),
      newHeight: 20,
      cursorHeight: 7,
      safeHeight: 3,
      applied: 13,
    };
    const status = await planNextBatch(nodeWith(main), lightClientWith(main.slice(0, 4), [], pending), 5, 0);
    expect(status.reorgPending).to.deep.equal({ cursorHeight: 7, safeHeight: 3, newHeight: 20 });
    expect(status.next).to.deep.equal({
      fromHeight: 7,
      count: 0,
      firstHash: pending.newBest,
      plannedOnBest: displayToInternal(main[3]),
      continueReorg: true,
    });
  });
});
