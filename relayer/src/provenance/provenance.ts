/**
 * The provenance of one minted deposit: finds it (deposit.ts), then checks its four links in order: the Bitcoin
 * lock, the tunnel's order, the EVM block and its keystone, the PoP anchoring (one module each).
 */
import { checkAnchors } from "../pop/anchorCheck";
import { checkBitcoinLink } from "./bitcoinLink";
import { findDeposit, type ProvenanceQuery } from "./deposit";
import { checkKeystoneLink } from "./keystoneLink";
import { checkOrderLink } from "./orderLink";
import { checkPopLink } from "./popLink";
import type { ProvenanceDeps, ProvenanceReport } from "./types";

export async function provenance(d: ProvenanceDeps, q: ProvenanceQuery): Promise<ProvenanceReport> {
  const { deposit, all } = await findDeposit(d, q);
  const anchors = await checkAnchors({
    provider: d.provider,
    ledger: d.ledger,
    verifier: d.verifier,
    lc: d.lc,
    index: d.index,
    bitcoinFromHeight: d.bitcoinFromHeight,
    evmFromBlock: d.evmFromBlock,
  });
  const bitcoin = await checkBitcoinLink(d, deposit);
  const order = await checkOrderLink(d, deposit, all);
  const ks = await checkKeystoneLink(d, deposit, anchors);
  const pop = await checkPopLink(d, deposit, ks.covering);
  const links = [bitcoin, order, ks.link, pop];
  const status = links.some((l) => l.status === "fail")
    ? "failed"
    : links.some((l) => l.status === "pending")
      ? "pending"
      : pop.evidence.superfinal === true
        ? "superfinal"
        : "anchored";
  return { status, checkedAt: new Date().toISOString(), deposit, links };
}

/** The CLI's exit code for a report: 1 when a link fails, else 0 (pending included: the report says so). */
export function exitCodeOf(r: ProvenanceReport): number {
  return r.status === "failed" ? 1 : 0;
}
