/**
 * Checks shared by the links about a Bitcoin transaction (the deposit's lock, a withdrawal's payout): where the node
 * has the transaction now, whether the light client holds its block as canonical, and a fresh SPV proof of it
 * (txProof.ts) through the light client's verifyTx.
 */
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { buildTxProof } from "../bitcoin/txProof";
import { errorMessage } from "../core/logger";
import type { ProvenanceDeps, ProvenanceLink } from "./types";

/** Where the node has a transaction now, in words: another block (on or off the best chain), the mempool, unknown. */
export async function txWhereabouts(d: ProvenanceDeps, txid: string): Promise<string> {
  try {
    const info = await d.bitcoin.getRawTransaction(txid, true);
    if (info.blockhash === undefined) return "back in the mempool";
    const hdr = await d.bitcoin.getBlockHeader(info.blockhash);
    return hdr.confirmations < 0
      ? `only in block ${info.blockhash} at height ${hdr.height}, which is off the best chain`
      : `now in block ${info.blockhash} at height ${hdr.height}`;
  } catch {
    return "not in any block of the node";
  }
}

/**
 * The light client's block at `height` compared with the node's `nodeHash` (error `light-client-disagrees`), then
 * a fresh SPV proof of `txid` in that block through verifyTx with `confirmations` (errors `spv-mismatch`,
 * `spv-rejected`). Adds lightClientBlock, merkleBranch and spvVerified to `evidence`.
 */
export async function checkLightClientAndSpv(
  d: ProvenanceDeps,
  txid: string,
  height: number,
  nodeHash: string,
  confirmations: number,
  evidence: ProvenanceLink["evidence"],
  err: (kind: string, message: string) => void,
): Promise<void> {
  const lcHash = await d.lc.blockHashAt(height);
  evidence.lightClientBlock = /^0x0+$/.test(lcHash) ? null : internalToDisplay(lcHash);
  if (lcHash.toLowerCase() !== displayToInternal(nodeHash).toLowerCase())
    err(
      "light-client-disagrees",
      `the light client holds ${evidence.lightClientBlock ?? "no block"} at height ${height}, the node ${nodeHash}`,
    );
  try {
    const proof = await buildTxProof(d.bitcoin, txid, nodeHash);
    evidence.merkleBranch = (proof.merkleProof.length - 2) / 64;
    const proven = (await d.lightClient.verifyTx(proof, confirmations)) as string;
    evidence.spvVerified = proven.toLowerCase() === displayToInternal(txid).toLowerCase();
    if (evidence.spvVerified !== true) err("spv-mismatch", `verifyTx proved ${internalToDisplay(proven)}, not ${txid}`);
  } catch (e) {
    evidence.spvVerified = false;
    err("spv-rejected", `the light client rejected the SPV proof of ${txid} in ${nodeHash}: ${errorMessage(e)}`);
  }
}
