/**
 * Bitcoin-side helpers of the tunnel end-to-end tests and the deposits benchmark: fund a key from coinbase
 * outputs of the embedded regtest node, fan one coinbase out into many small outputs, and build signed deposits
 * (custody outputs + OP_RETURN <recipient> + change) spending them.
 */
import type { Transaction } from "bitcoinjs-lib";
import type { BitcoinRpcClient } from "../../../relayer/src/bitcoin/rpcClient";
import {
  buildSignedTx,
  keyOutput,
  randomKey,
  type KeyPair,
  type OutputSpec,
} from "../../../relayer/src/bitcoin/txBuilder";

/** A spendable output of the funding key (txid display order). */
export interface Coin {
  txid: string;
  vout: number;
  value: bigint;
}

/** Mines `count` blocks paying the key's P2WPKH, then 100 more so the first coinbases mature; returns them. */
export async function fundFromCoinbase(btc: BitcoinRpcClient, key: KeyPair, count: number): Promise<Coin[]> {
  const { address } = keyOutput(key, "p2wpkh");
  const hashes = await btc.generateToAddress(count, address);
  await btc.generateToAddress(100, await btc.getNewAddress());
  const coins: Coin[] = [];
  for (const h of hashes) {
    const block = await btc.getBlock(h, 2);
    const cb = block.tx[0];
    const out = cb.vout.find((o) => o.scriptPubKey.address === address);
    if (out === undefined) throw new Error(`coinbase of ${h} does not pay the funding key`);
    coins.push({ txid: cb.txid, vout: out.n, value: BigInt(Math.round(out.value * 1e8)) });
  }
  return coins;
}

/** Splits `coin` into `count` outputs of `value` to the key (plus change), broadcasts and mines it. */
export async function fanOut(
  btc: BitcoinRpcClient,
  key: KeyPair,
  coin: Coin,
  count: number,
  value: bigint,
): Promise<Coin[]> {
  const script = keyOutput(key, "p2wpkh").script;
  const fee = 50_000n;
  const change = coin.value - value * BigInt(count) - fee;
  if (change < 1_000n) throw new Error(`coin of ${coin.value} sat cannot fan out ${count} x ${value}`);
  const outputs: OutputSpec[] = Array.from({ length: count }, () => ({ script, value }));
  outputs.push({ script, value: change });
  const tx = buildSignedTx({ inputs: [{ ...coin, script, key }], outputs });
  const txid = await btc.sendRawTransaction(tx.toHex());
  await btc.generateBlock(await btc.getNewAddress(), [txid]);
  return Array.from({ length: count }, (_, i) => ({ txid, vout: i, value }));
}

/** One deposit transaction's plan: custody outputs (vout order) and the OP_RETURN payload. */
export interface DepositPlan {
  /** Outputs paying custody scripts, in vout order; `opReturnAt` places the OP_RETURN among them. */
  pays: { script: string; sats: bigint }[];
  recipient: string | null;
  /** Index of the OP_RETURN output among the outputs (default: after the custody outputs). */
  opReturnAt?: number;
}

/** Builds and signs a deposit spending `coin`: the planned outputs, then change back to the funding key. */
export function buildDeposit(key: KeyPair, coin: Coin, plan: DepositPlan, fee = 2_000n): Transaction {
  const script = keyOutput(key, "p2wpkh").script;
  const outputs: OutputSpec[] = plan.pays.map((p) => ({ script: p.script, value: p.sats }));
  if (plan.recipient !== null) {
    const op: OutputSpec = { opReturn: plan.recipient.slice(2).toLowerCase(), value: 0n };
    outputs.splice(plan.opReturnAt ?? outputs.length, 0, op);
  }
  const paid = plan.pays.reduce((s, p) => s + p.sats, 0n);
  outputs.push({ script, value: coin.value - paid - fee });
  return buildSignedTx({ inputs: [{ ...coin, script, key }], outputs });
}

/** A funding key with `count` coins of `value` sat (from one matured coinbase) and a miner address of the node. */
export async function depositorCoins(
  btc: BitcoinRpcClient,
  count: number,
  value = 1_000_000n,
): Promise<{ funder: KeyPair; coins: Coin[]; miner: string }> {
  const miner = await btc.getNewAddress();
  const funder = randomKey();
  const [coinbase] = await fundFromCoinbase(btc, funder, 1);
  return { funder, coins: await fanOut(btc, funder, coinbase, count, value), miner };
}
