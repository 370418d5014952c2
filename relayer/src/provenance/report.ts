/** The terminal form of a provenance report: one block per link, ✔ / ✘ / … with its evidence and findings. */
import type { ProvenanceLink, ProvenanceReport, WithdrawalProvenanceReport } from "./types";

const MARK = { pass: "✔", fail: "✘", pending: "…" } as const;

function linkLines(links: readonly ProvenanceLink[]): string[] {
  const lines: string[] = [];
  for (const l of links) {
    lines.push(
      `${MARK[l.status]} ${l.title}${l.status === "pending" ? " … pending" : l.status === "fail" ? " FAILED" : ""}`,
    );
    for (const [k, v] of Object.entries(l.evidence)) lines.push(`    ${k.padEnd(22)} ${v === null ? "-" : String(v)}`);
    for (const i of l.issues) lines.push(`    ${i.severity === "error" ? "✘" : "note"} ${i.kind}: ${i.message}`);
  }
  return lines;
}

function verdict(r: ProvenanceReport | WithdrawalProvenanceReport, pending: string): string {
  return r.status === "failed"
    ? `provenance: FAILED (${r.links
        .filter((l) => l.status === "fail")
        .flatMap((l) => l.issues.filter((i) => i.severity === "error").map((i) => i.kind))
        .join(", ")})`
    : r.status === "pending"
      ? `provenance: pending (every check so far passes; ${pending})`
      : `provenance: OK, ${r.status}`;
}

export function formatProvenance(r: ProvenanceReport): string {
  const d = r.deposit;
  return [
    `Provenance of deposit ${d.txid}:${d.vout} (sequence ${d.sequence}, minted in EVM tx ${d.evmTxHash})`,
    "",
    ...linkLines(r.links),
    "",
    verdict(r, "the minting block is not anchored in Bitcoin yet"),
  ].join("\n");
}

export function formatWithdrawalProvenance(r: WithdrawalProvenanceReport): string {
  const w = r.withdrawal;
  const waits = r.links.filter((l) => l.status === "pending").map((l) => l.name);
  return [
    `Provenance of withdrawal ${w.id} (${w.sats} sats burned in EVM tx ${w.requestTxHash}, ${w.payout} owed to ${w.btcAddress ?? w.btcScript})`,
    "",
    ...linkLines(r.links),
    "",
    verdict(
      r,
      waits.includes("payout")
        ? "not paid on Bitcoin with its confirmations yet"
        : waits.includes("finalization")
          ? "the payout is not proven to the tunnel yet"
          : "the finalizing block is not anchored in Bitcoin yet",
    ),
  ].join("\n");
}
