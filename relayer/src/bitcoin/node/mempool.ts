/**
 * The memory pool: transactions accepted only when valid against the active chain plus the pool
 * (inputs exist and are unspent, no conflicts, amounts, coinbase maturity, finality, signatures) and
 * Bitcoin Core's relay policy (minimum relay fee, dust, max fee rate on sendrawtransaction).
 */
import { Transaction } from "bitcoinjs-lib";
import type { ChainState } from "./chainState";
import { formatMoney, txidOf, wtxidOf } from "./consensus";
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
/** Incremental relay fee rate in sat/kvB (Bitcoin Core's -incrementalrelayfee default): what a replacement pays for its own bandwidth. */
export const INCREMENTAL_RELAY_FEE_PER_KVB = 1000n;
/** Bitcoin Core's default package limits (-limitancestorcount, -limitancestorsize, -limitdescendant...; vbytes). */
export const CHAIN_LIMITS = { ancestorCount: 25, ancestorSize: 101_000, descendantCount: 25, descendantSize: 101_000 };
/** Bitcoin Core's EXTRA_DESCENDANT_TX_SIZE_LIMIT: the largest transaction the CPFP carve-out admits (vbytes). */
export const EXTRA_DESCENDANT_TX_SIZE_LIMIT = 10_000;
/** Most transactions one replacement may evict (BIP125 rule 5, Bitcoin Core's MAX_REPLACEMENT_CANDIDATES). */
export const MAX_REPLACEMENT_CANDIDATES = 100;

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
  /** Txids this transaction evicted from the pool when it entered (BIP125 replacement, with their descendants). */
  replaced?: string[];
}

export interface AcceptOptions {
  /** Max fee rate in sat/kvB; 0 disables the check (sendrawtransaction's maxfeerate). */
  maxFeeRatePerKvB?: bigint;
  /** Re-adding transactions of disconnected blocks: skip fee policy, as Bitcoin Core does. */
  bypassLimits?: boolean;
  /** Check only (testmempoolaccept): do not add. */
  testOnly?: boolean;
  /** Refuse any conflict instead of trying a replacement (re-adding transactions after a reorganisation). */
  noReplacement?: boolean;
}

/** Bitcoin Core's CFeeRate::ToString of a rate in sat/kvB: "0.00001000 BTC/kvB". */
export function feeRateString(perKvB: bigint): string {
  return `${perKvB / 100_000_000n}.${(perKvB % 100_000_000n).toString().padStart(8, "0")} BTC/kvB`;
}

/** Fee rate in sat/kvB as Bitcoin Core's CFeeRate(fee, vsize) (truncating). */
function rateOf(fee: bigint, vsize: number): bigint {
  return (fee * 1000n) / BigInt(vsize);
}

/** Rejects with Bitcoin Core's message: the reason, then ", " and the debug text when there is one (TxValidationState::ToString). */
function reject(reason: string, code: number = RpcCode.VERIFY_REJECTED, debug?: string): never {
  throw new TxRejectedError(code, debug === undefined ? reason : `${reason}, ${debug}`);
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
    return this.coinIgnoringSpends(key);
  }

  /** A chain UTXO or a pool transaction's output, whether or not a pool transaction spends it. */
  private coinIgnoringSpends(key: string): Coin | undefined {
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
    // Direct conflicts: pool transactions spending an outpoint this one spends. Full RBF (Bitcoin Core 28's
    // default mempoolfullrbf=1): they need not signal BIP125; the replacement rules below decide.
    const conflicts = new Set<string>();
    for (const key of spends) {
      const other = this.spentBy.get(key);
      if (other !== undefined) conflicts.add(other);
    }
    if (conflicts.size > 0 && opts.noReplacement) reject("txn-mempool-conflict");
    const evicted = this.withDescendants(conflicts);
    // Coins as the replacement sees them: outpoints spent only by the transactions it would evict are available.
    const view: CoinView = {
      getCoin: (key) => {
        const by = this.spentBy.get(key);
        if (by !== undefined && !evicted.has(by)) return undefined;
        return this.coinIgnoringSpends(key);
      },
    };
    if (spends.some((k) => view.getCoin(k) === undefined)) {
      if (tx.outs.some((o, vout) => !isUnspendable(o.script) && this.chain.utxo.has(outpointKey(txid, vout))))
        reject("Transaction outputs already in utxo set", RpcCode.VERIFY_ALREADY_IN_CHAIN);
      reject("bad-txns-inputs-missingorspent", RpcCode.VERIFY_ERROR);
    }
    const { fee } = checkInputs(tx, view, {
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
    if (!opts.bypassLimits) this.checkChainLimits(tx, vsize, conflicts);
    // A transaction whose in-pool ancestors include one it conflicts with can never be valid (Core: after the fee checks).
    for (const a of this.ancestorsOf(tx))
      if (conflicts.has(a))
        reject(
          "bad-txns-spends-conflicting-tx",
          RpcCode.VERIFY_REJECTED,
          `${txid} spends conflicting transaction ${a}`,
        );
    if (conflicts.size > 0) this.checkReplacement(tx, txid, fee, vsize, conflicts, evicted);
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
    if (evicted.size > 0) {
      for (const c of conflicts) this.removeWithDescendants(c);
      entry.replaced = [...evicted];
    }
    this.entries.set(txid, entry);
    for (const key of spends) this.spentBy.set(key, txid);
    return entry;
  }

  /** Count and total vsize of a pool transaction with all its in-pool descendants. */
  private descendantStats(txid: string): { count: number; vsize: number } {
    const all = this.withDescendants([txid]);
    let size = 0;
    for (const id of all) size += (this.entries.get(id) as MempoolEntry).vsize;
    return { count: all.size, vsize: size };
  }

  /**
   * Bitcoin Core 28's package limits (CalculateMemPoolAncestors): at most 25 in-pool ancestors and 101 kvB with
   * them, and no ancestor left with more than 25 descendants or 101 kvB of them. One conflict relaxes the descendant
   * limits by that conflict (a replacement); a small transaction with a single unconfirmed ancestor gets Core's
   * CPFP carve-out (one more descendant). Failures report Core's first error.
   */
  private checkChainLimits(tx: Transaction, vsize: number, conflicts: ReadonlySet<string>): void {
    const parents = new Set(tx.ins.map((i) => prevTxid(i)).filter((id) => this.entries.has(id)));
    if (parents.size === 0) return;
    const limits = { ...CHAIN_LIMITS };
    if (conflicts.size === 1) {
      limits.descendantCount += 1;
      limits.descendantSize += this.descendantStats([...conflicts][0]).vsize;
    }
    const error = this.chainLimitError(parents, vsize, limits);
    if (error === undefined) return;
    const carveOut = {
      ancestorCount: 2,
      ancestorSize: EXTRA_DESCENDANT_TX_SIZE_LIMIT,
      descendantCount: limits.descendantCount + 1,
      descendantSize: limits.descendantSize + EXTRA_DESCENDANT_TX_SIZE_LIMIT,
    };
    if (vsize > EXTRA_DESCENDANT_TX_SIZE_LIMIT || tx.version === 3 || this.chainLimitError(parents, vsize, carveOut))
      reject("too-long-mempool-chain", RpcCode.VERIFY_REJECTED, error);
  }

  private chainLimitError(parents: ReadonlySet<string>, vsize: number, l: typeof CHAIN_LIMITS): string | undefined {
    if (parents.size + 1 > l.ancestorCount) return `too many unconfirmed parents [limit: ${l.ancestorCount}]`;
    const staged = [...parents];
    const seen = new Set<string>(parents);
    let done = 0;
    let total = vsize;
    while (staged.length > 0) {
      const id = staged.shift() as string;
      done++;
      const e = this.entries.get(id) as MempoolEntry;
      total += e.vsize;
      const d = this.descendantStats(id);
      if (d.vsize + vsize > l.descendantSize)
        return `exceeds descendant size limit for tx ${id} [limit: ${l.descendantSize}]`;
      if (d.count + 1 > l.descendantCount) return `too many descendants for tx ${id} [limit: ${l.descendantCount}]`;
      if (total > l.ancestorSize) return `exceeds ancestor size limit [limit: ${l.ancestorSize}]`;
      for (const i of e.tx.ins) {
        const p = prevTxid(i);
        if (!this.entries.has(p)) continue;
        if (!seen.has(p)) {
          seen.add(p);
          staged.push(p);
        }
        if (staged.length + done + 1 > l.ancestorCount)
          return `too many unconfirmed ancestors [limit: ${l.ancestorCount}]`;
      }
    }
    return undefined;
  }

  /** The pool transactions `tx` depends on, directly or through other pool transactions. */
  private ancestorsOf(tx: Transaction): Set<string> {
    const out = new Set<string>();
    const stack = tx.ins.map((i) => prevTxid(i));
    while (stack.length > 0) {
      const id = stack.pop() as string;
      const e = this.entries.get(id);
      if (e === undefined || out.has(id)) continue;
      out.add(id);
      for (const i of e.tx.ins) stack.push(prevTxid(i));
    }
    return out;
  }

  /** The given pool transactions and all their in-pool descendants. */
  withDescendants(txids: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const stack = [...txids];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      const e = this.entries.get(id);
      if (e === undefined || out.has(id)) continue;
      out.add(id);
      e.tx.outs.forEach((_o, vout) => {
        const child = this.spentBy.get(outpointKey(id, vout));
        if (child !== undefined) stack.push(child);
      });
    }
    return out;
  }

  /**
   * BIP125 replacement as Bitcoin Core 28 checks it (ReplacementChecks, policy/rbf.cpp), in its order: a higher fee
   * rate than every directly conflicting transaction; at most 100 evicted (conflicts with their descendants); no new
   * unconfirmed inputs; at least the evicted transactions' total fee plus its own size at the incremental relay fee.
   */
  private checkReplacement(
    tx: Transaction,
    txid: string,
    fee: bigint,
    vsize: number,
    conflicts: ReadonlySet<string>,
    evicted: ReadonlySet<string>,
  ): void {
    const newRate = rateOf(fee, vsize);
    for (const c of conflicts) {
      const e = this.entries.get(c) as MempoolEntry;
      const oldRate = rateOf(e.fee, e.vsize);
      if (newRate <= oldRate)
        reject(
          "insufficient fee",
          RpcCode.VERIFY_REJECTED,
          `rejecting replacement ${txid}; new feerate ${feeRateString(newRate)} <= old feerate ${feeRateString(oldRate)}`,
        );
    }
    let candidates = 0;
    for (const c of conflicts) {
      candidates += this.withDescendants([c]).size;
      if (candidates > MAX_REPLACEMENT_CANDIDATES)
        reject(
          "too many potential replacements",
          RpcCode.VERIFY_REJECTED,
          `rejecting replacement ${txid}; too many potential replacements (${candidates} > ${MAX_REPLACEMENT_CANDIDATES})`,
        );
    }
    const parentsOfConflicts = new Set<string>();
    for (const c of conflicts)
      for (const i of (this.entries.get(c) as MempoolEntry).tx.ins) parentsOfConflicts.add(prevTxid(i));
    tx.ins.forEach((input, j) => {
      const parent = prevTxid(input);
      if (!parentsOfConflicts.has(parent) && this.entries.has(parent))
        reject(
          "replacement-adds-unconfirmed",
          RpcCode.VERIFY_REJECTED,
          `replacement ${txid} adds unconfirmed input, idx ${j}`,
        );
    });
    let originalFees = 0n;
    for (const id of evicted) originalFees += (this.entries.get(id) as MempoolEntry).fee;
    if (fee < originalFees)
      reject(
        "insufficient fee",
        RpcCode.VERIFY_REJECTED,
        `rejecting replacement ${txid}, less fees than conflicting txs; ${formatMoney(fee)} < ${formatMoney(originalFees)}`,
      );
    const relayFee = (BigInt(vsize) * INCREMENTAL_RELAY_FEE_PER_KVB + 999n) / 1000n;
    if (fee - originalFees < relayFee)
      reject(
        "insufficient fee",
        RpcCode.VERIFY_REJECTED,
        `rejecting replacement ${txid}, not enough additional fees to relay; ${formatMoney(fee - originalFees)} < ${formatMoney(relayFee)}`,
      );
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
        this.accept(tx, { bypassLimits: true, noReplacement: true });
      } catch {
        dropped.push(txidOf(tx).reverse().toString("hex"));
      }
    }
    for (const e of previous) {
      if (this.entries.has(e.txid)) continue;
      try {
        const added = this.accept(e.tx, { bypassLimits: true, noReplacement: true });
        added.time = e.time;
      } catch {
        dropped.push(e.txid);
      }
    }
    return dropped;
  }
}
