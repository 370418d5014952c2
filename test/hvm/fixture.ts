/**
 * One regtest chain mined in-process and one hVM deployment shared by the hVM tests (built once per test run):
 * a light client anchored at height 101, the index, the emulators of the `current` layout installed at 0x40..0x49
 * with their BitcoinKit, and a second set for the `bitcoinkit-2024` layout as ordinary contracts over the same index.
 *
 * Blocks after the anchor:
 *   B1: three wallet payments to our keys (W: P2WPKH 10 BTC, P: P2PKH, T: P2TR); their inputs spend coins from
 *       below the anchor, which the index has never seen.
 *   B2: FAN spends W into 40 small P2WPKH outputs, a 150-byte non-standard script, an 80-byte OP_RETURN and change;
 *       PKH spends P (106-byte scriptSig); TR spends T (taproot witness).
 *   B3: MANY spends all 40 small outputs (40 witness inputs).
 *   three empty blocks, so that with lag 2 every block up to B3 + 1 is visible.
 */
import { ethers } from "hardhat";
import type { Transaction } from "bitcoinjs-lib";
import {
  BitcoinKit__factory,
  BitcoinTxIndex__factory,
  type BitcoinKit,
  type BitcoinLightClient,
  type BitcoinTxIndex,
} from "../../typechain-types";
import {
  buildSignedTx,
  keyOutput,
  randomKey,
  type KeyPair,
  type UtxoToSpend,
} from "../../relayer/src/bitcoin/txBuilder";
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { deployHvm, syncIndex, type HvmDeployment } from "../../relayer/src/hvm";
import { startTestNode, type TestNode } from "../bitcoin-node/helpers";

export const REGTEST = 2;

export interface HvmChain {
  t: TestNode;
  lc: BitcoinLightClient;
  index: BitcoinTxIndex;
  current: HvmDeployment;
  legacy: HvmDeployment;
  kitCurrent: BitcoinKit;
  kitLegacy: BitcoinKit;
  /** Display-order txids of the interesting transactions. */
  txids: {
    wallet: string[];
    fan: string;
    pkh: string;
    tr: string;
    many: string;
    coinbaseB2: string;
  };
  /** Addresses used. */
  addresses: { many: string; w: string; p: string; t: string; sink: string };
  keys: { many: KeyPair; w: KeyPair };
}

/** Deploys a light client anchored at `height` (epoch start: regtest never retargets, so genesis time). */
export async function deployLightClientAt(rpc: BitcoinRpcClient, height: number): Promise<BitcoinLightClient> {
  const hash = await rpc.getBlockHash(height);
  const header = await rpc.getBlockHeaderHex(hash);
  const genesisTime = (await rpc.getBlockHeader(await rpc.getBlockHash(0))).time;
  const lc = await (
    await ethers.getContractFactory("BitcoinLightClient")
  ).deploy("0x" + header, height, genesisTime, REGTEST);
  await lc.waitForDeployment();
  return lc as unknown as BitcoinLightClient;
}

/** Submits the node's active-chain headers above the light client's best height (the light client follows reorgs). */
export async function syncHeaders(rpc: BitcoinRpcClient, lc: BitcoinLightClient, from?: number): Promise<void> {
  const start = from ?? Number((await lc.bestBlock())[1]) + 1;
  const tip = await rpc.getBlockCount();
  for (let h = start; h <= tip; h += 60) {
    const headers = await rpc.getRawHeaders(h, Math.min(60, tip - h + 1));
    await (await lc.submitHeaders("0x" + headers.map((x) => x.header).join(""))).wait();
  }
}

async function mineTxs(t: TestNode, txs: Transaction[]): Promise<string> {
  for (const tx of txs) await t.rpc.sendRawTransaction(tx.toHex());
  const [hash] = await t.rpc.generateToAddress(1, t.minerAddress);
  return hash;
}

function outOf(tx: Transaction, vout: number, key: KeyPair): UtxoToSpend {
  return { txid: tx.getId(), vout, value: tx.outs[vout].value, script: Buffer.from(tx.outs[vout].script), key };
}

async function walletPay(t: TestNode, key: KeyPair, type: "p2wpkh" | "p2pkh" | "p2tr", btc: number) {
  const { address, script } = keyOutput(key, type);
  const txid = await t.rpc.sendToAddress(address, btc);
  return { txid, address, script };
}

async function build(): Promise<HvmChain> {
  const t = await startTestNode({}, 101);
  const lc = await deployLightClientAt(t.rpc, 101);
  const kW = randomKey();
  const kP = randomKey();
  const kT = randomKey();
  const kMany = randomKey();
  const sink = keyOutput(randomKey(), "p2tr").address;

  const w = await walletPay(t, kW, "p2wpkh", 10);
  const p = await walletPay(t, kP, "p2pkh", 1);
  const tp = await walletPay(t, kT, "p2tr", 1);
  await t.rpc.generateToAddress(1, t.minerAddress);
  const find = async (txid: string, script: Buffer): Promise<UtxoToSpend & { tx: Transaction }> => {
    const { Transaction: Tx } = await import("bitcoinjs-lib");
    const tx = Tx.fromHex((await t.rpc.getRawTransaction(txid, false)) as string);
    const vout = tx.outs.findIndex((o) => Buffer.from(o.script).equals(script));
    return { ...outOf(tx, vout, kW), tx };
  };
  const wOut = await find(w.txid, w.script);
  const pOut = { ...(await find(p.txid, p.script)), key: kP };
  const tOut = { ...(await find(tp.txid, tp.script)), key: kT };

  const many = keyOutput(kMany, "p2wpkh");
  const nonStandard = Buffer.concat([Buffer.from([0x4c, 147]), Buffer.alloc(147, 0xab), Buffer.from([0x75])]);
  const fanOutputs = [
    ...Array.from({ length: 40 }, () => ({ script: many.script, value: 1_000_000n })),
    { script: nonStandard, value: 50_000n },
    { opReturn: Buffer.alloc(80, 0x42) },
  ];
  const fanSpent = 40n * 1_000_000n + 50_000n;
  const fan = buildSignedTx({
    inputs: [wOut],
    outputs: [...fanOutputs, { script: w.script, value: wOut.value - fanSpent - 20_000n }],
  });
  const pkh = buildSignedTx({
    inputs: [pOut],
    outputs: [{ address: sink, value: pOut.value - 10_000n }, { opReturn: Buffer.from("hemi-fabric") }],
  });
  const tr = buildSignedTx({ inputs: [tOut], outputs: [{ script: w.script, value: tOut.value - 10_000n }] });
  const b2 = await mineTxs(t, [fan, pkh, tr]);
  const manyTx = buildSignedTx({
    inputs: Array.from({ length: 40 }, (_, i) => outOf(fan, i, kMany)),
    outputs: [
      { address: sink, value: 30_000_000n },
      { script: w.script, value: 40n * 1_000_000n - 30_000_000n - 50_000n },
    ],
  });
  await mineTxs(t, [manyTx]);
  await t.rpc.generateToAddress(3, t.minerAddress);
  await syncHeaders(t.rpc, lc, 102);

  const [signer] = await ethers.getSigners();
  const lcAddr = await lc.getAddress();
  const current = await deployHvm(signer, { lightClient: lcAddr, network: "regtest", install: "required" });
  const legacy = await deployHvm(signer, {
    lightClient: lcAddr,
    network: "regtest",
    layout: "bitcoinkit-2024",
    install: "never",
    index: current.index,
  });
  const index = BitcoinTxIndex__factory.connect(current.index, signer);
  await syncIndex(index, t.rpc);
  const coinbaseB2 = ((await t.rpc.getBlock(b2, 1)) as { tx: string[] }).tx[0];
  return {
    t,
    lc,
    index,
    current,
    legacy,
    kitCurrent: BitcoinKit__factory.connect(current.bitcoinKit, signer),
    kitLegacy: BitcoinKit__factory.connect(legacy.bitcoinKit, signer),
    txids: {
      wallet: [w.txid, p.txid, tp.txid],
      fan: fan.getId(),
      pkh: pkh.getId(),
      tr: tr.getId(),
      many: manyTx.getId(),
      coinbaseB2,
    },
    addresses: {
      many: many.address,
      w: keyOutput(kW, "p2wpkh").address,
      p: keyOutput(kP, "p2pkh").address,
      t: keyOutput(kT, "p2tr").address,
      sink,
    },
    keys: { many: kMany, w: kW },
  };
}

let shared: Promise<HvmChain> | undefined;

/** The shared chain and deployment (built on first use; the node is closed when mocha exits). */
export function hvmChain(): Promise<HvmChain> {
  shared ??= build();
  return shared;
}

// Under mocha: close the shared node when the run ends (the bench script imports this file outside mocha).
if (typeof after === "function")
  after(async () => {
    if (shared !== undefined) await (await shared).t.running.close();
  });

/** A separate small chain and hVM (not installed at 0x40..0x49) for tests that reorganise or refuse blocks. */
export interface MiniChain {
  t: TestNode;
  lc: BitcoinLightClient;
  index: BitcoinTxIndex;
  hvm: HvmDeployment;
  kit: BitcoinKit;
}

export async function startMiniChain(lag = 2): Promise<MiniChain> {
  const t = await startTestNode({}, 101);
  const lc = await deployLightClientAt(t.rpc, 101);
  const [signer] = await ethers.getSigners();
  const hvm = await deployHvm(signer, {
    lightClient: await lc.getAddress(),
    network: "regtest",
    install: "never",
    lag,
  });
  return {
    t,
    lc,
    index: BitcoinTxIndex__factory.connect(hvm.index, signer),
    hvm,
    kit: BitcoinKit__factory.connect(hvm.bitcoinKit, signer),
  };
}

/** Funds a fresh key of `type` from the node's wallet (mined in one block); returns the spendable output. */
export async function fundedKey(t: TestNode, type: "p2wpkh" | "p2pkh" | "p2tr", btc: number): Promise<UtxoToSpend> {
  const key = randomKey();
  const { txid, script } = await walletPay(t, key, type, btc);
  await t.rpc.generateToAddress(1, t.minerAddress);
  const { Transaction: Tx } = await import("bitcoinjs-lib");
  const tx = Tx.fromHex((await t.rpc.getRawTransaction(txid, false)) as string);
  const vout = tx.outs.findIndex((o) => Buffer.from(o.script).equals(script));
  return outOf(tx, vout, key);
}
