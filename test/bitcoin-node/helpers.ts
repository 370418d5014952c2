import { Block, Transaction } from "bitcoinjs-lib";
import { expect } from "chai";
import { BitcoinRpcClient, BitcoinRpcError } from "../../relayer/src/bitcoin/rpcClient";
import { mineBlock } from "../../relayer/src/bitcoin/node/miner";
import { startRegtestNode, type RegtestNodeOptions, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import {
  buildSignedTx,
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

/** Display-order hash of a serialized block. */
export function blockHashOf(raw: Buffer): string {
  return Buffer.from(Block.fromBuffer(raw).getHash()).reverse().toString("hex");
}

export interface BadSideBlock {
  /** The transaction with the bad signature (spends a mature coinbase of `key`, signed by another key). */
  bad: Transaction;
  /** The side block, a sibling of `tip` (same height, same parent), holding `bad`. */
  raw: Buffer;
  hash: string;
  tip: string;
  parent: string;
  height: number;
  time: number;
  payoutScript: Buffer;
}

/**
 * Mines a coinbase to a fresh key, matures it, then builds (without submitting) a block on the tip's
 * parent whose only transaction spends that coinbase with a signature by the wrong key: a block that
 * is valid in every respect except its scripts.
 */
export async function badSideBlock(t: TestNode): Promise<BadSideBlock> {
  const key = randomKey();
  const { address, script } = keyOutput(key, "p2wpkh");
  const [cbBlock] = await t.rpc.generateToAddress(1, address);
  await t.rpc.generateToAddress(100, t.minerAddress);
  const cbTxid = (await t.rpc.getBlock(cbBlock)).tx[0];
  const coin = await t.rpc.getTxOut(cbTxid, 0, false);
  if (coin === null) throw new Error("coinbase output not found");
  const value = BigInt(Math.round(coin.value * 1e8));
  const thief = randomKey();
  const bad = buildSignedTx({
    inputs: [{ txid: cbTxid, vout: 0, value, script, key: thief }],
    outputs: [{ script: keyOutput(thief, "p2wpkh").script, value: value - 10_000n }],
  });
  const tip = await t.rpc.getBestBlockHash();
  const header = await t.rpc.getBlockHeader(tip);
  const parent = header.previousblockhash as string;
  const { raw } = mineBlock({
    prevHashDisplay: parent,
    height: header.height,
    time: header.time + 1,
    payoutScript: script,
    txs: [bad],
    fees: 10_000n,
  });
  return {
    bad,
    raw,
    hash: blockHashOf(raw),
    tip,
    parent,
    height: header.height,
    time: header.time + 1,
    payoutScript: script,
  };
}

/** The BitcoinRpcError a call must fail with (the test fails if it succeeds or fails otherwise). */
export async function rejection(p: Promise<unknown>): Promise<BitcoinRpcError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected the node to reject").to.be.instanceOf(BitcoinRpcError);
  return err as BitcoinRpcError;
}
