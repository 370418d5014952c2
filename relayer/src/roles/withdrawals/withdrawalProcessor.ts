/**
 * One withdrawal, from request to finalization:
 *   1. on chain still Pending? (else done: finalized or challenged);
 *   2. the payout: the journalled one (located by its recorded block first; re-broadcast if the node lost it; dropped
 *      only when another transaction spends one of its inputs), else one already on the node (mempool or
 *      recent blocks, carrying OP_RETURN <id>), else a new one built from custody UTXOs under the custody-key lock,
 *      journalled in Redis before it is broadcast;
 *   3. wait (the job is delayed, no attempt used) until the payout's block has the request's confirmations on the
 *      node and in the light client;
 *   4. finalizeWithdrawal with its SPV proof, through the serialised sender (which re-checks the status first).
 */
import { Transaction } from "bitcoinjs-lib";
import { DelayedError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { BitcoinRpcError, type BitcoinRpcClient, type RawTransactionInfo } from "../../bitcoin/rpcClient";
import type { KeyPair } from "../../bitcoin/txBuilder";
import { buildTxProof } from "../../bitcoin/txProof";
import { withLock } from "../../core/lock";
import type { RelayerMetrics } from "../../core/metrics";
import { WithdrawalStatus, type TunnelClient } from "../../evm/tunnel";
import type { EvmSender } from "../../evm/sender";
import { blockReadiness } from "../deposits/depositConfirmer";
import { buildPayout, InsufficientCustodyFundsError, type CustodyUtxo } from "./payoutBuilder";
import type { PayoutFinder } from "./payoutFinder";
import type { PayoutRecord, PayoutStore } from "./payoutStore";

/** What a withdrawal job carries (from the WithdrawalRequested event). */
export interface WithdrawalJobData {
  id: string;
  vaultId: number;
  btcScript: string;
  sats: string;
  fee: string;
  /** EVM block of the request. */
  requestBlock: number;
}

export interface WithdrawalJobResult {
  status: "finalized" | "already-finalized" | "challenged";
  payoutTxid?: string;
  evmTx?: string;
}

export interface WithdrawalDeps {
  node: BitcoinRpcClient;
  tunnel: TunnelClient;
  sender: EvmSender;
  redis: Redis;
  store: PayoutStore;
  finder: PayoutFinder;
  metrics: RelayerMetrics;
  key: KeyPair;
  /** Custody script hex. */
  custodyScript: string;
  /** Redis key of the lock that serialises payouts of this custody key across relayers. */
  custodyLockKey: string;
  lockTtlMs: number;
  pollIntervalMs: number;
  feeTarget: number;
  fallbackFeeRate: number;
  /** Resolves an EVM block number to its timestamp (to bound the payout search). */
  blockTime(block: number): Promise<number>;
}

/** Re-schedules the job `ms` from now without using an attempt (BullMQ DelayedError). */
async function delay(job: Job, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, job.token);
  throw new DelayedError();
}

/** Where a transaction is on the node; `placed` when it is in a block of the active chain. */
interface TxPlace {
  known: boolean;
  blockhash?: string;
  confirmations: number;
}

/** A journalled payout is nowhere on the node, cannot be re-broadcast, and no other spend of its inputs is seen. */
export class PayoutNotLocatedError extends Error {
  constructor(
    readonly withdrawalId: string,
    readonly txid: string,
    readonly broadcastError: string,
  ) {
    super(
      `payout ${txid} of withdrawal ${withdrawalId} is not on the node and its re-broadcast failed (${broadcastError}), ` +
        "but no other transaction is seen spending its inputs: it may be confirmed deeper than the search depth on a " +
        "node without -txindex; keeping it (never paying twice), will retry",
    );
    this.name = "PayoutNotLocatedError";
  }
}

async function txStatus(node: BitcoinRpcClient, txid: string, blockhash?: string): Promise<TxPlace> {
  try {
    const info = (await node.getRawTransaction(txid, true, blockhash)) as RawTransactionInfo & {
      in_active_chain?: boolean;
    };
    // bitcoind: with a block hash, in_active_chain says whether that block is on the best chain (no confirmations
    // otherwise); a block off the best chain does not place the transaction.
    if (info.in_active_chain === false || (info.confirmations ?? 0) <= 0) return { known: true, confirmations: 0 };
    return { known: true, blockhash: info.blockhash, confirmations: info.confirmations ?? 0 };
  } catch (err) {
    if (err instanceof BitcoinRpcError && err.code === -5) return { known: false, confirmations: 0 };
    throw err;
  }
}

/**
 * Where a journalled payout is: in its recorded block (served by block hash even without -txindex), else by txid
 * (mempool, or chain with a transaction index), else by a search of recent blocks, else known-but-unplaced when one
 * of its outputs is in the UTXO set. The block it is first seen in is recorded in the journal; a recorded block that
 * is no longer on the best chain (reorg) is forgotten.
 */
async function locate(d: WithdrawalDeps, rec: PayoutRecord, btcScript: string, log: Logger): Promise<TxPlace> {
  if (rec.blockhash !== undefined) {
    const at = await txStatus(d.node, rec.txid, rec.blockhash);
    if (at.blockhash !== undefined) return at;
    log.warn(
      { id: rec.id, txid: rec.txid, blockhash: rec.blockhash, height: rec.height },
      "payout's recorded block is no longer on the best chain (reorg); locating it again",
    );
    delete rec.blockhash;
    delete rec.height;
    await d.store.updatePayout(rec);
  }
  let st = await txStatus(d.node, rec.txid);
  if (st.blockhash === undefined) {
    const found = await d.finder.find(BigInt(rec.id), btcScript);
    if (found?.txid === rec.txid && found.blockhash !== undefined) {
      const inBlock = await txStatus(d.node, rec.txid, found.blockhash);
      if (inBlock.known) st = inBlock;
    }
  }
  if (st.blockhash !== undefined) {
    rec.blockhash = st.blockhash;
    rec.height = (await d.node.getBlockHeader(st.blockhash)).height;
    await d.store.updatePayout(rec);
    return st;
  }
  if (st.known) return st;
  const outputs = Transaction.fromHex(rec.hex).outs.length;
  for (let i = 0; i < outputs; i++) {
    if ((await d.node.getTxOut(rec.txid, i, true)) !== null) return { known: true, confirmations: 0 };
  }
  return st;
}

/** The outpoints ("<txid>:<vout>", display order) a raw transaction spends. */
function outpointsOf(hex: string): string[] {
  return Transaction.fromHex(hex).ins.map((i) => `${Buffer.from(i.hash).reverse().toString("hex")}:${i.index}`);
}

async function feeRate(d: WithdrawalDeps): Promise<number> {
  try {
    const est = await d.node.estimateSmartFee(d.feeTarget);
    if (est.feerate !== undefined && est.feerate > 0) return Math.max(1, (est.feerate * 1e8) / 1000);
  } catch {
    // no estimate: fall back
  }
  return d.fallbackFeeRate;
}

/** Spendable custody UTXOs: confirmed (scantxoutset), mature, not marked spent by one of our payouts. */
async function spendable(d: WithdrawalDeps): Promise<CustodyUtxo[]> {
  const scan = await d.node.scanTxOutSet([`raw(${d.custodyScript})`]);
  const all = scan.unspents.filter((u) => !u.coinbase || u.confirmations >= 100);
  const keys = new Set(all.map((u) => `${u.txid}:${u.vout}`));
  await d.store.pruneSpent(d.custodyScript, keys);
  const spent = await d.store.spent(d.custodyScript);
  return all
    .filter((u) => !spent.has(`${u.txid}:${u.vout}`))
    .map((u) => ({ txid: u.txid, vout: u.vout, value: BigInt(Math.round(u.amount * 1e8)) }));
}

/** Builds, journals and broadcasts a new payout, under the custody lock; returns the journal entry. */
async function payNew(
  d: WithdrawalDeps,
  data: WithdrawalJobData,
  id: bigint,
  job: Job,
  log: Logger,
  signal?: AbortSignal,
): Promise<PayoutRecord> {
  const result = await withLock(
    d.redis,
    d.custodyLockKey,
    { ttlMs: d.lockTtlMs, waitMs: 10 * 60_000, signal },
    async (lock): Promise<PayoutRecord | "no-funds"> => {
      const again = await d.store.payout(id);
      if (again !== undefined) return again;
      const amount = BigInt(data.sats) - BigInt(data.fee);
      let built;
      try {
        built = buildPayout({
          id,
          btcScript: data.btcScript,
          amount,
          utxos: await spendable(d),
          key: d.key,
          custodyScript: d.custodyScript,
          feeRate: await feeRate(d),
        });
      } catch (err) {
        if (err instanceof InsufficientCustodyFundsError) {
          log.warn({ id: data.id, err: err.message }, "payout waits for spendable custody funds");
          return "no-funds";
        }
        throw err;
      }
      const rec: PayoutRecord = {
        id: id.toString(),
        txid: built.tx.getId(),
        hex: built.tx.toHex(),
        inputs: built.inputs.map((u) => `${u.txid}:${u.vout}`),
        origin: "built",
        createdAt: Date.now(),
      };
      lock.assertHeld();
      await d.store.savePayout(rec, d.custodyScript);
      await d.node.sendRawTransaction(rec.hex);
      d.metrics.withdrawalsPaid.inc();
      log.info(
        { id: data.id, txid: rec.txid, paid: amount.toString(), inputs: rec.inputs.length, minerFee: built.minerFee },
        "withdrawal paid on Bitcoin",
      );
      return rec;
    },
  );
  if (result === "no-funds") return delay(job, d.pollIntervalMs * 10);
  return result;
}

/**
 * Makes sure the journalled payout is on the node (re-broadcast when lost). It is dropped only when another
 * transaction is seen spending one of its inputs (it can never confirm); a payout that merely cannot be found is kept
 * and the job retried (PayoutNotLocatedError), since it may be confirmed out of reach of a node without -txindex.
 */
async function ensureBroadcast(
  d: WithdrawalDeps,
  rec: PayoutRecord,
  btcScript: string,
  log: Logger,
): Promise<"ok" | "dropped"> {
  if ((await locate(d, rec, btcScript, log)).known) return "ok";
  try {
    await d.node.sendRawTransaction(rec.hex);
    log.warn({ id: rec.id, txid: rec.txid }, "re-broadcast a journalled payout the node did not have");
    return "ok";
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/already|known/i.test(msg)) return "ok";
    if (!/missingorspent|missing-inputs|conflict/i.test(msg)) throw err;
    const spender = await d.finder.findSpender(outpointsOf(rec.hex), rec.txid);
    if (spender !== undefined) {
      await d.store.dropPayout(rec, d.custodyScript);
      log.warn(
        { id: rec.id, txid: rec.txid, spender: spender.txid, outpoint: spender.outpoint, err: msg },
        "journalled payout can never confirm (another transaction spends its input); building a new one",
      );
      return "dropped";
    }
    const e = new PayoutNotLocatedError(rec.id, rec.txid, msg);
    log.error({ id: rec.id, txid: rec.txid, blockhash: rec.blockhash, err: msg }, e.message);
    throw e;
  }
}

/** Processes the job `withdrawal-<id>`. */
export async function processWithdrawalJob(
  d: WithdrawalDeps,
  job: Job<WithdrawalJobData, WithdrawalJobResult>,
  log: Logger,
  signal?: AbortSignal,
): Promise<WithdrawalJobResult> {
  const data = job.data;
  const id = BigInt(data.id);
  const w = await d.tunnel.withdrawal(id);
  if (w.status === WithdrawalStatus.Finalized || w.status === WithdrawalStatus.Challenged) {
    await d.store.expirePayout(id);
    return { status: w.status === WithdrawalStatus.Finalized ? "already-finalized" : "challenged" };
  }
  if (w.status !== WithdrawalStatus.Pending) throw new Error(`withdrawal ${id} has status ${w.status}`);

  let rec = await d.store.payout(id);
  if (rec !== undefined && (await ensureBroadcast(d, rec, data.btcScript, log)) === "dropped") rec = undefined;
  if (rec === undefined) {
    const notBefore = await d.blockTime(data.requestBlock).catch(() => undefined);
    const found = await d.finder.find(id, data.btcScript, notBefore);
    if (found !== undefined) {
      rec = { id: data.id, txid: found.txid, hex: found.hex, inputs: [], origin: "found", createdAt: Date.now() };
      await d.store.savePayout(rec, d.custodyScript);
      log.warn({ id: data.id, txid: found.txid }, "found an existing payout of this withdrawal on the node; using it");
    } else {
      rec = await payNew(d, data, id, job, log, signal);
    }
  }

  const st = await locate(d, rec, data.btcScript, log);
  // The payout needs the confirmations in force when the withdrawal was requested (the tunnel keeps them).
  const needed = w.confirmations;
  if (st.blockhash === undefined || st.confirmations < needed) {
    return delay(job, d.pollIntervalMs);
  }
  const header = await d.node.getBlockHeader(st.blockhash);
  const ready = await blockReadiness(d.node, d.tunnel, header.height, st.blockhash, needed);
  if (!ready.ready) return delay(job, d.pollIntervalMs);

  const proof = await buildTxProof(d.node, rec.txid, st.blockhash);
  const payoutTxid = rec.txid;
  const sent = await d.sender.send({
    key: `withdrawal-${data.id}`,
    role: "withdrawals",
    signal,
    prepare: async () => {
      const now = await d.tunnel.withdrawal(id);
      if (now.status !== WithdrawalStatus.Pending) return { skip: `withdrawal ${id} is no longer pending` };
      return { to: d.tunnel.address, data: d.tunnel.encodeFinalizeWithdrawal(id, proof) };
    },
  });
  await d.store.expirePayout(id);
  if (sent.status === "skipped") return { status: "already-finalized", payoutTxid };
  d.metrics.withdrawalsFinalized.inc();
  const requested = await d.blockTime(data.requestBlock).catch(() => undefined);
  if (requested !== undefined) d.metrics.withdrawalLagSeconds.set(Math.max(0, Date.now() / 1000 - requested));
  log.info({ id: data.id, payoutTxid, evmTx: sent.hash }, "withdrawal finalized");
  return { status: "finalized", payoutTxid, evmTx: sent.hash };
}
