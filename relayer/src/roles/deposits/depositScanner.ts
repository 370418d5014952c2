/**
 * Finds deposits: walks the node's best chain from a persisted cursor (getblock verbosity 2), picks the outputs
 * paying any vault's custody script, records the well-formed ones as pending (in Bitcoin order) and enqueues a
 * permanently failing job for the malformed ones. Follows reorgs by walking back to the fork point.
 */
import { Transaction } from "bitcoinjs-lib";
import type { Logger } from "pino";
import { BitcoinRpcError, type BitcoinRpcClient, type BlockInfoWithTxs } from "../../bitcoin/rpcClient";
import type { RelayerMetrics } from "../../core/metrics";
import type { TunnelClient } from "../../evm/tunnel";
import { checkDepositShape, depositJobId, isPayout, orderKey } from "./depositRules";
import type { DepositStore, PendingDeposit } from "./depositStore";

/** What a deposit job carries: the outpoint, and for a malformed deposit why it can never be minted. */
export interface DepositJobData {
  txid: string;
  vout: number;
  /** Set when the deposit is malformed: the job fails at once with this reason. */
  failure?: string;
}

/** Adds a job (deduplicated by its id). */
export interface DepositJobSink {
  add(name: string, data: DepositJobData, opts: { jobId: string }): Promise<unknown>;
}

export interface ScanDeps {
  node: BitcoinRpcClient;
  tunnel: TunnelClient;
  store: DepositStore;
  jobs: DepositJobSink;
  log: Logger;
  metrics: RelayerMetrics;
  /** First height to scan on a fresh deployment (the light client's anchor: nothing below it can be proven). */
  startHeight: number;
  maxBlocks: number;
}

export interface ScanResult {
  scannedTo: number;
  tip: number;
  blocks: number;
  found: number;
  malformed: number;
  reorg?: { forkHeight: number; dropped: number };
}

async function nodeHashAt(node: BitcoinRpcClient, height: number): Promise<string | undefined> {
  try {
    return await node.getBlockHash(height);
  } catch (err) {
    if (err instanceof BitcoinRpcError && err.code === -8) return undefined; // height out of range
    throw err;
  }
}

/** One scan pass (the caller holds the deployment-wide scan lock). */
export async function scanDeposits(d: ScanDeps): Promise<ScanResult> {
  const tip = await d.node.getBlockCount();
  let cursor = (await d.store.cursor()) ?? { height: d.startHeight - 1, hash: null };
  const result: ScanResult = { scannedTo: cursor.height, tip, blocks: 0, found: 0, malformed: 0 };

  // Reorg: the last scanned block is no longer on the node's best chain; walk back to the fork point.
  if (cursor.hash !== null && (await nodeHashAt(d.node, cursor.height)) !== cursor.hash) {
    let h = cursor.height - 1;
    let forkHash: string | null = null;
    for (; h >= d.startHeight; h--) {
      const scanned = await d.store.scannedHash(h);
      const onNode = await nodeHashAt(d.node, h);
      if (scanned === undefined || scanned === onNode) {
        forkHash = onNode ?? null;
        break;
      }
    }
    const dropped = await d.store.rewind(h, forkHash);
    d.log.warn(
      { forkHeight: h, droppedDeposits: dropped.length, oldCursor: cursor },
      "Bitcoin reorg: rescanning deposits from the fork point (deposits of orphaned blocks wait to be found again)",
    );
    result.reorg = { forkHeight: h, dropped: dropped.length };
    cursor = { height: h, hash: forkHash };
  }

  const vaults = await d.tunnel.vaults();
  const byScript = new Map(vaults.map((v) => [v.script, v.id]));
  const last = Math.min(tip, cursor.height + d.maxBlocks);
  for (let h = cursor.height + 1; h <= last; h++) {
    const hash = await nodeHashAt(d.node, h);
    if (hash === undefined) break;
    const block = (await d.node.getBlock(hash, 2)) as BlockInfoWithTxs;
    if (cursor.hash !== null && block.previousblockhash !== cursor.hash) break; // reorg under us: next pass
    const found: PendingDeposit[] = [];
    for (const [txIndex, t] of byScript.size > 0 ? block.tx.entries() : []) {
      for (const o of t.vout) {
        const vaultId = byScript.get(o.scriptPubKey.hex.toLowerCase());
        if (vaultId === undefined) continue;
        const tx = Transaction.fromHex(t.hex);
        if (isPayout(tx)) continue; // change of a withdrawal payout
        const shape = checkDepositShape(tx, o.n);
        if (!shape.ok) {
          result.malformed++;
          d.metrics.depositsFailed.inc({ reason: shape.error });
          const failure = `deposit ${t.txid}:${o.n} (block ${h}) can never be minted: ${shape.error}: ${shape.reason}`;
          await d.jobs.add("deposit", { txid: t.txid, vout: o.n, failure }, { jobId: depositJobId(t.txid, o.n) });
          continue;
        }
        found.push({
          txid: t.txid,
          vout: o.n,
          height: h,
          blockHash: hash,
          txIndex,
          vaultId,
          value: shape.value.toString(),
          recipient: shape.recipient,
          key: orderKey(h, txIndex, o.n, t.txid),
        });
      }
    }
    await d.store.recordBlock(h, hash, found);
    if (found.length > 0) d.log.info({ height: h, block: hash, deposits: found.length }, "deposits found");
    result.found += found.length;
    result.blocks++;
    result.scannedTo = h;
    cursor = { height: h, hash };
  }
  d.metrics.depositsFound.inc(result.found);
  d.metrics.depositScanHeight.set(result.scannedTo);
  return result;
}
