import { Block } from "bitcoinjs-lib";
import type { Logger } from "pino";
import { displayToInternal } from "../../bitcoin/byteOrder";
import type { LightClientReader } from "../../evm/lightClient";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender } from "../../evm/sender";
import type { IndexedBlocks, IndexJob } from "./planner";

/** A raw block split as BitcoinTxIndex.indexBlock takes it. */
export interface RawBlockParts {
  /** 80-byte header, hex without 0x. */
  header: string;
  /** Every transaction in block order, full serialization (witness included), hex without 0x. */
  txs: string[];
}

/** Splits a serialized block (getblock verbosity 0) into its header and transactions. */
export function splitRawBlock(rawHex: string): RawBlockParts {
  const block = Block.fromHex(rawHex);
  return { header: rawHex.slice(0, 160), txs: (block.transactions ?? []).map((t) => t.toHex()) };
}

/** The index contract as the role writes to it. */
export interface IndexWriter extends IndexedBlocks {
  readonly address: string;
  /** Calldata of indexBlock(header, height, txs). */
  encodeIndexBlock(block: RawBlockParts, height: number): string;
}

export interface IndexBlockDeps {
  node: { getBlock(hash: string, verbosity: 0): Promise<string> };
  lc: LightClientReader;
  index: IndexWriter;
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
  let parts: RawBlockParts | undefined;
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
        if (await deps.index.isIndexed(hashInternal)) return { skip: "already indexed" };
        parts ??= splitRawBlock(await deps.node.getBlock(job.hash, 0));
        return { to: deps.index.address, data: deps.index.encodeIndexBlock(parts, job.height) };
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
    txs: parts?.txs.length,
    gasUsed: sent.gasUsed.toString(),
    txHash: sent.hash,
  };
  log.info({ ...result, hash: job.hash }, "block indexed");
  return result;
}
