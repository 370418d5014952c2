import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Folder of the shared real-Bitcoin test vectors: `../shared/vectors/bitcoin` beside the repo, or $HEMI_VECTORS_DIR. */
export const VECTORS_DIR =
  process.env.HEMI_VECTORS_DIR ?? path.resolve(__dirname, "..", "..", "..", "shared", "vectors", "bitcoin");

export interface VectorHeader {
  height: number;
  hash: string; // display order
  header: string; // raw 80 bytes, hex
}

export interface HeaderRangeVector {
  network: string;
  about: string;
  epochStart?: VectorHeader;
  headers: VectorHeader[];
  orphans: VectorHeader[];
}

export interface RetargetCase {
  epochFirst: VectorHeader;
  epochLast: VectorHeader;
  next: VectorHeader;
  expectedNextBits: string;
}

export interface SpvProofVector {
  txid: string; // display order
  rawTx: string;
  txIndex: number;
  merkleProof: string;
  blockHeight: number;
  blockHeader: string;
  blockHash: string; // display order
  why?: string;
}

export interface SpvVectors {
  valid: SpvProofVector[];
  bad: SpvProofVector[];
  badHeaders: { why: string; header: string; claimedHash: string }[];
}

/** Reads one vector file by name; fails loudly when the shared folder is missing. */
export function loadVector<T>(file: string): T {
  const full = path.join(VECTORS_DIR, file);
  if (!existsSync(full)) {
    throw new Error(
      `Test vector ${full} not found: the shared vectors must sit beside the repo (../shared/vectors/bitcoin) or be named by HEMI_VECTORS_DIR`,
    );
  }
  return JSON.parse(readFileSync(full, "utf8")) as T;
}

/** Names of every vector file, so that a test can prove it used them all. */
export function vectorFiles(): string[] {
  return [
    "mainnet-437466-437479-reorg-retarget.json",
    "mainnet-562621-562639-orphan.json",
    "mainnet-741793-741990-retarget.json",
    "mainnet-retargets.json",
    "mainnet-spv-proofs.json",
  ];
}
