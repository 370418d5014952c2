/**
 * One keystone for one PoP miner (the job `pop-<n>-<id>` on the miner's own queue), from recorded to settled:
 *   1. no record yet: skip it when it is stale (outside the newest POP_KEYSTONE_WINDOW keystones or older than
 *      POP_KEYSTONE_MAX_AGE_S) or, with POP_PUBLISH=unpublished, when a block of the best Bitcoin chain already
 *      carries it (popm's rule); else price it (estimatesmartfee, fallback, cap: above the cap the job waits
 *      POP_FEE_RETRY_MS and logs once), take one of the miner's confirmed P2PKH coins under the miner's lock, build
 *      popm's transaction, journal it, broadcast it;
 *   2. while it is unconfirmed: re-broadcast it if the node lost it; after POP_BUMP_AFTER_BLOCKS new blocks replace
 *      it (BIP125: same coin, higher fee, journalled before broadcast); a coin spent by another transaction drops
 *      the record and starts again;
 *   3. once it is in a block of the best chain that the light client holds: PopVerifier.submitPop with its SPV
 *      proof through the serialised sender (which re-checks isRecorded first);
 *   4. it keeps watching until the publication is POP_SETTLE_DEPTH deep: a reorg that removes its block makes it
 *      wait for the transaction to be mined again (or re-broadcast, or replaced) and prove it again at its new place.
 * The job is delayed between steps (no attempt used); the journal makes every step safe to replay after a crash.
 */
import type { Job } from "bullmq";
import { delayJob } from "../../core/delayJob";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { displayToInternal } from "../../bitcoin/byteOrder";
import type { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import type { KeyPair } from "../../bitcoin/txBuilder";
import { buildTxProof } from "../../bitcoin/txProof";
import { withLock } from "../../core/lock";
import type { LightClientReader } from "../../evm/lightClient";
import type { EvmSender } from "../../evm/sender";
import { buildPopTx } from "../../pop/popTx";
import type { KeystoneLedgerClient, PopVerifierClient } from "../../pop/popContracts";
import type { PublicationIndex } from "../../pop/publicationIndex";
import { quoteFee, replacementRate, type FeePolicyOptions } from "./feePolicy";
import type { PopMetrics } from "./popMetrics";
import type { PopBroadcast, PopRecord, PopStore } from "./popStore";

/** What a PoP job carries. */
export interface PopJobData {
  n: number;
  /** Keystone id, internal order 0x-hex. */
  id: string;
  /** The 76-byte abbreviation, hex without 0x. */
  abbrev: string;
  /** Unix time of the EVM block that recorded it. */
  recordedAt: number;
}

export interface PopJobResult {
  status: "settled" | "skipped";
  reason?: string;
  txid?: string;
  btcHeight?: number;
}

export interface PopMinerDeps extends FeePolicyOptions {
  node: BitcoinRpcClient;
  lc: LightClientReader;
  ledger: KeystoneLedgerClient;
  verifier: PopVerifierClient;
  sender: EvmSender;
  redis: Redis;
  store: PopStore;
  index: PublicationIndex;
  metrics: PopMetrics;
  key: KeyPair;
  /** hash160 of the miner's public key, hex (the miner's id in logs, metrics and Redis keys). */
  minerId: string;
  /** The miner's P2PKH script, hex. */
  minerScript: string;
  /** Redis key of the lock that serialises coin selection of this miner key across relayers. */
  lockKey: string;
  lockTtlMs: number;
  pollIntervalMs: number;
  feeRetryMs: number;
  interval: number;
  window: number;
  maxAgeS: number;
  publish: "unpublished" | "always";
  bumpAfterBlocks: number;
  scanBlocks: number;
  settleDepth: number;
}

/** A coin of the miner (display-order txid). */
interface MinerCoin {
  txid: string;
  vout: number;
  value: bigint;
}

/** The miner's spendable coins: confirmed, mature, not spent by one of its pending PoP transactions. */
async function coins(d: PopMinerDeps): Promise<MinerCoin[]> {
  const scan = await d.node.scanTxOutSet([`raw(${d.minerScript})`]);
  const all = scan.unspents.filter((u) => !u.coinbase || u.confirmations >= 100);
  await d.store.pruneSpent(new Set(all.map((u) => `${u.txid}:${u.vout}`)));
  const spent = await d.store.spent();
  return all
    .filter((u) => !spent.has(`${u.txid}:${u.vout}`))
    .map((u) => ({ txid: u.txid, vout: u.vout, value: BigInt(Math.round(u.amount * 1e8)) }))
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/** Builds a signed PoP transaction spending `coin` at `feeRate`. */
function build(d: PopMinerDeps, coin: MinerCoin, abbrev: string, feeRate: number, tip: number): PopBroadcast {
  const built = buildPopTx({
    key: d.key,
    utxo: { txid: coin.txid, vout: coin.vout, value: coin.value },
    abbrev: Buffer.from(abbrev, "hex"),
    feeRate,
    tipHeight: tip,
  });
  return {
    txid: built.txid,
    hex: built.hex,
    feeRate,
    fee: Number(built.fee),
    vsize: built.vsize,
    tipAtBroadcast: tip,
    at: Date.now(),
  };
}

function parseOutpoint(o: string): { txid: string; vout: number } {
  const [txid, vout] = o.split(":");
  return { txid, vout: Number(vout) };
}

/** Broadcasts; "known" when the node already has it; "conflict" when its coin is spent or missing. */
async function broadcast(d: PopMinerDeps, hex: string): Promise<"ok" | "known" | "conflict"> {
  try {
    await d.node.sendRawTransaction(hex);
    return "ok";
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/already|known|txn-already-in-mempool/i.test(msg)) return "known";
    if (/missingorspent|missing-inputs|conflict|insufficient fee|bad-txns-inputs/i.test(msg)) return "conflict";
    throw err;
  }
}

/** Decides whether to publish keystone n at all (no record yet): a reason to skip, or undefined. */
async function skipReason(d: PopMinerDeps, data: PopJobData, tip: number): Promise<string | undefined> {
  const last = await d.ledger.lastKeystoneNumber();
  if (last - data.n >= d.window * d.interval) return `stale: not among the newest ${d.window} keystones`;
  if (Date.now() / 1000 - data.recordedAt > d.maxAgeS) return `stale: recorded more than ${d.maxAgeS} s ago`;
  if (d.publish === "unpublished") {
    const { publications } = await d.index.scan(tip - d.scanBlocks + 1);
    const other = publications.find((p) => p.abbrev === data.abbrev);
    if (other !== undefined) {
      return `already published on Bitcoin in block ${other.height} (tx ${other.txid}${other.publisher === d.minerId ? ", this miner's" : ""})`;
    }
  }
  return undefined;
}

/** Publishes keystone n for the first time; returns the journalled record, or delays the job. */
async function publishNew(
  d: PopMinerDeps,
  job: Job<PopJobData, PopJobResult>,
  tip: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<PopRecord> {
  const data = job.data;
  const miner = d.minerId;
  const quote = await quoteFee(d.node, d);
  d.metrics.popFeeRate.set({ miner }, quote.rate);
  if (!quote.allowed) {
    d.metrics.popFeeWaits.inc({ miner });
    if (await d.store.markFeeWait(data.n, d.feeRetryMs)) {
      log.warn(
        { keystone: data.n, feeRate: quote.rate, source: quote.source, maxFeeRate: d.maxRate, retryInMs: d.feeRetryMs },
        "fee rate above POP_MAX_FEE_RATE: not publishing this keystone now; will retry",
      );
    }
    return delayJob(job, d.feeRetryMs);
  }
  const rec = await withLock(
    d.redis,
    d.lockKey,
    { ttlMs: d.lockTtlMs, waitMs: 10 * 60_000, signal },
    async (lock): Promise<PopRecord | "no-coin"> => {
      const again = await d.store.record(data.n, data.id);
      if (again !== undefined) return again;
      let chosen: { coin: MinerCoin; tx: PopBroadcast } | undefined;
      for (const coin of await coins(d)) {
        try {
          chosen = { coin, tx: build(d, coin, data.abbrev, quote.rate, tip) };
          break;
        } catch (err) {
          if (!(err instanceof Error) || !/does not cover/i.test(err.message)) throw err;
        }
      }
      if (chosen === undefined) return "no-coin";
      const r: PopRecord = {
        keystoneNumber: data.n,
        keystoneId: data.id,
        input: `${chosen.coin.txid}:${chosen.coin.vout}`,
        txs: [chosen.tx],
        createdAt: Date.now(),
      };
      lock.assertHeld();
      await d.store.save(r); // journal first: a crash after the broadcast finds it
      await d.store.clearFeeWait(data.n);
      await broadcast(d, chosen.tx.hex);
      d.metrics.popPublished.inc({ miner });
      log.info(
        {
          keystone: data.n,
          txid: chosen.tx.txid,
          feeRate: quote.rate,
          feeSource: quote.source,
          fee: chosen.tx.fee,
          vsize: chosen.tx.vsize,
          input: r.input,
        },
        "PoP transaction broadcast",
      );
      return r;
    },
  );
  if (rec === "no-coin") {
    log.warn(
      { keystone: data.n, minerScript: d.minerScript },
      "no spendable coin of the PoP miner can pay the fee; waiting",
    );
    return delayJob(job, d.pollIntervalMs * 10);
  }
  return rec;
}

/** Replaces the current transaction of `rec` (BIP125: same coin, higher fee), journalled before broadcast. */
async function replace(d: PopMinerDeps, rec: PopRecord, data: PopJobData, tip: number, log: Logger): Promise<void> {
  const current = rec.txs[rec.txs.length - 1];
  const quote = replacementRate(current.feeRate, await quoteFee(d.node, d), d);
  if (!quote.allowed) {
    if (await d.store.markFeeWait(data.n, d.feeRetryMs)) {
      log.warn(
        { keystone: data.n, txid: current.txid, wouldPay: quote.rate, maxFeeRate: d.maxRate },
        "stuck PoP transaction: its replacement would pay above POP_MAX_FEE_RATE; keeping it",
      );
    }
    return;
  }
  const prev = parseOutpoint(rec.input);
  const coin = await d.node.getTxOut(prev.txid, prev.vout, false);
  if (coin === null) return; // spent in a block meanwhile: locate() sees which transaction
  const tx = build(d, { ...prev, value: BigInt(Math.round(coin.value * 1e8)) }, data.abbrev, quote.rate, tip);
  rec.txs.push(tx);
  await d.store.save(rec);
  const outcome = await broadcast(d, tx.hex);
  if (outcome === "conflict") {
    rec.txs.pop();
    await d.store.save(rec);
    log.warn({ keystone: data.n, txid: current.txid }, "replacement refused by the node; keeping the current one");
    return;
  }
  d.metrics.popReplaced.inc({ miner: d.minerId });
  log.warn(
    {
      keystone: data.n,
      replaced: current.txid,
      txid: tx.txid,
      oldFeeRate: current.feeRate,
      feeRate: tx.feeRate,
      unconfirmedForBlocks: tip - current.tipAtBroadcast,
    },
    "stuck PoP transaction replaced with a higher fee (BIP125)",
  );
}

/** Processes `pop-<n>-<id>` for this miner. */
export async function processPopJob(
  d: PopMinerDeps,
  job: Job<PopJobData, PopJobResult>,
  log: Logger,
  signal?: AbortSignal,
): Promise<PopJobResult> {
  const data = job.data;
  const miner = d.minerId;
  const onLedger = await d.ledger.keystoneAt(data.n);
  let rec = await d.store.record(data.n, data.id);
  if (onLedger.id.toLowerCase() !== data.id.toLowerCase()) {
    if (rec !== undefined) await d.store.expire(rec);
    return { status: "skipped", reason: `keystone ${data.n} ${data.id} is no longer recorded in the ledger` };
  }
  const tip = await d.node.getBlockCount();
  if (rec === undefined) {
    const why = await skipReason(d, data, tip);
    if (why !== undefined) {
      d.metrics.popSkipped.inc({ miner, reason: why.startsWith("stale") ? "stale" : "published" });
      log.info({ keystone: data.n, reason: why }, "keystone not mined");
      return { status: "skipped", reason: why };
    }
    rec = await publishNew(d, job, tip, log, signal);
  }

  // Where is it? Any of its transactions in a block of the best chain (only one can be: they share a coin).
  const { publications } = await d.index.scan(tip - d.scanBlocks + 1);
  const ours = new Set(rec.txs.map((t) => t.txid));
  const placed = publications.find((p) => ours.has(p.txid) && p.blockhash !== undefined);
  if (placed === undefined || placed.blockhash === undefined || placed.height === undefined) {
    const current = rec.txs[rec.txs.length - 1];
    const pool = new Set(await d.node.getRawMempool());
    if (!pool.has(current.txid)) {
      const outcome = await broadcast(d, current.hex);
      if (outcome === "conflict") {
        const prev = parseOutpoint(rec.input);
        if ((await d.node.getTxOut(prev.txid, prev.vout, true)) === null) {
          await d.store.drop(rec);
          log.warn(
            { keystone: data.n, txids: [...ours], input: rec.input },
            "PoP transaction can never confirm (its coin is spent elsewhere); publishing anew",
          );
          return delayJob(job, d.pollIntervalMs);
        }
        throw new Error(`PoP transaction ${current.txid} refused by the node, yet its coin ${rec.input} is unspent`);
      }
      log.warn({ keystone: data.n, txid: current.txid }, "re-broadcast a journalled PoP transaction the node lacked");
    } else if (tip - current.tipAtBroadcast >= d.bumpAfterBlocks) {
      await replace(d, rec, data, tip, log);
    }
    return delayJob(job, d.pollIntervalMs);
  }

  const blockInternal = displayToInternal(placed.blockhash);
  if ((await d.lc.blockHashAt(placed.height)).toLowerCase() !== blockInternal.toLowerCase()) {
    return delayJob(job, d.pollIntervalMs); // the light client does not hold that block (yet)
  }
  const txInternal = displayToInternal(placed.txid);
  if (!(await d.verifier.isRecorded(txInternal, blockInternal))) {
    const proof = await buildTxProof(d.node, placed.txid, placed.blockhash);
    const sent = await d.sender.send({
      key: `pop-${miner.slice(0, 8)}-${data.n}-${placed.height}`,
      role: "pop",
      signal,
      prepare: async () =>
        (await d.verifier.isRecorded(txInternal, blockInternal))
          ? { skip: `publication ${placed.txid} already proven in block ${placed.blockhash}` }
          : { to: d.verifier.address, data: d.verifier.encodeSubmitPop(proof) },
    });
    if (sent.status === "mined") {
      d.metrics.popProven.inc({ miner });
      log.info(
        {
          keystone: data.n,
          txid: placed.txid,
          btcHeight: placed.height,
          evmTx: sent.hash,
          gasUsed: sent.gasUsed.toString(),
        },
        rec.provenBlock !== undefined && rec.provenBlock !== placed.blockhash
          ? "PoP publication proven again at its new place (after a Bitcoin reorg)"
          : "PoP publication proven",
      );
    }
    rec.provenBlock = placed.blockhash;
    rec.provenHeight = placed.height;
    await d.store.update(rec);
  }
  if (tip - placed.height + 1 >= d.settleDepth) {
    await d.store.expire(rec);
    log.info({ keystone: data.n, txid: placed.txid, btcHeight: placed.height }, "PoP publication settled");
    return { status: "settled", txid: placed.txid, btcHeight: placed.height };
  }
  return delayJob(job, d.pollIntervalMs);
}
