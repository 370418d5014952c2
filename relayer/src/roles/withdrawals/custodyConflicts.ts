/**
 * Mempool spends of custody coins. A custody coin can be spent in the mempool by a transaction the relayer did not
 * journal (the operator by hand, another relayer with its own Redis): Bitcoin Core then refuses a payout spending the
 * same coin unless it pays more (BIP125, "insufficient fee, rejecting replacement ..."), and scantxoutset, which reads
 * the confirmed UTXO set only, still lists the coin. These helpers ask the node which coins are spent in its mempool
 * and by what: `gettxspendingprevout` (Bitcoin Core 25+, and the embedded node), or, where that method does not
 * exist, `gettxout` with and without the mempool (spent, spender unknown).
 */
import { BitcoinRpcError, type BitcoinRpcClient } from "../../bitcoin/rpcClient";

/** Display-order outpoint "<txid>:<vout>". */
export type Outpoint = string;

/** Unknown spender (the node has no gettxspendingprevout). */
export const UNKNOWN_SPENDER = "unknown";

function split(o: Outpoint): { txid: string; vout: number } {
  const i = o.lastIndexOf(":");
  return { txid: o.slice(0, i), vout: Number(o.slice(i + 1)) };
}

/** The outpoints among `outpoints` that a mempool transaction spends, with that transaction's txid. */
export async function mempoolSpenders(
  node: BitcoinRpcClient,
  outpoints: readonly Outpoint[],
): Promise<Map<Outpoint, string>> {
  const out = new Map<Outpoint, string>();
  if (outpoints.length === 0) return out;
  try {
    for (const r of await node.getTxSpendingPrevout(outpoints.map(split)))
      if (r.spendingtxid !== undefined) out.set(`${r.txid}:${r.vout}`, r.spendingtxid);
    return out;
  } catch (err) {
    if (!(err instanceof BitcoinRpcError && err.code === -32601)) throw err;
  }
  for (const o of outpoints) {
    const { txid, vout } = split(o);
    if ((await node.getTxOut(txid, vout, true)) === null && (await node.getTxOut(txid, vout, false)) !== null)
      out.set(o, UNKNOWN_SPENDER);
  }
  return out;
}
