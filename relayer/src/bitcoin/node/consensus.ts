/**
 * Bitcoin Core's regtest consensus parameters and the byte-level primitives the node builds blocks with:
 * double SHA-256, compact targets and chain work, block subsidy, BIP34 height pushes, merkle roots and the
 * BIP141 witness commitment.
 */
import { createHash } from "node:crypto";
import { Transaction } from "bitcoinjs-lib";

/** Satoshis per bitcoin. */
export const COIN = 100_000_000n;
/** Regtest proof-of-work limit in compact form; regtest never retargets. */
export const REGTEST_BITS = 0x207fffff;
/** Regtest halves the subsidy every 150 blocks (Bitcoin Core's `nSubsidyHalvingInterval` for regtest). */
export const SUBSIDY_HALVING_INTERVAL = 150;
/** A coinbase output can be spent once it has this many confirmations. */
export const COINBASE_MATURITY = 100;
/** Consensus block weight limit (BIP141). */
export const MAX_BLOCK_WEIGHT = 4_000_000;
/** Weight reserved for the coinbase when assembling a block (Bitcoin Core's default). */
export const COINBASE_RESERVED_WEIGHT = 4_000;
/** Largest money amount (21 million BTC). */
export const MAX_MONEY = 21_000_000n * COIN;
/** Header prefix of the BIP141 witness commitment output script: OP_RETURN, push 36, aa21a9ed. */
export const WITNESS_COMMITMENT_PREFIX = Buffer.from("6a24aa21a9ed", "hex");

/** Bitcoin Core's regtest genesis block (the mainnet genesis coinbase, time 1296688602, nonce 2), serialized. */
export const REGTEST_GENESIS_HEX =
  "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f20020000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
/** Display-order hash of the regtest genesis block. */
export const REGTEST_GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

/** sha256(sha256(data)), internal byte order. */
export function hash256(data: Uint8Array): Buffer {
  const first = createHash("sha256").update(data).digest();
  return createHash("sha256").update(first).digest();
}

/** Decodes a compact nBits value into its 256-bit target. */
export function bitsToTarget(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  if ((bits & 0x00800000) !== 0) throw new Error(`negative compact target 0x${bits.toString(16)}`);
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

/** Expected number of hashes to meet `bits`: 2^256 / (target + 1), as Bitcoin Core's GetBlockProof. */
export function blockWork(bits: number): bigint {
  const target = bitsToTarget(bits);
  return (1n << 256n) / (target + 1n);
}

/** Reads an internal-order 32-byte hash as the little-endian 256-bit number proof of work compares. */
export function hashToBigInt(hashInternal: Uint8Array): bigint {
  return BigInt("0x" + Buffer.from(hashInternal).reverse().toString("hex"));
}

/** True when the header's hash meets the target its own nBits claims (and nBits is within the regtest limit). */
export function checkProofOfWork(hashInternal: Uint8Array, bits: number): boolean {
  const target = bitsToTarget(bits);
  if (target === 0n || target > bitsToTarget(REGTEST_BITS)) return false;
  return hashToBigInt(hashInternal) <= target;
}

/** Difficulty as Bitcoin Core reports it (relative to the 0x1d00ffff target). */
export function difficulty(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256;
    shift++;
  }
  while (shift > 29) {
    diff /= 256;
    shift--;
  }
  return diff;
}

/** Block subsidy at `height` with regtest's 150-block halving interval. */
export function blockSubsidy(height: number): bigint {
  const halvings = Math.floor(height / SUBSIDY_HALVING_INTERVAL);
  if (halvings >= 64) return 0n;
  return (50n * COIN) >> BigInt(halvings);
}

/** Minimal CScriptNum encoding of a non-negative integer (little-endian, sign bit kept clear). */
export function scriptNumEncode(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  let v = n;
  while (v > 0) {
    bytes.push(v & 0xff);
    v = Math.floor(v / 256);
  }
  if ((bytes[bytes.length - 1] & 0x80) !== 0) bytes.push(0);
  return Buffer.from(bytes);
}

/** `CScript() << height`: OP_0, OP_1..OP_16 or a minimal push of the CScriptNum, as BIP34 requires. */
export function heightPush(height: number): Buffer {
  if (height === 0) return Buffer.from([0x00]);
  if (height <= 16) return Buffer.from([0x50 + height]);
  const num = scriptNumEncode(height);
  return Buffer.concat([Buffer.from([num.length]), num]);
}

/** Merkle root of internal-order hashes, Bitcoin style (an odd last node is paired with itself). */
export function merkleRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) throw new Error("merkle root of zero hashes");
  let level = hashes.slice();
  while (level.length > 1) level = merkleParentLevel(level);
  return level[0];
}

/** One level up a merkle tree: hash256 of each pair, an odd last node paired with itself (as Bitcoin does). */
export function merkleParentLevel(level: readonly Buffer[]): Buffer[] {
  const next: Buffer[] = [];
  for (let i = 0; i < level.length; i += 2) {
    const right = i + 1 < level.length ? level[i + 1] : level[i];
    next.push(hash256(Buffer.concat([level[i], right])));
  }
  return next;
}

/** Internal-order txid (hash of the non-witness serialization). */
export function txidOf(tx: Transaction): Buffer {
  if (!tx.hasWitnesses()) return hash256(tx.toBuffer());
  const copy = tx.clone();
  copy.stripWitnesses();
  return hash256(copy.toBuffer());
}

/** Internal-order wtxid (hash of the witness serialization; all zero for a coinbase, as BIP141 defines). */
export function wtxidOf(tx: Transaction): Buffer {
  if (tx.isCoinbase()) return Buffer.alloc(32);
  return hash256(tx.toBuffer());
}

/** BIP141 commitment: hash256(witness merkle root || witness reserved value). */
export function witnessCommitment(txs: readonly Transaction[], reservedValue: Buffer): Buffer {
  const root = merkleRoot(txs.map((tx, i) => (i === 0 ? Buffer.alloc(32) : wtxidOf(tx))));
  return hash256(Buffer.concat([root, reservedValue]));
}

/** Index of the coinbase output carrying the witness commitment (the last matching one), or -1. */
export function findWitnessCommitment(coinbase: Transaction): number {
  let found = -1;
  coinbase.outs.forEach((out, i) => {
    if (out.script.length >= 38 && Buffer.from(out.script.subarray(0, 6)).equals(WITNESS_COMMITMENT_PREFIX)) found = i;
  });
  return found;
}

/** Serializes an 80-byte header. `prevHash` and `merkleRoot` are internal order. */
export function serializeHeader(h: {
  version: number;
  prevHash: Buffer;
  merkleRoot: Buffer;
  time: number;
  bits: number;
  nonce: number;
}): Buffer {
  const out = Buffer.alloc(80);
  out.writeInt32LE(h.version, 0);
  h.prevHash.copy(out, 4);
  h.merkleRoot.copy(out, 36);
  out.writeUInt32LE(h.time >>> 0, 68);
  out.writeUInt32LE(h.bits >>> 0, 72);
  out.writeUInt32LE(h.nonce >>> 0, 76);
  return out;
}

/** Iterates the nonce of a serialized header in place until its hash meets `bits`; returns the hash. */
export function grindNonce(header: Buffer, bits: number, maxTries = 1_000_000): Buffer | undefined {
  const target = bitsToTarget(bits);
  for (let nonce = 0, tries = 0; tries < maxTries && nonce <= 0xffffffff; nonce++, tries++) {
    header.writeUInt32LE(nonce, 76);
    const hash = hash256(header);
    if (hashToBigInt(hash) <= target) return hash;
  }
  return undefined;
}

/** Median of the given block times (Bitcoin Core's GetMedianTimePast over up to 11 blocks). */
export function medianTime(times: readonly number[]): number {
  const sorted = times.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Formats satoshis as Bitcoin Core's FormatMoney does (at least two decimals, trailing zeros trimmed). */
export function formatMoney(sats: bigint): string {
  const neg = sats < 0n;
  const abs = neg ? -sats : sats;
  let frac = (abs % COIN).toString().padStart(8, "0");
  while (frac.length > 2 && frac.endsWith("0")) frac = frac.slice(0, -1);
  return `${neg ? "-" : ""}${abs / COIN}.${frac}`;
}

/** Satoshis to the JSON number Bitcoin Core shows for an amount in BTC. */
export function satsToBtc(sats: bigint): number {
  return Number(sats) / 1e8;
}
