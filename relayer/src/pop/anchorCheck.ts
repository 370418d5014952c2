/**
 * Checks every anchored keystone against the EVM node and Bitcoin (verify-anchors, and the relayer's continuous
 * check). The keystones come from two places: the ledger's KeystoneRecorded events (what the sequencer recorded)
 * and the HEMI publications on the Bitcoin node's best chain from the light client's anchor up (what Bitcoin holds;
 * this survives a rewrite of the EVM chain, which also rewinds the ledger).
 *
 * For each keystone of this chain it checks, against the EVM node: block n exists, its hash starts with the EP
 * hash, its parent hash with the parent EP hash, its state root is the keystone's, and block n - interval's hash
 * starts with the previous-keystone EP hash. A mismatch is a contradiction: the EVM history no longer matches
 * the anchor (it was rewritten after anchoring), or the sequencer recorded a false state root. On the Bitcoin side,
 * a publication is anchored when its block is on the node's best chain AND canonical in the light client; a
 * publication proven on the EVM (PopVerifier) whose block left the best chain is reported as a warning.
 *
 * A Bitcoin publication belongs to this chain when its EP hash or previous-keystone hash matches a block of the
 * EVM node, or its previous-keystone hash is the EP hash of one of this chain's keystones (the link survives a
 * rewrite that starts after the previous keystone). Others (another chain's keystones on the same Bitcoin node)
 * are counted as foreign and not judged.
 */
import type { JsonRpcProvider } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import type { LightClientReader } from "../evm/lightClient";
import { decodeKeystone, keystoneIdHex, type Keystone } from "./keystone";
import type { KeystoneLedgerClient, PopVerifierClient } from "./popContracts";
import type { PublicationIndex, SeenPublication } from "./publicationIndex";

export type AnchorIssueKind =
  | "evm-block-missing"
  | "evm-hash-mismatch"
  | "evm-parent-mismatch"
  | "state-root-mismatch"
  | "prev-keystone-mismatch"
  | "publication-not-canonical"
  | "light-client-disagrees";

/** One finding; `severity` error is a contradiction (the command exits non-zero). */
export interface AnchorIssue {
  severity: "error" | "warning";
  kind: AnchorIssueKind;
  l2BlockNumber: number;
  /** Keystone id, internal order 0x-hex. */
  keystoneId: string;
  message: string;
}

/** A publication of a keystone as the check saw it. */
export interface AnchorPublication {
  /** Display order. */
  txid: string;
  blockhash: string;
  height: number;
  onNodeBestChain: boolean;
  canonicalInLightClient: boolean;
  /** Proven on the EVM (PopVerifier). */
  proven: boolean;
}

export interface KeystoneCheck {
  l2BlockNumber: number;
  keystoneId: string;
  /** Where the keystone was found. */
  inLedger: boolean;
  onBitcoin: boolean;
  /** Has a publication on the node's best chain that the light client holds as canonical. */
  anchored: boolean;
  publications: AnchorPublication[];
  issues: AnchorIssue[];
}

export interface AnchorReport {
  ok: boolean;
  checkedAt: string;
  evmHead: number;
  bitcoinTip: number;
  lightClientBest: number;
  keystones: KeystoneCheck[];
  /** Publications of other chains' keystones found on Bitcoin (not judged). */
  foreignPublications: number;
  contradictions: AnchorIssue[];
  warnings: AnchorIssue[];
}

export interface AnchorCheckDeps {
  provider: JsonRpcProvider;
  ledger: KeystoneLedgerClient;
  verifier?: PopVerifierClient;
  lc: LightClientReader;
  index: PublicationIndex;
  /** First Bitcoin height scanned for publications (the light client's anchor height + 1). */
  bitcoinFromHeight: number;
  /** First EVM block whose ledger events are read (the deployment block). */
  evmFromBlock: number;
  /** Check only the newest N keystones (the relayer's continuous check); default: all. */
  newest?: number;
}

const prefixOf = (hash: string, bytes: number): string =>
  hash
    .replace(/^0x/, "")
    .toLowerCase()
    .slice(0, bytes * 2);

interface Candidate {
  abbrev: string;
  keystone: Keystone;
  id: string;
  inLedger: boolean;
  seen: SeenPublication[];
}

/** Runs the whole check once. */
export async function checkAnchors(d: AnchorCheckDeps): Promise<AnchorReport> {
  const { provider, ledger, lc } = d;
  const [evmHead, interval, best] = await Promise.all([provider.getBlockNumber(), ledger.interval(), lc.bestBlock()]);
  const recorded = await ledger.recordedAbbrevs(d.evmFromBlock, "latest");
  const { tip, publications } = await d.index.scan(d.bitcoinFromHeight);

  const byAbbrev = new Map<string, Candidate>();
  const candidate = (abbrevHex: string): Candidate | undefined => {
    const abbrev = abbrevHex.replace(/^0x/, "").toLowerCase();
    let c = byAbbrev.get(abbrev);
    if (c === undefined) {
      let keystone: Keystone;
      try {
        keystone = decodeKeystone(abbrev);
      } catch {
        return undefined; // another version or a malformed payload: not a keystone of ours
      }
      c = { abbrev, keystone, id: keystoneIdHex(Buffer.from(abbrev, "hex")), inLedger: false, seen: [] };
      byAbbrev.set(abbrev, c);
    }
    return c;
  };
  for (const r of recorded) {
    const c = candidate(r.abbrev);
    if (c !== undefined) c.inLedger = true;
  }
  for (const p of publications) candidate(p.abbrev)?.seen.push(p);

  const blocks = new Map<number, { hash: string; parentHash: string; stateRoot: string | null } | null>();
  const block = async (n: number): Promise<{ hash: string; parentHash: string; stateRoot: string | null } | null> => {
    if (n < 0 || n > evmHead) return null;
    if (!blocks.has(n)) {
      const b = await provider.getBlock(n);
      blocks.set(
        n,
        b === null || b.hash === null ? null : { hash: b.hash, parentHash: b.parentHash, stateRoot: b.stateRoot },
      );
    }
    return blocks.get(n) ?? null;
  };

  // Which Bitcoin-only keystones are this chain's: linked to the EVM node or to one of this chain's keystones.
  const ours = new Set<Candidate>([...byAbbrev.values()].filter((c) => c.inLedger));
  for (const c of byAbbrev.values()) {
    if (ours.has(c)) continue;
    const n = c.keystone.l2BlockNumber;
    const own = await block(n);
    const prev = await block(n - interval);
    if (
      (own !== null && prefixOf(own.hash, 12) === c.keystone.epHash.toString("hex")) ||
      (prev !== null && prefixOf(prev.hash, 12) === c.keystone.prevKeystoneEPHash.toString("hex"))
    ) {
      ours.add(c);
    }
  }
  for (let grew = true; grew;) {
    grew = false;
    const eps = new Set([...ours].map((c) => `${c.keystone.l2BlockNumber}:${c.keystone.epHash.toString("hex")}`));
    for (const c of byAbbrev.values()) {
      if (ours.has(c)) continue;
      if (eps.has(`${c.keystone.l2BlockNumber - interval}:${c.keystone.prevKeystoneEPHash.toString("hex")}`)) {
        ours.add(c);
        grew = true;
      }
    }
  }
  const foreignPublications = [...byAbbrev.values()].filter((c) => !ours.has(c)).reduce((s, c) => s + c.seen.length, 0);

  const top = Math.max(0, ...[...ours].map((c) => c.keystone.l2BlockNumber));
  const from = d.newest === undefined ? 0 : top - (d.newest - 1) * interval;
  const keystones: KeystoneCheck[] = [];
  for (const c of [...ours]
    .filter((c) => c.keystone.l2BlockNumber >= from)
    .sort((a, b) => a.keystone.l2BlockNumber - b.keystone.l2BlockNumber || (a.inLedger ? -1 : 1))) {
    const k = c.keystone;
    const n = k.l2BlockNumber;
    const issues: AnchorIssue[] = [];
    const where =
      c.seen.length > 0
        ? `published on Bitcoin at height ${c.seen[0].height} (tx ${c.seen[0].txid})`
        : "recorded in the ledger";
    const err = (kind: AnchorIssueKind, message: string): void => {
      issues.push({ severity: "error", kind, l2BlockNumber: n, keystoneId: c.id, message });
    };
    const own = await block(n);
    if (own === null) {
      err(
        "evm-block-missing",
        `keystone ${n} is ${where}, but the EVM node has no block ${n} (head ${evmHead}): the EVM history was rewound after anchoring`,
      );
    } else {
      const ep = k.epHash.toString("hex");
      if (prefixOf(own.hash, 12) !== ep) {
        err(
          "evm-hash-mismatch",
          `keystone ${n} is ${where} with block hash 0x${ep}…, but the EVM node's block ${n} is ${own.hash}: the EVM history was rewritten after anchoring`,
        );
      }
      const parent = k.parentEPHash.toString("hex");
      if (prefixOf(own.parentHash, 11) !== parent) {
        err(
          "evm-parent-mismatch",
          `keystone ${n} (${where}) has parent hash 0x${parent}…, but the EVM node's block ${n} has parent ${own.parentHash}`,
        );
      }
      const root = "0x" + k.stateRoot.toString("hex");
      if (own.stateRoot !== null && own.stateRoot.toLowerCase() !== root) {
        err(
          "state-root-mismatch",
          `keystone ${n} (${where}) attests state root ${root}, but the EVM node's block ${n} has state root ${own.stateRoot}: the sequencer recorded a false state root${prefixOf(own.hash, 12) === k.epHash.toString("hex") ? " (the block hash matches)" : ""}`,
        );
      }
      const prev = await block(n - interval);
      const prevEp = k.prevKeystoneEPHash.toString("hex");
      const expectPrev = prev === null ? "00".repeat(12) : prefixOf(prev.hash, 12);
      if (prevEp !== expectPrev) {
        err(
          "prev-keystone-mismatch",
          `keystone ${n} (${where}) links to previous keystone hash 0x${prevEp}…, but the EVM node's block ${n - interval} is ${prev?.hash ?? "(none)"}`,
        );
      }
    }

    const proven = d.verifier === undefined || !c.inLedger ? [] : await d.verifier.publications(n);
    const provenKeys = new Set(proven.map((p) => `${p.txid.toLowerCase()}:${p.btcBlockHash.toLowerCase()}`));
    const pubs: AnchorPublication[] = [];
    for (const s of c.seen) {
      if (s.blockhash === undefined || s.height === undefined) continue;
      const internalBlock = displayToInternal(s.blockhash).toLowerCase();
      const lcHash = s.height <= best.height ? (await lc.blockHashAt(s.height)).toLowerCase() : undefined;
      const canonicalInLightClient = lcHash === internalBlock;
      if (lcHash !== undefined && !canonicalInLightClient && !/^0x0+$/.test(lcHash)) {
        issues.push({
          severity: "warning",
          kind: "light-client-disagrees",
          l2BlockNumber: n,
          keystoneId: c.id,
          message: `publication ${s.txid} of keystone ${n} is in block ${s.blockhash} at Bitcoin height ${s.height} of the node's best chain, but the light client holds another block there`,
        });
      }
      pubs.push({
        txid: s.txid,
        blockhash: s.blockhash,
        height: s.height,
        onNodeBestChain: true,
        canonicalInLightClient,
        proven: provenKeys.has(`${displayToInternal(s.txid).toLowerCase()}:${internalBlock}`),
      });
    }
    const onNode = new Set(
      pubs.map((p) => `${displayToInternal(p.txid).toLowerCase()}:${displayToInternal(p.blockhash).toLowerCase()}`),
    );
    for (const p of proven) {
      const key = `${p.txid.toLowerCase()}:${p.btcBlockHash.toLowerCase()}`;
      if (onNode.has(key) || p.btcHeight < d.bitcoinFromHeight) continue;
      pubs.push({
        txid: internalToDisplay(p.txid),
        blockhash: internalToDisplay(p.btcBlockHash),
        height: p.btcHeight,
        onNodeBestChain: false,
        canonicalInLightClient: (await lc.blockHashAt(p.btcHeight)).toLowerCase() === p.btcBlockHash.toLowerCase(),
        proven: true,
      });
      issues.push({
        severity: "warning",
        kind: "publication-not-canonical",
        l2BlockNumber: n,
        keystoneId: c.id,
        message: `publication ${internalToDisplay(p.txid)} of keystone ${n}, proven in Bitcoin block ${internalToDisplay(p.btcBlockHash)} at height ${p.btcHeight}, is no longer on the Bitcoin node's best chain (reorg): it does not anchor the keystone until published again`,
      });
    }
    keystones.push({
      l2BlockNumber: n,
      keystoneId: c.id,
      inLedger: c.inLedger,
      onBitcoin: c.seen.length > 0,
      anchored: pubs.some((p) => p.onNodeBestChain && p.canonicalInLightClient),
      publications: pubs,
      issues,
    });
  }
  const all = keystones.flatMap((k) => k.issues);
  const contradictions = all.filter((i) => i.severity === "error");
  return {
    ok: contradictions.length === 0,
    checkedAt: new Date().toISOString(),
    evmHead,
    bitcoinTip: tip,
    lightClientBest: best.height,
    keystones,
    foreignPublications,
    contradictions,
    warnings: all.filter((i) => i.severity === "warning"),
  };
}
