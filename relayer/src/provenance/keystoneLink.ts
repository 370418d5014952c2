/**
 * Link 3, the EVM block and its keystone: the anchored transaction (a deposit's mint, a withdrawal's finalization)
 * is still in the EVM node's chain at the block the event names; the keystone covering that block (the next multiple of the ledger's interval) is rebuilt from
 * the EVM node's block data (keystone.ts) and its id compared with the ledger's record; keystones of that height
 * published on Bitcoin are checked against the EVM chain too (anchorCheck.ts), so a rewritten EVM history is seen
 * even when the ledger was rewound with it.
 */
import type { AnchorReport } from "../pop/anchorCheck";
import { coveringKeystone, decodeKeystone, encodeKeystone, keystoneAtBlock, keystoneIdHex } from "../pop/keystone";
import { findings, link, MINT, type AnchoredTx, type ProvenanceDeps, type ProvenanceLink } from "./types";

/** The keystone that covers the anchored transaction's block, as the ledger holds it. */
export interface CoveringKeystone {
  number: number;
  interval: number;
  firstKeystone: number;
  lastKeystone: number;
  /** Recorded in the ledger and matching the EVM chain. */
  recorded: boolean;
}

export async function checkKeystoneLink(
  d: ProvenanceDeps,
  tx: AnchoredTx,
  anchors: AnchorReport,
  role = MINT,
): Promise<{ link: ProvenanceLink; covering: CoveringKeystone }> {
  const { issues, err } = findings();
  const [interval, first, last, head] = await Promise.all([
    d.ledger.interval(),
    d.ledger.firstKeystoneNumber(),
    d.ledger.lastKeystoneNumber(),
    d.provider.getBlockNumber(),
  ]);
  const n = coveringKeystone(tx.evmBlock, interval, first === 0 ? interval : first);
  const covering: CoveringKeystone = { number: n, interval, firstKeystone: first, lastKeystone: last, recorded: false };
  const [receipt, block] = await Promise.all([
    d.provider.getTransactionReceipt(tx.evmTxHash),
    d.provider.getBlock(tx.evmBlock),
  ]);
  const evidence: ProvenanceLink["evidence"] = {
    evmTx: tx.evmTxHash,
    evmBlock: tx.evmBlock,
    evmBlockHash: block?.hash ?? null,
    keystone: n,
    interval,
    evmHead: head,
  };
  if (receipt === null || block === null || receipt.blockHash !== block.hash) {
    err(
      role.reorgKind,
      `the ${role.noun} transaction ${tx.evmTxHash} is not in EVM block ${tx.evmBlock} of the node's chain any more`,
    );
  }
  // Keystones of height n published on Bitcoin or recorded, checked against the EVM chain.
  for (const k of anchors.keystones.filter((x) => x.l2BlockNumber === n)) {
    for (const i of k.issues.filter((x) => x.severity === "error"))
      err("keystone-mismatch", `${i.message} [${i.kind}]`);
  }
  const rec = await d.ledger.keystoneAt(n);
  let pending = false;
  if (/^0x0+$/.test(rec.id)) {
    pending = true;
    issues.push({
      severity: "note",
      kind: "keystone-not-recorded",
      message:
        head < n
          ? `the EVM chain is at block ${head}; keystone ${n} covering block ${tx.evmBlock} does not exist yet`
          : `keystone ${n} covering block ${tx.evmBlock} is not recorded in the ledger yet`,
    });
  } else {
    evidence.ledgerId = rec.id;
    evidence.recordedAtBlock = rec.recordedAtBlock;
    const abbrev = (await d.ledger.recordedAbbrevs(d.evmFromBlock, "latest", n)).find(
      (a) => a.id.toLowerCase() === rec.id.toLowerCase(),
    );
    if (abbrev === undefined) {
      err("keystone-event-missing", `no KeystoneRecorded event carries keystone ${rec.id}`);
    } else {
      const recorded = decodeKeystone(abbrev.abbrev);
      evidence.btcHeightField = recorded.btcHeight;
      try {
        const rebuilt = await keystoneAtBlock(d.provider, n, interval, recorded.btcHeight);
        const id = keystoneIdHex(encodeKeystone(rebuilt));
        evidence.recomputedId = id;
        evidence.stateRoot = "0x" + rebuilt.stateRoot.toString("hex");
        if (id.toLowerCase() !== rec.id.toLowerCase())
          err(
            "keystone-mismatch",
            `keystone ${n} rebuilt from the EVM node's blocks ${n} and ${n - interval} has id ${id}, the ledger recorded ${rec.id}`,
          );
        else covering.recorded = true;
      } catch (e) {
        err("keystone-mismatch", `keystone ${n} cannot be rebuilt from the EVM node: ${String(e)}`);
      }
    }
  }
  return { link: link("keystone", "EVM block and keystone", evidence, issues, pending), covering };
}
