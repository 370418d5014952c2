/**
 * Link 1, the Bitcoin lock: the deposit transaction is in the Bitcoin node's best chain at the height and index
 * the tunnel recorded, the light client holds that block as canonical, and a fresh SPV proof of it (txProof.ts)
 * passes the light client's verifyTx (bitcoinTx.ts, shared with a withdrawal's payout).
 */
import { displayToInternal } from "../bitcoin/byteOrder";
import { checkLightClientAndSpv, txWhereabouts } from "./bitcoinTx";
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
    const now = await txWhereabouts(d, dep.txid);
    err(
      "bitcoin-block-reorganised",
      `the deposit transaction ${dep.txid} was minted from Bitcoin height ${h}, but the node's best chain has block ${nodeHash ?? "(none)"} there without it: the block was reorganised away (the transaction is ${now})`,
    );
    return link("bitcoin", "Bitcoin lock", evidence, issues);
  }
  evidence.confirmations = tip - h + 1;
  if (index !== rec.txIndex)
    err("tx-index-mismatch", `the tunnel recorded index ${rec.txIndex}, the node's block has it at ${index}`);
  await checkLightClientAndSpv(d, dep.txid, h, nodeHash ?? "", 1, evidence, err);
  return link("bitcoin", "Bitcoin lock", evidence, issues);
}
