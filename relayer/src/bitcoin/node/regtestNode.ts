/**
 * The embedded regtest node: chain state, mempool, wallet, miner and optional persistence wired
 * together. The JSON-RPC server (rpcServer.ts) is a thin layer over this class.
 */
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
  /** false: getrawtransaction finds confirmed transactions only with their block hash, as bitcoind without -txindex. */
  txindex?: boolean;
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

export class RegtestNode {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  readonly wallet: Wallet;
  readonly startedAt = Math.floor(Date.now() / 1000);
  /** Whether getrawtransaction finds confirmed transactions without a block hash (bitcoind's -txindex); tests switch it. */
  txindex: boolean;
  private readonly store: BlockStore | undefined;
  private readonly log: (msg: string) => void;

  constructor(config: RegtestNodeConfig = {}) {
    this.log = config.log ?? (() => undefined);
    this.txindex = config.txindex ?? true;
    const genesisRaw = Buffer.from(REGTEST_GENESIS_HEX, "hex");
    const genesis = Block.fromBuffer(genesisRaw);
    if (blockHash(genesisRaw) !== REGTEST_GENESIS_HASH)
      throw new Error("regtest genesis block does not hash to Bitcoin Core's genesis hash");
    this.chain = new ChainState(genesis, genesisRaw);
    this.mempool = new Mempool(this.chain);
    this.store = config.datadir !== undefined ? new BlockStore(config.datadir) : undefined;
    this.wallet = new Wallet(
      this.chain,
      this.mempool,
      config.datadir !== undefined ? path.join(config.datadir, "wallet.json") : undefined,
    );
    if (this.store !== undefined) this.replay(this.store);
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

  private applyUpdate(update: ChainUpdate): void {
    if (update.disconnected.length === 0) {
      for (const e of update.connected) this.mempool.removeForBlock(e.txs, e.txids);
      return;
    }
    const txs = update.disconnected
      .slice()
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

  invalidateBlock(hash: string): void {
    const update = this.chain.invalidate(hash);
    this.applyUpdate(update);
    this.store?.writeInvalid(this.chain.invalidHashes());
  }

  reconsiderBlock(hash: string): void {
    const update = this.chain.reconsider(hash);
    this.applyUpdate(update);
    this.store?.writeInvalid(this.chain.invalidHashes());
  }

  close(): void {
    this.store?.close();
  }
}
