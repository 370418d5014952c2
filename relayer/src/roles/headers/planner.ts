import { displayToInternal, internalToDisplay } from "../../bitcoin/byteOrder";
import type { LightClientReader } from "../../evm/lightClient";
import type { BitcoinHeaderSource } from "./bitcoinSource";

/** One batch of headers to submit: heights fromHeight..fromHeight+count-1 of the node's best chain. */
export interface HeadersBatch {
  fromHeight: number;
  count: number;
  /** Display-order hash of the first header (the job is obsolete if the node no longer has it there). */
  firstHash: string;
  /** The light client's best hash (internal order) when the batch was planned. */
  plannedOnBest: string;
  /**
   * Set when the light client is applying a reorganisation in steps: the job calls `continueReorg` instead of
   * submitting headers (fromHeight is then the pending cursor height, count 0, firstHash the new best, internal).
   */
  continueReorg?: boolean;
  /** Planned from the block after the last common one (PlanOptions.fromForkPoint): send stored headers again. */
  fromForkPoint?: boolean;
}

/** Where the light client stands relative to the node, and the next batch to submit if any. */
export interface SyncStatus {
  nodeHeight: number;
  lightClientHeight: number;
  /** Node height minus the height of the last block the light client shares with the node's best chain. */
  lag: number;
  /** Set when the light client's best block is not on the node's best chain. */
  reorg?: { forkHeight: number; lightClientBest: string };
  /** Set when the node's chain is fully stored but the light client prefers another (heavier) branch. */
  nodeChainStoredButNotBest?: boolean;
  /** Set when the node's tip is on the light client's best chain, below its best block (the node is behind). */
  nodeBehind?: boolean;
  /** Set while the light client applies a reorganisation in steps. */
  reorgPending?: { cursorHeight: number; safeHeight: number; newHeight: number };
  next?: HeadersBatch;
}

/** The node's chain does not contain the light client's anchor: no header of the node can ever link. */
export class AnchorMismatchError extends Error {
  constructor(height: number, nodeHash: string, anchorHash: string) {
    super(
      `the Bitcoin node's block at the light client's anchor height ${height} is ${nodeHash}, but the light client ` +
        `is anchored at ${anchorHash}: BITCOIN_RPC_URL points to another chain than the one deployed against`,
    );
    this.name = "AnchorMismatchError";
  }
}

export interface PlanOptions {
  /**
   * On a reorg, plan the node's branch from the block after the last common one, even where the light client
   * already stores some of it (it accepts known fork headers again): the way out when a batch planned higher up
   * keeps failing.
   */
  fromForkPoint?: boolean;
}

/** Smallest x in [lo, hi] with pred(x) true, for a predicate that is false then true; hi + 1 if none. */
async function firstTrue(lo: number, hi: number, pred: (x: number) => Promise<boolean>): Promise<number> {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = a + Math.floor((b - a) / 2);
    if (await pred(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * Compares the light client with the node's best chain and plans the next batch. When the light client's best
 * block is not on the node's chain (a Bitcoin reorg), the fork point is found by binary search over heights
 * (agreement with the node is a prefix of the chain), and the batch starts at the first header of the node's
 * branch that the light client has not stored yet (stored headers, canonical or fork, are also a prefix).
 */
export async function planNextBatch(
  node: BitcoinHeaderSource,
  lc: LightClientReader,
  batchSize: number,
  anchorHeight: number,
  opts: PlanOptions = {},
): Promise<SyncStatus> {
  const nodeHeight = await node.getBlockCount();
  const best = await lc.bestBlock();
  const pending = await lc.pendingReorg();
  if (pending !== undefined) {
    // Finish what the light client started before anything else (no header can go in meanwhile).
    return {
      nodeHeight,
      lightClientHeight: best.height,
      lag: nodeHeight - best.height,
      reorgPending: {
        cursorHeight: pending.cursorHeight,
        safeHeight: pending.safeHeight,
        newHeight: pending.newHeight,
      },
      next: {
        fromHeight: pending.cursorHeight,
        count: 0,
        firstHash: pending.newBest,
        plannedOnBest: best.hash,
        continueReorg: true,
      },
    };
  }
  const nodeHashCache = new Map<number, string>();
  const nodeHash = async (h: number): Promise<string> => {
    let v = nodeHashCache.get(h);
    if (v === undefined) {
      v = await node.getBlockHash(h);
      nodeHashCache.set(h, v);
    }
    return v;
  };
  const status: SyncStatus = { nodeHeight, lightClientHeight: best.height, lag: 0 };

  let firstMissing: number;
  if (best.height <= nodeHeight && displayToInternal(await nodeHash(best.height)) === best.hash) {
    status.lag = nodeHeight - best.height;
    if (status.lag === 0) return status;
    firstMissing = best.height + 1;
  } else if (
    best.height > nodeHeight &&
    nodeHeight >= anchorHeight &&
    displayToInternal(await nodeHash(nodeHeight)) === (await lc.blockHashAt(nodeHeight))
  ) {
    // The node is behind the light client on the same chain (e.g. still syncing, or another node): no reorg and
    // nothing to submit.
    status.nodeBehind = true;
    return status;
  } else {
    const anchorNode = await nodeHash(anchorHeight);
    const anchorLc = await lc.blockHashAt(anchorHeight);
    if (displayToInternal(anchorNode) !== anchorLc) {
      throw new AnchorMismatchError(anchorHeight, anchorNode, internalToDisplay(anchorLc));
    }
    const top = Math.min(best.height, nodeHeight);
    // Highest height where the light client's canonical chain and the node's agree.
    const firstDisagree = await firstTrue(
      anchorHeight + 1,
      top,
      async (h) => displayToInternal(await nodeHash(h)) !== (await lc.blockHashAt(h)),
    );
    const forkHeight = firstDisagree - 1;
    status.reorg = { forkHeight, lightClientBest: best.hash };
    status.lag = nodeHeight - forkHeight;
    firstMissing =
      opts.fromForkPoint === true
        ? forkHeight + 1
        : await firstTrue(
            forkHeight + 1,
            nodeHeight,
            async (h) => !(await lc.isStored(displayToInternal(await nodeHash(h)), h)),
          );
    if (firstMissing > nodeHeight) {
      status.nodeChainStoredButNotBest = true;
      return status;
    }
  }
  const count = Math.min(batchSize, nodeHeight - firstMissing + 1);
  status.next = { fromHeight: firstMissing, count, firstHash: await nodeHash(firstMissing), plannedOnBest: best.hash };
  if (opts.fromForkPoint === true && status.reorg !== undefined) status.next.fromForkPoint = true;
  return status;
}
