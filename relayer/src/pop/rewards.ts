/**
 * Hemi's V2 PoP scoring (pop-payouts PoPPayoutsV2, HEMI-FACTS.md §3.6), off-chain, as PopRewards pays it: each
 * canonical publication of a keystone scores by its delay in Bitcoin blocks after the keystone's first canonical
 * publication (table below; 9 or more scores nothing) and the pool is split pro rata by score (integer division).
 */

/** Score by delay (index) after the first publication: 100000 / max(delay, 1)^2, as Hemi's table. */
export const PUBLICATION_HEIGHT_SCORES: readonly number[] = [
  100000, 100000, 25000, 11111, 6250, 4000, 2778, 2041, 1563,
];
/** Publications this many blocks (or more) after the first score nothing. */
export const MAX_PUBLICATION_DELAY = 9;
/** Hemi's payout delay in EVM blocks. */
export const DEFAULT_PAYOUT_DELAY = 200;

/** The V2 score of a publication `delay` Bitcoin blocks after the first. */
export function scoreOf(delay: number): number {
  if (!Number.isInteger(delay) || delay < 0) throw new Error(`delay must be a non-negative integer, got ${delay}`);
  return delay < MAX_PUBLICATION_DELAY ? PUBLICATION_HEIGHT_SCORES[delay] : 0;
}

/** One canonical publication to pay. */
export interface PayablePublication {
  miner: string;
  btcHeight: number;
}

/** One publication's share. */
export interface RewardShare {
  miner: string;
  delay: number;
  score: number;
  amount: bigint;
}

/** The V2 split of `pool` among canonical publications (in their order); empty when there are none. */
export function v2Payout(
  pubs: readonly PayablePublication[],
  pool: bigint,
): { totalScore: number; shares: RewardShare[] } {
  if (pubs.length === 0) return { totalScore: 0, shares: [] };
  const first = Math.min(...pubs.map((p) => p.btcHeight));
  const scored = pubs.map((p) => ({ miner: p.miner, delay: p.btcHeight - first, score: scoreOf(p.btcHeight - first) }));
  const totalScore = scored.reduce((s, p) => s + p.score, 0);
  const shares = scored.map((p) => ({ ...p, amount: (pool * BigInt(p.score)) / BigInt(totalScore) }));
  return { totalScore, shares };
}
