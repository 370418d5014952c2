/**
 * The main demo on the embedded defaults (`npm run demo`): an embedded Bitcoin regtest node, a Hardhat EVM, the
 * light client fed with real regtest headers, and a Bitcoin payment proven on the EVM with an SPV proof.
 * Prints each step; exits 0 when the proof verifies.
 */
import { ethers } from "hardhat";
import { startRegtestNode } from "../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../relayer/src/bitcoin/rpcClient";
import { buildTxProof } from "../relayer/src/bitcoin/txProof";
import { displayToInternal } from "../relayer/src/bitcoin/byteOrder";
import type { BitcoinLightClient } from "../typechain-types";

const REGTEST = 2;
const HEADERS_PER_TX = 500;

function step(n: number, text: string): void {
  console.log(`[${n}] ${text}`);
}

async function relayHeaders(client: BitcoinLightClient, rpc: BitcoinRpcClient): Promise<number> {
  const [, best] = await client.bestBlock();
  const tip = await rpc.getBlockCount();
  let gas = 0n;
  for (let from = Number(best) + 1; from <= tip; from += HEADERS_PER_TX) {
    const count = Math.min(HEADERS_PER_TX, tip - from + 1);
    const headers = await rpc.getRawHeaders(from, count);
    const receipt = await (await client.submitHeaders("0x" + headers.map((h) => h.header).join(""))).wait();
    gas += receipt!.gasUsed;
  }
  return Number(gas);
}

async function main(): Promise<void> {
  const started = Date.now();
  const btc = await startRegtestNode({ port: 0 });
  try {
    const rpc = new BitcoinRpcClient({ url: btc.url });
    step(1, `embedded Bitcoin regtest node on ${btc.url.replace(/\/\/.*@/, "//")} (JSON-RPC, like bitcoind)`);

    const genesisHash = await rpc.getBlockHash(0);
    const genesis = await rpc.getBlockHeaderHex(genesisHash);
    const info = await rpc.getBlockHeader(genesisHash);
    const factory = await ethers.getContractFactory("BitcoinLightClient");
    const client = (await factory.deploy("0x" + genesis, 0, info.time, REGTEST)) as unknown as BitcoinLightClient;
    await client.waitForDeployment();
    step(2, `BitcoinLightClient deployed at ${await client.getAddress()}, anchored at regtest genesis ${genesisHash}`);

    const faucet = await rpc.getNewAddress();
    await rpc.generateToAddress(101, faucet);
    step(
      3,
      `mined 101 blocks with real proof of work; faucet wallet balance ${await rpc.call<number>("getbalance")} BTC`,
    );

    const recipient = await rpc.getNewAddress();
    const txid = await rpc.sendToAddress(recipient, 1.5);
    step(4, `sent 1.5 BTC to ${recipient}: txid ${txid}`);
    await rpc.generateToAddress(6, faucet);
    step(5, `mined 6 more blocks: the payment has 6 confirmations`);

    const gas = await relayHeaders(client, rpc);
    const [bestHash, bestHeight] = await client.bestBlock();
    step(
      6,
      `relayed ${bestHeight} headers to the light client (${Math.round(gas / Number(bestHeight))} gas/header); tip ${bestHeight} ${bestHash}`,
    );
    if (bestHash !== displayToInternal(await rpc.getBestBlockHash()))
      throw new Error("light client tip differs from the node's tip");

    const proof = await buildTxProof(rpc, txid);
    const proven = await client.verifyTx(proof, 6);
    step(
      7,
      `SPV proof (block ${proof.blockHeight}, index ${proof.txIndex}, depth ${(proof.merkleProof.length - 2) / 64}) verified on the EVM: txid ${proven}`,
    );
    if (proven !== displayToInternal(txid)) throw new Error("verifyTx returned another txid");
    console.log(`\ndemo complete in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await btc.close();
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
