/**
 * The gas limit the relayer sends a transaction with, from the node's estimate.
 */

/** EIP-7825's cap on one transaction's gas (2^24): a node enforcing it (Hardhat's Osaka) refuses any limit above. */
export const EIP7825_TX_GAS_CAP = 16_777_216n;

/**
 * The estimate plus 20% and 10,000 gas (headroom for state that changes between estimate and inclusion), but never
 * above EIP-7825's cap when the estimate itself fits under it: a transaction estimated at 14.5M would otherwise be
 * sent with a 17.4M limit that the node refuses, while the estimate proved it runs within the cap.
 */
export function gasLimitFromEstimate(estimate: bigint): bigint {
  if (estimate < 0n) throw new RangeError(`a gas estimate cannot be negative (got ${estimate})`);
  const withMargin = (estimate * 12n) / 10n + 10_000n;
  return estimate <= EIP7825_TX_GAS_CAP && withMargin > EIP7825_TX_GAS_CAP ? EIP7825_TX_GAS_CAP : withMargin;
}
