import { reverseHex } from "../../bitcoin/byteOrder";
import { hash256 } from "../../bitcoin/node/consensus";

/** A raw header of the node's best chain; `hash` in display order, `header` 80 bytes of hex. */
export interface RawHeaderRow {
  height: number;
  hash: string;
  header: string;
}

/** What the headers role needs from a Bitcoin node (BitcoinRpcClient provides it). */
export interface BitcoinHeaderSource {
  getBlockCount(): Promise<number>;
  /** Display-order hash of the best chain's block at `height`. */
  getBlockHash(height: number): Promise<string>;
  getRawHeaders(fromHeight: number, count: number): Promise<RawHeaderRow[]>;
}

/** hash256 of a raw 80-byte header, display order. */
export function headerHashDisplay(headerHex: string): string {
  return reverseHex(hash256(Buffer.from(headerHex, "hex")).toString("hex"));
}

/** The prev-block hash inside a raw header, display order. */
export function headerPrevDisplay(headerHex: string): string {
  return reverseHex(headerHex.slice(8, 72));
}

/**
 * Checks a run of headers from the node: each hashes to its claimed hash and links to the one before. Returns
 * the longest valid prefix (a node that reorganised between RPC calls can hand out a run that breaks).
 */
export function linkedPrefix(rows: readonly RawHeaderRow[]): RawHeaderRow[] {
  const out: RawHeaderRow[] = [];
  for (const row of rows) {
    if (row.header.length !== 160 || headerHashDisplay(row.header) !== row.hash.toLowerCase()) break;
    const prev = out[out.length - 1];
    if (prev !== undefined && (headerPrevDisplay(row.header) !== prev.hash || row.height !== prev.height + 1)) break;
    out.push(row);
  }
  return out;
}
