/**
 * How the PoP miner prices a transaction (popm's rules): the node's estimatesmartfee for POP_FEE_TARGET blocks,
 * else POP_FALLBACK_FEE_RATE when the node has no estimate (bitcoind answers `errors` until it has seen enough
 * blocks); never above POP_MAX_FEE_RATE (above it the keystone waits), and a replacement (BIP125) pays at least
 * POP_BUMP_PERCENT more and at least 1 sat/vB more than the transaction it replaces.
 */
import type { EstimateSmartFeeResult } from "../../bitcoin/rpcClient";

export interface FeePolicyOptions {
  target: number;
  fallbackRate: number;
  maxRate: number;
  bumpPercent: number;
}

export interface FeeSource {
  estimateSmartFee(confTarget: number): Promise<EstimateSmartFeeResult>;
}

/** A priced rate, where it came from, and whether it is under the cap. */
export interface FeeQuote {
  /** sat/vB, rounded up to 0.001 sat/vB. */
  rate: number;
  source: "estimate" | "fallback";
  allowed: boolean;
}

function roundUp(rate: number): number {
  return Math.ceil(rate * 1000) / 1000;
}

/** The rate for a new PoP transaction. */
export async function quoteFee(node: FeeSource, o: FeePolicyOptions): Promise<FeeQuote> {
  let rate: number | undefined;
  try {
    const est = await node.estimateSmartFee(o.target);
    if (est.feerate !== undefined && est.feerate > 0 && (est.errors === undefined || est.errors.length === 0)) {
      rate = Math.max(1, (est.feerate * 1e8) / 1000); // BTC/kvB -> sat/vB
    }
  } catch {
    // no estimate: the fallback below
  }
  const source = rate === undefined ? "fallback" : "estimate";
  const r = roundUp(rate ?? o.fallbackRate);
  return { rate: r, source, allowed: r <= o.maxRate };
}

/**
 * The rate of a replacement for a transaction paying `oldRate`: the current quote or the bumped old rate, whichever
 * is higher; `allowed` false when that exceeds the cap.
 */
export function replacementRate(oldRate: number, quote: FeeQuote, o: FeePolicyOptions): FeeQuote {
  const bumped = roundUp(Math.max(oldRate * (1 + o.bumpPercent / 100), oldRate + 1));
  const rate = Math.max(bumped, quote.rate);
  return { rate, source: quote.source, allowed: rate <= o.maxRate };
}
