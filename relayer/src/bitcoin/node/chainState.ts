/**
 * The block tree, the active chain and its UTXO set. Blocks are checked on arrival (proof of work,
 * nBits, time, merkle root, witness commitment, coinbase rules), connected with undo data, and the
 * active chain is always the valid branch with the most chain work; invalidateBlock / reconsiderBlock
 * move it on request, as in Bitcoin Core.
 */
import { Block, Transaction } from "bitcoinjs-lib";
import {
  blockSubsidy,
  blockWork,
  checkProofOfWork,
  findWitnessCommitment,
  hash256,
  heightPush,
  MAX_BLOCK_WEIGHT,
  medianTime,
  merkleRoot,
  REGTEST_BITS,
  txidOf,
  witnessCommitment,
} from "./consensus";
import { RpcCode, RpcMethodError, TxRejectedError } from "./rpcError";
import { isUnspendable } from "./script";
import { checkInputs, checkTransaction, prevTxid } from "./txValidation";
import { outpointKey, UtxoSet, type Coin } from "./utxoSet";

/** A block known to the node, connected or not. */
export interface BlockEntry {
  /** Display-order hash. */
  hash: string;
  header: Buffer;
  /** Full serialization (with witness data). */
  raw: Buffer;
  height: number;
  prev: BlockEntry | undefined;
  children: BlockEntry[];
  version: number;
  time: number;
  bits: number;
  nonce: number;
  /** Display-order merkle root. */
  merkleRoot: string;
  chainWork: bigint;
  /** Median time past of this block (it and up to 10 ancestors). */
  mtp: number;
  txs: Transaction[];
  /** Display-order txids, in block order. */
  txids: string[];
  size: number;
  strippedSize: number;
  weight: number;
  /** Arrival order; ties in chain work go to the block that arrived first. */
  sequence: number;
  /** Marked invalid by invalidateblock or by a failed connection. */
  invalid: boolean;
  /** Invalid itself or descends from an invalid block. */
  failed: boolean;
  /**
   * Every input script of the block has been verified: when it was connected, or before (a block the node
   * mined from its mempool, whose transactions were verified on entry). Connecting a block without it
   * verifies the scripts, whatever path connects it (submitblock, a reorg, invalidate/reconsider, replay).
   */
  scriptsChecked: boolean;
  /** Fee of each transaction (0 for the coinbase), known once the block has been connected. */
  fees?: bigint[];
  /** Coins the block spent, in spend order, while it is connected. */
  undo?: { key: string; coin: Coin }[];
}

/** What a change of the active chain did, for the mempool and listeners. */
export interface ChainUpdate {
  disconnected: BlockEntry[];
  connected: BlockEntry[];
}

function rejectBlock(reason: string): never {
  throw new RpcMethodError(RpcCode.VERIFY_ERROR, reason);
}

export class ChainState {
  readonly utxo = new UtxoSet();
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly active: BlockEntry[] = [];
  private readonly txIndex = new Map<string, { entry: BlockEntry; index: number }>();
  private nextSequence = 0;
  private invalidEpoch = 0;

  constructor(genesis: Block, genesisRaw: Buffer) {
    const entry = this.makeEntry(genesis, genesisRaw, undefined);
    entry.fees = [0n];
    entry.undo = [];
    this.blocks.set(entry.hash, entry);
    this.active.push(entry);
    // The genesis coinbase is not in the UTXO set (Bitcoin Core never adds it), but it is indexed.
    this.txIndex.set(entry.txids[0], { entry, index: 0 });
  }

  get tip(): BlockEntry {
    return this.active[this.active.length - 1];
  }

  get height(): number {
    return this.active.length - 1;
  }

  get genesis(): BlockEntry {
    return this.active[0];
  }

  getBlock(hash: string): BlockEntry | undefined {
    return this.blocks.get(hash.toLowerCase());
  }

  atHeight(height: number): BlockEntry | undefined {
    return this.active[height];
  }

  isActive(entry: BlockEntry): boolean {
    return this.active[entry.height] === entry;
  }

  allBlocks(): IterableIterator<BlockEntry> {
    return this.blocks.values();
  }

  /** Where a transaction of the active chain was mined. */
  findTx(txid: string): { entry: BlockEntry; index: number } | undefined {
    return this.txIndex.get(txid);
  }

  /** Median time past of the active tip, the lower bound for the next block's time. */
  tipMtp(): number {
    return this.tip.mtp;
  }

  /** `hash`: the display-order block hash, when the caller has computed it already. */
  private makeEntry(block: Block, raw: Buffer, prev: BlockEntry | undefined, hash?: string): BlockEntry {
    const header = raw.subarray(0, 80);
    const txs = block.transactions ?? [];
    const times: number[] = [block.timestamp];
    for (let p = prev, i = 0; p !== undefined && i < 10; p = p.prev, i++) times.push(p.time);
    const strippedSize = block.byteLength(false, false);
    return {
      hash: hash ?? hash256(header).reverse().toString("hex"),
      header: Buffer.from(header),
      raw,
      height: prev === undefined ? 0 : prev.height + 1,
      prev,
      children: [],
      version: block.version,
      time: block.timestamp,
      bits: block.bits,
      nonce: block.nonce,
      merkleRoot: Buffer.from(block.merkleRoot ?? Buffer.alloc(32))
        .reverse()
        .toString("hex"),
      chainWork: (prev?.chainWork ?? 0n) + blockWork(block.bits),
      mtp: medianTime(times),
      txs,
      txids: txs.map((tx) => txidOf(tx).reverse().toString("hex")),
      size: raw.length,
      strippedSize,
      weight: strippedSize * 3 + raw.length,
      sequence: this.nextSequence++,
      invalid: false,
      failed: prev?.failed ?? false,
      scriptsChecked: prev === undefined,
    };
  }

  /**
   * Checks a block against its parent (not against the UTXO set: that happens when it is connected) and
   * stores it. Returns the existing entry for a block already known.
   */
  addBlock(block: Block, raw: Buffer): BlockEntry {
    const header = raw.subarray(0, 80);
    const headerHash = hash256(header);
    const hash = Buffer.from(headerHash).reverse().toString("hex");
    const known = this.blocks.get(hash);
    if (known !== undefined) return known;
    const prevHash = Buffer.from(block.prevHash ?? Buffer.alloc(32))
      .reverse()
      .toString("hex");
    const prev = this.blocks.get(prevHash);
    if (prev === undefined) rejectBlock("prev-blk-not-found");
    if (block.bits !== REGTEST_BITS) rejectBlock("bad-diffbits");
    if (!checkProofOfWork(headerHash, block.bits)) rejectBlock("high-hash");
    if (block.timestamp <= prev.mtp) rejectBlock("time-too-old");
    if (block.version < 4) rejectBlock(`bad-version(0x${(block.version >>> 0).toString(16).padStart(8, "0")})`);
    const txs = block.transactions ?? [];
    if (txs.length === 0 || !txs[0].isCoinbase()) rejectBlock("bad-cb-missing");
    if (txs.slice(1).some((tx) => tx.isCoinbase())) rejectBlock("bad-cb-multiple");
    const txids = txs.map((tx) => txidOf(tx));
    if (!merkleRoot(txids).equals(Buffer.from(block.merkleRoot ?? []))) rejectBlock("bad-txnmrklroot");
    if (new Set(txids.map((t) => t.toString("hex"))).size !== txids.length) rejectBlock("bad-txns-duplicate");
    for (const tx of txs) {
      try {
        checkTransaction(tx);
      } catch (err) {
        if (err instanceof TxRejectedError) rejectBlock(err.reason);
        throw err;
      }
    }
    const height = prev.height + 1;
    const expectedPush = heightPush(height);
    if (!Buffer.from(txs[0].ins[0].script.subarray(0, expectedPush.length)).equals(expectedPush))
      rejectBlock("bad-cb-height");
    const commitIdx = findWitnessCommitment(txs[0]);
    if (commitIdx >= 0) {
      const w = txs[0].ins[0].witness;
      if (w.length !== 1 || w[0].length !== 32) rejectBlock("bad-witness-nonce-size");
      const expected = witnessCommitment(txs, Buffer.from(w[0]));
      if (!Buffer.from(txs[0].outs[commitIdx].script.subarray(6, 38)).equals(expected))
        rejectBlock("bad-witness-merkle-match");
    } else if (txs.some((tx) => tx.hasWitnesses())) rejectBlock("unexpected-witness");
    const entry = this.makeEntry(block, raw, prev, hash);
    if (entry.weight > MAX_BLOCK_WEIGHT) rejectBlock("bad-blk-weight");
    this.blocks.set(entry.hash, entry);
    prev.children.push(entry);
    return entry;
  }

  /**
   * Applies a block to the UTXO set on top of the tip, verifying its scripts unless that was done before;
   * on failure nothing changes and it throws.
   */
  private connect(entry: BlockEntry): void {
    const verifyScripts = !entry.scriptsChecked;
    if (entry.prev !== this.tip) throw new Error(`block ${entry.hash} does not extend the tip`);
    const undo: { key: string; coin: Coin }[] = [];
    const added: string[] = [];
    const fees: bigint[] = [0n];
    const rollback = (): void => this.undoChanges(undo, added);
    try {
      let totalFees = 0n;
      entry.txs.forEach((tx, i) => {
        const txid = entry.txids[i];
        if (i > 0) {
          const { fee } = checkInputs(tx, this.utxo, {
            spendHeight: entry.height,
            mtp: entry.prev?.mtp ?? 0,
            verifyScripts,
          });
          fees.push(fee);
          totalFees += fee;
          for (const input of tx.ins) {
            const key = outpointKey(prevTxid(input), input.index);
            undo.push({ key, coin: this.utxo.spend(key) });
          }
        }
        tx.outs.forEach((out, vout) => {
          if (isUnspendable(out.script)) return;
          const key = outpointKey(txid, vout);
          if (this.utxo.has(key)) throw new TxRejectedError(RpcCode.VERIFY_ERROR, "bad-txns-BIP30");
          this.utxo.add(key, {
            value: out.value,
            script: Buffer.from(out.script),
            height: entry.height,
            coinbase: i === 0,
          });
          added.push(key);
        });
      });
      const cbOut = entry.txs[0].outs.reduce((s, o) => s + o.value, 0n);
      const limit = blockSubsidy(entry.height) + totalFees;
      if (cbOut > limit) throw new TxRejectedError(RpcCode.VERIFY_ERROR, `bad-cb-amount`);
    } catch (err) {
      rollback();
      throw err;
    }
    entry.scriptsChecked = true;
    entry.undo = undo;
    entry.fees = fees;
    this.active.push(entry);
    entry.txids.forEach((txid, index) => this.txIndex.set(txid, { entry, index }));
  }

  /**
   * Reverts a block's effect on the UTXO set: first the coins it spent come back (last spent first),
   * then the outputs it created go (last created first). In this order an output created and spent
   * inside the same block is restored by its undo record and then removed again, so it cannot survive.
   */
  private undoChanges(spent: readonly { key: string; coin: Coin }[], created: readonly string[]): void {
    for (let i = spent.length - 1; i >= 0; i--) this.utxo.add(spent[i].key, spent[i].coin);
    for (let i = created.length - 1; i >= 0; i--) if (this.utxo.has(created[i])) this.utxo.spend(created[i]);
  }

  /** Removes the tip block from the active chain, restoring the coins it spent. */
  private disconnectTip(): BlockEntry {
    const entry = this.tip;
    if (entry.prev === undefined) throw new Error("cannot disconnect the genesis block");
    const created: string[] = [];
    entry.txs.forEach((tx, i) => {
      const txid = entry.txids[i];
      tx.outs.forEach((out, vout) => {
        if (!isUnspendable(out.script)) created.push(outpointKey(txid, vout));
      });
      const found = this.txIndex.get(txid);
      if (found !== undefined && found.entry === entry) this.txIndex.delete(txid);
    });
    this.undoChanges(entry.undo ?? [], created);
    entry.undo = undefined;
    this.active.pop();
    return entry;
  }

  private recomputeFailed(): void {
    const ordered = [...this.blocks.values()].sort((a, b) => a.height - b.height);
    for (const e of ordered) e.failed = e.invalid || (e.prev?.failed ?? false);
  }

  private bestCandidate(): BlockEntry {
    let best = this.genesis;
    for (const e of this.blocks.values()) {
      if (e.failed) continue;
      if (e.chainWork > best.chainWork || (e.chainWork === best.chainWork && e.sequence < best.sequence)) best = e;
    }
    return best;
  }

  /**
   * Makes the valid block with the most chain work the tip (disconnecting back to the fork point and
   * connecting the new branch). A block that fails to connect is marked invalid and the next best is tried.
   */
  activateBestChain(): ChainUpdate {
    const update: ChainUpdate = { disconnected: [], connected: [] };
    for (;;) {
      const best = this.bestCandidate();
      if (best === this.tip) return update;
      // Fast path and general path share this: find the fork point, walk down, walk up.
      const path: BlockEntry[] = [];
      let fork: BlockEntry | undefined = best;
      while (fork !== undefined && !this.isActive(fork)) {
        path.push(fork);
        fork = fork.prev;
      }
      if (fork === undefined) throw new Error("block tree without common ancestor");
      while (this.tip !== fork) update.disconnected.push(this.disconnectTip());
      let failedAt: BlockEntry | undefined;
      for (const e of path.reverse()) {
        try {
          this.connect(e);
          update.connected.push(e);
        } catch {
          failedAt = e;
          break;
        }
      }
      if (failedAt === undefined) return update;
      failedAt.invalid = true;
      this.invalidEpoch++;
      this.recomputeFailed();
    }
  }

  /**
   * Stores a new block and, if it makes a heavier valid chain, moves the tip to it. Connection failures
   * of the block itself are reported to the caller (and the block marked invalid). `scriptsChecked` is
   * for a block the node built from transactions whose scripts it has verified already.
   */
  submitBlock(block: Block, raw: Buffer, scriptsChecked: boolean): { entry: BlockEntry; update: ChainUpdate } {
    const entry = this.addBlock(block, raw);
    if (scriptsChecked) entry.scriptsChecked = true;
    if (entry.failed) rejectBlock("bad-prevblk");
    if (entry.prev === this.tip) {
      try {
        this.connect(entry);
      } catch (err) {
        entry.invalid = true;
        entry.failed = true;
        this.invalidEpoch++;
        if (err instanceof TxRejectedError) rejectBlock(err.reason);
        throw err;
      }
      return { entry, update: { disconnected: [], connected: [entry] } };
    }
    const update = this.activateBestChain();
    if (entry.failed) rejectBlock("bad-blk-connect");
    return { entry, update };
  }

  /** Bitcoin Core's invalidateblock: the block and its descendants become invalid; the tip moves off them. */
  invalidate(hash: string): ChainUpdate {
    const entry = this.getBlock(hash);
    if (entry === undefined) throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Block not found");
    if (entry.prev === undefined)
      throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Cannot invalidate genesis block");
    entry.invalid = true;
    this.invalidEpoch++;
    this.recomputeFailed();
    return this.activateBestChain();
  }

  /** Bitcoin Core's reconsiderblock: clears invalidity of the block, its ancestors and descendants, then picks the best chain. */
  reconsider(hash: string): ChainUpdate {
    const entry = this.getBlock(hash);
    if (entry === undefined) throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Block not found");
    for (let p: BlockEntry | undefined = entry; p !== undefined; p = p.prev) p.invalid = false;
    const stack = [entry];
    while (stack.length > 0) {
      const e = stack.pop() as BlockEntry;
      e.invalid = false;
      stack.push(...e.children);
    }
    this.invalidEpoch++;
    this.recomputeFailed();
    return this.activateBestChain();
  }

  /** Marks blocks invalid without moving the chain (used when replaying persisted state). */
  markInvalid(hashes: readonly string[]): void {
    for (const h of hashes) {
      const e = this.getBlock(h);
      if (e !== undefined) e.invalid = true;
    }
    this.invalidEpoch++;
    this.recomputeFailed();
  }

  /**
   * A counter that moves whenever a block's invalid mark may have changed (a failed connection,
   * invalidateblock, reconsiderblock), so callers know when to persist invalidHashes() again.
   */
  get invalidVersion(): number {
    return this.invalidEpoch;
  }

  /** Hashes currently marked invalid, by request or by a failed connection (for persistence). */
  invalidHashes(): string[] {
    return [...this.blocks.values()].filter((e) => e.invalid).map((e) => e.hash);
  }

  /** Confirmations of a block: 0-based depth + 1 on the active chain, -1 off it (as getblockheader reports). */
  confirmations(entry: BlockEntry): number {
    return this.isActive(entry) ? this.height - entry.height + 1 : -1;
  }

  /** Chain tips (blocks without children) as getchaintips reports them. */
  tips(): { height: number; hash: string; branchlen: number; status: string }[] {
    const out: { height: number; hash: string; branchlen: number; status: string }[] = [];
    for (const e of this.blocks.values()) {
      if (e.children.length > 0 && e !== this.tip) continue;
      let fork: BlockEntry | undefined = e;
      while (fork !== undefined && !this.isActive(fork)) fork = fork.prev;
      const status = this.isActive(e) ? "active" : e.failed ? "invalid" : "valid-fork";
      out.push({ height: e.height, hash: e.hash, branchlen: e.height - (fork?.height ?? 0), status });
    }
    return out.sort((a, b) => b.height - a.height);
  }
}
