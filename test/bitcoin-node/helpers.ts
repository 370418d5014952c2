import { Transaction } from "bitcoinjs-lib";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { startRegtestNode, type RegtestNodeOptions, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import {
  keyOutput,
  randomKey,
  type KeyPair,
  type SpendType,
  type UtxoToSpend,
} from "../../relayer/src/bitcoin/txBuilder";

export interface TestNode {
  running: RunningRegtestNode;
  rpc: BitcoinRpcClient;
  /** A wallet address that receives block rewards. */
  minerAddress: string;
}

/** A fresh node on a free port with 101 blocks mined to its wallet (one mature coinbase). */
export async function startTestNode(opts: RegtestNodeOptions = {}, blocks = 101): Promise<TestNode> {
  const running = await startRegtestNode({ port: 0, ...opts });
  const rpc = new BitcoinRpcClient({ url: running.url, retries: 0 });
  const minerAddress = await rpc.getNewAddress();
  if (blocks > 0) await rpc.generateToAddress(blocks, minerAddress);
  return { running, rpc, minerAddress };
}

/** Sends `btc` from the node's wallet to a new key of `type`, mines it, and returns the output ready to spend. */
export async function fundKey(
  t: TestNode,
  type: SpendType,
  btc: number,
  key: KeyPair = randomKey(),
): Promise<UtxoToSpend> {
  const { address, script } = keyOutput(key, type);
  const txid = await t.rpc.sendToAddress(address, btc);
  await t.rpc.generateToAddress(1, t.minerAddress);
  const hex = await t.rpc.getRawTransaction(txid, false);
  const tx = Transaction.fromHex(hex);
  const vout = tx.outs.findIndex((o) => Buffer.from(o.script).equals(script));
  if (vout < 0) throw new Error("funding output not found");
  return { txid, vout, value: tx.outs[vout].value, script, key };
}

/** The node's whole UTXO set as sorted lines (outpoint, value, script, height, coinbase), for exact comparisons. */
export function utxoSnapshot(t: TestNode): string[] {
  const lines: string[] = [];
  for (const [key, c] of t.running.node.chain.utxo.entries())
    lines.push(`${key} ${c.value} ${c.script.toString("hex")} ${c.height} ${c.coinbase}`);
  return lines.sort();
}
