/**
 * Hemi's wire formats for finality (HEMI-FACTS.md §3.1, §3.4), as heminetwork's Go types encode them:
 * `hemi.L2Keystone` (byte fields as hex without 0x), BFG's `L2KeystoneBitcoinFinalityResponse`, BFG's HTTP error
 * body and heminetwork's `protocol.Error`. Field order is the Go struct order (encoding/json keeps it), so
 * JSON.stringify of these objects gives the same bytes Go would.
 */
import { randomBytes } from "node:crypto";

/** `hemi.L2Keystone` in JSON: the full keystone, hashes as 64 hex chars without 0x. */
export interface L2KeystoneJson {
  version: number;
  l1_block_number: number;
  l2_block_number: number;
  parent_ep_hash: string;
  prev_ep_keystone_hash: string;
  state_root: string;
  ep_hash: string;
}

/**
 * BFG's `L2KeystoneBitcoinFinalityResponse`. `block_hash` is the Bitcoin block's chainhash bytes (internal
 * order) as hex, "" when nothing is published (a nil api.ByteSlice); `super_finality` is a *bool with omitempty:
 * absent when no publication was counted.
 */
export interface BfgFinalityJson {
  l2_keystone: L2KeystoneJson;
  block_hash: string;
  block_height: number;
  effective_confirmations: number;
  super_finality?: boolean;
}

/** heminetwork's `protocol.Error` (inside op-geth's kss_* answers). */
export interface ProtocolErrorJson {
  timestamp: number;
  trace?: string;
  message: string;
}

/** BFG's `HTTPError` body (bfg.go): note the message's JSON name is "error". */
export interface BfgHttpErrorJson {
  timestamp: number;
  trace: string;
  error: string;
}

/** op-geth's answer to kss_getKeystone / kss_getLatestKeystones (gethapi.go: keystones, error omitempty). */
export interface KeystonesAnswerJson {
  keystones: L2KeystoneJson[] | null;
  error?: ProtocolErrorJson;
}

/** An 8-byte random trace as hex, as Hemi's errors carry. */
function trace(): string {
  return randomBytes(8).toString("hex");
}

/** A `protocol.Error` with a fresh trace and the current Unix time. */
export function protocolError(message: string): ProtocolErrorJson {
  return { timestamp: Math.floor(Date.now() / 1000), trace: trace(), message };
}

/** How Go's `%v` prints a `*protocol.Error`: "message [trace:timestamp]". */
export function formatProtocolError(e: ProtocolErrorJson): string {
  return e.trace === undefined || e.trace === "" ? e.message : `${e.message} [${e.trace}:${e.timestamp}]`;
}

/** A BFG `HTTPError` body with a fresh trace and the current Unix time. */
export function bfgHttpError(message: string): BfgHttpErrorJson {
  return { timestamp: Math.floor(Date.now() / 1000), trace: trace(), error: message };
}

/** chainhash's maximum string length (64 hex characters). */
const MAX_HASH_STRING = 64;

/**
 * btcd's `chainhash.NewHashFromStr`: a display-order hex string of at most 64 characters (shorter ones are
 * left-padded with zeros, an odd length gets a leading "0"), returned in internal order (32 bytes). Throws Go's
 * error text on a too long or non-hex string.
 */
export function chainhashFromString(s: string): Buffer {
  if (s.length > MAX_HASH_STRING) throw new Error(`max hash string length is ${MAX_HASH_STRING} bytes`);
  const even = s.length % 2 === 0 ? s : "0" + s;
  const bad = /[^0-9a-fA-F]/.exec(even);
  if (bad !== null) {
    const cp = bad[0].codePointAt(0) ?? 0;
    throw new Error(`encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${bad[0]}'`);
  }
  const display = Buffer.alloc(32);
  Buffer.from(even, "hex").copy(display, 32 - even.length / 2);
  return Buffer.from(display.reverse());
}
