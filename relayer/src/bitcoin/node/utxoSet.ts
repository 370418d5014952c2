/** The node's UTXO set: coins by outpoint, with an index by output script for scans and the wallet. */

/** An unspent output. `height` is the height of the block that created it. */
export interface Coin {
  value: bigint;
  script: Buffer;
  height: number;
  coinbase: boolean;
}

/** Map key of an outpoint: display-order txid, a colon, the output index. */
export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

export function parseOutpointKey(key: string): { txid: string; vout: number } {
  const i = key.lastIndexOf(":");
  return { txid: key.slice(0, i), vout: Number(key.slice(i + 1)) };
}

export class UtxoSet {
  private readonly coins = new Map<string, Coin>();
  private readonly byScript = new Map<string, Set<string>>();

  get size(): number {
    return this.coins.size;
  }

  get(key: string): Coin | undefined {
    return this.coins.get(key);
  }

  /** CoinView lookup (same as get). */
  getCoin(key: string): Coin | undefined {
    return this.coins.get(key);
  }

  has(key: string): boolean {
    return this.coins.has(key);
  }

  add(key: string, coin: Coin): void {
    if (this.coins.has(key)) throw new Error(`UTXO ${key} already exists`);
    this.coins.set(key, coin);
    const s = coin.script.toString("hex");
    let set = this.byScript.get(s);
    if (set === undefined) {
      set = new Set();
      this.byScript.set(s, set);
    }
    set.add(key);
  }

  /** Removes and returns a coin; throws when it is not unspent. */
  spend(key: string): Coin {
    const coin = this.coins.get(key);
    if (coin === undefined) throw new Error(`UTXO ${key} is missing or spent`);
    this.coins.delete(key);
    const s = coin.script.toString("hex");
    const set = this.byScript.get(s);
    if (set !== undefined) {
      set.delete(key);
      if (set.size === 0) this.byScript.delete(s);
    }
    return coin;
  }

  /** Every unspent output with its outpoint key, in no particular order. */
  entries(): IterableIterator<[string, Coin]> {
    return this.coins.entries();
  }

  /** Outpoint keys of the unspent outputs paying exactly `scriptHex`. */
  keysForScript(scriptHex: string): string[] {
    return [...(this.byScript.get(scriptHex) ?? [])];
  }

  /** Sum of all unspent values (for gettxoutsetinfo-like statistics). */
  totalAmount(): bigint {
    let t = 0n;
    for (const c of this.coins.values()) t += c.value;
    return t;
  }
}
