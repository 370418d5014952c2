/**
 * The provenance of one minted deposit: finds it (deposit.ts), then checks its four links in order: the Bitcoin
 * lock, the tunnel's order, the EVM block and its keystone, the PoP anchoring (one module each). The provenance of
 * one withdrawal (withdrawalProvenance): the burn, the payout on Bitcoin, the finalization, then the keystone and
 * PoP links of the finalizing transaction's EVM block.
 */
import { checkAnchors, type AnchorReport } from "../pop/anchorCheck";
import { checkBitcoinLink } from "./bitcoinLink";
import { checkBurnLink } from "./burnLink";
import { findDeposit, NotMintedError, type ProvenanceQuery } from "./deposit";
import { checkFinalizationLink } from "./finalizationLink";
import { checkKeystoneLink } from "./keystoneLink";
import { checkOrderLink } from "./orderLink";
import { checkPayoutLink } from "./payoutLink";
import { checkPopLink } from "./popLink";
import {
  FINALIZE,
  link,
  type ProvenanceDeps,
  type ProvenanceLink,
  type ProvenanceReport,
  type WithdrawalProvenanceReport,
} from "./types";
import { findWithdrawal, NoSuchWithdrawalError, withdrawalOfEvmTx, withdrawalOfPayout } from "./withdrawal";

function anchorsOf(d: ProvenanceDeps): Promise<AnchorReport> {
  return checkAnchors({
    provider: d.provider,
    ledger: d.ledger,
    verifier: d.verifier,
    lc: d.lc,
    index: d.index,
    bitcoinFromHeight: d.bitcoinFromHeight,
    evmFromBlock: d.evmFromBlock,
  });
}

/** failed when a link fails, pending when one is pending, else superfinal or anchored by the PoP link. */
function statusOf(links: readonly ProvenanceLink[]): ProvenanceReport["status"] {
  const pop = links.find((l) => l.name === "pop");
  return links.some((l) => l.status === "fail")
    ? "failed"
    : links.some((l) => l.status === "pending")
      ? "pending"
      : pop?.evidence.superfinal === true
        ? "superfinal"
        : "anchored";
}

export async function provenance(d: ProvenanceDeps, q: ProvenanceQuery): Promise<ProvenanceReport> {
  const { deposit, all } = await findDeposit(d, q);
  const anchors = await anchorsOf(d);
  const bitcoin = await checkBitcoinLink(d, deposit);
  const order = await checkOrderLink(d, deposit, all);
  const ks = await checkKeystoneLink(d, deposit, anchors);
  const pop = await checkPopLink(d, deposit, ks.covering);
  const links = [bitcoin, order, ks.link, pop];
  return { status: statusOf(links), checkedAt: new Date().toISOString(), deposit, links };
}

/**
 * The provenance of withdrawal `id`: the burn, the payout on Bitcoin, the finalization, and the keystone and PoP
 * anchoring of the finalizing transaction's EVM block (pending until it is finalized). NoSuchWithdrawalError when
 * the tunnel has no withdrawal of that id.
 */
export async function withdrawalProvenance(d: ProvenanceDeps, id: bigint): Promise<WithdrawalProvenanceReport> {
  const w = await findWithdrawal(d, id);
  const burn = await checkBurnLink(d, w);
  const payout = await checkPayoutLink(d, w, burn.custodyScript);
  const finalization = await checkFinalizationLink(d, w, payout.payout);
  const links = [burn.link, payout.link, finalization];
  if (w.finalizeTxHash !== null && w.finalizeBlock !== null) {
    const tx = { evmTxHash: w.finalizeTxHash, evmBlock: w.finalizeBlock };
    const ks = await checkKeystoneLink(d, tx, await anchorsOf(d), FINALIZE);
    links.push(ks.link, await checkPopLink(d, tx, ks.covering));
  } else {
    const note = {
      severity: "note" as const,
      kind: "not-finalized",
      message: "anchors the finalizing transaction's EVM block: waits for the finalization",
    };
    links.push(
      link("keystone", "EVM block and keystone", {}, [note], true),
      link("pop", "PoP anchoring", {}, [note], true),
    );
  }
  return {
    subject: "withdrawal",
    status: statusOf(links),
    checkedAt: new Date().toISOString(),
    withdrawal: w,
    links,
  };
}

/**
 * The withdrawal an EVM transaction hash or a Bitcoin txid names, for a query that matched no minted deposit: the
 * EVM transaction that requested or finalized it, the Bitcoin transaction that paid it. NoSuchWithdrawalError
 * (with what was looked for) when none does.
 */
export async function withdrawalOfQuery(d: ProvenanceDeps, q: ProvenanceQuery, why: NotMintedError): Promise<bigint> {
  const id =
    q.kind === "evmTx"
      ? await withdrawalOfEvmTx(d, q.hash)
      : q.kind === "outpoint" && q.vout === undefined
        ? await withdrawalOfPayout(d, q.txid)
        : undefined;
  if (id !== undefined) return id;
  if (q.kind === "evmTx")
    throw new NoSuchWithdrawalError(`${why.message}; and it neither requested nor finalized a withdrawal`);
  if (q.kind === "outpoint" && q.vout === undefined)
    throw new NoSuchWithdrawalError(`${why.message}; and it is no withdrawal's payout`);
  throw why;
}

/**
 * The report a query names: the minted deposit it matches, else (an EVM tx hash, a bare Bitcoin txid) the
 * withdrawal it requested, finalized or paid. NotMintedError / NoSuchWithdrawalError when none matches.
 */
export async function provenanceOf(
  d: ProvenanceDeps,
  q: ProvenanceQuery,
): Promise<ProvenanceReport | WithdrawalProvenanceReport> {
  try {
    return await provenance(d, q);
  } catch (err) {
    if (!(err instanceof NotMintedError)) throw err;
    return withdrawalProvenance(d, await withdrawalOfQuery(d, q, err));
  }
}

/** The CLI's exit code for a report: 1 when a link fails, else 0 (pending included: the report says so). */
export function exitCodeOf(r: ProvenanceReport | WithdrawalProvenanceReport): number {
  return r.status === "failed" ? 1 : 0;
}
