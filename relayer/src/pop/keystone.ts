/**
 * Hemi's abbreviated keystone (76 bytes, HEMI-FACTS.md §3.2): version(1) = 1 | btcHeight(4, BE) |
 * l2BlockNumber(4, BE) | parentEPHash(11) | prevKeystoneEPHash(12) | stateRoot(32) | EPHash(12), each hash
 * field the FIRST bytes of the EVM hash (natural 0x order). Keystone id = hash256 of the 76 bytes: internal
 * order as our contracts take it (bytes32), display order (reversed) as Hemi's BFG route and op-node print it.
 * Hemi's 4-byte L1 field carries the light client's best Bitcoin height here (§7).
 */
import { hash256 } from "../bitcoin/node/consensus";
import { reverseHex } from "../bitcoin/byteOrder";

/** Length of the abbreviation. */
export const KEYSTONE_ABBREV_LENGTH = 76;
/** The only abbreviation version. */
export const KEYSTONE_VERSION = 1;
/** Hemi's keystone interval in EVM blocks. */
export const DEFAULT_KEYSTONE_INTERVAL = 25;

/** Byte offsets and sizes of the fields. */
export const KEYSTONE_LAYOUT = {
  version: { offset: 0, size: 1 },
  btcHeight: { offset: 1, size: 4 },
  l2BlockNumber: { offset: 5, size: 4 },
  parentEPHash: { offset: 9, size: 11 },
  prevKeystoneEPHash: { offset: 20, size: 12 },
  stateRoot: { offset: 32, size: 32 },
  epHash: { offset: 64, size: 12 },
} as const;

/** A decoded abbreviated keystone. Hash fields are the prefixes actually carried (11, 12, 32, 12 bytes). */
export interface Keystone {
  version: number;
  /** The light client's best Bitcoin height when the keystone was made (Hemi: its L1 block number). */
  btcHeight: number;
  l2BlockNumber: number;
  /** First 11 bytes of the keystone block's parent hash. */
  parentEPHash: Buffer;
  /** First 12 bytes of the hash of the block `interval` blocks before (zeros when there is none). */
  prevKeystoneEPHash: Buffer;
  stateRoot: Buffer;
  /** First 12 bytes of the keystone block's hash. */
  epHash: Buffer;
}

/** The EVM block fields a keystone is made of (0x-hex hashes, as eth_getBlockByNumber returns them). */
export interface KeystoneBlock {
  number: number;
  hash: string;
  parentHash: string;
  stateRoot: string;
}

function bytes(hex: string, size: number, what: string): Buffer {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== size * 2) throw new Error(`${what} must be ${size} bytes of hex`);
  return Buffer.from(h, "hex");
}

function uint32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${what} must be a uint32, got ${v}`);
  return v;
}

/** Encodes a keystone into its 76 bytes; checks every field's range and length. */
export function encodeKeystone(k: Keystone): Buffer {
  if (k.version !== KEYSTONE_VERSION) throw new Error(`keystone version must be ${KEYSTONE_VERSION}, got ${k.version}`);
  const out = Buffer.alloc(KEYSTONE_ABBREV_LENGTH);
  const put = (field: keyof typeof KEYSTONE_LAYOUT, b: Buffer): void => {
    const { offset, size } = KEYSTONE_LAYOUT[field];
    if (b.length !== size) throw new Error(`keystone ${field} must be ${size} bytes, got ${b.length}`);
    b.copy(out, offset);
  };
  out.writeUInt8(k.version, 0);
  out.writeUInt32BE(uint32(k.btcHeight, "btcHeight"), KEYSTONE_LAYOUT.btcHeight.offset);
  out.writeUInt32BE(uint32(k.l2BlockNumber, "l2BlockNumber"), KEYSTONE_LAYOUT.l2BlockNumber.offset);
  put("parentEPHash", k.parentEPHash);
  put("prevKeystoneEPHash", k.prevKeystoneEPHash);
  put("stateRoot", k.stateRoot);
  put("epHash", k.epHash);
  return out;
}

/** Decodes 76 bytes (Buffer or hex); rejects another length or version, as Hemi's parser does. */
export function decodeKeystone(abbrev: Uint8Array | string): Keystone {
  const b = typeof abbrev === "string" ? Buffer.from(abbrev.replace(/^0x/, ""), "hex") : Buffer.from(abbrev);
  if (b.length !== KEYSTONE_ABBREV_LENGTH)
    throw new Error(`abbreviated keystone must be ${KEYSTONE_ABBREV_LENGTH} bytes, got ${b.length}`);
  const version = b.readUInt8(0);
  if (version !== KEYSTONE_VERSION) throw new Error(`abbreviated keystone version ${version} is not supported`);
  const field = (f: keyof typeof KEYSTONE_LAYOUT): Buffer =>
    Buffer.from(b.subarray(KEYSTONE_LAYOUT[f].offset, KEYSTONE_LAYOUT[f].offset + KEYSTONE_LAYOUT[f].size));
  return {
    version,
    btcHeight: b.readUInt32BE(KEYSTONE_LAYOUT.btcHeight.offset),
    l2BlockNumber: b.readUInt32BE(KEYSTONE_LAYOUT.l2BlockNumber.offset),
    parentEPHash: field("parentEPHash"),
    prevKeystoneEPHash: field("prevKeystoneEPHash"),
    stateRoot: field("stateRoot"),
    epHash: field("epHash"),
  };
}

/** Keystone id in internal order (hash256 of the 76 bytes), as the contracts' bytes32. */
export function keystoneId(abbrev: Uint8Array): Buffer {
  if (abbrev.length !== KEYSTONE_ABBREV_LENGTH)
    throw new Error(`abbreviated keystone must be ${KEYSTONE_ABBREV_LENGTH} bytes, got ${abbrev.length}`);
  return hash256(abbrev);
}

/** Keystone id as the contracts' bytes32: 0x + internal-order hex. */
export function keystoneIdHex(abbrev: Uint8Array): string {
  return "0x" + keystoneId(abbrev).toString("hex");
}

/** Keystone id in display order (byte-reversed hex, no 0x): Hemi's BFG route and op-node's string form. */
export function keystoneIdDisplay(abbrev: Uint8Array): string {
  return reverseHex(keystoneId(abbrev).toString("hex"));
}

/**
 * Builds the keystone of EVM block `block`: its hash, parent hash and state root, the hash of the block
 * `interval` blocks before (`prevKeystoneHash`; null when that block does not exist, giving zeros as Hemi),
 * and the Bitcoin height field.
 */
export function keystoneFromBlock(args: {
  block: KeystoneBlock;
  prevKeystoneHash: string | null;
  btcHeight: number;
}): Keystone {
  const { block } = args;
  return {
    version: KEYSTONE_VERSION,
    btcHeight: uint32(args.btcHeight, "btcHeight"),
    l2BlockNumber: uint32(block.number, "block number"),
    parentEPHash: bytes(block.parentHash, 32, "parentHash").subarray(0, 11),
    prevKeystoneEPHash:
      args.prevKeystoneHash === null
        ? Buffer.alloc(12)
        : bytes(args.prevKeystoneHash, 32, "prevKeystoneHash").subarray(0, 12),
    stateRoot: bytes(block.stateRoot, 32, "stateRoot"),
    epHash: bytes(block.hash, 32, "block hash").subarray(0, 12),
  };
}

/** Whether `l2BlockNumber` is a keystone height of `interval` (a positive multiple). */
export function isKeystoneHeight(l2BlockNumber: number, interval: number): boolean {
  return l2BlockNumber > 0 && l2BlockNumber % interval === 0;
}

/**
 * The keystone height covering EVM block `l2BlockNumber`: the block itself when it is a keystone height, else the
 * next one (Hemi's op-node rule), never below `firstKeystone` (KeystoneLedger.coveringKeystone).
 */
export function coveringKeystone(l2BlockNumber: number, interval: number, firstKeystone = interval): number {
  const k = Math.ceil(l2BlockNumber / interval) * interval;
  return Math.max(k, firstKeystone);
}

/** What `keystoneAtBlock` needs of an EVM JSON-RPC provider (ethers' JsonRpcProvider has it). */
export interface EvmBlockSource {
  send(method: string, params: unknown[]): Promise<unknown>;
}

async function evmBlock(evm: EvmBlockSource, n: number): Promise<KeystoneBlock> {
  const b = (await evm.send("eth_getBlockByNumber", ["0x" + n.toString(16), false])) as {
    number: string;
    hash: string;
    parentHash: string;
    stateRoot: string;
  } | null;
  if (b === null) throw new Error(`EVM block ${n} does not exist yet`);
  return { number: Number(b.number), hash: b.hash, parentHash: b.parentHash, stateRoot: b.stateRoot };
}

/**
 * Reads EVM block `n` and the block `interval` before it from the node and builds keystone `n` with
 * `btcHeight` in the Bitcoin height field.
 */
export async function keystoneAtBlock(
  evm: EvmBlockSource,
  n: number,
  interval: number,
  btcHeight: number,
): Promise<Keystone> {
  const block = await evmBlock(evm, n);
  const prevKeystoneHash = n - interval >= 0 ? (await evmBlock(evm, n - interval)).hash : null;
  return keystoneFromBlock({ block, prevKeystoneHash, btcHeight });
}
