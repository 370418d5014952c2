/**
 * op-node's `optimism_btcFinalityByBlockHash(l2BlockHash)` (hemilabs/optimism op-node/node/bvm_api_helper.go, the
 * newer helper that returns BFG's struct; the older api.go returned a one-element array of the legacy
 * `L2BTCFinality`, which no current BFG serves):
 * - the block must exist ("not found") and be the canonical block at its height;
 * - block N is given finality by keystone N when N is a multiple of the interval, else by the next multiple;
 *   that keystone must be produced ("keystone K providing finality for block N not yet produced, L2 tip = T");
 * - the keystone is rebuilt from the EVM blocks (the L1 field: the ledger's Bitcoin height field), hashed, and
 *   BFG is asked; any status but 200 is the error "unexpected status code: S";
 * - the answer is BFG's body as is.
 * Errors are thrown as HemiRpcError (-32000, as geth reports a method's plain error).
 */
import { bfgKeystoneFinality } from "./bfgFinality";
import type { FinalityChainView } from "./chainView";
import type { BfgFinalityJson } from "./hemiWire";
import { HemiRpcError } from "./rpcErrors";

/** op-node's keystone providing finality to block `n`: n itself on a multiple of `interval`, else the next one. */
export function keystoneProvidingFinality(n: number, interval: number): number {
  return n % interval === 0 ? n : n + (interval - (n % interval));
}

/** op-node's answer for `blockHash` (0x-hex, 32 bytes). */
export async function btcFinalityByBlockHash(view: FinalityChainView, blockHash: string): Promise<BfgFinalityJson> {
  const hash = blockHash.toLowerCase();
  const block = (await view.provider.send("eth_getBlockByHash", [hash, false])) as { number: string } | null;
  if (block === null) throw new HemiRpcError(-32000, "not found");
  const n = Number(block.number);
  const canonical = await view.block(n);
  if (canonical === undefined || canonical.hash.toLowerCase() !== hash) {
    throw new HemiRpcError(
      -32000,
      `block ${hash.slice(2)} at height ${n} is not on the canonical chain, canonical block at height ${n} is ${canonical?.hash.slice(2) ?? "missing"}`,
    );
  }
  const interval = await view.interval();
  const k = keystoneProvidingFinality(n, interval);
  const at = await view.head();
  if (k > at) {
    throw new HemiRpcError(-32000, `keystone ${k} providing finality for block ${n} not yet produced, L2 tip = ${at}`);
  }
  const rec = await view.recordAt(k, at);
  // Not recorded in the ledger: BFG does not know the keystone and answers 404.
  if (rec === undefined) throw new HemiRpcError(-32000, "unexpected status code: 404");
  const rebuilt = await view.keystoneFromChain(k, rec.btcHeight);
  if (rebuilt === undefined) throw new HemiRpcError(-32000, "not found");
  const answer = await bfgKeystoneFinality(view, Buffer.from(rebuilt.id.slice(2), "hex").reverse().toString("hex"));
  if (answer.status !== 200) throw new HemiRpcError(-32000, `unexpected status code: ${answer.status}`);
  return answer.body;
}
