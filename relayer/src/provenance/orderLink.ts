/**
 * Link 2, the tunnel's order: the deposit's sequence and Bitcoin position as the tunnel recorded them
 * (depositRecord), the deposits minted just before and after it, and whether it came in Bitcoin order,
 * recomputed from every earlier deposit's position and compared with the record.
 */
import { displayToInternal } from "../bitcoin/byteOrder";
import { depositRecord, findings, link, type MintedDeposit, type ProvenanceDeps, type ProvenanceLink } from "./types";

type Position = [number, number, number];
const after = (a: Position, b: Position): boolean =>
  a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];
const fmt = (p: Position): string => `${p[0]}/${p[1]}/${p[2]}`;

export async function checkOrderLink(
  d: ProvenanceDeps,
  dep: MintedDeposit,
  all: readonly MintedDeposit[],
): Promise<ProvenanceLink> {
  const { issues, err } = findings();
  const earlier = all.filter((x) => x.sequence < dep.sequence);
  const positions = new Map<number, Position>();
  for (const x of [...earlier, dep]) {
    const r = await depositRecord(d.tunnel, displayToInternal(x.txid), x.vout);
    positions.set(x.sequence, [r.blockHeight, r.txIndex, x.vout]);
    if (x === dep) {
      if (r.sequence !== dep.sequence)
        err("sequence-mismatch", `the event says sequence ${dep.sequence}, depositRecord says ${r.sequence}`);
      const expected = earlier.every((e) =>
        after([r.blockHeight, r.txIndex, x.vout], positions.get(e.sequence) ?? [0, 0, 0]),
      );
      if (expected !== r.inBitcoinOrder)
        err(
          "order-mismatch",
          `the tunnel recorded inBitcoinOrder=${r.inBitcoinOrder}, but the positions of the ${earlier.length} earlier deposit(s) give ${expected}`,
        );
    }
  }
  const own = positions.get(dep.sequence) ?? [0, 0, 0];
  const prev = all.find((x) => x.sequence === dep.sequence - 1);
  const next = all.find((x) => x.sequence === dep.sequence + 1);
  if (dep.sequence > 1 && prev === undefined)
    err("sequence-gap", `no DepositConfirmed event for sequence ${dep.sequence - 1}`);
  const rec = await depositRecord(d.tunnel, displayToInternal(dep.txid), dep.vout);
  const evidence: ProvenanceLink["evidence"] = {
    sequence: dep.sequence,
    position: fmt(own),
    inBitcoinOrder: rec.inBitcoinOrder,
    vaultId: rec.vaultId,
    minted: `${dep.minted} of ${dep.sats} sats to ${dep.recipient}`,
    previous:
      prev === undefined
        ? null
        : `#${prev.sequence} ${prev.txid}:${prev.vout} at ${fmt(positions.get(prev.sequence) ?? [0, 0, 0])}`,
    next: next === undefined ? null : `#${next.sequence} ${next.txid}:${next.vout}`,
    depositsMinted: all.length,
  };
  if (!rec.inBitcoinOrder)
    issues.push({ severity: "note", kind: "out-of-order", message: "minted after a deposit further along Bitcoin" });
  return link("order", "Tunnel order", evidence, issues);
}
