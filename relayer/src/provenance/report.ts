/** The terminal form of a provenance report: one block per link, ✔ / ✘ / … with its evidence and findings. */
import type { ProvenanceReport } from "./types";

const MARK = { pass: "✔", fail: "✘", pending: "…" } as const;

export function formatProvenance(r: ProvenanceReport): string {
  const d = r.deposit;
  const lines = [
    `Provenance of deposit ${d.txid}:${d.vout} (sequence ${d.sequence}, minted in EVM tx ${d.evmTxHash})`,
    "",
  ];
  for (const l of r.links) {
    lines.push(
      `${MARK[l.status]} ${l.title}${l.status === "pending" ? " … pending" : l.status === "fail" ? " FAILED" : ""}`,
    );
    for (const [k, v] of Object.entries(l.evidence)) lines.push(`    ${k.padEnd(22)} ${v === null ? "-" : String(v)}`);
    for (const i of l.issues) lines.push(`    ${i.severity === "error" ? "✘" : "note"} ${i.kind}: ${i.message}`);
  }
  lines.push(
    "",
    r.status === "failed"
      ? `provenance: FAILED (${r.links
          .filter((l) => l.status === "fail")
          .flatMap((l) => l.issues.filter((i) => i.severity === "error").map((i) => i.kind))
          .join(", ")})`
      : r.status === "pending"
        ? "provenance: pending (every check so far passes; the minting block is not anchored in Bitcoin yet)"
        : `provenance: OK, ${r.status}`,
  );
  return lines.join("\n");
}
