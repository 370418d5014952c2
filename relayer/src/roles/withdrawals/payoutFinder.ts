/**
 * Looks for an existing payout of a withdrawal on the node (mempool, then recent blocks of the best chain): a
 * transaction with an output paying the requested script and the OP_RETURN `0x6a08 || id`. Used before building
 * a payout when there is no journal entry for it (e.g. another relayer with its own Redis already paid it), so a
 * withdrawal is never paid twice. Blocks and mempool transactions are scanned once per process (cached).
 */
import type { BitcoinRpcClient, BlockInfoWithTxs, DecodedTransaction } from "../../bitcoin/rpcClient";
import { payoutOpReturnHex } from "./payoutBuilder";

interface Found {
  txid: string;
  hex: string;
  /** OP_RETURN hex -> scripts paid (besides the OP_RETURN). */
  scripts: string[];
  opReturn: string;
}

function payoutInfo(t: DecodedTransaction & { hex: string }): Found | undefined {
  const op = t.vout.find((o) => o.scriptPubKey.hex.startsWith("6a08") && o.scriptPubKey.hex.length === 20);
  if (op === undefined) return undefined;
  return {
    txid: t.txid,
    hex: t.hex,
    opReturn: op.scriptPubKey.hex,
    scripts: t.vout.filter((o) => o !== op).map((o) => o.scriptPubKey.hex.toLowerCase()),
  };
}

export class PayoutFinder {
  /** Block hash -> payout-shaped transactions in it. */
  private readonly blocks = new Map<string, Found[]>();
  /** Mempool txid -> payout-shaped transaction, or null when it is not one. */
  private readonly mempool = new Map<string, Found | null>();

  constructor(
    private readonly node: BitcoinRpcClient,
    private readonly depth: number,
  ) {}

  /**
   * The payout of withdrawal `id` to `btcScript`, if the node has one (mempool or the last `depth` blocks; then
   * with its block hash, so that a node without a transaction index can still serve it by block).
   */
  async find(id: bigint, btcScript: string): Promise<{ txid: string; hex: string; blockhash?: string } | undefined> {
    const op = payoutOpReturnHex(id);
    const script = btcScript.toLowerCase();
    const match = (f: Found | null | undefined): boolean =>
      f !== null && f !== undefined && f.opReturn === op && f.scripts.includes(script);

    const pool = await this.node.getRawMempool();
    const live = new Set(pool);
    for (const txid of [...this.mempool.keys()]) if (!live.has(txid)) this.mempool.delete(txid);
    for (const txid of pool) {
      if (!this.mempool.has(txid)) {
        try {
          const t = await this.node.getRawTransaction(txid, true);
          this.mempool.set(txid, payoutInfo(t) ?? null);
        } catch {
          continue; // left the mempool meanwhile
        }
      }
      const f = this.mempool.get(txid);
      if (match(f)) return { txid: (f as Found).txid, hex: (f as Found).hex };
    }

    const tip = await this.node.getBlockCount();
    for (let h = tip; h > Math.max(0, tip - this.depth); h--) {
      const hash = await this.node.getBlockHash(h);
      let found = this.blocks.get(hash);
      if (found === undefined) {
        const block = (await this.node.getBlock(hash, 2)) as BlockInfoWithTxs;
        found = block.tx.map(payoutInfo).filter((f): f is Found => f !== undefined);
        if (this.blocks.size >= 10_000) this.blocks.clear();
        this.blocks.set(hash, found);
      }
      const hit = found.find(match);
      if (hit !== undefined) return { txid: hit.txid, hex: hit.hex, blockhash: hash };
      // Every one of the last `depth` blocks is searched: no early stop by time. The request's time is the EVM's
      // clock, which need not agree with Bitcoin's (Hardhat's evm_increaseTime, a devnet left running); stopping at
      // a block "older than the request" once missed a payout below the tip and paid the withdrawal again.
    }
    return undefined;
  }

  /**
   * A transaction other than `exclude` that spends one of `outpoints` ("<txid>:<vout>", display order), looked for
   * in the mempool and the last `depth` blocks; undefined when none is seen there. Shows that a payout spending
   * those outpoints can never confirm. Not cached: only called when a journalled payout is nowhere on the node.
   */
  async findSpender(
    outpoints: readonly string[],
    exclude: string,
  ): Promise<{ txid: string; outpoint: string; blockhash?: string } | undefined> {
    const wanted = new Set(outpoints);
    const hit = (t: DecodedTransaction): string | undefined => {
      if (t.txid === exclude) return undefined;
      for (const i of t.vin) {
        if (i.txid === undefined || i.vout === undefined) continue;
        const o = `${i.txid}:${i.vout}`;
        if (wanted.has(o)) return o;
      }
      return undefined;
    };
    for (const txid of await this.node.getRawMempool()) {
      let t: DecodedTransaction;
      try {
        t = await this.node.getRawTransaction(txid, true);
      } catch {
        continue; // left the mempool meanwhile
      }
      const o = hit(t);
      if (o !== undefined) return { txid: t.txid, outpoint: o };
    }
    const tip = await this.node.getBlockCount();
    for (let h = tip; h > Math.max(0, tip - this.depth); h--) {
      const hash = await this.node.getBlockHash(h);
      const block = (await this.node.getBlock(hash, 2)) as BlockInfoWithTxs;
      for (const t of block.tx) {
        const o = hit(t);
        if (o !== undefined) return { txid: t.txid, outpoint: o, blockhash: hash };
      }
    }
    return undefined;
  }
}
