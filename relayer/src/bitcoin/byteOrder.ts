/**
 * The one place where Bitcoin hashes change byte order.
 * Internal order: the raw output of sha256(sha256(x)), as inside headers and transactions (our contracts' ABI).
 * Display order: byte-reversed, as explorers and bitcoind's RPC show them.
 */

/** Reverses a hex string byte by byte (display <-> internal). Accepts an optional 0x prefix; returns bare hex. */
export function reverseHex(hex: string): string {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error(`not a hex string: ${hex}`);
  const out: string[] = [];
  for (let i = h.length - 2; i >= 0; i -= 2) out.push(h.slice(i, i + 2));
  return out.join("").toLowerCase();
}

/** Display-order hash (RPC, explorers) to the internal-order bytes32 our contracts take, 0x-prefixed. */
export function displayToInternal(displayHex: string): string {
  return "0x" + reverseHex(displayHex);
}

/** Internal-order bytes32 (contracts) to the display-order hex bitcoind shows, without 0x. */
export function internalToDisplay(internalHex: string): string {
  return reverseHex(internalHex);
}
