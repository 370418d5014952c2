/**
 * Withdrawal link 2, the payout on Bitcoin: the payout transaction (named by WithdrawalFinalized, or found on the
 * node by its OP_RETURN <id> and destination before that, payoutFinder.ts) is in the node's best chain; its outputs
 * are what the tunnel demands (exactly one output paying the destination script sats - fee, exactly one
 * `OP_RETURN 0x08 <id>`, nothing else but change to the vault's custody script); its inputs spend the vault's
 * custody coins (from the node's prevouts); its block has the withdrawal's required confirmations, the light client
 * holds that block and a fresh SPV proof passes verifyTx with those confirmations (bitcoinTx.ts). Not paid, in the
 * mempool or short of confirmations before finalization: pending. Finalized and no longer on the best chain: fails.
 */
import type { DecodedTransaction } from "../bitcoin/rpcTypes";
import { PayoutFinder } from "../roles/withdrawals/payoutFinder";
import { payoutOpReturnHex } from "../sdk/depositTx";
import { checkLightClientAndSpv, txWhereabouts } from "./bitcoinTx";
import { findings, link, type ProvenanceDeps, type ProvenanceLink, type WithdrawalSubject } from "./types";

const TITLE = "Payout on Bitcoin";
/** Bitcoin blocks searched below the light client's best block at the request (a payout cannot be much older). */
const SEARCH_MARGIN = 6;
/** Blocks searched when the EVM node cannot serve the light client's state at the request block. */
const FALLBACK_DEPTH = 1_008;

const sats = (btc: number): bigint => BigInt(Math.round(btc * 1e8));

/** The Bitcoin height from which a payout of `w` can be: the light client's best block when it was requested. */
async function searchFrom(d: ProvenanceDeps, w: WithdrawalSubject, tip: number): Promise<number> {
  try {
    const [, h] = (await d.lightClient.bestBlock({ blockTag: w.requestBlock })) as [string, bigint];
    return Math.max(0, Number(h) - SEARCH_MARGIN);
  } catch {
    return Math.max(0, tip - FALLBACK_DEPTH);
  }
}

/** The tunnel's rule for a payout's outputs (TunnelWithdrawals._checkPayout), checked on the decoded transaction. */
function checkOutputs(
  tx: DecodedTransaction,
  w: WithdrawalSubject,
  custodyScript: string | undefined,
  evidence: ProvenanceLink["evidence"],
  err: (kind: string, message: string) => void,
): void {
  const op = payoutOpReturnHex(BigInt(w.id));
  const opReturns = tx.vout.filter((o) => o.scriptPubKey.hex.toLowerCase().startsWith("6a"));
  const pays = tx.vout.filter((o) => o.scriptPubKey.hex.toLowerCase() === w.btcScript);
  const change = tx.vout.filter(
    (o) => custodyScript !== undefined && o.scriptPubKey.hex.toLowerCase() === custodyScript,
  );
  evidence.opReturn = opReturns.map((o) => o.scriptPubKey.hex).join(", ") || null;
  evidence.paid = pays.length === 1 ? sats(pays[0].value).toString() : null;
  evidence.changeToVault = change.reduce((s, o) => s + sats(o.value), 0n).toString();
  if (opReturns.length !== 1 || opReturns[0].scriptPubKey.hex.toLowerCase() !== op)
    err(
      "payout-id-mismatch",
      `the payout must carry exactly one OP_RETURN ${op} (withdrawal ${w.id}), it carries ${String(evidence.opReturn ?? "none")}`,
    );
  if (pays.length === 0) err("payout-output-missing", `no output pays the destination script ${w.btcScript}`);
  else if (pays.length > 1) err("payout-output-repeated", `${pays.length} outputs pay the destination script`);
  else if (sats(pays[0].value).toString() !== w.payout)
    err(
      "payout-amount-mismatch",
      `the payout pays ${sats(pays[0].value)} sats to the destination, the withdrawal owes ${w.payout} (${w.sats} - fee ${w.fee})`,
    );
  const other = tx.vout.filter((o) => !opReturns.includes(o) && !pays.includes(o) && !change.includes(o));
  if (other.length > 0)
    err(
      "payout-unexpected-output",
      `output(s) ${other.map((o) => o.n).join(", ")} pay neither the destination nor the vault's custody script`,
    );
}

export async function checkPayoutLink(
  d: ProvenanceDeps,
  w: WithdrawalSubject,
  custodyScript: string | undefined,
): Promise<{ link: ProvenanceLink; payout?: { txid: string; height: number; blockHash: string } }> {
  const { issues, err } = findings();
  const finalized = w.state === "Finalized";
  let pending = false;
  const wait = (kind: string, message: string): void => {
    pending = true;
    issues.push({ severity: "note", kind, message });
  };
  const tip = await d.bitcoin.getBlockCount();
  const evidence: ProvenanceLink["evidence"] = {
    payoutTxid: w.payoutTxid,
    destination: w.btcAddress ?? `script ${w.btcScript}`,
    owed: w.payout,
    requiredConfirmations: w.confirmations,
    nodeTip: tip,
  };
  // Locate the payout: the finalized one by its txid (mempool, or any block with a transaction index), else by a
  // search of the mempool and the blocks since the request.
  let txid = w.payoutTxid ?? undefined;
  let tx: DecodedTransaction | undefined;
  let blockHash: string | undefined;
  if (txid !== undefined) {
    try {
      const info = await d.bitcoin.getRawTransaction(txid, true);
      tx = info;
      blockHash = info.blockhash;
    } catch {
      // not in the mempool, and the node has no transaction index (or does not know it): search below
    }
  }
  if (tx === undefined) {
    const from = await searchFrom(d, w, tip);
    const found = await new PayoutFinder(d.bitcoin, tip - from + 1).find(BigInt(w.id), w.btcScript);
    if (found !== undefined && (txid === undefined || found.txid === txid)) {
      txid = found.txid;
      blockHash = found.blockhash;
      tx = await d.bitcoin.decodeRawTransaction(found.hex);
    }
    evidence.searchedFrom = from;
  }
  if (txid === undefined) {
    if (w.state === "Challenged")
      err("not-paid", `withdrawal ${w.id} was challenged: no payout of it is on the node's best chain or mempool`);
    else
      wait(
        "not-paid-yet",
        `no payout of withdrawal ${w.id} (OP_RETURN ${payoutOpReturnHex(BigInt(w.id))} and the destination) in the mempool or in blocks ${String(evidence.searchedFrom)}..${tip}`,
      );
    return { link: link("payout", TITLE, evidence, issues, pending) };
  }
  evidence.payoutTxid = txid;
  if (tx !== undefined) checkOutputs(tx, w, custodyScript, evidence, err);
  // On the node's best chain?
  const hdr = blockHash === undefined ? undefined : await d.bitcoin.getBlockHeader(blockHash);
  if (hdr === undefined || hdr.confirmations < 1 || blockHash === undefined) {
    const where = await txWhereabouts(d, txid);
    if (finalized)
      err(
        "payout-reorganised",
        `the tunnel finalized withdrawal ${w.id} with payout ${txid}, but the node's best chain does not hold it: its block was reorganised away (the transaction is ${where})`,
      );
    else wait("payout-unconfirmed", `the payout ${txid} is not in a block of the best chain yet (${where})`);
    return { link: link("payout", TITLE, evidence, issues, pending) };
  }
  const height = hdr.height;
  const confirmations = tip - height + 1;
  Object.assign(evidence, { height, block: blockHash, confirmations });
  // Its inputs: the vault's custody coins (the node's prevouts of the block).
  const block = await d.bitcoin.getBlock(blockHash, 3);
  const inputs = block.tx.find((t) => t.txid === txid)?.vin ?? [];
  const prevouts = inputs.map((i) => i.prevout?.scriptPubKey.hex.toLowerCase());
  if (custodyScript === undefined || prevouts.length === 0 || prevouts.some((p) => p === undefined)) {
    evidence.vaultInputs = null;
    issues.push({
      severity: "note",
      kind: "inputs-unchecked",
      message: "the node gives no prevouts of the payout's inputs: whose coins it spends is not checked",
    });
  } else {
    const own = prevouts.filter((p) => p === custodyScript).length;
    evidence.vaultInputs = `${own} of ${prevouts.length}`;
    if (own === 0)
      err(
        "payout-not-from-vault",
        `none of the payout's ${prevouts.length} input(s) spends the vault's custody script`,
      );
  }
  if (confirmations < w.confirmations) {
    if (finalized)
      err(
        "payout-confirmations-short",
        `the payout's block has ${confirmations} confirmation(s), the withdrawal needs ${w.confirmations}`,
      );
    else wait("payout-confirming", `${confirmations} of ${w.confirmations} confirmation(s)`);
  }
  const best = await d.lc.bestBlock();
  evidence.lightClientTip = best.height;
  if (!finalized && best.height - height + 1 < w.confirmations) {
    wait(
      "light-client-behind",
      `the light client is at height ${best.height}: the payout's block at ${height} does not have ${w.confirmations} confirmation(s) there yet`,
    );
  } else {
    await checkLightClientAndSpv(d, txid, height, blockHash, w.confirmations, evidence, err);
  }
  return { link: link("payout", TITLE, evidence, issues, pending), payout: { txid, height, blockHash } };
}
