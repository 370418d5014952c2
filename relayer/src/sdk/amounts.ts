/** Amounts: satoshis as bigint everywhere; parsing of "0.5", "0.5btc", "50000sat" and formatting as BTC. */

/** Satoshis per bitcoin. */
export const SATS_PER_BTC = 100_000_000n;

/** A malformed or out-of-range amount. */
export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AmountError";
  }
}

/**
 * Parses an amount: a number with a `sat`/`sats` suffix is satoshis ("50000sat"); a number alone or with a `btc`
 * suffix is bitcoin with at most 8 decimals ("0.5", "0.5btc", "1"). Must be positive.
 */
export function parseAmount(text: string): bigint {
  const t = text.trim().toLowerCase().replace(/_/g, "");
  const sat = /^(\d+)\s*sats?$/.exec(t);
  let sats: bigint;
  if (sat !== null) {
    sats = BigInt(sat[1]);
  } else {
    const btc = /^(\d+)(?:\.(\d*))?\s*(?:btc)?$/.exec(t);
    if (btc === null) {
      throw new AmountError(`"${text}" is not an amount: use BTC ("0.5", "0.5btc") or satoshis ("50000sat")`);
    }
    const frac = btc[2] ?? "";
    if (frac.length > 8) throw new AmountError(`"${text}" has more than 8 decimals (1 satoshi = 0.00000001 BTC)`);
    sats = BigInt(btc[1]) * SATS_PER_BTC + BigInt(frac.padEnd(8, "0"));
  }
  if (sats <= 0n) throw new AmountError(`amount must be positive, got "${text}"`);
  if (sats > 21_000_000n * SATS_PER_BTC) throw new AmountError(`"${text}" is more bitcoin than will ever exist`);
  return sats;
}

/** Satoshis as a BTC decimal string with 8 decimals, e.g. 150000000n -> "1.50000000". */
export function formatBtc(sats: bigint): string {
  const neg = sats < 0n;
  const a = neg ? -sats : sats;
  return `${neg ? "-" : ""}${a / SATS_PER_BTC}.${(a % SATS_PER_BTC).toString().padStart(8, "0")}`;
}

/** A BTC number as bitcoind's RPC gives it (e.g. 0.0001) to satoshis, rounded to the nearest satoshi. */
export function btcNumberToSats(btc: number): bigint {
  return BigInt(Math.round(btc * 1e8));
}

/** Satoshis to the BTC number bitcoind's RPC takes. */
export function satsToBtcNumber(sats: bigint): number {
  return Number(sats) / 1e8;
}
