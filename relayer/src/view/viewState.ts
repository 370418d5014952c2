/**
 * What the live view shows, read from the nodes and the contracts (public data) and from the relayer's Redis state
 * (deposits found and not yet minted, payouts broadcast): the Bitcoin tip and recent blocks, the light client's tip,
 * the newest keystones with their publications and PopVerifier's finality, deposits (mempool → confirming →
 * minted) and withdrawals (requested → paid → finalized / challenged). One snapshot is read at a time and kept
 * `maxAgeMs`, so that any number of pages polling every second cost one read per `maxAgeMs`.
 */
import type { JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import { internalToDisplay } from "../bitcoin/byteOrder";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { errorMessage } from "../core/logger";
import type { Deployment } from "../evm/deployment";
import { LightClientReader } from "../evm/lightClient";
import { FinalityChainView } from "../finality/chainView";
import { DepositStore } from "../roles/deposits/depositStore";
import { PayoutStore } from "../roles/withdrawals/payoutStore";
import { MempoolDeposits } from "./mempoolDeposits";
import { TunnelEventLog } from "./tunnelEvents";
import type {
  KeystoneStage,
  ViewBitcoin,
  ViewBitcoinBlock,
  ViewDeposit,
  ViewKeystone,
  ViewKeystones,
  ViewLightClient,
  ViewState,
  ViewWithdrawal,
} from "./types";

/** Recent Bitcoin blocks shown. */
const RECENT_BLOCKS = 8;
/** Keystones shown (newest first). */
const KEYSTONES_SHOWN = 12;
/** Keystones looked at past the ones shown, for the newest superfinal one. */
const SUPERFINAL_SEARCH = 40;
/** Deposits and withdrawals shown. */
const ITEMS_SHOWN = 30;

export interface ViewSources {
  provider: JsonRpcProvider;
  bitcoin: BitcoinRpcClient;
  deployment: Deployment;
  /** The relayer's Redis and key prefix (REDIS_PREFIX): deposits found and payouts broadcast. Optional. */
  redis?: { client: Redis; prefix: string };
  /** How long a snapshot is served before a new one is read (default 700 ms). */
  maxAgeMs?: number;
}

export class FabricViewState {
  private readonly events: TunnelEventLog;
  private readonly mempool: MempoolDeposits;
  private readonly lc: LightClientReader;
  private readonly chain: FinalityChainView | undefined;
  private readonly maxAgeMs: number;
  private cached: { at: number; state: ViewState } | undefined;
  private inFlight: Promise<ViewState> | undefined;
  private readonly blocks = new Map<string, ViewBitcoinBlock>();

  constructor(private readonly src: ViewSources) {
    const d = src.deployment;
    const tunnel = d.contracts.BitcoinTunnel as string | undefined;
    if (tunnel === undefined) throw new Error(`the deployment of chain ${d.chainId} has no BitcoinTunnel`);
    this.events = new TunnelEventLog(src.provider, tunnel, d.blockNumber ?? 0);
    this.mempool = new MempoolDeposits(src.bitcoin);
    this.lc = new LightClientReader(d.contracts.BitcoinLightClient, src.provider);
    this.chain =
      d.pop === undefined
        ? undefined
        : new FinalityChainView(src.provider, { keystoneLedger: d.pop.keystoneLedger, popVerifier: d.pop.popVerifier });
    this.maxAgeMs = src.maxAgeMs ?? 700;
  }

  /** The current snapshot: the cached one while it is younger than `maxAgeMs`, else a new one (one read at a time). */
  async state(): Promise<ViewState> {
    if (this.cached !== undefined && Date.now() - this.cached.at < this.maxAgeMs) return this.cached.state;
    this.inFlight ??= this.read().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async read(): Promise<ViewState> {
    const errors: string[] = [];
    const guard = async <T>(what: string, f: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await f();
      } catch (err) {
        errors.push(`${what}: ${errorMessage(err)}`);
        return fallback;
      }
    };
    const evmHead = await this.src.provider.getBlockNumber();
    // The tunnel's events first: the vaults' custody scripts are what mempool deposits are recognised by.
    await guard("tunnel events", () => this.events.scan(evmHead), undefined);
    const bitcoin = await this.readBitcoin();
    const lightClient = await guard("light client", () => this.readLightClient(bitcoin.tipHeight), {
      height: 0,
      hash: "",
      nodeHashAtHeight: null,
      matches: false,
      behind: bitcoin.tipHeight,
    });
    const keystones = await guard("keystones", () => this.readKeystones(evmHead), {
      interval: this.src.deployment.pop?.keystoneInterval ?? 0,
      first: this.src.deployment.pop?.firstKeystone ?? 0,
      last: 0,
      items: [],
      newestSuperfinal: null,
    });
    const deposits = await guard("deposits", () => this.readDeposits(bitcoin.tipHeight), []);
    const withdrawals = await guard("withdrawals", () => this.readWithdrawals(), []);
    const state: ViewState = {
      at: new Date().toISOString(),
      chainId: this.src.deployment.chainId,
      evmHead,
      bitcoin,
      lightClient,
      keystones,
      deposits,
      withdrawals,
      errors,
    };
    this.cached = { at: Date.now(), state };
    return state;
  }

  private async readBitcoin(): Promise<ViewBitcoin> {
    const b = this.src.bitcoin;
    const [tipHeight, mempool] = await Promise.all([b.getBlockCount(), b.getRawMempool()]);
    const heights = Array.from({ length: Math.min(RECENT_BLOCKS, tipHeight + 1) }, (_v, i) => tipHeight - i);
    const hashes = await b.batch<string>(heights.map((h) => ({ method: "getblockhash", params: [h] })));
    const blocks: ViewBitcoinBlock[] = [];
    for (let i = 0; i < heights.length; i++) {
      let blk = this.blocks.get(hashes[i]);
      if (blk === undefined) {
        const info = await b.getBlock(hashes[i], 1);
        blk = { height: info.height, hash: info.hash, time: info.time, txs: info.tx.length };
        this.blocks.set(info.hash, blk);
        if (this.blocks.size > 200) this.blocks.delete(this.blocks.keys().next().value as string);
      }
      blocks.push(blk);
    }
    await this.mempool.update(mempool, this.events.custody);
    return { tipHeight, tipHash: hashes[0], blocks, mempool: mempool.length };
  }

  private async readLightClient(nodeTip: number): Promise<ViewLightClient> {
    const best = await this.lc.bestBlock();
    const hash = internalToDisplay(best.hash);
    const nodeHash = best.height <= nodeTip ? await this.src.bitcoin.getBlockHash(best.height) : null;
    return {
      height: best.height,
      hash,
      nodeHashAtHeight: nodeHash,
      matches: nodeHash === hash,
      behind: nodeTip - best.height,
    };
  }

  private async readDeposits(tip: number): Promise<ViewDeposit[]> {
    const inMempool = new Set(await this.src.bitcoin.getRawMempool());
    const out = new Map<string, ViewDeposit>();
    const required = async (vaultId: number): Promise<number | null> => {
      if (!this.events.confirmations.has(vaultId)) {
        const v = (await this.events.tunnel.vault(vaultId)) as { confirmations: bigint };
        this.events.confirmations.set(vaultId, Number(v.confirmations));
      }
      return this.events.confirmations.get(vaultId) ?? null;
    };
    const base = (txid: string, vout: number): Omit<ViewDeposit, "state"> => ({
      key: `${txid}:${vout}`,
      txid,
      vout,
      sats: "0",
      recipient: null,
      vaultId: null,
      blockHeight: null,
      confirmations: null,
      required: null,
      sequence: null,
      minted: null,
      evmTxHash: null,
      evmBlock: null,
    });
    // Found in a block by the relayer's deposits role, not minted yet.
    if (this.src.redis !== undefined) {
      const store = new DepositStore(this.src.redis.client, this.src.redis.prefix);
      const { pending, parked } = await store.snapshot(ITEMS_SHOWN);
      for (const p of [...pending, ...parked]) {
        const key = `${p.txid}:${p.vout}`;
        if (this.events.minted.has(key)) continue;
        out.set(key, {
          ...base(p.txid, p.vout),
          state: "confirming",
          sats: p.value,
          recipient: p.recipient,
          vaultId: p.vaultId,
          blockHeight: p.height,
          confirmations: Math.max(0, tip - p.height + 1),
          required: await required(p.vaultId),
        });
      }
    }
    // Seen in the mempool: still there, or mined and not yet found by the relayer.
    for (const [key, s] of this.mempool.seen) {
      if (this.events.minted.has(key)) {
        this.mempool.forget(key);
        continue;
      }
      if (out.has(key)) continue;
      const d: ViewDeposit = {
        ...base(s.txid, s.vout),
        state: "mempool",
        sats: s.sats.toString(),
        recipient: s.recipient,
        vaultId: s.vaultId,
        confirmations: 0,
        required: await required(s.vaultId),
      };
      if (!inMempool.has(s.txid)) {
        const tx = await this.src.bitcoin.getRawTransaction(s.txid, true).catch(() => undefined);
        if (tx === undefined || tx.confirmations === undefined || tx.confirmations < 1) {
          this.mempool.forget(key); // dropped from the mempool and not in a block the node can name
          continue;
        }
        d.state = "confirming";
        d.confirmations = tx.confirmations;
        d.blockHeight = tip - tx.confirmations + 1;
      }
      out.set(key, d);
    }
    const unminted = [...out.values()].sort((a, b) => (b.blockHeight ?? Infinity) - (a.blockHeight ?? Infinity));
    const minted = [...this.events.minted.values()]
      .sort((a, b) => b.sequence - a.sequence)
      .slice(0, ITEMS_SHOWN)
      .map((m): ViewDeposit => ({
        ...base(m.txid, m.vout),
        state: "minted",
        sats: m.sats.toString(),
        recipient: m.recipient,
        sequence: m.sequence,
        minted: m.minted.toString(),
        evmTxHash: m.evmTxHash,
        evmBlock: m.evmBlock,
      }));
    return [...unminted, ...minted].slice(0, ITEMS_SHOWN);
  }

  private async readWithdrawals(): Promise<ViewWithdrawal[]> {
    const ws = [...this.events.withdrawals.values()].sort((a, b) => (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
    const payouts =
      this.src.redis === undefined ? undefined : new PayoutStore(this.src.redis.client, this.src.redis.prefix);
    const out: ViewWithdrawal[] = [];
    for (const w of ws.slice(0, ITEMS_SHOWN)) {
      const v: ViewWithdrawal = {
        id: w.id.toString(),
        vaultId: w.vaultId,
        requester: w.requester,
        sats: w.sats.toString(),
        fee: w.fee.toString(),
        deadline: w.deadline,
        state: w.closed?.state ?? "requested",
        payoutTxid: w.closed?.payoutTxid ?? null,
        payoutHeight: null,
        paid: w.closed?.paid?.toString() ?? null,
        requestTxHash: w.requestTxHash,
        closeTxHash: w.closed?.txHash ?? null,
      };
      if (payouts !== undefined && w.closed?.state !== "challenged") {
        const rec = await payouts.payout(w.id);
        if (rec !== undefined) {
          if (v.state === "requested") v.state = "paid";
          v.payoutTxid ??= rec.txid;
          v.payoutHeight = rec.height ?? null;
        }
      }
      out.push(v);
    }
    return out;
  }

  private async readKeystones(at: number): Promise<ViewKeystones> {
    const pop = this.src.deployment.pop;
    if (this.chain === undefined || pop === undefined)
      return { interval: 0, first: 0, last: 0, items: [], newestSuperfinal: null };
    const interval = await this.chain.interval();
    const first = await this.chain.firstKeystone();
    const last = await this.chain.lastKeystone(at);
    const numbers: number[] = [];
    let n = last;
    for (; n >= first && n > 0 && numbers.length < KEYSTONES_SHOWN; n -= interval) numbers.push(n);
    const items = (await Promise.all(numbers.map((k) => this.keystone(k, at)))).filter(
      (k): k is ViewKeystone => k !== undefined,
    );
    let newestSuperfinal = items.find((k) => k.superfinal) ?? null;
    // Older keystones become superfinal first: look further back, newest first, for the newest superfinal one.
    for (let i = 0; newestSuperfinal === null && n >= first && n > 0 && i < SUPERFINAL_SEARCH; n -= interval, i++) {
      const k = await this.keystone(n, at);
      if (k?.superfinal === true) newestSuperfinal = k;
    }
    return { interval, first, last, items, newestSuperfinal };
  }

  /** Keystone `n` with its publications and PopVerifier's finality at EVM block `at`; undefined when not recorded. */
  private async keystone(n: number, at: number): Promise<ViewKeystone | undefined> {
    const chain = this.chain;
    if (chain === undefined) return undefined;
    const rec = await chain.ledger.keystoneAt(n);
    if (/^0x0+$/.test(rec.id)) return undefined;
    const [pubs, fin] = await Promise.all([chain.verifier.publications(n), chain.onChainFinality(rec.id, at)]);
    const stage: KeystoneStage = fin.superfinal ? "superfinal" : fin.published ? "published" : "recorded";
    return {
      number: n,
      id: rec.id.toLowerCase(),
      btcHeight: rec.btcHeight,
      recordedAtBlock: rec.recordedAtBlock,
      publications: pubs.map((p) => ({
        txid: internalToDisplay(p.txid),
        btcHeight: p.btcHeight,
        btcBlockHash: internalToDisplay(p.btcBlockHash),
        miner: p.miner,
      })),
      effectiveConfirmations: fin.effectiveConfirmations,
      superfinal: fin.superfinal,
      fromKeystone: fin.fromKeystone,
      stage,
    };
  }
}
