/**
 * A Bitcoin block as BitcoinTxIndex.indexBlock takes it: the raw 80-byte header, the height, and every transaction
 * in its full serialization (witness included), read from a bitcoind-compatible node.
 */
import { Block } from "bitcoinjs-lib";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";

export interface BlockForIndex {
  /** Display order, as the node shows it. */
  hash: string;
  height: number;
  /** 0x-hex, 80 bytes. */
  header: string;
  /** 0x-hex full serializations, in block order. */
  txs: string[];
}

/** Reads block `hash` (display order) from the node. */
export async function readBlockForIndex(rpc: BitcoinRpcClient, hash: string): Promise<BlockForIndex> {
  const [raw, info] = await Promise.all([rpc.getBlock(hash, 0) as Promise<string>, rpc.getBlockHeader(hash)]);
  const block = Block.fromHex(raw);
  const txs = (block.transactions ?? []).map((t) => "0x" + Buffer.from(t.toBuffer()).toString("hex"));
  return { hash, height: info.height, header: "0x" + raw.slice(0, 160), txs };
}
