/**
 * The fee rate to pay, from the node's estimatesmartfee or a fallback. Bitcoin Core answers no estimate on a fresh
 * regtest chain (`{"errors": ["Insufficient data or no feerate found"], "blocks": 0}`) and on any chain until it has
 * seen enough transactions confirm; the embedded node does the same. Every caller must therefore have a fallback,
 * and this is the one place that decides between the two.
 */
import type { BitcoinRpcClient } from "./rpcClient";

export interface FeeRateChoice {
  /** sat/vB, at least 1. */
  satPerVb: number;
  source: "estimate" | "fallback";
  /** Why the fallback was used (the node's errors, or the failure). */
  reason?: string;
}

/** The node's estimate for `confTarget` blocks in sat/vB (rounded up, at least 1), else `fallbackSatPerVb`. */
export async function chooseFeeRate(
  node: BitcoinRpcClient,
  confTarget: number,
  fallbackSatPerVb: number,
): Promise<FeeRateChoice> {
  try {
    const est = await node.estimateSmartFee(confTarget);
    if (est.feerate !== undefined && est.feerate > 0)
      return { satPerVb: Math.max(1, Math.ceil(est.feerate * 100_000)), source: "estimate" };
    return {
      satPerVb: fallbackSatPerVb,
      source: "fallback",
      reason: (est.errors ?? []).join("; ") || "no feerate in the answer",
    };
  } catch (err) {
    return { satPerVb: fallbackSatPerVb, source: "fallback", reason: err instanceof Error ? err.message : String(err) };
  }
}
