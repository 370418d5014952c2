/**
 * Confirms deposits in Bitcoin order. Every deposit job, under the deployment-wide confirm lock, confirms the
 * pending deposits from the oldest one up to its own, one block at a time with `confirmDepositsInBlock` (the
 * block's ready deposits in block order, one transaction), so the tunnel's `sequence` follows (height, position
 * in block, output index). Before sending, the deposit records are re-read on chain (inside the signer lock), so
 * a job replayed after a crash, or taken by a second relayer, pays nothing for deposits already minted.
 * A deposit to a Paused vault is parked (kept out of the order, so it blocks no other deposit) and put back in the
 * pending order once the vault is no longer Paused; it is then minted after deposits that came later.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { displayToInternal } from "../../bitcoin/byteOrder";
import { BitcoinRpcError, type BitcoinRpcClient, type BlockInfoWithTxs } from "../../bitcoin/rpcClient";
import { buildTxProofFromBlock, type TxProof } from "../../bitcoin/txProof";
import { PermanentError } from "../../core/errors";
import { withLock } from "../../core/lock";
import type { RelayerMetrics } from "../../core/metrics";
import type { TunnelClient, VaultInfo } from "../../evm/tunnel";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender } from "../../evm/sender";
import { checkDepositTerms, isHeld } from "./depositRules";
import type { DepositJobData } from "./depositScanner";
import type { DepositStore, PendingDeposit } from "./depositStore";

export interface ConfirmDeps {
  node: BitcoinRpcClient;
  tunnel: TunnelClient;
  store: DepositStore;
  sender: EvmSender;
  redis: Redis;
  /** Redis key of the deployment-wide confirm lock (one confirmer at a time keeps the order). */
  lockKey: string;
  lockTtlMs: number;
  metrics: RelayerMetrics;
  /** Most deposits in one confirmDepositsInBlock call. */
  maxBatch: number;
}

/** What a completed deposit job returns. */
export interface DepositJobResult {
  status: "minted" | "already-minted";
  sequence: string;
  blockHeight: number;
  txIndex: number;
  evmTx?: string;
}

/** The deposit's block is not yet confirmed enough (on the node or in the light client): retry later. */
export class BlockNotReadyError extends Error {
  constructor(height: number, hash: string, why: string) {
    super(`block ${height} (${hash}) not ready: ${why}`);
    this.name = "BlockNotReadyError";
  }
}

/**
 * The deposit is parked: its vault is Paused (transient; the job is retried, and the deposits role re-queues it
 * once the vault is Live again). Other deposits are confirmed meanwhile.
 */
export class DepositParkedError extends Error {
  constructor(d: PendingDeposit) {
    super(`deposit ${d.txid}:${d.vout} (block ${d.height}) is parked: vault ${d.vaultId} is paused; will retry`);
    this.name = "DepositParkedError";
  }
}

/** Reverts that time can fix: the light client lags or reorganised, or the tunnel is paused. */
const TRANSIENT_REVERTS = new Set(["BlockNotCanonical", "InsufficientConfirmations", "EnforcedPause"]);

/** Whether a block is on the node's best chain with `conf` confirmations and canonical in the light client too. */
export async function blockReadiness(
  node: BitcoinRpcClient,
  tunnel: TunnelClient,
  height: number,
  blockHash: string,
  conf: number,
  tip?: number,
): Promise<{ ready: boolean; why?: string }> {
  const nodeTip = tip ?? (await node.getBlockCount());
  let onNode: string | undefined;
  try {
    onNode = await node.getBlockHash(height);
  } catch (err) {
    if (!(err instanceof BitcoinRpcError)) throw err;
  }
  if (onNode !== blockHash) return { ready: false, why: "no longer on the node's best chain (reorg)" };
  const nodeConf = nodeTip - height + 1;
  if (nodeConf < conf) return { ready: false, why: `${nodeConf}/${conf} confirmations on the node` };
  const lcConf = await tunnel.lightClientConfirmations(displayToInternal(blockHash), height);
  if (lcConf < conf) return { ready: false, why: `${lcConf}/${conf} confirmations in the light client` };
  return { ready: true };
}

function proofsOf(block: BlockInfoWithTxs, header: string, items: readonly PendingDeposit[]): TxProof[] {
  const txids = block.tx.map((t) => t.txid);
  return items.map((d) => {
    const t = block.tx[d.txIndex];
    if (t === undefined || t.txid !== d.txid) {
      throw new Error(`deposit ${d.txid} is not at index ${d.txIndex} of block ${block.hash}`);
    }
    return buildTxProofFromBlock({
      txids,
      txIndex: d.txIndex,
      rawTx: t.hex,
      blockHeader: header,
      blockHeight: d.height,
    });
  });
}

/** Confirms one block's pending deposits (all of them, in block order, in batches of at most maxBatch). */
async function confirmBlock(
  deps: ConfirmDeps,
  group: PendingDeposit[],
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const { tunnel, store, node } = deps;
  const first = group[0];
  const vaults = new Map<number, VaultInfo>();
  for (const id of new Set(group.map((d) => d.vaultId))) vaults.set(id, await tunnel.vault(id));
  const live: PendingDeposit[] = [];
  for (const d of group) {
    const rec = await tunnel.depositRecord(displayToInternal(d.txid), d.vout);
    if (rec.sequence !== 0n) {
      await store.done(d);
      continue;
    }
    const bad = checkDepositTerms(vaults.get(d.vaultId) as VaultInfo, BigInt(d.value), d.height);
    if (bad?.park === true) {
      await store.park(d);
      log.warn({ txid: d.txid, vout: d.vout, vaultId: d.vaultId, reason: bad.reason }, "deposit parked");
      continue;
    }
    if (bad !== undefined) {
      const reason = `deposit ${d.txid}:${d.vout} (block ${d.height}) can never be minted: ${bad.error}: ${bad.reason}`;
      await store.markFailed(d, reason);
      deps.metrics.depositsFailed.inc({ reason: bad.error });
      log.warn({ txid: d.txid, vout: d.vout, reason }, "deposit recorded as failed");
      continue;
    }
    live.push(d);
  }
  if (live.length === 0) return;
  const conf = Math.max(...live.map((d) => (vaults.get(d.vaultId) as VaultInfo).confirmations));
  const ready = await blockReadiness(node, tunnel, first.height, first.blockHash, conf);
  if (!ready.ready) throw new BlockNotReadyError(first.height, first.blockHash, ready.why ?? "");

  const block = (await node.getBlock(first.blockHash, 2)) as BlockInfoWithTxs;
  const header = await node.getBlockHeaderHex(first.blockHash);
  for (let i = 0; i < live.length; i += deps.maxBatch) {
    const batch = live.slice(i, i + deps.maxBatch);
    const proofs = proofsOf(block, header, batch);
    try {
      await sendBatch(deps, batch, proofs, header, log, signal);
    } catch (err) {
      if (!(err instanceof RevertError)) throw err;
      if (err.revert !== undefined && TRANSIENT_REVERTS.has(err.revert.name)) {
        throw new Error(`${err.message} (will retry)`);
      }
      // A deposit the off-chain checks missed sank the batch: confirm one by one, recording the bad ones.
      log.warn({ height: first.height, err: err.message }, "batch reverted; confirming its deposits one by one");
      for (let j = 0; j < batch.length; j++) await confirmOne(deps, batch[j], proofs[j], log, signal);
    }
  }
}

async function sendBatch(
  deps: ConfirmDeps,
  batch: PendingDeposit[],
  proofs: TxProof[],
  header: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const { tunnel, store } = deps;
  const first = batch[0];
  let sent: PendingDeposit[] = [];
  const result = await deps.sender.send({
    key: `deposits-block-${first.height}-${first.blockHash}-${first.txIndex}-${first.vout}`,
    role: "deposits",
    signal,
    prepare: async () => {
      const idx: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const rec = await tunnel.depositRecord(displayToInternal(batch[i].txid), batch[i].vout);
        if (rec.sequence === 0n) idx.push(i);
      }
      sent = idx.map((i) => batch[i]);
      if (idx.length === 0) return { skip: `all ${batch.length} deposits of block ${first.height} already minted` };
      return {
        to: tunnel.address,
        data: tunnel.encodeConfirmDepositsInBlock(
          header,
          first.height,
          idx.map((i) => ({ rawTx: proofs[i].rawTx, txIndex: proofs[i].txIndex, merkleProof: proofs[i].merkleProof })),
          idx.map((i) => batch[i].vout),
        ),
      };
    },
  });
  if (result.status === "skipped") {
    for (const d of batch) await store.done(d);
    return;
  }
  const events = tunnel.parseEvents(result.receipt.logs).filter((e) => e.name === "DepositConfirmed");
  for (const d of batch) await store.done(d);
  deps.metrics.depositsConfirmed.inc(events.length);
  log.info(
    {
      height: first.height,
      deposits: events.length,
      sequences: events.length > 0 ? `${events[0].args.sequence}..${events[events.length - 1].args.sequence}` : "",
      tx: result.hash,
      gasUsed: result.gasUsed.toString(),
      attempted: sent.length,
    },
    "deposits confirmed",
  );
}

async function confirmOne(
  deps: ConfirmDeps,
  d: PendingDeposit,
  proof: TxProof,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  try {
    const result = await deps.sender.send({
      key: `deposit-${d.txid}-${d.vout}`,
      role: "deposits",
      signal,
      prepare: async () => {
        const rec = await deps.tunnel.depositRecord(displayToInternal(d.txid), d.vout);
        if (rec.sequence !== 0n) return { skip: `deposit ${d.txid}:${d.vout} already minted` };
        return { to: deps.tunnel.address, data: deps.tunnel.encodeConfirmDeposit(proof, d.vout) };
      },
    });
    await deps.store.done(d);
    if (result.status === "mined") deps.metrics.depositsConfirmed.inc();
  } catch (err) {
    if (!(err instanceof RevertError)) throw err;
    const name = err.revert?.name ?? "unknown";
    if (TRANSIENT_REVERTS.has(name)) throw new Error(`${err.message} (will retry)`);
    if (name === "DepositAlreadyConfirmed") {
      await deps.store.done(d);
      return;
    }
    if (name === "VaultNotAcceptingDeposits" && isHeld(await deps.tunnel.vault(d.vaultId), d.height)) {
      // Paused (or left short of collateral) between the check and the send: kept until the vault takes it.
      await deps.store.park(d);
      log.warn({ txid: d.txid, vout: d.vout, vaultId: d.vaultId }, "deposit parked: its vault was paused");
      return;
    }
    const reason = `deposit ${d.txid}:${d.vout} (block ${d.height}) can never be minted: ${err.revert?.text ?? err.message}`;
    await deps.store.markFailed(d, reason);
    deps.metrics.depositsFailed.inc({ reason: name });
    log.warn({ txid: d.txid, vout: d.vout, reason }, "deposit recorded as failed");
  }
}

/**
 * Processes the job of deposit (txid, vout): fails it at once when the deposit can never be minted; otherwise
 * confirms, in order, every pending deposit up to and including it, and returns its sequence.
 */
export async function processDepositJob(
  deps: ConfirmDeps,
  data: DepositJobData,
  log: Logger,
  signal?: AbortSignal,
): Promise<DepositJobResult> {
  if (data.failure !== undefined) throw new PermanentError(data.failure);
  const { tunnel, store } = deps;
  const internal = displayToInternal(data.txid);
  const minted = async (status: DepositJobResult["status"], evmTx?: string): Promise<DepositJobResult | undefined> => {
    const rec = await tunnel.depositRecord(internal, data.vout);
    if (rec.sequence === 0n) return undefined;
    const item = await store.item(data.txid, data.vout);
    if (item !== undefined) await store.done(item);
    return {
      status,
      sequence: rec.sequence.toString(),
      blockHeight: rec.blockHeight,
      txIndex: rec.txIndex,
      evmTx,
    };
  };
  const before = await minted("already-minted");
  if (before !== undefined) return before;
  return withLock(deps.redis, deps.lockKey, { ttlMs: deps.lockTtlMs, waitMs: 10 * 60_000, signal }, async (lock) => {
    for (let round = 0; round < 10_000; round++) {
      const done = await minted(round === 0 ? "already-minted" : "minted");
      if (done !== undefined) return done;
      const failure = await store.failure(data.txid, data.vout);
      if (failure !== undefined) throw new PermanentError(failure);
      const mine = await store.item(data.txid, data.vout);
      if (mine === undefined) {
        throw new Error(
          `deposit ${data.txid}:${data.vout} is not on the node's best chain now; waiting to find it again`,
        );
      }
      if (await store.isParked(mine)) {
        const vault = await tunnel.vault(mine.vaultId);
        if (isHeld(vault, mine.height)) throw new DepositParkedError(mine);
        await store.unpark(mine);
        log.info(
          { txid: mine.txid, vout: mine.vout, vaultId: mine.vaultId },
          "vault no longer paused: deposit unparked",
        );
        continue;
      }
      const pending = await store.pending(deps.maxBatch * 4);
      const head = pending[0];
      if (head === undefined || head.key > mine.key) {
        throw new Error(`deposit ${data.txid}:${data.vout} is not in the pending set; retrying`);
      }
      const group = pending.filter((d) => d.height === head.height && d.blockHash === head.blockHash);
      lock.assertHeld();
      await confirmBlock(deps, group, log, signal);
    }
    throw new Error(`deposit ${data.txid}:${data.vout}: too many confirm rounds`);
  });
}
