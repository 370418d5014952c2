import { BrowserProvider, Contract, ContractFactory, type Signer } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Transaction } from "bitcoinjs-lib";
import { startRegtestNode, type RunningRegtestNode } from "../bitcoin/node";
import { COINBASE_MATURITY } from "../bitcoin/node/consensus";
import { addressToScript } from "../bitcoin/node/script";
import { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { keyOutput, randomKey, type SpendType } from "../bitcoin/txBuilder";
import { loadArtifact } from "../evm/artifacts";
import { NETWORK_ENUM, readAnchor } from "../evm/deployFabric";
import { LightClientReader } from "../evm/lightClient";
import { planNextBatch } from "../roles/headers/planner";
import { deployHvm, syncIndex, type HvmDeployment, type HvmLayout } from "../hvm";
import {
  BitcoinKit__factory,
  BitcoinTxIndex__factory,
  type BitcoinKit,
  type BitcoinTxIndex,
} from "../../../typechain-types";

/** Options of {@link btcFixture}. */
export interface BtcFixtureOptions {
  /** The Hardhat runtime to install into (default: the running one, `require("hardhat")`). */
  hre?: HardhatRuntimeEnvironment;
  /** Index of the Hardhat account that deploys and sends the sync transactions (default 0). */
  account?: number;
  /** Headers per submitHeaders transaction in sync() (default 500). */
  headersPerTx?: number;
  /** The hVM's tip lag in Bitcoin blocks (default 2, as Hemi: answers up to best height - 2). */
  lag?: number;
  /** The 0x42 answer layout (default "current"; "bitcoinkit-2024" is the one Hemi's published BitcoinKit parses). */
  layout?: HvmLayout;
}

/** An output a fixture payment created. */
export interface SentOutput {
  /** Display order, as bitcoind shows it. */
  txid: string;
  vout: number;
  sats: bigint;
}

/** What {@link btcFixture} gives a test. */
export interface BtcFixture {
  /** The in-process regtest node (blocks, mempool, wallet) and its JSON-RPC URL with credentials. */
  node: RunningRegtestNode;
  rpc: BitcoinRpcClient;
  /** The node wallet's address that receives the fixture's block rewards (and funds sendBtc). */
  minerAddress: string;
  /** The EVM signer that deployed the contracts and sends sync()'s transactions. */
  signer: Signer;
  lightClient: Contract;
  /** BitcoinTxIndex (typechain), the index behind the precompiles. */
  index: BitcoinTxIndex;
  /** BitcoinKit (typechain), Hemi's hBK interface. */
  bitcoinKit: BitcoinKit;
  /** The hVM deployment: emulators, where each precompile answers (0x40..0x49), layout, lag. */
  hvm: HvmDeployment;
  addresses: { BitcoinLightClient: string; BitcoinTxIndex: string; BitcoinKit: string };
  /** Mines `n` Bitcoin blocks (default 1) with the mempool's transactions; returns their hashes. Does not sync. */
  mine(n?: number): Promise<string[]>;
  /** A Bitcoin address of a new random key that the node's wallet does not hold (so it never spends from it). */
  newAddress(type?: SpendType): string;
  /** Pays `sats` to a Bitcoin address from the node's wallet (into the mempool; mine() confirms it). */
  sendBtc(address: string, sats: bigint): Promise<SentOutput>;
  /**
   * Brings the contracts up to the Bitcoin tip, synchronously: every missing header into the light client (reorgs
   * included), then every canonical block not yet indexed into the index, in height order.
   */
  sync(): Promise<{ height: number }>;
  /**
   * A Bitcoin reorg: the last `depth` blocks are replaced by `depth + 1` new blocks (more work), so the old branch
   * is orphaned. Transactions of the orphaned blocks are dropped (default), or kept in the mempool with
   * `keepTransactions` (then the next mine() confirms them again). Does not sync.
   */
  reorg(depth: number, opts?: { keepTransactions?: boolean }): Promise<{ orphaned: string[]; newBlocks: string[] }>;
  /** Bitcoin tip height. */
  height(): Promise<number>;
  /** Stops the Bitcoin node (call it in `after`). */
  close(): Promise<void>;
}

function defaultHre(): HardhatRuntimeEnvironment {
  // The running Hardhat runtime of the test process (Hardhat keeps one per process).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("hardhat") as HardhatRuntimeEnvironment;
}

/** Deploys BitcoinLightClient anchored at the node's tip. */
async function deployLightClient(signer: Signer, rpc: BitcoinRpcClient): Promise<Contract> {
  const anchor = await readAnchor(rpc, undefined, 0);
  const artifact = loadArtifact("BitcoinLightClient");
  const lc = await new ContractFactory(artifact.abi, artifact.bytecode, signer).deploy(
    "0x" + anchor.header,
    anchor.height,
    anchor.epochStartTimestamp,
    NETWORK_ENUM[anchor.network],
  );
  await lc.waitForDeployment();
  return lc as Contract;
}

/**
 * A Bitcoin-aware test environment on the Hardhat network: an in-process Bitcoin regtest node (101 blocks mined, so
 * its wallet can pay), BitcoinLightClient deployed on the Hardhat network and anchored at the node's tip, the hVM
 * (BitcoinTxIndex, the ten precompile emulators installed at 0x40..0x49 with hardhat_setCode, BitcoinKit), and
 * helpers to mine, pay, reorganise and bring the contracts to the tip synchronously (no Redis, no relayer). Create
 * it once per test file (`before`) and close it in `after`; EVM snapshots (loadFixture) do not rewind Bitcoin.
 */
export async function btcFixture(options: BtcFixtureOptions = {}): Promise<BtcFixture> {
  const hre = options.hre ?? defaultHre();
  const node = await startRegtestNode({ port: 0 });
  try {
    const rpc = new BitcoinRpcClient({ url: node.url, retries: 0 });
    const minerAddress = await rpc.getNewAddress("fixture-miner");
    await rpc.generateToAddress(COINBASE_MATURITY + 1, minerAddress);
    const provider = new BrowserProvider(hre.network.provider);
    const signer = await provider.getSigner(options.account ?? 0);
    const lightClient = await deployLightClient(signer, rpc);
    const lcAddress = await lightClient.getAddress();
    const lcReader = new LightClientReader(lcAddress, provider);
    const hvm = await deployHvm(signer, {
      lightClient: lcAddress,
      network: "regtest",
      layout: options.layout,
      lag: options.lag,
      install: "required",
    });
    const index = BitcoinTxIndex__factory.connect(hvm.index, signer);
    const bitcoinKit = BitcoinKit__factory.connect(hvm.bitcoinKit, signer);
    const anchorHeight = await lcReader.anchorHeight();
    const headersPerTx = options.headersPerTx ?? 500;
    const script = Buffer.from(addressToScript(minerAddress));

    const mine = (n = 1): Promise<string[]> => rpc.generateToAddress(n, minerAddress);

    const syncHeaders = async (): Promise<void> => {
      for (;;) {
        const status = await planNextBatch(rpc, lcReader, headersPerTx, anchorHeight);
        if (status.next === undefined) return;
        const rows = await rpc.getRawHeaders(status.next.fromHeight, status.next.count);
        const tx = await signer.sendTransaction({
          to: lcAddress,
          data: lcReader.encodeSubmitHeaders("0x" + rows.map((r) => r.header).join("")),
        });
        await tx.wait();
      }
    };

    return {
      node,
      rpc,
      minerAddress,
      signer,
      lightClient,
      index,
      bitcoinKit,
      hvm,
      addresses: { BitcoinLightClient: lcAddress, BitcoinTxIndex: hvm.index, BitcoinKit: hvm.bitcoinKit },
      mine,
      newAddress: (type = "p2wpkh") => keyOutput(randomKey(), type).address,
      async sendBtc(address, sats) {
        if (sats <= 0n) throw new Error(`sendBtc: amount must be positive, got ${sats}`);
        const outScript = addressToScript(address);
        const txid = await rpc.sendToAddress(address, Number(sats) / 1e8);
        const tx = Transaction.fromHex(await rpc.getRawTransaction(txid, false));
        const vout = tx.outs.findIndex((o) => Buffer.from(o.script).equals(outScript) && o.value === sats);
        if (vout < 0) throw new Error(`sendBtc: payment output to ${address} not found in ${txid}`);
        return { txid, vout, sats };
      },
      async sync() {
        await syncHeaders();
        await syncIndex(index, rpc);
        return { height: await rpc.getBlockCount() };
      },
      async reorg(depth, opts = {}) {
        const tip = await rpc.getBlockCount();
        if (!Number.isInteger(depth) || depth < 1 || depth > tip - anchorHeight) {
          throw new Error(`reorg: depth must be 1..${tip - anchorHeight} (blocks above the light client's anchor)`);
        }
        const orphaned: string[] = [];
        for (let h = tip - depth + 1; h <= tip; h++) orphaned.push(await rpc.getBlockHash(h));
        const dropped: string[] = [];
        for (const hash of orphaned) {
          const block = await rpc.getBlock(hash, 1);
          dropped.push(...block.tx.slice(1));
        }
        await rpc.invalidateBlock(orphaned[0]);
        if (opts.keepTransactions !== true) {
          for (const txid of dropped) node.node.mempool.removeWithDescendants(txid);
        }
        const newBlocks: string[] = [];
        for (let i = 0; i <= depth; i++) newBlocks.push(node.node.generateBlock(script, []).hash);
        return { orphaned, newBlocks };
      },
      height: () => rpc.getBlockCount(),
      close: () => node.close(),
    };
  } catch (err) {
    await node.close();
    throw err;
  }
}
