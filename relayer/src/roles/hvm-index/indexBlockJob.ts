import type { Logger } from "pino";
import type { BitcoinTxIndex } from "../../../../typechain-types";
import { Transaction } from "bitcoinjs-lib";
import type { Redis } from "ioredis";
import { displayToInternal, internalToDisplay } from "../../bitcoin/byteOrder";
import { buildTxProofFromBlock } from "../../bitcoin/txProof";
import type { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import type { LightClientReader } from "../../evm/lightClient";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender, SendResult, TxCall } from "../../evm/sender";
// The hVM's modules one by one: its index module loads every typechain factory, which slows each CLI start.
import { readBlockForIndex, type BlockForIndex } from "../../hvm/blockData";
import type { IndexedBlocks, IndexJob } from "./planner";

/** Whether BitcoinTxIndex holds the block (internal-order hash) whole. */
async function isBlockIndexed(index: BitcoinTxIndex, hashInternal: string): Promise<boolean> {
  return (await index.blockRecord(hashInternal)).complete;
}

export interface IndexBlockDeps {
  node: BitcoinRpcClient;
  lc: LightClientReader;
  /** BitcoinTxIndex (typechain), read-only: writes go through the sender. */
  index: BitcoinTxIndex;
  sender: EvmSender;
  redis: Redis;
  /** The deployment's Redis prefix; per-transaction blocks are marked done under `<prefix>:state:hvm-index:`. */
  prefix: string;
  /** Largest block (transactions) sent whole; larger ones enter transaction by transaction with SPV proofs. */
  maxWholeTxs: number;
}

export interface IndexBlockResult {
  status: "indexed" | "indexed-per-tx" | "skipped" | "obsolete";
  reason?: string;
  height: number;
  txs?: number;
  /** EVM transactions sent. */
  sent?: number;
  gasUsed?: string;
  txHash?: string;
}

/** Reverts that mean the work is done or no longer wanted (another relayer raced, or a reorg came first). */
const DONE_REVERTS = new Set(["BlockAlreadyIndexed", "TxAlreadyIndexed"]);
const OBSOLETE_REVERTS = new Set(["BlockNotInLightClient", "BlockNotCanonical"]);

/** Redis key marking a block (display order) indexed transaction by transaction (it never becomes "complete"). */
export function perTxDoneKey(prefix: string, hashDisplay: string): string {
  return `${prefix}:state:hvm-index:per-tx-done:${hashDisplay}`;
}

/** BitcoinTxIndex (plus the per-transaction marks) as the planner reads it. */
export function indexedBlocksOf(index: BitcoinTxIndex, redis: Redis, prefix: string): IndexedBlocks {
  return {
    isIndexed: async (hash) =>
      (await isBlockIndexed(index, hash)) || (await redis.exists(perTxDoneKey(prefix, internalToDisplay(hash)))) === 1,
  };
}

/** Sends one call through the sender; known "done" and "obsolete" reverts become results instead of errors. */
async function sendOnce(
  deps: IndexBlockDeps,
  key: string,
  prepare: () => Promise<TxCall | { skip: string }>,
  signal?: AbortSignal,
): Promise<SendResult | { status: "skipped"; reason: string }> {
  try {
    return await deps.sender.send({ key, role: "hvm-index", signal, prepare });
  } catch (err) {
    const name = err instanceof RevertError ? err.revert?.name : undefined;
    if (name !== undefined && DONE_REVERTS.has(name)) return { status: "skipped", reason: "indexed meanwhile" };
    if (name !== undefined && OBSOLETE_REVERTS.has(name)) {
      return { status: "skipped", reason: "obsolete: reorganised away before the transaction" };
    }
    throw err;
  }
}

/**
 * Indexes one block: whole (one indexBlock call, proven complete) when it has at most `maxWholeTxs` transactions,
 * else transaction by transaction (indexTx with an SPV proof each, in block order), then marked done in Redis.
 * Right before each send (under the signer lock) it re-reads the chain: a block no longer canonical in the light
 * client (a reorg) is obsolete, and what is already indexed (a replayed job, a second relayer) is skipped, so a
 * job never pays twice for the same block or transaction.
 */
export async function indexBlockJob(
  deps: IndexBlockDeps,
  job: IndexJob,
  key: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<IndexBlockResult> {
  const hashInternal = displayToInternal(job.hash);
  const indexAddress = await deps.index.getAddress();
  const obsolete = async (): Promise<string | undefined> =>
    (await deps.lc.contract.isCanonical(hashInternal, job.height))
      ? undefined
      : "obsolete: the block is no longer canonical in the light client";
  const block: BlockForIndex = await readBlockForIndex(deps.node, job.hash);
  if (block.height !== job.height) {
    return { status: "obsolete", reason: `the node has the block at ${block.height}`, height: job.height };
  }
  const done = (reason: string): IndexBlockResult => {
    log.info({ height: job.height, hash: job.hash, reason }, "block needed no index transaction");
    return { status: reason.startsWith("obsolete") ? "obsolete" : "skipped", reason, height: job.height };
  };

  if (block.txs.length <= deps.maxWholeTxs) {
    const sent = await sendOnce(
      deps,
      key,
      async () => {
        const why = await obsolete();
        if (why !== undefined) return { skip: why };
        if (await isBlockIndexed(deps.index, hashInternal)) return { skip: "already indexed" };
        return {
          to: indexAddress,
          data: deps.index.interface.encodeFunctionData("indexBlock", [block.header, block.height, block.txs]),
        };
      },
      signal,
    );
    if (sent.status === "skipped") return done(sent.reason);
    const result: IndexBlockResult = {
      status: "indexed",
      height: job.height,
      txs: block.txs.length,
      sent: 1,
      gasUsed: sent.gasUsed.toString(),
      txHash: sent.hash,
    };
    log.info({ ...result, hash: job.hash }, "block indexed");
    return result;
  }

  // Too large for one EVM transaction: each Bitcoin transaction alone, in block order, with its SPV proof.
  const txids = block.txs.map((raw) => Transaction.fromHex(raw.slice(2)).getId());
  let gas = 0n;
  let sentCount = 0;
  for (let i = 0; i < block.txs.length; i++) {
    const sent = await sendOnce(
      deps,
      `${key}:tx:${i}`,
      async () => {
        const why = await obsolete();
        if (why !== undefined) return { skip: why };
        if (await deps.index.hasOccurrence(displayToInternal(txids[i]), hashInternal))
          return { skip: "already indexed" };
        const proof = buildTxProofFromBlock({
          txids,
          txIndex: i,
          rawTx: block.txs[i],
          blockHeader: block.header,
          blockHeight: block.height,
        });
        return { to: indexAddress, data: deps.index.interface.encodeFunctionData("indexTx", [proof]) };
      },
      signal,
    );
    if (sent.status === "skipped" && sent.reason.startsWith("obsolete")) return done(sent.reason);
    if (sent.status === "mined") {
      gas += sent.gasUsed;
      sentCount++;
    }
  }
  await deps.redis.set(perTxDoneKey(deps.prefix, job.hash), String(job.height));
  const result: IndexBlockResult = {
    status: "indexed-per-tx",
    height: job.height,
    txs: block.txs.length,
    sent: sentCount,
    gasUsed: gas.toString(),
  };
  log.info({ ...result, hash: job.hash }, "block indexed");
  return result;
}
