/**
 * BFG's finality rule (HEMI-FACTS.md §3.4, §7), computed off-chain from publications, exactly as
 * PopVerifier computes it on chain: for the keystone covering a block, effective confirmations = Bitcoin tip
 * height - height of the first canonical publication (no +1), the best value among the keystone and at most
 * MAX_DESCENDANTS later recorded keystones, the scan stopping once ULTRA_FINALITY_DEPTH is reached; superfinal
 * at >= SUPERFINALITY_DEPTH.
 */
import { coveringKeystone } from "./keystone";

/** BFG's superfinality threshold. */
export const SUPERFINALITY_DEPTH = 10;
/** BFG's ultra-finality depth (stops the scan of later keystones). */
export const ULTRA_FINALITY_DEPTH = 20;
/** Later keystones scanned (BFG's batch of descendants). */
export const MAX_DESCENDANTS = 10;

/** One publication of a keystone on Bitcoin. */
export interface PublicationRecord {
  keystoneNumber: number;
  btcHeight: number;
  /** The block it was proven in (any consistent byte order). */
  btcBlockHash: string;
}

/** The finality of a keystone (the fields of PopVerifier.Finality). */
export interface KeystoneFinality {
  keystoneNumber: number;
  recorded: boolean;
  published: boolean;
  /** The keystone whose publication gives the best value (0 when not published). */
  fromKeystone: number;
  pubBtcHeight: number;
  pubBtcBlockHash: string | undefined;
  btcTipHeight: number;
  effectiveConfirmations: number;
  superfinal: boolean;
}

/** What the rule reads: the ledger's interval and range, the Bitcoin tip, publications and canonicality. */
export interface FinalitySource {
  interval: number;
  firstKeystone: number;
  /** The last recorded keystone (0 when none). */
  lastKeystone: number;
  tipHeight: number;
  publicationsOf(keystoneNumber: number): readonly PublicationRecord[];
  isCanonical(p: PublicationRecord): boolean;
}

/** The first (lowest) canonical publication among `pubs`, or undefined. */
export function firstCanonicalPublication(
  pubs: readonly PublicationRecord[],
  isCanonical: (p: PublicationRecord) => boolean,
): PublicationRecord | undefined {
  let best: PublicationRecord | undefined;
  for (const p of pubs) if ((best === undefined || p.btcHeight < best.btcHeight) && isCanonical(p)) best = p;
  return best;
}

/** BFG's finality of keystone `keystoneNumber`. */
export function keystoneFinality(keystoneNumber: number, src: FinalitySource): KeystoneFinality {
  const f: KeystoneFinality = {
    keystoneNumber,
    recorded: false,
    published: false,
    fromKeystone: 0,
    pubBtcHeight: 0,
    pubBtcBlockHash: undefined,
    btcTipHeight: src.tipHeight,
    effectiveConfirmations: 0,
    superfinal: false,
  };
  if (src.lastKeystone === 0 || keystoneNumber > src.lastKeystone || keystoneNumber < src.firstKeystone) return f;
  f.recorded = true;
  for (let i = 0; i <= MAX_DESCENDANTS; i++) {
    const k = keystoneNumber + i * src.interval;
    if (k > src.lastKeystone) break;
    const p = firstCanonicalPublication(src.publicationsOf(k), (x) => src.isCanonical(x));
    if (p === undefined || (f.published && p.btcHeight >= f.pubBtcHeight)) continue;
    if (p.btcHeight > src.tipHeight)
      throw new Error(`publication at ${p.btcHeight} is above the Bitcoin tip ${src.tipHeight}`);
    f.published = true;
    f.fromKeystone = k;
    f.pubBtcHeight = p.btcHeight;
    f.pubBtcBlockHash = p.btcBlockHash;
    f.effectiveConfirmations = src.tipHeight - p.btcHeight;
    if (f.effectiveConfirmations >= ULTRA_FINALITY_DEPTH) break;
  }
  f.superfinal = f.published && f.effectiveConfirmations >= SUPERFINALITY_DEPTH;
  return f;
}

/** BFG's finality of EVM block `l2BlockNumber`, through the keystone covering it. */
export function blockFinality(l2BlockNumber: number, src: FinalitySource): KeystoneFinality {
  return keystoneFinality(coveringKeystone(l2BlockNumber, src.interval, src.firstKeystone), src);
}
