/**
 * The memory pool: transactions accepted only when valid against the active chain plus the pool
 * (inputs exist and are unspent, no conflicts, amounts, coinbase maturity, finality, signatures) and
 * Bitcoin Core's relay policy (minimum relay fee, dust, max fee rate on sendrawtransaction).
 */
import { Transaction } from "bitcoinjs-lib";
import type { ChainState } from "./chainState";
import { txidOf, wtxidOf } from "./consensus";
import { RpcCode, TxRejectedError } from "./rpcError";
import { classifyScript, isUnspendable } from "./script";
import { checkInputs, checkTransaction, prevTxid, type CoinView } from "./txValidation";
import { outpointKey, type Coin } from "./utxoSet";

/** Height given to coins created by mempool transactions. */
export const MEMPOOL_HEIGHT = 0x7fffffff;
/** Minimum relay fee rate in sat/kvB (Bitcoin Core's default 1 sat/vB). */
export const MIN_RELAY_FEE_PER_KVB = 1000n;
/** Dust relay fee rate in sat/kvB (Bitcoin Core's default). */
export const DUST_RELAY_FEE_PER_KVB = 3000n;
/** sendrawtransaction's default maxfeerate: 0.10 BTC/kvB, in sat/kvB. */
export const DEFAULT_MAX_FEE_RATE_PER_KVB = 10_000_000n;

export interface MempoolEntry {
  tx: Transaction;
  txid: string;
  wtxid: string;
  fee: bigint;
  vsize: number;
  weight: number;
  /** Unix seconds when it entered the pool. */
  time: number;
  /** Chain height when it entered the pool. */
  height: number;
  /** Outpoint keys it spends. */
  spends: string[];
}

export interface AcceptOptions {
  /** Max fee rate in sat/kvB; 0 disables the check (sendrawtransaction's maxfeerate). */
  maxFeeRatePerKvB?: bigint;
  /** Re-adding transactions of disconnected blocks: skip fee policy, as Bitcoin Core does. */
  bypassLimits?: boolean;
  /** Check only (testmempoolaccept): do not add. */
  testOnly?: boolean;
}

function reject(reason: string, code: number = RpcCode.VERIFY_REJECTED): never {
  throw new TxRejectedError(code, reason);
}

/** Bitcoin Core's GetDustThreshold at the default dust relay fee. */
export function dustThreshold(script: Uint8Array): bigint {
  if (isUnspendable(script)) return 0n;
  const outSize = 8 + (script.length < 0xfd ? 1 : 3) + script.length;
  const t = classifyScript(script);
  const isWitness = t.startsWith("witness_") || t === "anchor";
  const spendSize = isWitness ? 32 + 4 + 1 + Math.floor(107 / 4) + 4 : 32 + 4 + 1 + 107 + 4;
  return (BigInt(outSize + spendSize) * DUST_RELAY_FEE_PER_KVB) / 1000n;
}

export class Mempool implements CoinView {
  private readonly entries = new Map<string, MempoolEntry>();
  private readonly spentBy = new Map<string, string>();

  constructor(private readonly chain: ChainState) {}

  get size(): number {
    return this.entries.size;
  }

  get(txid: string): MempoolEntry | undefined {
    return this.entries.get(txid);
  }

  has(txid: string): boolean {
    return this.entries.has(txid);
  }

  /** Entries in an order where parents come before children (insertion order). */
  all(): MempoolEntry[] {
    return [...this.entries.values()];
  }

  /** The txid of the mempool transaction spending an outpoint, if any. */
  spender(key: string): string | undefined {
    return this.spentBy.get(key);
  }

  /** A coin as seen by a new transaction: chain UTXOs not spent in the pool, plus pool outputs. */
  getCoin(key: string): Coin | undefined {
    if (this.spentBy.has(key)) return undefined;
    const chainCoin = this.chain.utxo.get(key);
    if (chainCoin !== undefined) return chainCoin;
    const i = key.lastIndexOf(":");
    const parent = this.entries.get(key.slice(0, i));
    if (parent === undefined) return undefined;
    const out = parent.tx.outs[Number(key.slice(i + 1))];
    if (out === undefined || isUnspendable(out.script)) return undefined;
    return { value: out.value, script: Buffer.from(out.script), height: MEMPOOL_HEIGHT, coinbase: false };
  }

  /** Validates `tx` and adds it; returns the entry (the existing one if already in the pool). */
  accept(tx: Transaction, opts: AcceptOptions = {}): MempoolEntry {
    checkTransaction(tx);
    if (tx.isCoinbase()) reject("coinbase");
    if (tx.version < 1 || tx.version > 3) reject("version");
    const txid = txidOf(tx).reverse().toString("hex");
    const existing = this.entries.get(txid);
    if (existing !== undefined && !opts.testOnly) return existing;
    if (existing !== undefined) reject("txn-already-in-mempool", RpcCode.VERIFY_ALREADY_IN_CHAIN);
    const weight = tx.weight();
    if (weight > 400_000) reject("tx-size");
    for (const out of tx.outs)
      if (out.value < dustThreshold(out.script) && classifyScript(out.script) !== "nulldata") reject("dust");
    const spends = tx.ins.map((i) => outpointKey(prevTxid(i), i.index));
    for (const key of spends) {
      const other = this.spentBy.get(key);
      if (other !== undefined) reject("txn-mempool-conflict");
    }
    if (spends.some((k) => this.getCoin(k) === undefined)) {
      if (tx.outs.some((o, vout) => !isUnspendable(o.script) && this.chain.utxo.has(outpointKey(txid, vout))))
        reject("Transaction outputs already in utxo set", RpcCode.VERIFY_ALREADY_IN_CHAIN);
      reject("bad-txns-inputs-missingorspent", RpcCode.VERIFY_ERROR);
    }
    const { fee } = checkInputs(tx, this, {
      spendHeight: this.chain.height + 1,
      mtp: this.chain.tipMtp(),
      verifyScripts: true,
    });
    const vsize = Math.ceil(weight / 4);
    if (!opts.bypassLimits) {
      const minFee = (BigInt(vsize) * MIN_RELAY_FEE_PER_KVB) / 1000n;
      if (fee < minFee) reject(`min relay fee not met, ${fee} < ${minFee}`);
      const maxRate = opts.maxFeeRatePerKvB ?? 0n;
      if (maxRate > 0n && fee > (BigInt(vsize) * maxRate) / 1000n)
        reject("Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)", RpcCode.VERIFY_ERROR);
    }
    const entry: MempoolEntry = {
      tx,
      txid,
      wtxid: wtxidOf(tx).reverse().toString("hex"),
      fee,
      vsize,
      weight,
      time: Math.floor(Date.now() / 1000),
      height: this.chain.height,
      spends,
    };
    if (opts.testOnly) return entry;
    this.entries.set(txid, entry);
    for (const key of spends) this.spentBy.set(key, txid);
    return entry;
  }

  /** Removes a transaction and everything in the pool that spends its outputs. */
  removeWithDescendants(txid: string): MempoolEntry[] {
    const removed: MempoolEntry[] = [];
    const stack = [txid];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      const e = this.entries.get(id);
      if (e === undefined) continue;
      this.entries.delete(id);
      for (const key of e.spends) if (this.spentBy.get(key) === id) this.spentBy.delete(key);
      removed.push(e);
      e.tx.outs.forEach((_o, vout) => {
        const child = this.spentBy.get(outpointKey(id, vout));
        if (child !== undefined) stack.push(child);
      });
    }
    return removed;
  }

  /** After blocks were connected: drop their transactions and anything that now conflicts with them. */
  removeForBlock(txs: readonly Transaction[], txids: readonly string[]): void {
    txs.forEach((tx, i) => {
      if (i === 0) return;
      const e = this.entries.get(txids[i]);
      if (e !== undefined) {
        this.entries.delete(txids[i]);
        for (const key of e.spends) if (this.spentBy.get(key) === txids[i]) this.spentBy.delete(key);
      }
      for (const input of tx.ins) {
        const other = this.spentBy.get(outpointKey(prevTxid(input), input.index));
        if (other !== undefined && other !== txids[i]) this.removeWithDescendants(other);
      }
    });
  }

  /**
   * After a reorganisation: the transactions of disconnected blocks (oldest first) and the pool's own go
   * back through validation against the new chain; those no longer valid are dropped. Returns the dropped txids.
   */
  resubmitAfterReorg(disconnectedTxs: readonly Transaction[]): string[] {
    const previous = this.all();
    this.entries.clear();
    this.spentBy.clear();
    const dropped: string[] = [];
    for (const tx of disconnectedTxs) {
      try {
        this.accept(tx, { bypassLimits: true });
      } catch {
        dropped.push(txidOf(tx).reverse().toString("hex"));
      }
    }
    for (const e of previous) {
      if (this.entries.has(e.txid)) continue;
      try {
        const added = this.accept(e.tx, { bypassLimits: true });
        added.time = e.time;
      } catch {
        dropped.push(e.txid);
      }
    }
    return dropped;
  }
}
