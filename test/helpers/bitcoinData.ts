import { randomBytes } from "node:crypto";
import * as bitcoin from "bitcoinjs-lib";
import { reverseHex } from "../../relayer/src/bitcoin/byteOrder";
import { hash256 } from "../../relayer/src/bitcoin/node/consensus";
import { merkleBranch, merkleRootFromBranch } from "../../relayer/src/bitcoin/txProof";

export { hash256 };

/** 0x-prefixed hex of bytes. */
export function hex0x(data: Uint8Array): string {
  return "0x" + Buffer.from(data).toString("hex");
}

/** A display-order hash (as the vectors and explorers show it) as the contracts' internal-order bytes32. */
export function internal(displayHash: string): string {
  return "0x" + reverseHex(displayHash);
}

/** Concatenates raw header hex strings (no 0x) into one 0x-prefixed calldata blob. */
export function concatHeaders(headers: string[]): string {
  return "0x" + headers.map((h) => h.replace(/^0x/, "")).join("");
}

/** Reads the little-endian timestamp of a raw header hex. */
export function headerTime(headerHex: string): number {
  return Buffer.from(headerHex.replace(/^0x/, ""), "hex").readUInt32LE(68);
}

/** Reads the little-endian nBits of a raw header hex. */
export function headerBits(headerHex: string): number {
  return Buffer.from(headerHex.replace(/^0x/, ""), "hex").readUInt32LE(72);
}

/** Flips one bit of byte `offset` of a raw header hex and returns the new hex (no 0x). */
export function flipByte(headerHex: string, offset: number, mask = 0x01): string {
  const b = Buffer.from(headerHex.replace(/^0x/, ""), "hex");
  b[offset] ^= mask;
  return b.toString("hex");
}

/** Bitcoin Core's regtest genesis header. */
export const REGTEST_GENESIS = {
  hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  header:
    "01000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a" +
    "dae5494d" +
    "ffff7f20" +
    "02000000",
};

export const REGTEST_TARGET = BigInt("0x7fffff") << BigInt(8 * (0x20 - 3));

/** Builds a raw header and grinds the nonce until it meets the regtest target (real proof of work). */
export function mineRegtestHeader(
  prevHashInternal: Buffer,
  merkleRootInternal: Buffer,
  time: number,
  bits = 0x207fffff,
): Buffer {
  const h = Buffer.alloc(80);
  h.writeUInt32LE(0x20000000, 0);
  prevHashInternal.copy(h, 4);
  merkleRootInternal.copy(h, 36);
  h.writeUInt32LE(time, 68);
  h.writeUInt32LE(bits, 72);
  const size = bits >>> 24;
  const target = BigInt(bits & 0x7fffff) << BigInt(8 * (size - 3));
  for (let nonce = 0; nonce < 0xffffffff; nonce++) {
    h.writeUInt32LE(nonce, 76);
    const hash = BigInt("0x" + Buffer.from(hash256(h)).reverse().toString("hex"));
    if (hash <= target) return h;
  }
  throw new Error("no nonce found");
}

/** Merkle root and the proof (siblings leaf to root) for leaf `index` over internal-order leaves. */
export function merkleProof(leaves: Buffer[], index: number): { root: Buffer; siblings: Buffer[] } {
  const siblings = merkleBranch(leaves, index);
  return { root: merkleRootFromBranch(leaves[index], index, siblings), siblings };
}

/** Internal-order hash of a raw header hex (no 0x), hex without 0x. */
export function headerHash(headerHex: string): string {
  return hash256(Buffer.from(headerHex.replace(/^0x/, ""), "hex")).toString("hex");
}

/**
 * Mines `n` regtest headers (real proof of work) on top of the raw header `parentHex`, ten minutes apart;
 * `salt` changes the merkle roots so that two calls build different branches. Returns raw header hex strings.
 */
export function mineRegtestHeaders(parentHex: string, n: number, salt = 0): string[] {
  const out: string[] = [];
  let prev = hash256(Buffer.from(parentHex, "hex"));
  let time = headerTime(parentHex);
  for (let i = 0; i < n; i++) {
    time += 600;
    const h = mineRegtestHeader(prev, hash256(Buffer.from(`salt ${salt} block ${i}`)), time);
    out.push(h.toString("hex"));
    prev = hash256(h);
  }
  return out;
}

/** A small real transaction (one input, one 20-byte OP_RETURN output), non-witness serialization, random each call. */
export function smallRawTx(): Buffer {
  const tx = new bitcoin.Transaction();
  tx.version = 2;
  tx.addInput(randomBytes(32), 0);
  tx.addOutput(Buffer.concat([Buffer.from([0x6a, 0x14]), randomBytes(20)]), 1000n);
  return Buffer.from(tx.toBuffer());
}
