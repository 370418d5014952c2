/**
 * Deposits seen in the Bitcoin node's mempool: outputs paying a vault's custody script in a transaction with exactly
 * one OP_RETURN naming the recipient (`6a14 || address`), as the deposits role takes them. Each transaction is
 * decoded once; a deposit seen is kept until it is minted or leaves the mempool without a block.
 */
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";

/** Mempool transactions decoded per call (the rest waits for the next one). */
const DECODE_LIMIT = 50;
/** Decoded transactions remembered (the oldest half is forgotten past it). */
const DECODED_KEEP = 5_000;

const OP_RETURN_RECIPIENT = /^6a14([0-9a-f]{40})$/;

/** A deposit output seen in the mempool. */
export interface SeenDeposit {
  txid: string;
  vout: number;
  sats: bigint;
  recipient: string;
  vaultId: number;
}

export class MempoolDeposits {
  private readonly decoded = new Map<string, SeenDeposit[]>();
  /** Deposits seen, by "<txid>:<vout>". */
  readonly seen = new Map<string, SeenDeposit>();

  constructor(private readonly bitcoin: BitcoinRpcClient) {}

  /** Decodes the mempool transactions not decoded yet; `custody` maps custody scripts (hex) to vault ids. */
  async update(txids: readonly string[], custody: ReadonlyMap<string, number>): Promise<void> {
    if (custody.size === 0) return;
    const fresh = txids.filter((t) => !this.decoded.has(t)).slice(0, DECODE_LIMIT);
    for (const txid of fresh) {
      const found: SeenDeposit[] = [];
      try {
        const tx = await this.bitcoin.getRawTransaction(txid, true);
        const opReturns = tx.vout.filter((o) => o.scriptPubKey.hex.startsWith("6a"));
        const recipient =
          opReturns.length === 1
            ? OP_RETURN_RECIPIENT.exec(opReturns[0].scriptPubKey.hex.toLowerCase())?.[1]
            : undefined;
        if (recipient !== undefined) {
          for (const o of tx.vout) {
            const vaultId = custody.get(o.scriptPubKey.hex.toLowerCase());
            if (vaultId === undefined) continue;
            found.push({
              txid,
              vout: o.n,
              sats: BigInt(Math.round(o.value * 1e8)),
              recipient: `0x${recipient}`,
              vaultId,
            });
          }
        }
      } catch {
        // Left the mempool between the two calls: nothing to show.
      }
      this.decoded.set(txid, found);
      for (const f of found) this.seen.set(`${f.txid}:${f.vout}`, f);
    }
    if (this.decoded.size > DECODED_KEEP)
      for (const k of [...this.decoded.keys()].slice(0, DECODED_KEEP / 2)) this.decoded.delete(k);
  }

  /** The deposit is minted or gone: no longer followed. */
  forget(key: string): void {
    this.seen.delete(key);
  }
}
