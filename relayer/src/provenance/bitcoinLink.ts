/**
 * Link 1, the Bitcoin lock: the deposit transaction is in the Bitcoin node's best chain at the height and index
 * the tunnel recorded, the light client holds that block as canonical, and a fresh SPV proof of it (txProof.ts)
 * passes the light client's verifyTx.
 */
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { buildTxProof } from "../bitcoin/txProof";
import { errorMessage } from "../core/logger";
import { depositRecord, findings, link, type MintedDeposit, type ProvenanceDeps, type ProvenanceLink } from "./types";

export async function checkBitcoinLink(d: ProvenanceDeps, dep: MintedDeposit): Promise<ProvenanceLink> {
  const { issues, err } = findings();
  const rec = await depositRecord(d.tunnel, displayToInternal(dep.txid), dep.vout);
  const h = rec.blockHeight;
  const evidence: ProvenanceLink["evidence"] = { txid: dep.txid, vout: dep.vout, height: h, txIndex: rec.txIndex };
  if (rec.sequence === 0) {
    err(
      "record-missing",
      `the tunnel has no record of ${dep.txid}:${dep.vout} (the EVM chain no longer holds the mint)`,
    );
    return link("bitcoin", "Bitcoin lock", evidence, issues);
  }
  const tip = await d.bitcoin.getBlockCount();
  evidence.nodeTip = tip;
  const nodeHash = h <= tip ? await d.bitcoin.getBlockHash(h) : undefined;
  evidence.nodeBlock = nodeHash ?? null;
  const block = nodeHash === undefined ? undefined : await d.bitcoin.getBlock(nodeHash, 1);
  const index = block === undefined ? -1 : block.tx.indexOf(dep.txid);
  if (index < 0) {
    let now = "not in any block of the node";
    try {
      const info = await d.bitcoin.getRawTransaction(dep.txid, true);
      if (info.blockhash !== undefined) {
        const hdr = await d.bitcoin.getBlockHeader(info.blockhash);
        now =
          hdr.confirmations < 0
            ? `only in block ${info.blockhash} at height ${hdr.height}, which is off the best chain`
            : `now in block ${info.blockhash} at height ${hdr.height}`;
      } else now = "back in the mempool";
    } catch {
      // unknown to the node
    }
    err(
      "bitcoin-block-reorganised",
      `the deposit transaction ${dep.txid} was minted from Bitcoin height ${h}, but the node's best chain has block ${nodeHash ?? "(none)"} there without it: the block was reorganised away (the transaction is ${now})`,
    );
    return link("bitcoin", "Bitcoin lock", evidence, issues);
  }
  evidence.confirmations = tip - h + 1;
  if (index !== rec.txIndex)
    err("tx-index-mismatch", `the tunnel recorded index ${rec.txIndex}, the node's block has it at ${index}`);
  const lcHash = await d.lc.blockHashAt(h);
  evidence.lightClientBlock = /^0x0+$/.test(lcHash) ? null : internalToDisplay(lcHash);
  if (lcHash.toLowerCase() !== displayToInternal(nodeHash ?? "").toLowerCase())
    err(
      "light-client-disagrees",
      `the light client holds ${evidence.lightClientBlock ?? "no block"} at height ${h}, the node ${nodeHash ?? ""}`,
    );
  try {
    const proof = await buildTxProof(d.bitcoin, dep.txid, nodeHash);
    evidence.merkleBranch = (proof.merkleProof.length - 2) / 64;
    const proven = (await d.lightClient.verifyTx(proof, 1)) as string;
    evidence.spvVerified = proven.toLowerCase() === displayToInternal(dep.txid).toLowerCase();
    if (evidence.spvVerified !== true)
      err("spv-mismatch", `verifyTx proved ${internalToDisplay(proven)}, not ${dep.txid}`);
  } catch (e) {
    evidence.spvVerified = false;
    err(
      "spv-rejected",
      `the light client rejected the SPV proof of ${dep.txid} in ${nodeHash ?? ""}: ${errorMessage(e)}`,
    );
  }
  return link("bitcoin", "Bitcoin lock", evidence, issues);
}
