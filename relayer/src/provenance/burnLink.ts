/**
 * Withdrawal link 1, the burn: the request transaction is in the EVM node's chain at the block its event names; its
 * receipt holds the tunnel's WithdrawalRequested of this id and hemiBTC's Transfer of the same amount from the
 * requester to the zero address (the burn, in that same transaction); the terms the event gives (vault, requester,
 * amount, fee, deadline, destination script) agree with the tunnel's `withdrawal(id)` record. Also reads the vault's
 * custody script (VaultCreated) for the payout link.
 */
import { Interface, ZeroAddress, keccak256, type EventLog, type Log } from "ethers";
import { HEMI_BTC_ABI, type WithdrawalStructOutput } from "../evm/tunnelAbi";
import { findings, link, type ProvenanceDeps, type ProvenanceLink, type WithdrawalSubject } from "./types";

const TITLE = "Burn on the EVM chain";
const TOKEN = new Interface(HEMI_BTC_ABI);

export async function checkBurnLink(
  d: ProvenanceDeps,
  w: WithdrawalSubject,
): Promise<{ link: ProvenanceLink; custodyScript: string | undefined }> {
  const { issues, err } = findings();
  const tokenAddress = (await d.tunnel.token()) as string;
  const [receipt, block, view, created] = await Promise.all([
    d.provider.getTransactionReceipt(w.requestTxHash),
    d.provider.getBlock(w.requestBlock),
    d.tunnel.withdrawal(w.id) as Promise<WithdrawalStructOutput>,
    d.tunnel.queryFilter(d.tunnel.filters.VaultCreated(w.vaultId), d.evmFromBlock, "latest") as Promise<
      (EventLog | Log)[]
    >,
  ]);
  const custody =
    created[0] === undefined
      ? undefined
      : (d.tunnel.interface.parseLog(created[0])?.args.custodyScript as string | undefined);
  const custodyScript = custody?.slice(2).toLowerCase();
  const evidence: ProvenanceLink["evidence"] = {
    requestTx: w.requestTxHash,
    evmBlock: w.requestBlock,
    evmBlockHash: block?.hash ?? null,
    requester: w.requester,
    vault: w.vaultId,
    destination: w.btcAddress ?? `script ${w.btcScript}`,
    destinationScript: w.btcScript,
    sats: w.sats,
    fee: w.fee,
    payoutOwed: w.payout,
    requiredConfirmations: w.confirmations,
    deadline: new Date(w.deadline * 1000).toISOString(),
    state: w.state,
  };
  if (receipt === null || block === null || receipt.blockHash !== block.hash) {
    err(
      "request-reorganised",
      `the request transaction ${w.requestTxHash} is not in EVM block ${w.requestBlock} of the node's chain any more`,
    );
    return { link: link("burn", TITLE, evidence, issues), custodyScript };
  }
  const tunnel = (await d.tunnel.getAddress()).toLowerCase();
  const requested = receipt.logs
    .filter((l) => l.address.toLowerCase() === tunnel)
    .map((l) => d.tunnel.interface.parseLog({ topics: [...l.topics], data: l.data }))
    .find((p) => p?.name === "WithdrawalRequested" && (p.args.id as bigint).toString() === w.id);
  if (requested === undefined || requested === null)
    err("request-event-missing", `transaction ${w.requestTxHash} emitted no WithdrawalRequested for id ${w.id}`);
  // The record the tunnel keeps, against the event.
  const mismatches: string[] = [];
  const same = (field: string, record: unknown, event: unknown): void => {
    if (String(record).toLowerCase() !== String(event).toLowerCase())
      mismatches.push(`${field}: record ${String(record)}, event ${String(event)}`);
  };
  same("requester", view.requester, w.requester);
  same("vault", Number(view.vaultId), w.vaultId);
  same("sats", view.sats, w.sats);
  same("fee", view.fee, w.fee);
  same("deadline", Number(view.deadline), w.deadline);
  same("destination script hash", view.btcScriptHash, keccak256("0x" + w.btcScript).slice(0, 34));
  if (mismatches.length > 0)
    err("terms-mismatch", `the tunnel's withdrawal(${w.id}) disagrees with its event: ${mismatches.join("; ")}`);
  // The burn: hemiBTC's Transfer from the requester to the zero address in the same transaction.
  const burns = receipt.logs
    .filter((l) => l.address.toLowerCase() === tokenAddress.toLowerCase())
    .map((l) => TOKEN.parseLog({ topics: [...l.topics], data: l.data }))
    .filter((p) => p?.name === "Transfer" && p.args.to === ZeroAddress)
    .map((p) => ({ from: p?.args.from as string, value: p?.args.value as bigint }));
  evidence.burned = burns.length === 0 ? null : burns.map((b) => `${b.value} hemiBTC units from ${b.from}`).join(", ");
  evidence.token = tokenAddress;
  if (burns.length === 0)
    err("burn-missing", `transaction ${w.requestTxHash} burned no hemiBTC (no Transfer to the zero address)`);
  else if (!burns.some((b) => b.value.toString() === w.sats && b.from.toLowerCase() === w.requester.toLowerCase()))
    err(
      "burn-amount-mismatch",
      `the withdrawal is for ${w.sats} sats from ${w.requester}, the transaction burned ${String(evidence.burned)}`,
    );
  evidence.vaultCustody = custodyScript ?? null;
  if (custodyScript === undefined) err("vault-unknown", `no VaultCreated event for vault ${w.vaultId}`);
  if (w.state === "Pending") {
    const head = await d.provider.getBlock("latest");
    if (head !== null && head.timestamp > w.deadline)
      issues.push({
        severity: "note",
        kind: "deadline-passed",
        message: `the EVM clock is past the deadline ${String(evidence.deadline)}: anyone may challenge the withdrawal`,
      });
  }
  return { link: link("burn", TITLE, evidence, issues), custodyScript };
}
