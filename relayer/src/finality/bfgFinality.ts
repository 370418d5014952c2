/**
 * BFG's answer to `GET /v2/keystonefinality/{hash}` (heminetwork service/bfg/bfg.go, HEMI-FACTS.md §3.4), computed
 * from the chain. BFG's behaviour, step by step, as reproduced here:
 * - the hash is parsed as a chainhash string (display order); a bad one answers 400 "invalid keystone length";
 * - an unknown keystone answers 404 "unknown keystone: <op-geth's kss_getKeystone error>";
 * - the keystone and its next 10 recorded keystones are looked up; for each one with a first canonical
 *   publication, effective confirmations = Bitcoin tip height - publication height; the answer keeps the one with
 *   strictly more confirmations than the best so far (starting from 0), so a publication in the tip block itself
 *   (0 confirmations) is never counted: BFG then answers as for a pending keystone;
 * - if the best is below 20 (ultra-finality depth) and a later keystone of the window is published, the lookup
 *   repeats from the highest published one;
 * - a recorded keystone without a counted publication (pending) answers 200 with the keystone, block_hash "",
 *   block_height 0, effective_confirmations 0 and no super_finality field.
 * The first window is PopVerifier.keystoneFinality's (the on-chain view), read at the same EVM block.
 */
import type { FinalityChainView } from "./chainView";
import {
  bfgHttpError,
  chainhashFromString,
  formatProtocolError,
  type BfgFinalityJson,
  type BfgHttpErrorJson,
} from "./hemiWire";
import { kssGetKeystone } from "./kssMethods";

/** BFG's `defaultKeystoneCount`: later keystones asked of op-geth per lookup. */
export const BFG_KEYSTONE_COUNT = 10;
/** BFG's ultra-finality depth (stops the lookup of later keystones). */
export const BFG_ULTRA_FINALITY_DEPTH = 20;
/** bfgapi.BitcoinSuperFinality. */
export const BFG_SUPER_FINALITY = 10;

/** An HTTP answer: status and JSON body. */
export type BfgAnswer = { status: 200; body: BfgFinalityJson } | { status: 400 | 404; body: BfgHttpErrorJson };

/** BFG's answer for `hashParam` (the URL's {hash}: display-order hex of the keystone id). */
export async function bfgKeystoneFinality(view: FinalityChainView, hashParam: string): Promise<BfgAnswer> {
  let internal: Buffer;
  try {
    internal = chainhashFromString(hashParam);
  } catch {
    return { status: 400, body: bfgHttpError("invalid keystone length") };
  }
  const at = await view.head();
  const display = Buffer.from(internal).reverse().toString("hex");
  const first = await kssGetKeystone(view, display, BFG_KEYSTONE_COUNT, at);
  if (first.error !== undefined || first.keystones === null || first.keystones.length === 0) {
    const e = first.error;
    const detail = e === undefined ? "keystone not found" : formatProtocolError(e);
    return { status: 404, body: bfgHttpError(`unknown keystone: ${detail}`) };
  }
  const queried = first.keystones[0];
  const onChain = await view.onChainFinality("0x" + internal.toString("hex"), at);
  const fin: BfgFinalityJson = { l2_keystone: queried, block_hash: "", block_height: 0, effective_confirmations: 0 };
  const tip = onChain.btcTipHeight;
  let window = first.keystones.map((k) => k.l2_block_number);
  let start = queried.l2_block_number;
  for (;;) {
    let next: number | undefined;
    for (const n of window) {
      const pub = await view.firstPublication(n, at);
      if (pub === undefined || pub.btcHeight > tip) continue;
      const conf = tip - pub.btcHeight;
      if (conf > fin.effective_confirmations) {
        fin.block_hash = pub.btcBlockHash.slice(2);
        fin.block_height = pub.btcHeight;
        fin.effective_confirmations = conf;
        fin.super_finality = conf >= BFG_SUPER_FINALITY;
      }
      if (n > queried.l2_block_number) next = n;
    }
    if (next === undefined || next === start || fin.effective_confirmations >= BFG_ULTRA_FINALITY_DEPTH) break;
    start = next;
    const more = await kssGetKeystone(view, await displayIdAt(view, next, at), BFG_KEYSTONE_COUNT, at);
    window = (more.keystones ?? []).map((k) => k.l2_block_number);
  }
  return { status: 200, body: fin };
}

async function displayIdAt(view: FinalityChainView, n: number, at: number): Promise<string> {
  const rec = await view.recordAt(n, at);
  if (rec === undefined) throw new Error(`keystone ${n} vanished from the ledger`);
  return Buffer.from(rec.id.slice(2), "hex").reverse().toString("hex");
}
