/**
 * Feeds BitcoinTxIndex from a Bitcoin node: one block at a time (`indexBlock`) or everything the light client holds
 * (`syncIndex`). Reorgs need no unwinding: the index keeps records of every block it saw and answers only from the
 * light client's canonical chain, so after a reorg syncing indexes the new canonical blocks and the old ones simply
 * stop counting. The light client must already hold the headers (the headers role feeds it).
 */
import { Transaction } from "bitcoinjs-lib";
import type { ContractTransactionReceipt } from "ethers";
import { BitcoinLightClient__factory, type BitcoinTxIndex } from "../../../typechain-types";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { buildTxProofFromBlock } from "../bitcoin/txProof";
import { EIP7825_TX_GAS_CAP } from "../evm/gasLimit";
import { readBlockForIndex } from "./blockData";

export interface IndexBlockResult {
  /** Display order. */
  hash: string;
  height: number;
  txCount: number;
  /** False when the block was already indexed whole (nothing sent). */
  indexed: boolean;
  /**
   * "whole": one indexBlock call, proven complete. "per-tx": the block was too large for one EVM transaction, so each
   * transaction entered alone with its SPV proof (outputs and spends count; the block is not marked complete and
   * witness-dependent answers stay empty for it).
   */
  mode: "whole" | "per-tx" | "none";
  gasUsed: bigint;
  /** Why a block under the size limit went tx by tx (the gas error of the whole-block attempt). */
  fallbackReason?: string;
}

/**
 * Largest block (transactions, coinbase included) sent whole: at about 250,000 gas per transaction, 60 fill the
 * 16,777,216 gas a single EVM transaction may use under EIP-7825 (Hardhat's default hardfork).
 */
export const MAX_WHOLE_BLOCK_TXS = 60;

/** A failure for lack of gas (block gas limit, EIP-7825 cap, out of gas), not a revert. */
const GAS_LIMIT_ERROR = /out of gas|gas limit|gas required exceeds|greater than the cap|exceeds block gas/i;

/** Whether the block (internal-order hash) is indexed whole. */
export async function isBlockIndexed(index: BitcoinTxIndex, hashInternal: string): Promise<boolean> {
  return (await index.blockRecord(hashInternal)).complete;
}

/**
 * Proves block `blockHash` (display order) into the index: whole when it has at most `maxWholeTxs` transactions and
 * fits one EVM transaction's gas, else transaction by transaction with SPV proofs (see IndexBlockResult.mode). The block must be canonical in the
 * light client. Idempotent: an already indexed block (or transaction) sends nothing.
 */
export async function indexBlock(
  index: BitcoinTxIndex,
  rpc: BitcoinRpcClient,
  blockHash: string,
  maxWholeTxs = MAX_WHOLE_BLOCK_TXS,
): Promise<IndexBlockResult> {
  const b = await readBlockForIndex(rpc, blockHash);
  const hashInternal = displayToInternal(b.hash);
  const base = { hash: b.hash, height: b.height, txCount: b.txs.length };
  if (await isBlockIndexed(index, hashInternal)) return { ...base, indexed: false, mode: "none", gasUsed: 0n };
  let fallbackReason: string | undefined;
  if (b.txs.length <= maxWholeTxs) {
    // A block heavier than one EVM transaction may be (large transactions) enters tx by tx below; reverts rethrow.
    // When the estimate fails for lack of gas, the cap itself is tried: the block may still fit (a Hardhat node whose
    // block gas limit is above the cap probes above it and fails, see hardhat.config.ts), else it goes tx by tx.
    try {
      let gasLimit = EIP7825_TX_GAS_CAP;
      try {
        const estimate = await index.indexBlock.estimateGas(b.header, b.height, b.txs);
        // 20% above the estimate (estimates sit at the edge of what nested calls need), not above the cap when the
        // estimate is below it.
        const margin = estimate + estimate / 5n;
        gasLimit = estimate <= EIP7825_TX_GAS_CAP && margin > EIP7825_TX_GAS_CAP ? EIP7825_TX_GAS_CAP : margin;
      } catch (e) {
        if (!GAS_LIMIT_ERROR.test(String((e as Error).message))) throw e;
      }
      const tx = await index.indexBlock(b.header, b.height, b.txs, { gasLimit });
      const receipt = (await tx.wait()) as ContractTransactionReceipt;
      return { ...base, indexed: true, mode: "whole", gasUsed: receipt.gasUsed };
    } catch (e) {
      fallbackReason = String((e as Error).message);
      if (!GAS_LIMIT_ERROR.test(fallbackReason)) throw e;
    }
  }
  const txids = b.txs.map((raw) => Transaction.fromHex(raw.slice(2)).getId());
  let gasUsed = 0n;
  let sent = 0;
  for (let i = 0; i < b.txs.length; i++) {
    if (await index.hasOccurrence(displayToInternal(txids[i]), hashInternal)) continue;
    const proof = buildTxProofFromBlock({
      txids,
      txIndex: i,
      rawTx: b.txs[i],
      blockHeader: b.header,
      blockHeight: b.height,
    });
    const receipt = (await (await index.indexTx(proof)).wait()) as ContractTransactionReceipt;
    gasUsed += receipt.gasUsed;
    sent++;
  }
  return { ...base, indexed: sent > 0, mode: "per-tx", gasUsed, ...(fallbackReason ? { fallbackReason } : {}) };
}

export interface SyncIndexOptions {
  /** Lowest height to index; default: the light client's anchor height. */
  fromHeight?: number;
  /** Stop after this many blocks sent (default: no limit). */
  maxBlocks?: number;
  /** Called after each block. */
  onBlock?: (r: IndexBlockResult) => void;
}

export interface SyncIndexResult {
  /** The light client's best height synced to. */
  tipHeight: number;
  indexed: IndexBlockResult[];
}

/** Heights asked per missingBlocks call. */
const SCAN_PAGE = 2000;

/**
 * Indexes, in ascending order, every canonical block of the light client between `fromHeight` (default: its anchor)
 * and its tip that is not indexed whole (one view call per 2,000 heights finds them, so gaps and the new blocks of a
 * reorg are found wherever they are).
 */
export async function syncIndex(
  index: BitcoinTxIndex,
  rpc: BitcoinRpcClient,
  opts: SyncIndexOptions = {},
): Promise<SyncIndexResult> {
  const lc = BitcoinLightClient__factory.connect(await index.lightClient(), index.runner);
  const [, bestBig] = await lc.bestBlock();
  const best = Number(bestBig);
  const floor = opts.fromHeight ?? Number(await lc.anchorHeight());
  const limit = opts.maxBlocks ?? Number.MAX_SAFE_INTEGER;
  const indexed: IndexBlockResult[] = [];
  for (let from = floor; from <= best && indexed.length < limit; from += SCAN_PAGE) {
    const to = Math.min(best, from + SCAN_PAGE - 1);
    const heights = await index.missingBlocks(from, to, SCAN_PAGE);
    for (const h of heights) {
      if (indexed.length >= limit) break;
      const hash = internalToDisplay(await lc.blockHashAt(h));
      const r = await indexBlock(index, rpc, hash);
      indexed.push(r);
      opts.onBlock?.(r);
    }
  }
  return { tipHeight: best, indexed };
}
