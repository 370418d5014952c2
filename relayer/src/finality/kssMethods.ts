/**
 * op-geth's keystone methods (heminetwork api/gethapi/gethapi.go types; op-geth's HemiAPI), answered from
 * KeystoneLedger and the EVM blocks:
 * - `kss_getKeystone(hash, count)`: the keystone whose abbreviation hashes to `hash` (display-order hex, as BFG
 *   sends a chainhash) and up to `count` later recorded keystones, ascending;
 * - `kss_getLatestKeystones(count)`: the `count` latest recorded keystones, descending by L2 block number.
 * Both answer `{"keystones": [...]}` or, on a bad argument or an unknown keystone, `{"keystones": null,
 * "error": {timestamp, trace, message}}` (a result, not a JSON-RPC error, as op-geth does). `count` above 50 is
 * "count too large" (op-geth's maxL2KeystoneCount).
 */
import type { FinalityChainView } from "./chainView";
import { chainhashFromString, protocolError, type KeystonesAnswerJson, type L2KeystoneJson } from "./hemiWire";

/** op-geth's maxL2KeystoneCount. */
export const MAX_KEYSTONE_COUNT = 50;

function failed(message: string): KeystonesAnswerJson {
  return { keystones: null, error: protocolError(message) };
}

async function keystonesFrom(view: FinalityChainView, numbers: number[], at: number): Promise<L2KeystoneJson[]> {
  const out: L2KeystoneJson[] = [];
  for (const n of numbers) {
    const k = await view.l2Keystone(n, at);
    if (k !== undefined) out.push(k);
  }
  return out;
}

/** `kss_getKeystone(hash, count)` at EVM block `at`. */
export async function kssGetKeystone(
  view: FinalityChainView,
  hash: string,
  count: number,
  at: number,
): Promise<KeystonesAnswerJson> {
  if (count > MAX_KEYSTONE_COUNT) return failed("count too large");
  try {
    chainhashFromString(hash);
  } catch (err) {
    return failed((err as Error).message);
  }
  if (hash.length % 2 !== 0) return failed("encoding/hex: odd length hex string");
  const notFound = failed(`keystone not found: ${hash}`);
  if (hash.length !== 64) return notFound;
  const id = "0x" + Buffer.from(hash, "hex").reverse().toString("hex");
  const n = await view.numberOf(id, at);
  if (n === 0) return notFound;
  const [interval, last] = [await view.interval(), await view.lastKeystone(at)];
  const numbers: number[] = [];
  for (let i = 0; i <= count && n + i * interval <= last; i++) numbers.push(n + i * interval);
  const keystones = await keystonesFrom(view, numbers, at);
  // The keystone itself must still match the EVM chain (its id is what was asked for).
  if (keystones.length === 0 || keystones[0].l2_block_number !== n) return notFound;
  return { keystones };
}

/** `kss_getLatestKeystones(count)` at EVM block `at`. */
export async function kssGetLatestKeystones(
  view: FinalityChainView,
  count: number,
  at: number,
): Promise<KeystonesAnswerJson> {
  if (count > MAX_KEYSTONE_COUNT) return failed("count too large");
  const [interval, first, last] = [await view.interval(), await view.firstKeystone(), await view.lastKeystone(at)];
  const numbers: number[] = [];
  for (let n = last; last !== 0 && n >= first && numbers.length < count; n -= interval) numbers.push(n);
  return { keystones: await keystonesFrom(view, numbers, at) };
}
