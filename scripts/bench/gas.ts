/**
 * Gas benchmark of BitcoinLightClient: gas per header at batch sizes 1, 10 and 100 (real mainnet headers, the
 * 100-header batch crossing the 741888 retarget), verifyTx gas by merkle depth, and reorganisations (lightClientReorgs.ts:
 * a 10-header heavier branch in one call, and the deepest reorganisation, MAX_FORK_SEARCH blocks, in steps).
 * Run: npm run bench:gas. Prints a table and writes bench/results/gas.json.
 */
import { ethers } from "hardhat";
import { randomBytes } from "node:crypto";
import type { BitcoinLightClient } from "../../typechain-types";
import { loadVector, type HeaderRangeVector, type SpvVectors } from "../../test/helpers/vectors";
import {
  REGTEST_GENESIS,
  concatHeaders,
  hash256,
  headerTime,
  hex0x,
  merkleProof,
  mineRegtestHeader,
} from "../../test/helpers/bitcoinData";
import { printTable, writeBenchResult } from "./report";
import { deepReorgGas, reorgGasPerHeader } from "./lightClientReorgs";

async function deploy(
  anchorHex: string,
  height: number,
  epochStart: number,
  network: number,
): Promise<BitcoinLightClient> {
  const f = await ethers.getContractFactory("BitcoinLightClient");
  const c = (await f.deploy(anchorHex, height, epochStart, network)) as unknown as BitcoinLightClient;
  await c.waitForDeployment();
  return c;
}

async function headerGas() {
  const range = loadVector<HeaderRangeVector>("mainnet-741793-741990-retarget.json");
  const anchor = range.headers[0];
  const epochStart = headerTime(range.epochStart!.header);
  const rows: {
    batch: number;
    firstHeight: number;
    crossesRetarget: boolean;
    gasUsed: number;
    gasPerHeader: number;
  }[] = [];
  for (const batch of [1, 10, 100, 197]) {
    const client = await deploy("0x" + anchor.header, anchor.height, epochStart, 0);
    // Batches of 1 and 10 are measured inside an epoch; the 100 batch spans 741794..741893, across 741888.
    const first = batch === 100 || batch === 197 ? 1 : 3;
    if (first > 1)
      await (await client.submitHeaders(concatHeaders(range.headers.slice(1, first).map((h) => h.header)))).wait();
    const slice = range.headers.slice(first, first + batch);
    const receipt = await (await client.submitHeaders(concatHeaders(slice.map((h) => h.header)))).wait();
    const gasUsed = Number(receipt!.gasUsed);
    rows.push({
      batch,
      firstHeight: slice[0].height,
      crossesRetarget: slice[0].height <= 741888 && slice[slice.length - 1].height >= 741888,
      gasUsed,
      gasPerHeader: Math.round(gasUsed / batch),
    });
  }
  return rows;
}

async function verifyTxGas() {
  const meter = await (await ethers.getContractFactory("VerifyTxGasMeter")).deploy();
  const spv = loadVector<SpvVectors>("mainnet-spv-proofs.json");
  const v = spv.valid[0];
  const rows: { depth: number; source: string; rawTxBytes: number; gas: number }[] = [];

  // The real mainnet proof (depth 12).
  const mainnet = await deploy("0x" + v.blockHeader, v.blockHeight, headerTime(v.blockHeader) - 600, 0);
  const [realGas] = await meter.measure(
    await mainnet.getAddress(),
    {
      rawTx: "0x" + v.rawTx,
      blockHeight: v.blockHeight,
      blockHeader: "0x" + v.blockHeader,
      txIndex: v.txIndex,
      merkleProof: "0x" + v.merkleProof,
    },
    1,
  );
  rows.push({
    depth: v.merkleProof.length / 64,
    source: "mainnet block 592920",
    rawTxBytes: v.rawTx.length / 2,
    gas: Number(realGas),
  });

  // Regtest blocks mined here, the same real transaction at the last position of a tree of 2^depth leaves.
  const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
  const regtest = await deploy(hex0x(genesis), 0, genesis.readUInt32LE(68), 2);
  let prev = hash256(genesis);
  let time = genesis.readUInt32LE(68);
  const raw = Buffer.from(v.rawTx, "hex");
  const txid = hash256(raw);
  for (const depth of [0, 1, 2, 4, 6, 8, 10, 12, 14]) {
    const n = 2 ** depth;
    const leaves = Array.from({ length: n }, (_, i) => (i === n - 1 ? txid : randomBytes(32)));
    const { root, siblings } = merkleProof(leaves, n - 1);
    time += 1;
    const header = mineRegtestHeader(prev, root, time);
    await (await regtest.submitHeaders(hex0x(header))).wait();
    prev = hash256(header);
    const [height] = [(await regtest.bestBlock())[1]];
    const [gas] = await meter.measure(
      await regtest.getAddress(),
      {
        rawTx: hex0x(raw),
        blockHeight: height,
        blockHeader: hex0x(header),
        txIndex: n - 1,
        merkleProof: hex0x(Buffer.concat(siblings)),
      },
      1,
    );
    rows.push({ depth, source: `regtest, ${n} leaves`, rawTxBytes: raw.length, gas: Number(gas) });
  }
  return rows;
}

async function main() {
  const headers = await headerGas();
  printTable(
    "BitcoinLightClient.submitHeaders (real mainnet headers, receipt gas incl. 21,000 base)",
    ["batch", "first height", "crosses retarget", "gas used", "gas / header"],
    headers.map((r) => [r.batch, r.firstHeight, r.crossesRetarget ? "yes" : "no", r.gasUsed, r.gasPerHeader]),
  );
  const verify = await verifyTxGas();
  printTable(
    "BitcoinLightClient.verifyTx (gas of the call as a contract pays it)",
    ["merkle depth", "block", "raw tx bytes", "gas"],
    verify.map((r) => [r.depth, r.source, r.rawTxBytes, r.gas]),
  );
  const reorg10 = await reorgGasPerHeader();
  printTable(
    "BitcoinLightClient: a heavier branch in one submitHeaders call (regtest, real proof of work)",
    ["branch headers", "blocks replaced", "gas used", "gas / header"],
    reorg10.map((r) => [r.branch, r.replaced, r.gasUsed, r.gasPerHeader]),
  );
  const deep = await deepReorgGas();
  printTable(
    `BitcoinLightClient: the deepest reorganisation (${deep.depth} blocks replaced), every transaction under 16.7M gas`,
    ["phase", "transactions", "gas used", "largest transaction"],
    deep.phases.map((p) => [p.phase, p.transactions, p.gasUsed, p.maxGas]),
  );
  const file = writeBenchResult("gas", { submitHeaders: headers, verifyTx: verify, reorg: reorg10, deepReorg: deep });
  console.log(`\nwrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
