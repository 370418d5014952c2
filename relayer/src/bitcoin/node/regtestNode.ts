/**
 * The embedded regtest node: chain state, mempool, wallet, miner and optional persistence wired
 * together. The JSON-RPC server (rpcServer.ts) is a thin layer over this class.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { Block, Transaction } from "bitcoinjs-lib";
import { BlockStore } from "./blockStore";
import { ChainState, type BlockEntry, type ChainUpdate } from "./chainState";
import { hash256, REGTEST_GENESIS_HASH, REGTEST_GENESIS_HEX, txidOf } from "./consensus";
import { DEFAULT_MAX_FEE_RATE_PER_KVB, Mempool, type MempoolEntry } from "./mempool";
import { mineBlock } from "./miner";
import { RpcCode, RpcMethodError } from "./rpcError";
import { outpointKey } from "./utxoSet";
import { Wallet } from "./wallet";

export interface RegtestNodeConfig {
  datadir?: string;
  log?: (msg: string) => void;
}

/** Decodes raw transaction hex as sendrawtransaction does; malformed input is RPC error -22. */
export function decodeRawTx(hex: string): Transaction {
  if (typeof hex !== "string" || !/^([0-9a-fA-F]{2})+$/.test(hex))
    throw new RpcMethodError(
      RpcCode.DESERIALIZATION_ERROR,
      "TX decode failed. Make sure the tx has at least one input.",
    );
  try {
    const tx = Transaction.fromHex(hex);
    if (tx.ins.length === 0) throw new Error("no inputs");
    return tx;
  } catch {
    throw new RpcMethodError(
      RpcCode.DESERIALIZATION_ERROR,
      "TX decode failed. Make sure the tx has at least one input.",
    );
  }
}

/** Display-order hash of a serialized block (hash of its 80-byte header). */
function blockHash(raw: Buffer): string {
  return hash256(raw.subarray(0, 80)).reverse().toString("hex");
}

/** invalidateblock returns to the mempool the transactions of at most this many disconnected blocks (Bitcoin Core). */
export const INVALIDATE_RESUBMIT_BLOCKS = 10;

export class RegtestNode {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  /** The default wallet "" (the node runs as bitcoind -wallet= would: the unnamed wallet is loaded at start). */
  readonly wallet: Wallet;
  /** Every wallet known to this node by name (loaded or not) and the names of the loaded ones. */
  private readonly wallets = new Map<string, Wallet>();
  private readonly loadedWallets = new Set<string>();
  private readonly datadir: string | undefined;
  readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly store: BlockStore | undefined;
  private readonly log: (msg: string) => void;

  constructor(config: RegtestNodeConfig = {}) {
    this.log = config.log ?? (() => undefined);
    const genesisRaw = Buffer.from(REGTEST_GENESIS_HEX, "hex");
    const genesis = Block.fromBuffer(genesisRaw);
    if (blockHash(genesisRaw) !== REGTEST_GENESIS_HASH)
      throw new Error("regtest genesis block does not hash to Bitcoin Core's genesis hash");
    this.chain = new ChainState(genesis, genesisRaw);
    this.mempool = new Mempool(this.chain);
    this.store = config.datadir !== undefined ? new BlockStore(config.datadir) : undefined;
    this.datadir = config.datadir;
    this.wallet = new Wallet(
      this.chain,
      this.mempool,
      config.datadir !== undefined ? path.join(config.datadir, "wallet.json") : undefined,
    );
    this.wallets.set("", this.wallet);
    this.loadedWallets.add("");
    if (this.store !== undefined) {
      this.replay(this.store);
      this.loadMempool(this.store);
    }
  }

  /**
   * Bitcoin Core's LoadMempool: every saved transaction goes through validation again against the replayed chain
   * (with its original entry time); those no longer valid (mined, conflicting, expired) are dropped.
   */
  private loadMempool(store: BlockStore): void {
    let saved;
    try {
      saved = store.readMempool();
    } catch (err) {
      this.log(
        `mempool file unreadable, starting with an empty mempool: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    let accepted = 0;
    let failed = 0;
    for (const s of saved) {
      try {
        const e = this.mempool.accept(Transaction.fromHex(s.hex), { noReplacement: true });
        e.time = s.time;
        accepted++;
      } catch {
        failed++;
      }
    }
    if (saved.length > 0) this.log(`imported mempool transactions from disk: ${accepted} succeeded, ${failed} failed`);
  }

  /** savemempool (also done on close): writes the mempool to the datadir atomically; returns the file name. */
  saveMempool(): string {
    if (this.store === undefined)
      throw new RpcMethodError(RpcCode.MISC_ERROR, "The mempool was not loaded from disk: this node has no datadir");
    return this.store.writeMempool(
      this.mempool.all().map((e) => ({ hex: Buffer.from(e.tx.toBuffer()).toString("hex"), time: e.time })),
    );
  }

  private replay(store: BlockStore): void {
    const raws = store.readBlocks();
    for (const raw of raws) {
      const copy = Buffer.from(raw);
      this.chain.addBlock(Block.fromBuffer(copy), copy);
    }
    this.chain.markInvalid(store.readInvalid());
    const invalidBefore = this.chain.invalidVersion;
    // Stored blocks are not trusted: their scripts are verified as they are connected.
    this.chain.activateBestChain();
    if (this.chain.invalidVersion !== invalidBefore) store.writeInvalid(this.chain.invalidHashes());
    this.log(
      `replayed ${raws.length} blocks from ${store.datadir}; tip ${this.chain.tip.hash} at height ${this.chain.height}`,
    );
  }

  /** Time of the next block: max(now, median time past + 1), as Bitcoin Core's miner. */
  private nextTime(prev: BlockEntry): number {
    return Math.max(Math.floor(Date.now() / 1000), prev.mtp + 1);
  }

  /**
   * Brings the mempool in line with a chain update. `resubmit` says whether the transactions of a disconnected block
   * (given with its place in `update.disconnected`, tip first) go back to the pool; by default all do.
   */
  private applyUpdate(update: ChainUpdate, resubmit: (e: BlockEntry, fromTip: number) => boolean = () => true): void {
    if (update.disconnected.length === 0) {
      for (const e of update.connected) this.mempool.removeForBlock(e.txs, e.txids);
      return;
    }
    const txs = update.disconnected
      .filter((e, i) => resubmit(e, i))
      .reverse()
      .flatMap((e) => e.txs.slice(1));
    const dropped = this.mempool.resubmitAfterReorg(txs);
    this.log(
      `reorg: disconnected ${update.disconnected.length}, connected ${update.connected.length}, ` +
        `new tip ${this.chain.tip.hash} at ${this.chain.height}; ${dropped.length} transactions dropped`,
    );
  }

  /** `scriptsChecked`: the block holds only transactions whose scripts the node verified (its own mempool's). */
  private submit(block: Block, raw: Buffer, hash: string, scriptsChecked: boolean): BlockEntry {
    const isNew = this.chain.getBlock(hash) === undefined;
    const invalidBefore = this.chain.invalidVersion;
    let entry: BlockEntry;
    try {
      const r = this.chain.submitBlock(block, raw, scriptsChecked);
      entry = r.entry;
      this.applyUpdate(r.update);
    } finally {
      if (isNew && this.store !== undefined) {
        if (this.chain.getBlock(hash) !== undefined) this.store.appendBlock(raw);
      }
      // Any block may have been marked invalid on the way (e.g. an ancestor on the branch this one made best).
      if (this.store !== undefined && this.chain.invalidVersion !== invalidBefore)
        this.store.writeInvalid(this.chain.invalidHashes());
    }
    return entry;
  }

  /** Mines one block on the tip paying `payoutScript`, with the given transactions (block order). */
  private mineOn(
    payoutScript: Buffer,
    txs: Transaction[],
    fees: bigint,
    scriptsChecked: boolean,
    maxTries?: number,
  ): BlockEntry {
    const prev = this.chain.tip;
    let time = this.nextTime(prev);
    for (;;) {
      const { block, raw } = mineBlock(
        { prevHashDisplay: prev.hash, height: prev.height + 1, time, payoutScript, txs, fees },
        maxTries,
      );
      // A block identical to one already known (e.g. invalidated) would not extend anything: move the time on.
      const hash = blockHash(raw);
      if (this.chain.getBlock(hash) !== undefined) {
        time++;
        continue;
      }
      return this.submit(block, raw, hash, scriptsChecked);
    }
  }

  /** Mempool transactions for the next block, parents first, within the block weight limit. */
  private selectMempool(): { txs: Transaction[]; fees: bigint } {
    const txs: Transaction[] = [];
    let fees = 0n;
    let weight = 4_000;
    for (const e of this.mempool.all()) {
      if (weight + e.weight > 4_000_000) break;
      txs.push(e.tx);
      fees += e.fee;
      weight += e.weight;
    }
    return { txs, fees };
  }

  /** generatetoaddress / generatetodescriptor: `n` blocks with the mempool's transactions. Returns hashes. */
  generate(n: number, payoutScript: Buffer, maxTries?: number): string[] {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const { txs, fees } = this.selectMempool();
      hashes.push(this.mineOn(payoutScript, txs, fees, true, maxTries).hash);
    }
    return hashes;
  }

  /** generateblock: one block with exactly these transactions (mempool txids or raw hex), in order. */
  generateBlock(payoutScript: Buffer, txSpecs: string[], submit = true): { hash: string; hex?: string } {
    const txs: Transaction[] = [];
    for (const spec of txSpecs) {
      const inPool = /^[0-9a-fA-F]{64}$/.test(spec) ? this.mempool.get(spec.toLowerCase()) : undefined;
      if (inPool !== undefined) txs.push(inPool.tx);
      else if (/^[0-9a-fA-F]{64}$/.test(spec))
        throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, `Transaction ${spec} not in mempool.`);
      else {
        try {
          txs.push(decodeRawTx(spec));
        } catch {
          throw new RpcMethodError(
            RpcCode.DESERIALIZATION_ERROR,
            `Transaction decode failed for ${spec}. Make sure the tx has at least one input.`,
          );
        }
      }
    }
    const fees = this.feesOf(txs);
    if (!submit) {
      const prev = this.chain.tip;
      const { raw } = mineBlock({
        prevHashDisplay: prev.hash,
        height: prev.height + 1,
        time: this.nextTime(prev),
        payoutScript,
        txs,
        fees,
      });
      return { hash: blockHash(raw), hex: raw.toString("hex") };
    }
    try {
      return { hash: this.mineOn(payoutScript, txs, fees, false).hash };
    } catch (err) {
      if (err instanceof RpcMethodError)
        throw new RpcMethodError(RpcCode.VERIFY_ERROR, `TestBlockValidity failed: ${err.message}`);
      throw err;
    }
  }

  /** Fees of transactions spending chain coins or earlier ones in the list (unknown inputs count as 0; connection then rejects). */
  private feesOf(txs: Transaction[]): bigint {
    const created = new Map<string, bigint>();
    let fees = 0n;
    for (const tx of txs) {
      const txid = txidOf(tx).reverse().toString("hex");
      let valueIn = 0n;
      let known = true;
      for (const input of tx.ins) {
        const key = outpointKey(Buffer.from(input.hash).reverse().toString("hex"), input.index);
        const v = this.chain.utxo.get(key)?.value ?? created.get(key);
        if (v === undefined) known = false;
        else valueIn += v;
      }
      const valueOut = tx.outs.reduce((s, o) => s + o.value, 0n);
      if (known && valueIn >= valueOut) fees += valueIn - valueOut;
      tx.outs.forEach((o, vout) => created.set(outpointKey(txid, vout), o.value));
    }
    return fees;
  }

  /** submitblock: a serialized block from outside. Returns null on success or Bitcoin Core's reason string. */
  submitRawBlock(hex: string): string | null {
    let block: Block;
    const raw = Buffer.from(hex, "hex");
    try {
      block = Block.fromBuffer(raw);
    } catch {
      throw new RpcMethodError(RpcCode.DESERIALIZATION_ERROR, "Block decode failed");
    }
    const hash = blockHash(raw);
    const known = this.chain.getBlock(hash);
    if (known !== undefined) return known.failed ? "duplicate-invalid" : "duplicate";
    try {
      this.submit(block, raw, hash, false);
      return null;
    } catch (err) {
      if (err instanceof RpcMethodError) return err.message;
      throw err;
    }
  }

  /** sendrawtransaction; `maxFeeRatePerKvB` 0 disables the fee-rate cap. */
  sendRawTransaction(hex: string, maxFeeRatePerKvB: bigint = DEFAULT_MAX_FEE_RATE_PER_KVB): string {
    const tx = decodeRawTx(hex);
    return this.mempool.accept(tx, { maxFeeRatePerKvB }).txid;
  }

  testMempoolAccept(hex: string, maxFeeRatePerKvB: bigint = DEFAULT_MAX_FEE_RATE_PER_KVB): MempoolEntry {
    return this.mempool.accept(decodeRawTx(hex), { maxFeeRatePerKvB, testOnly: true });
  }

  /**
   * invalidateblock. As Bitcoin Core's InvalidateBlock, only the transactions of the first 10 blocks it disconnects
   * (from the tip) go back to the mempool; those of deeper blocks are dropped, and with them any pool transaction
   * that spends their outputs.
   */
  invalidateBlock(hash: string): void {
    const height = this.chain.getBlock(hash)?.height ?? 0;
    const update = this.chain.invalidate(hash);
    this.applyUpdate(update, (e, fromTip) => fromTip < INVALIDATE_RESUBMIT_BLOCKS || e.height < height);
    this.store?.writeInvalid(this.chain.invalidHashes());
  }

  reconsiderBlock(hash: string): void {
    const update = this.chain.reconsider(hash);
    this.applyUpdate(update);
    this.store?.writeInvalid(this.chain.invalidHashes());
  }

  private walletFile(name: string): string | undefined {
    if (this.datadir === undefined) return undefined;
    return path.join(this.datadir, "wallets", `${encodeURIComponent(name)}.json`);
  }

  /** Names of the loaded wallets (listwallets). */
  listWallets(): string[] {
    return [...this.loadedWallets];
  }

  /** createwallet: a new empty wallet, loaded. */
  createWallet(name: string): void {
    const file = this.walletFile(name);
    if (this.wallets.has(name) || (file !== undefined && existsSync(file)))
      throw new RpcMethodError(
        RpcCode.WALLET_ALREADY_EXISTS,
        `Wallet file verification failed. Failed to create database path '${name}'. Database already exists.`,
      );
    if (file !== undefined) mkdirSync(path.dirname(file), { recursive: true });
    const w = new Wallet(this.chain, this.mempool, file);
    w.persist();
    this.wallets.set(name, w);
    this.loadedWallets.add(name);
  }

  /** loadwallet: a wallet created earlier (in this process, or in the datadir). */
  loadWallet(name: string): void {
    if (this.loadedWallets.has(name))
      throw new RpcMethodError(RpcCode.WALLET_ALREADY_LOADED, `Wallet "${name}" is already loaded.`);
    let w = this.wallets.get(name);
    const file = this.walletFile(name);
    if (w === undefined && file !== undefined && existsSync(file)) w = new Wallet(this.chain, this.mempool, file);
    if (w === undefined)
      throw new RpcMethodError(
        RpcCode.WALLET_NOT_FOUND,
        `Wallet file verification failed. Failed to load database path '${name}'. Path does not exist.`,
      );
    this.wallets.set(name, w);
    this.loadedWallets.add(name);
  }

  /** unloadwallet. */
  unloadWallet(name: string): void {
    if (!this.loadedWallets.delete(name))
      throw new RpcMethodError(RpcCode.WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded");
  }

  /**
   * The wallet a call addresses, as Bitcoin Core's GetWalletForJSONRPCRequest: the one named by a /wallet/<name>
   * URL, else the only loaded wallet.
   */
  walletFor(name: string | undefined): Wallet {
    if (name !== undefined) {
      const w = this.loadedWallets.has(name) ? this.wallets.get(name) : undefined;
      if (w === undefined)
        throw new RpcMethodError(RpcCode.WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded");
      return w;
    }
    if (this.loadedWallets.size === 1) return this.wallets.get([...this.loadedWallets][0]) as Wallet;
    if (this.loadedWallets.size === 0)
      throw new RpcMethodError(
        RpcCode.WALLET_NOT_FOUND,
        "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. (Note: A default wallet is no longer automatically created)",
      );
    throw new RpcMethodError(
      RpcCode.WALLET_NOT_SPECIFIED,
      "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
    );
  }

  close(): void {
    if (this.store !== undefined) this.saveMempool();
    this.store?.close();
  }
}
