import { internalToDisplay } from "../../bitcoin/byteOrder";
import type { LightClientReader } from "../../evm/lightClient";

/** What the planner reads from BitcoinTxIndex. */
export interface IndexedBlocks {
  /** True when the block (internal-order hash) is indexed complete. */
  isIndexed(blockHashInternal: string): Promise<boolean>;
}

/** One block to index: the light client's canonical block at `height`. */
export interface IndexJob {
  height: number;
  /** Display order (as bitcoind shows it). */
  hash: string;
}

/** Where the index stands behind the light client, and the next block to index if any. */
export interface IndexStatus {
  lightClientHeight: number;
  /** Highest height up to which every canonical block (from the start height) is indexed. */
  indexedHeight: number;
  /** lightClientHeight - indexedHeight. */
  lag: number;
  next?: IndexJob;
}

/** Deterministic job id of a block: the same block always gets the same id, on any relayer. */
export function indexJobId(j: IndexJob): string {
  return `hvm-index-${j.height}-${j.hash}`;
}

/**
 * Finds the first canonical block of the light client (from `startHeight` up) that the index lacks. Blocks are
 * indexed in height order along the canonical chain, so the indexed ones form a prefix of it; a reorg makes the
 * new branch's blocks the missing ones. The search walks down from the light client's best block (the usual
 * distance is a block or two) and switches to a binary search over the prefix after `linearSteps` steps.
 */
export async function planNextBlock(
  lc: LightClientReader,
  index: IndexedBlocks,
  startHeight: number,
  linearSteps = 16,
): Promise<IndexStatus> {
  const best = await lc.bestBlock();
  const indexedAt = async (h: number): Promise<boolean> => index.isIndexed(await lc.blockHashAt(h));
  const status: IndexStatus = { lightClientHeight: best.height, indexedHeight: startHeight - 1, lag: 0 };
  if (best.height < startHeight) return status;
  let firstMissing: number | undefined;
  let h = best.height;
  for (let i = 0; i < linearSteps && h >= startHeight; i++, h--) {
    if (await indexedAt(h)) {
      firstMissing = h + 1;
      break;
    }
  }
  if (firstMissing === undefined) {
    if (h < startHeight) firstMissing = startHeight;
    else {
      // Binary search for the first missing height in [startHeight, h].
      let a = startHeight;
      let b = h + 1;
      while (a < b) {
        const mid = a + Math.floor((b - a) / 2);
        if (await indexedAt(mid)) a = mid + 1;
        else b = mid;
      }
      firstMissing = a;
    }
  }
  status.indexedHeight = firstMissing - 1;
  status.lag = best.height - status.indexedHeight;
  if (firstMissing <= best.height) {
    status.next = { height: firstMissing, hash: internalToDisplay(await lc.blockHashAt(firstMissing)) };
  }
  return status;
}
