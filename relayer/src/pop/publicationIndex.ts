/**
 * Publications of keystones on Bitcoin, found by scanning the node's best chain (like popm's TBC keystone index):
 * every non-coinbase transaction with an 83-byte `6a 4c 50 "HEMI" <76 bytes>` output. Walking by height over the
 * best chain, it keeps every publication of each abbreviation with its block, height and the publisher (hash160 of
 * the public key in the first input's scriptSig, when the input is `<sig> <33-byte key>`). Blocks are cached by
 * hash, so a re-scan only fetches new blocks; a reorg simply makes other hashes appear at those heights.
 */
import { crypto as btcCrypto } from "bitcoinjs-lib";
import type { BitcoinRpcClient, BlockInfoWithTxs, DecodedTransaction } from "../bitcoin/rpcClient";
import { keystoneOfScript, p2pkhScriptSigKey } from "./popTx";

/** One publication seen on the node. */
export interface SeenPublication {
  /** The 76-byte abbreviated keystone, lowercase hex without 0x. */
  abbrev: string;
  /** Display order. */
  txid: string;
  /** Display order; undefined for a mempool transaction. */
  blockhash?: string;
  height?: number;
  /** hash160 of the first input's public key (hex), when the scriptSig is `<sig> <compressed key>`. */
  publisher?: string;
}

/** hash160 of the public key of a `<sig> <33-byte key>` scriptSig (hex), else undefined. */
export function publisherOf(scriptSigHex: string | undefined): string | undefined {
  const key = scriptSigHex === undefined ? undefined : p2pkhScriptSigKey(Buffer.from(scriptSigHex, "hex"));
  return key === undefined ? undefined : Buffer.from(btcCrypto.hash160(key)).toString("hex");
}

/** The publications in one decoded transaction (one per HEMI output; PopVerifier accepts only one). */
export function publicationsInTx(t: DecodedTransaction, blockhash?: string, height?: number): SeenPublication[] {
  if (t.vin.length === 0 || t.vin[0].coinbase !== undefined) return [];
  const out: SeenPublication[] = [];
  for (const o of t.vout) {
    const k = keystoneOfScript(Buffer.from(o.scriptPubKey.hex, "hex"));
    if (k === undefined) continue;
    out.push({
      abbrev: k.toString("hex"),
      txid: t.txid,
      blockhash,
      height,
      publisher: publisherOf(t.vin[0].scriptSig?.hex),
    });
  }
  return out;
}

export type PublicationSource = Pick<BitcoinRpcClient, "getBlockCount" | "getBlock" | "batch">;

/** Scans the node's best chain for publications, caching each block's publications by block hash. */
export class PublicationIndex {
  private readonly blocks = new Map<string, SeenPublication[]>();

  constructor(private readonly node: PublicationSource) {}

  /** Publications in the best chain's blocks from `fromHeight` to the tip, lowest height first. */
  async scan(fromHeight: number): Promise<{ tip: number; publications: SeenPublication[] }> {
    const tip = await this.node.getBlockCount();
    const heights: number[] = [];
    for (let h = Math.max(1, fromHeight); h <= tip; h++) heights.push(h);
    const hashes: string[] = [];
    for (let i = 0; i < heights.length; i += 500) {
      const chunk = heights.slice(i, i + 500);
      hashes.push(...(await this.node.batch<string>(chunk.map((h) => ({ method: "getblockhash", params: [h] })))));
    }
    const publications: SeenPublication[] = [];
    for (const hash of hashes) {
      let found = this.blocks.get(hash);
      if (found === undefined) {
        const block = (await this.node.getBlock(hash, 2)) as BlockInfoWithTxs;
        found = block.tx.flatMap((t) => publicationsInTx(t, hash, block.height));
        if (this.blocks.size >= 20_000) this.blocks.clear();
        this.blocks.set(hash, found);
      }
      publications.push(...found);
    }
    return { tip, publications };
  }
}
