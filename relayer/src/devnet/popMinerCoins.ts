/**
 * The devnet's PoP miner needs several confirmed coins (one per PoP transaction in flight; change comes back as a
 * new coin only once mined). The faucet pays its P2PKH address once (devnetAccounts); this splits that coin into
 * DEVNET_POP_MINER_COINS equal coins in one transaction, mined at once.
 */
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { buildSignedTx, keyFromPrivate, keyOutput } from "../bitcoin/txBuilder";

/** Coins the devnet's PoP miner starts with. */
export const DEVNET_POP_MINER_COINS = 20;
/** Fee of the split transaction (one P2PKH input, 20 outputs: about 830 vB). */
const SPLIT_FEE = 5_000n;

/** Splits the miner's confirmed coins (if it has only one) into DEVNET_POP_MINER_COINS coins; returns how many it has. */
export async function splitPopMinerCoin(rpc: BitcoinRpcClient, keyHex: string, minerTo: string): Promise<number> {
  const key = keyFromPrivate(keyHex);
  const script = keyOutput(key, "p2pkh").script;
  const { unspents } = await rpc.scanTxOutSet([`raw(${script.toString("hex")})`]);
  if (unspents.length !== 1) return unspents.length;
  const coin = unspents[0];
  const value = BigInt(Math.round(coin.amount * 1e8));
  const each = (value - SPLIT_FEE) / BigInt(DEVNET_POP_MINER_COINS);
  const tx = buildSignedTx({
    inputs: [{ txid: coin.txid, vout: coin.vout, value, script, key }],
    outputs: Array.from({ length: DEVNET_POP_MINER_COINS }, () => ({ script, value: each })),
  });
  await rpc.sendRawTransaction(tx.toHex());
  await rpc.generateToAddress(1, minerTo);
  return DEVNET_POP_MINER_COINS;
}
