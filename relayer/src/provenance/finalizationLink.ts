/**
 * Withdrawal link 3, the finalization: the tunnel's record says Finalized (not Pending, not Challenged); the
 * finalizing transaction is in the EVM node's chain at the block its event names; its WithdrawalFinalized event is
 * for this id and paid sats - fee; the SPV proof it gave finalizeWithdrawal (decoded from its calldata) is of the
 * payout the event names (double SHA-256 of the raw transaction) in the block the payout link found on the node.
 */
import { sha256 } from "ethers";
import { internalToDisplay } from "../bitcoin/byteOrder";
import { findings, link, type ProvenanceDeps, type ProvenanceLink, type WithdrawalSubject } from "./types";

const TITLE = "Finalization";
const hash256 = (hex: string): string => internalToDisplay(sha256(sha256(hex)));

export async function checkFinalizationLink(
  d: ProvenanceDeps,
  w: WithdrawalSubject,
  payout: { txid: string; height: number; blockHash: string } | undefined,
): Promise<ProvenanceLink> {
  const { issues, err } = findings();
  const evidence: ProvenanceLink["evidence"] = { state: w.state };
  if (w.state === "Pending") {
    issues.push({
      severity: "note",
      kind: "not-finalized",
      message: `the payout is not proven to the tunnel yet (challengeable after ${new Date(w.deadline * 1000).toISOString()})`,
    });
    return link("finalization", TITLE, evidence, issues, true);
  }
  if (w.state === "Challenged") {
    evidence.challengeTx = w.challengeTxHash;
    err(
      "withdrawal-challenged",
      `withdrawal ${w.id} was challenged${w.challengeTxHash === null ? "" : ` in ${w.challengeTxHash}`}: no payout was proven before its deadline; the requester was paid from the vault's collateral instead`,
    );
    return link("finalization", TITLE, evidence, issues);
  }
  Object.assign(evidence, { finalizeTx: w.finalizeTxHash, evmBlock: w.finalizeBlock, payoutTxid: w.payoutTxid });
  if (w.finalizeTxHash === null || w.finalizeBlock === null) {
    err("finalize-event-missing", `the tunnel says Finalized, but no WithdrawalFinalized event of ${w.id} is found`);
    return link("finalization", TITLE, evidence, issues);
  }
  const [receipt, block, tx] = await Promise.all([
    d.provider.getTransactionReceipt(w.finalizeTxHash),
    d.provider.getBlock(w.finalizeBlock),
    d.provider.getTransaction(w.finalizeTxHash),
  ]);
  evidence.evmBlockHash = block?.hash ?? null;
  if (receipt === null || block === null || tx === null || receipt.blockHash !== block.hash) {
    err(
      "finalize-reorganised",
      `the finalizing transaction ${w.finalizeTxHash} is not in EVM block ${w.finalizeBlock} of the node's chain any more`,
    );
    return link("finalization", TITLE, evidence, issues);
  }
  const tunnel = (await d.tunnel.getAddress()).toLowerCase();
  const event = receipt.logs
    .filter((l) => l.address.toLowerCase() === tunnel)
    .map((l) => d.tunnel.interface.parseLog({ topics: [...l.topics], data: l.data }))
    .find((p) => p?.name === "WithdrawalFinalized" && (p.args.id as bigint).toString() === w.id);
  if (event === undefined || event === null) {
    err("finalize-event-missing", `transaction ${w.finalizeTxHash} emitted no WithdrawalFinalized for ${w.id}`);
    return link("finalization", TITLE, evidence, issues);
  }
  evidence.paid = (event.args.paid as bigint).toString();
  if (evidence.paid !== w.payout)
    err("paid-mismatch", `the event says ${String(evidence.paid)} sats paid, the withdrawal owes ${w.payout}`);
  // The proof the finalizing call carried.
  const call = tx.to?.toLowerCase() === tunnel ? d.tunnel.interface.parseTransaction({ data: tx.data }) : null;
  if (call === null || call.name !== "finalizeWithdrawal") {
    issues.push({
      severity: "note",
      kind: "calldata-unread",
      message: `transaction ${w.finalizeTxHash} is not a direct finalizeWithdrawal call: its proof is not re-read`,
    });
  } else {
    const proof = call.args.proof as { rawTx: string; blockHeight: bigint; blockHeader: string };
    const proven = hash256(proof.rawTx);
    evidence.provenTxid = proven;
    evidence.proofBlock = `${hash256(proof.blockHeader)} at height ${proof.blockHeight}`;
    if (proven !== w.payoutTxid)
      err("proof-mismatch", `finalizeWithdrawal proved transaction ${proven}, the event names ${String(w.payoutTxid)}`);
    if (
      payout !== undefined &&
      (Number(proof.blockHeight) !== payout.height || hash256(proof.blockHeader) !== payout.blockHash)
    )
      err(
        "proof-block-mismatch",
        `the proof was in block ${String(evidence.proofBlock)}, the node has the payout in ${payout.blockHash} at height ${payout.height}`,
      );
  }
  return link("finalization", TITLE, evidence, issues);
}
