/**
 * Link 4, PoP anchoring: the publications of the covering keystone or a later one (at most MAX_DESCENDANTS) that
 * PopVerifier holds, each Bitcoin block checked on the node's best chain and canonical in the light client;
 * BFG's finality recomputed off-chain (finality.ts) from the publications that pass both checks and compared with
 * PopVerifier's on-chain view. Nothing proven yet is pending; publications that were all reorganised away fail.
 */
import { internalToDisplay } from "../bitcoin/byteOrder";
import { keystoneFinality, MAX_DESCENDANTS, type PublicationRecord } from "../pop/finality";
import type { VerifierPublication } from "../pop/popContracts";
import type { CoveringKeystone } from "./keystoneLink";
import { link, type AnchoredTx, type LinkIssue, type ProvenanceDeps, type ProvenanceLink } from "./types";

/** How often a disagreement with PopVerifier is checked again before it counts (see checkPopLink). */
const DISAGREEMENT_ATTEMPTS = 3;
const DISAGREEMENT_RETRY_MS = 250;

/**
 * The link, computed from one consistent reading: the off-chain finality and PopVerifier's on-chain view are read
 * one after the other, so a Bitcoin block or a publication arriving in between makes them differ for a moment on a
 * live chain. A disagreement is therefore read again (DISAGREEMENT_ATTEMPTS times, DISAGREEMENT_RETRY_MS apart) and
 * reported only when it stays.
 */
export async function checkPopLink(d: ProvenanceDeps, tx: AnchoredTx, k: CoveringKeystone): Promise<ProvenanceLink> {
  for (let attempt = 1; ; attempt++) {
    const l = await checkPopLinkOnce(d, tx, k);
    if (attempt >= DISAGREEMENT_ATTEMPTS || !l.issues.some((i) => i.kind === "finality-disagrees")) return l;
    await new Promise((r) => setTimeout(r, DISAGREEMENT_RETRY_MS));
  }
}

async function checkPopLinkOnce(d: ProvenanceDeps, tx: AnchoredTx, k: CoveringKeystone): Promise<ProvenanceLink> {
  const issues: LinkIssue[] = [];
  const evidence: ProvenanceLink["evidence"] = { keystone: k.number };
  if (!k.recorded) {
    issues.push({ severity: "note", kind: "not-anchored", message: `keystone ${k.number} is not recorded (yet)` });
    return link("pop", "PoP anchoring", evidence, issues, true);
  }
  const [best, nodeTip] = await Promise.all([d.lc.bestBlock(), d.bitcoin.getBlockCount()]);
  const pubs = new Map<number, VerifierPublication[]>();
  for (let i = 0; i <= MAX_DESCENDANTS; i++) {
    const n = k.number + i * k.interval;
    if (n > k.lastKeystone) break;
    pubs.set(n, await d.verifier.publications(n));
  }
  const canon = new Map<string, { node: boolean; lc: boolean }>();
  for (const [, ps] of pubs) {
    for (const p of ps) {
      const nodeHash = p.btcHeight <= nodeTip ? await d.bitcoin.getBlockHash(p.btcHeight) : undefined;
      const lcHash = p.btcHeight <= best.height ? await d.lc.blockHashAt(p.btcHeight) : undefined;
      canon.set(p.btcBlockHash.toLowerCase(), {
        node: nodeHash === internalToDisplay(p.btcBlockHash),
        lc: lcHash?.toLowerCase() === p.btcBlockHash.toLowerCase(),
      });
    }
  }
  const isCanonical = (p: PublicationRecord): boolean => {
    const c = canon.get(p.btcBlockHash.toLowerCase());
    return c !== undefined && c.node && c.lc;
  };
  const f = keystoneFinality(k.number, {
    interval: k.interval,
    firstKeystone: k.firstKeystone,
    lastKeystone: k.lastKeystone,
    tipHeight: best.height,
    publicationsOf: (n) =>
      (pubs.get(n) ?? []).map((p) => ({ keystoneNumber: n, btcHeight: p.btcHeight, btcBlockHash: p.btcBlockHash })),
    isCanonical,
  });
  const all = [...pubs.entries()].flatMap(([n, ps]) => ps.map((p) => ({ n, p })));
  const lost = all.filter(
    ({ p }) => !isCanonical({ keystoneNumber: 0, btcHeight: p.btcHeight, btcBlockHash: p.btcBlockHash }),
  );
  evidence.publications = all.length;
  evidence.lightClientTip = best.height;
  evidence.nodeTip = nodeTip;
  if (f.published) {
    const p = all.find((x) => x.n === f.fromKeystone && x.p.btcBlockHash === f.pubBtcBlockHash)?.p;
    evidence.fromKeystone = f.fromKeystone;
    evidence.popTxid = p === undefined ? null : internalToDisplay(p.txid);
    evidence.btcHeight = f.pubBtcHeight;
    evidence.btcBlock = internalToDisplay(f.pubBtcBlockHash ?? "");
    evidence.miner = p?.miner ?? null;
  }
  evidence.effectiveConfirmations = f.effectiveConfirmations;
  evidence.superfinal = f.superfinal;
  for (const { n, p } of lost) {
    const c = canon.get(p.btcBlockHash.toLowerCase());
    issues.push({
      severity: f.published ? "note" : "error",
      kind: "publication-reorganised",
      message:
        `publication ${internalToDisplay(p.txid)} of keystone ${n} in Bitcoin block ${internalToDisplay(p.btcBlockHash)} ` +
        `at height ${p.btcHeight} is ${c?.node === true ? "" : "off the node's best chain"}${c?.node !== true && c?.lc !== true ? " and " : ""}${c?.lc === true ? "" : "not canonical in the light client"}: reorganised away`,
    });
  }
  const onChain = (await d.verifier.contract.finalityDetails(tx.evmBlock)) as {
    published: boolean;
    effectiveConfirmations: bigint;
    superfinal: boolean;
  };
  evidence.onChainConfirmations = Number(onChain.effectiveConfirmations);
  if (onChain.published !== f.published || Number(onChain.effectiveConfirmations) !== f.effectiveConfirmations)
    issues.push({
      severity: "error",
      kind: "finality-disagrees",
      message: `PopVerifier says ${onChain.published ? `${onChain.effectiveConfirmations} confirmations` : "not published"}, the publications checked on the node give ${f.published ? `${f.effectiveConfirmations}` : "not published"}`,
    });
  return link("pop", "PoP anchoring", evidence, issues, all.length === 0);
}
