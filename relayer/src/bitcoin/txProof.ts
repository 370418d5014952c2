/**
 * SPV proofs for BitcoinLightClient.verifyTx: the raw non-witness transaction, the block header, the
 * transaction's index and its merkle branch (32-byte siblings, leaf to root, concatenated), all in
 * internal byte order as 0x-hex, ready for the contract's TxProof struct.
 */
import { Transaction } from "bitcoinjs-lib";
import { hash256, merkleParentLevel, txidOf } from "./node/consensus";
import type { BitcoinRpcClient } from "./rpcClient";

export interface TxProof {
  /** Non-witness serialization (what the txid commits to), 0x-hex. */
  rawTx: string;
  blockHeight: number;
  /** Raw 80-byte header, 0x-hex. */
  blockHeader: string;
  txIndex: number;
  /** Sibling hashes, internal order, leaf to root, concatenated, 0x-hex. */
  merkleProof: string;
}

/**
 * The merkle branch of leaf `index` among `txids` (internal-order 32-byte hashes): the sibling at each
 * level, leaf to root (an odd last node is its own sibling, as Bitcoin pairs it with itself).
 */
export function merkleBranch(txids: readonly Uint8Array[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= txids.length)
    throw new Error(`tx index ${index} out of range for a block of ${txids.length} transactions`);
  let level: Buffer[] = txids.map((t) => Buffer.from(t));
  let i = index;
  const branch: Buffer[] = [];
  while (level.length > 1) {
    const sibling = i ^ 1;
    branch.push(sibling < level.length ? level[sibling] : level[i]);
    level = merkleParentLevel(level);
    i >>= 1;
  }
  return branch;
}

/** Recomputes the merkle root from a leaf, its index and its branch (internal order). */
export function merkleRootFromBranch(leaf: Uint8Array, index: number, branch: readonly Uint8Array[]): Buffer {
  let h: Buffer = Buffer.from(leaf);
  let i = index;
  for (const s of branch) {
    h = (i & 1) === 1 ? hash256(Buffer.concat([s, h])) : hash256(Buffer.concat([h, s]));
    i >>= 1;
  }
  return h;
}

/** Display-order txid hex to internal-order bytes. */
function txidBytes(displayTxid: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(displayTxid)) throw new Error(`not a txid: ${displayTxid}`);
  return Buffer.from(displayTxid, "hex").reverse();
}

/**
 * Builds a TxProof from a block's data, without RPC. `txids` are display order (as getblock lists
 * them); `rawTx` may carry witness data (it is stripped).
 */
export function buildTxProofFromBlock(args: {
  txids: readonly string[];
  txIndex: number;
  rawTx: string | Uint8Array;
  blockHeader: string | Uint8Array;
  blockHeight: number;
}): TxProof {
  const tx = Transaction.fromBuffer(
    typeof args.rawTx === "string" ? Buffer.from(args.rawTx.replace(/^0x/, ""), "hex") : args.rawTx,
  );
  const leaves = args.txids.map(txidBytes);
  const own = txidOf(tx);
  if (!own.equals(leaves[args.txIndex] ?? Buffer.alloc(0)))
    throw new Error(
      `transaction ${Buffer.from(own).reverse().toString("hex")} is not at index ${args.txIndex} of the block`,
    );
  const header =
    typeof args.blockHeader === "string"
      ? Buffer.from(args.blockHeader.replace(/^0x/, ""), "hex")
      : Buffer.from(args.blockHeader);
  if (header.length !== 80) throw new Error(`block header must be 80 bytes, got ${header.length}`);
  const branch = merkleBranch(leaves, args.txIndex);
  if (!merkleRootFromBranch(own, args.txIndex, branch).equals(header.subarray(36, 68)))
    throw new Error("merkle branch does not lead to the header's merkle root");
  const stripped = tx.clone();
  stripped.stripWitnesses();
  return {
    rawTx: "0x" + Buffer.from(stripped.toBuffer()).toString("hex"),
    blockHeight: args.blockHeight,
    blockHeader: "0x" + header.toString("hex"),
    txIndex: args.txIndex,
    merkleProof: "0x" + Buffer.concat(branch).toString("hex"),
  };
}

/**
 * Builds the TxProof of a mined transaction over RPC: its block (given, or found with getrawtransaction,
 * which needs the tx index or the embedded node), the block's txids, header and height.
 */
export async function buildTxProof(rpc: BitcoinRpcClient, txid: string, blockHash?: string): Promise<TxProof> {
  let hash = blockHash;
  if (hash === undefined) {
    const info = await rpc.getRawTransaction(txid, true);
    if (info.blockhash === undefined) throw new Error(`transaction ${txid} is not in a block yet`);
    hash = info.blockhash;
  }
  const [block, header, rawTx] = await rpc.batch<unknown>([
    { method: "getblock", params: [hash, 1] },
    { method: "getblockheader", params: [hash, false] },
    { method: "getrawtransaction", params: [txid, false, hash] },
  ]);
  const b = block as { tx: string[]; height: number };
  const index = b.tx.indexOf(txid.toLowerCase());
  if (index < 0) throw new Error(`transaction ${txid} is not in block ${hash}`);
  return buildTxProofFromBlock({
    txids: b.tx,
    txIndex: index,
    rawTx: rawTx as string,
    blockHeader: header as string,
    blockHeight: b.height,
  });
}
