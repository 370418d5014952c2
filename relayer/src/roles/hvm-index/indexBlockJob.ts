import type { Logger } from "pino";
import type { BitcoinTxIndex } from "../../../../typechain-types";
import { displayToInternal } from "../../bitcoin/byteOrder";
import type { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import type { LightClientReader } from "../../evm/lightClient";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender } from "../../evm/sender";
// The hVM's modules one by one: its index module loads every typechain factory, which slows each CLI start.
import { readBlockForIndex, type BlockForIndex } from "../../hvm/blockData";
import type { IndexedBlocks, IndexJob } from "./planner";

/** Whether BitcoinTxIndex holds the block (internal-order hash) whole. */
async function isBlockIndexed(index: BitcoinTxIndex, hashInternal: string): Promise<boolean> {
  return (await index.blockRecord(hashInternal)).complete;
}

/** BitcoinTxIndex as the planner reads it. */
export function indexedBlocksOf(index: BitcoinTxIndex): IndexedBlocks {
  return { isIndexed: (hash) => isBlockIndexed(index, hash) };
}

export interface IndexBlockDeps {
  node: BitcoinRpcClient;
  lc: LightClientReader;
  /** BitcoinTxIndex (typechain), read-only: writes go through the sender. */
  index: BitcoinTxIndex;
  sender: EvmSender;
}

export interface IndexBlockResult {
  status: "indexed" | "skipped" | "obsolete";
  reason?: string;
  height: number;
  txs?: number;
  gasUsed?: string;
  txHash?: string;
}

/** Reverts that mean the work is done or no longer wanted (another relayer raced, or a reorg came first). */
const DONE_REVERTS = new Set(["BlockAlreadyIndexed"]);
const OBSOLETE_REVERTS = new Set(["BlockNotInLightClient"]);

/**
 * Indexes one block. Right before sending (under the signer lock) it re-reads the chain: a block that the light
 * client no longer has at that height (a reorg) is obsolete, a block already indexed (a replayed job, a second
 * relayer) is skipped, so a job never pays twice for the same block.
 */
export async function indexBlockJob(
  deps: IndexBlockDeps,
  job: IndexJob,
  key: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<IndexBlockResult> {
  const hashInternal = displayToInternal(job.hash);
  let block: BlockForIndex | undefined;
  let sent;
  try {
    sent = await deps.sender.send({
      key,
      role: "hvm-index",
      signal,
      prepare: async () => {
        if (!(await deps.lc.contract.isCanonical(hashInternal, job.height))) {
          return { skip: "obsolete: the block is no longer canonical in the light client" };
        }
        if (await isBlockIndexed(deps.index, hashInternal)) return { skip: "already indexed" };
        block ??= await readBlockForIndex(deps.node, job.hash);
        if (block.height !== job.height) return { skip: `obsolete: the node has the block at ${block.height}` };
        return {
          to: await deps.index.getAddress(),
          data: deps.index.interface.encodeFunctionData("indexBlock", [block.header, block.height, block.txs]),
        };
      },
    });
  } catch (err) {
    const name = err instanceof RevertError ? err.revert?.name : undefined;
    if (name !== undefined && DONE_REVERTS.has(name)) {
      return { status: "skipped", reason: "indexed by someone else meanwhile", height: job.height };
    }
    if (name !== undefined && OBSOLETE_REVERTS.has(name)) {
      return { status: "obsolete", reason: "reorganised away before the transaction", height: job.height };
    }
    throw err;
  }
  if (sent.status === "skipped") {
    const obsolete = sent.reason.startsWith("obsolete");
    log.info({ height: job.height, hash: job.hash, reason: sent.reason }, "block needed no index transaction");
    return { status: obsolete ? "obsolete" : "skipped", reason: sent.reason, height: job.height };
  }
  const result: IndexBlockResult = {
    status: "indexed",
    height: job.height,
    txs: block?.txs.length,
    gasUsed: sent.gasUsed.toString(),
    txHash: sent.hash,
  };
  log.info({ ...result, hash: job.hash }, "block indexed");
  return result;
}
