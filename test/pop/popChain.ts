/**
 * Test fixture for PoP: the embedded regtest node in-process (real proof of work), a BitcoinLightClient
 * anchored at its genesis and kept in sync through reorgs, the PoP contracts deployed by deployPop on the
 * Hardhat network, keystones of real Hardhat blocks, and PoP miners with funded P2PKH keys.
 */
import { ethers, network } from "hardhat";
import type { Transaction } from "bitcoinjs-lib";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { buildTxProof, type TxProof } from "../../relayer/src/bitcoin/txProof";
import { randomKey, type KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { deployPop, type DeployPopOptions, type PopDeployment } from "../../relayer/src/pop/deployPop";
import { encodeKeystone, keystoneAtBlock, type Keystone } from "../../relayer/src/pop/keystone";
import { buildPopTx, minerEvmAddress, type PopTx, type PopUtxo } from "../../relayer/src/pop/popTx";
import type {
  BitcoinLightClient,
  KeystoneLedger,
  PopRewardToken,
  PopRewards,
  PopVerifier,
} from "../../typechain-types";
import { fundKey, startTestNode, type TestNode } from "../bitcoin-node/helpers";

const REGTEST = 2;

export interface PopChain {
  t: TestNode;
  lc: BitcoinLightClient;
  ledger: KeystoneLedger;
  verifier: PopVerifier;
  rewards: PopRewards;
  token: PopRewardToken;
  dep: PopDeployment;
  interval: number;
}

/** Starts the node (101 blocks), deploys the light client at genesis and the PoP contracts. */
export async function startPopChain(opts: Omit<DeployPopOptions, "lightClient"> = {}): Promise<PopChain> {
  const t = await startTestNode({}, 101);
  const genesisHash = await t.rpc.getBlockHash(0);
  const header = await t.rpc.getBlockHeaderHex(genesisHash);
  const time = (await t.rpc.getBlockHeader(genesisHash)).time;
  const lc = (await (
    await ethers.getContractFactory("BitcoinLightClient")
  ).deploy("0x" + header, 0, time, REGTEST)) as unknown as BitcoinLightClient;
  await lc.waitForDeployment();
  const [signer] = await ethers.getSigners();
  const dep = await deployPop(signer, { ...opts, lightClient: await lc.getAddress() });
  const chain: PopChain = {
    t,
    lc,
    ledger: await ethers.getContractAt("KeystoneLedger", dep.keystoneLedger),
    verifier: await ethers.getContractAt("PopVerifier", dep.popVerifier),
    rewards: await ethers.getContractAt("PopRewards", dep.popRewards),
    token: await ethers.getContractAt("PopRewardToken", dep.rewardToken),
    dep,
    interval: dep.keystoneInterval,
  };
  await syncLightClient(chain);
  return chain;
}

/** Submits the node's active chain to the light client from the first height where they differ (reorgs too). */
export async function syncLightClient(c: Pick<PopChain, "t" | "lc">): Promise<void> {
  const tip = await c.t.rpc.getBlockCount();
  let h = Math.min(tip, Number((await c.lc.bestBlock())[1]));
  while (h > 0 && (await c.lc.blockHashAt(h)) !== displayToInternal(await c.t.rpc.getBlockHash(h))) h--;
  for (let from = h + 1; from <= tip; from += 100) {
    const headers = await c.t.rpc.getRawHeaders(from, Math.min(100, tip - from + 1));
    await (await c.lc.submitHeaders("0x" + headers.map((x) => x.header).join(""))).wait();
  }
}

/** Mines Bitcoin blocks on the node (mempool included) and syncs the light client. Returns the hashes. */
export async function mineBtc(c: PopChain, n = 1): Promise<string[]> {
  const hashes = await c.t.rpc.generateToAddress(n, c.t.minerAddress);
  await syncLightClient(c);
  return hashes;
}

/**
 * Mines EVM blocks until `n` exists (so a transaction now runs in a later block). One `evm_mine` per block:
 * `hardhat_mine` reserves blocks lazily, and the parent hashes it reports for them disagree with `blockhash`.
 */
export async function mineEvmTo(n: number): Promise<void> {
  for (let b = await ethers.provider.getBlockNumber(); b < n; b++) await network.provider.send("evm_mine", []);
}

/** The keystone of real Hardhat block `n`, with the light client's best height (optionally edited). */
export async function keystoneOf(c: PopChain, n: number, edit?: (k: Keystone) => void): Promise<Buffer> {
  await mineEvmTo(n);
  const best = Number((await c.lc.bestBlock())[1]);
  const k = await keystoneAtBlock(ethers.provider, n, c.interval, best);
  edit?.(k);
  return encodeKeystone(k);
}

/** Records the next keystone (the ledger's expected height) and returns its number and abbreviation. */
export async function recordNext(c: PopChain): Promise<{ n: number; abbrev: Buffer }> {
  const last = Number(await c.ledger.lastKeystoneNumber());
  const n = last === 0 ? c.dep.firstKeystone : last + c.interval;
  const abbrev = await keystoneOf(c, n);
  await (await c.ledger.recordKeystone(abbrev)).wait();
  return { n, abbrev };
}

/** A PoP miner: a P2PKH key funded on the node; each publication spends the previous change. */
export class PopMiner {
  readonly evmAddress: string;
  private constructor(
    readonly c: PopChain,
    readonly key: KeyPair,
    public utxo: PopUtxo,
  ) {
    this.evmAddress = minerEvmAddress(key);
  }

  /** A new key funded with `btc` (one confirmed P2PKH output). */
  static async funded(c: PopChain, btc = 1): Promise<PopMiner> {
    const u = await fundKey(c.t, "p2pkh", btc, randomKey());
    await syncLightClient(c);
    return new PopMiner(c, u.key, { txid: u.txid, vout: u.vout, value: u.value });
  }

  /** Builds the PoP transaction of `abbrev` (locktime = node tip) and broadcasts it. */
  async publish(abbrev: Buffer, feeRate = 2): Promise<PopTx> {
    const pop = this.build(abbrev, feeRate);
    await this.c.t.rpc.sendRawTransaction(pop.hex);
    this.spent(pop);
    return pop;
  }

  /** Builds (without broadcasting) the PoP transaction of `abbrev`. */
  build(abbrev: Buffer, feeRate = 2, tipHeight?: number): PopTx {
    return buildPopTx({
      abbrev,
      utxo: this.utxo,
      key: this.key,
      tipHeight: tipHeight ?? this.c.t.running.node.chain.height,
      feeRate,
    });
  }

  /** Moves this miner's coin to the change of `pop`. */
  spent(pop: PopTx): void {
    if (pop.change === 0n) throw new Error("the PoP transaction left no change");
    this.utxo = { txid: pop.txid, vout: 0, value: pop.change };
  }
}

/** The TxProof of a mined transaction (display txid), from the node. */
export async function proofOf(c: PopChain, txid: string, blockHash?: string): Promise<TxProof> {
  return buildTxProof(c.t.rpc, txid, blockHash);
}

/** Sends a raw transaction (already signed) to the node. */
export async function send(c: PopChain, tx: Transaction): Promise<string> {
  return c.t.rpc.sendRawTransaction(tx.toHex());
}
