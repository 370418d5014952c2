/**
 * Gas benchmark of the BTC tunnel: gas per confirmed deposit, alone (confirmDeposit) and per deposit in a batch of
 * 20 from one block (confirmDepositsInBlock), withdrawal request and payout proof, collateral posted and released,
 * a challenge and a liquidation; and the deployed size of the tunnel and each of its modules. Deposits are real signed
 * transactions (one P2WPKH input; custody output, OP_RETURN <recipient>, change) in a regtest block of 21
 * transactions (merkle depth 5) mined with real proof of work; each recipient is a fresh address (a cold balance).
 * Run: npx hardhat run scripts/bench/tunnel.ts. Prints a table and writes bench/results/tunnel.json.
 */
import { artifacts, ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Transaction } from "bitcoinjs-lib";
import { TestCollateral__factory, type BitcoinTunnel } from "../../typechain-types";
import { deployTunnel } from "../../relayer/src/evm/tunnelDeploy";
import {
  TunnelBitcoinChain,
  depositTx,
  randomP2wpkh,
  signedTx,
  withdrawalIdScript,
  type MinedBlock,
} from "../../test/helpers/tunnelChain";
import { hex0x } from "../../test/helpers/bitcoinData";
import { printTable, writeBenchResult } from "./report";

const BATCH = 20;
/** 15,000 tCOL: worth 150 BTC at the default price, backing 100 BTC. */
const COLLATERAL = 15_000n * 10n ** 18n;
const MODULES = [
  "BitcoinTunnel",
  "TunnelVaults",
  "TunnelDeposits",
  "TunnelWithdrawals",
  "TunnelLiquidation",
  "HemiBTC",
];
const TERMS = {
  depositFeeBps: 10,
  depositFlatFee: 100n,
  withdrawalFeeBps: 20,
  withdrawalFlatFee: 200n,
  minDeposit: 10_000n,
};

interface Setup {
  btc: TunnelBitcoinChain;
  tunnel: BitcoinTunnel;
  custody: Buffer;
}

async function setup(): Promise<Setup> {
  const [admin, operator] = await ethers.getSigners();
  const btc = await TunnelBitcoinChain.deploy();
  const d = await deployTunnel({ signer: admin, lightClient: await btc.client.getAddress(), admin: admin.address });
  const tunnel = d.tunnel;
  await (await tunnel.grantRole(await tunnel.VAULT_MANAGER_ROLE(), admin.address)).wait();
  await (await tunnel.grantRole(await tunnel.OPERATOR_ROLE(), operator.address)).wait();
  const custody = randomP2wpkh();
  await (await tunnel.connect(operator).createVault(custody, TERMS)).wait();
  // Collateral for 100 BTC (1 tCOL = 0.01 BTC, 150%), so that no deposit of the benchmark leaves the vault short.
  const col = TestCollateral__factory.connect(d.CollateralToken, operator);
  await (await col.mint(operator.address, COLLATERAL * 2n)).wait();
  await (await col.approve(d.BitcoinTunnel, ethers.MaxUint256)).wait();
  await (await tunnel.connect(operator).addCollateral(1, COLLATERAL)).wait();
  // Warm the global counters with a first deposit, as on a tunnel in service.
  const first = depositTx(custody, 1_000_000n, ethers.Wallet.createRandom().address, {
    extra: [{ script: randomP2wpkh(), value: 500_000n }],
  });
  const b = await btc.mineConfirmed([first]);
  await (await tunnel.confirmDeposit(btc.proof(b, first), 0)).wait();
  return { btc, tunnel, custody };
}

/** A block of BATCH deposits (each with change), each to a fresh recipient. */
async function depositBlock(s: Setup): Promise<{ block: MinedBlock; txs: Transaction[] }> {
  const txs = Array.from({ length: BATCH }, (_, i) =>
    depositTx(s.custody, 100_000n + BigInt(i), ethers.Wallet.createRandom().address, {
      extra: [{ script: randomP2wpkh(), value: 2_000_000n }],
    }),
  );
  const block = await s.btc.mineConfirmed(txs);
  return { block, txs };
}

async function gasOf(p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await p).wait();
  return Number(receipt!.gasUsed);
}

async function main() {
  const s = await setup();

  // Alone: each of several deposits of one block confirmed by its own call; report the median.
  const single = await depositBlock(s);
  const alone: number[] = [];
  for (const tx of single.txs.slice(0, 5))
    alone.push(await gasOf(s.tunnel.confirmDeposit(s.btc.proof(single.block, tx), 0)));
  alone.sort((a, b) => a - b);
  const aloneGas = alone[Math.floor(alone.length / 2)];
  // Of which: the light client's verifyTx, measured from a contract (no base or calldata cost).
  const meter = await (await ethers.getContractFactory("VerifyTxGasMeter")).deploy();
  const [verifyGas] = await meter.measure(s.btc.client, s.btc.proof(single.block, single.txs[0]), 6);

  // Batch of 20 from one block.
  const batch = await depositBlock(s);
  const items = batch.txs.map((t) => s.btc.inBlock(batch.block, t));
  const batchGas = await gasOf(
    s.tunnel.confirmDepositsInBlock(
      hex0x(batch.block.header),
      batch.block.height,
      items,
      items.map(() => 0),
    ),
  );

  // Withdrawal: request (2 arguments; and with the most fee accepted), then the payout proof.
  const [, operator, holder] = await ethers.getSigners();
  const src = depositTx(s.custody, 5_000_000n, operator.address);
  const bb = await s.btc.mineConfirmed([src]);
  await (await s.tunnel.confirmDeposit(s.btc.proof(bb, src), 0)).wait();
  const userScript = randomP2wpkh();
  const op = s.tunnel.connect(operator);
  const requestGas = await gasOf(op["requestWithdrawal(bytes,uint64)"](userScript, 500_000n));
  const id = await s.tunnel.withdrawalCount();
  const requestMaxFeeGas = await gasOf(op["requestWithdrawal(bytes,uint64,uint64)"](userScript, 500_000n, 10_000n));
  const w = await s.tunnel.withdrawal(id);
  const payout = signedTx([
    { script: userScript, value: w.sats - w.fee },
    { script: withdrawalIdScript(id), value: 0n },
    { script: s.custody, value: 1_000_000n },
  ]);
  const pb = await s.btc.mineConfirmed([payout]);
  const finalizeGas = await gasOf(s.tunnel.finalizeWithdrawal(id, s.btc.proof(pb, payout)));

  // Collateral: posted, released (free collateral above the requirement).
  const addCollateralGas = await gasOf(op.addCollateral(1, 10n ** 18n));
  const withdrawCollateralGas = await gasOf(op.withdrawCollateral(1, 10n ** 18n, operator.address));

  // A withdrawal left unpaid is challenged (paid in collateral, vault slashed), then a holder liquidates.
  const src2 = depositTx(s.custody, 2_000_000n, holder.address);
  const b2 = await s.btc.mineConfirmed([src2]);
  await (await s.tunnel.confirmDeposit(s.btc.proof(b2, src2), 0)).wait();
  const unpaid = await s.tunnel.withdrawalCount();
  await time.increaseTo((await s.tunnel.withdrawal(unpaid)).deadline + 1n);
  const challengeGas = await gasOf(s.tunnel.challengeWithdrawal(unpaid));
  const liquidateGas = await gasOf(s.tunnel.connect(holder).liquidate(1, 1_000_000n));

  const sizes: Record<string, number> = {};
  for (const m of MODULES) sizes[m] = ((await artifacts.readArtifact(m)).deployedBytecode.length - 2) / 2;

  const perBatched = Math.round(batchGas / BATCH);
  printTable(
    "BitcoinTunnel gas (block of 21 txs, merkle depth 5; fresh recipient per deposit)",
    ["operation", "gas", "gas per deposit"],
    [
      ["confirmDeposit (one deposit alone, median of 5)", aloneGas, aloneGas],
      ["  of which light client verifyTx (call from a contract)", Number(verifyGas), "-"],
      [`confirmDepositsInBlock (${BATCH} deposits, one block)`, batchGas, perBatched],
      ["requestWithdrawal(bytes,uint64)", requestGas, "-"],
      ["requestWithdrawal(bytes,uint64,uint64) (max fee)", requestMaxFeeGas, "-"],
      ["finalizeWithdrawal (payout proof)", finalizeGas, "-"],
      ["addCollateral", addCollateralGas, "-"],
      ["withdrawCollateral (release)", withdrawCollateralGas, "-"],
      ["challengeWithdrawal (paid in collateral, vault slashed)", challengeGas, "-"],
      ["liquidate (burn hemiBTC for collateral)", liquidateGas, "-"],
    ],
  );
  printTable(
    "BitcoinTunnel deployed sizes (EIP-170 limit 24,576 bytes)",
    ["contract", "bytes", "room"],
    MODULES.map((m) => [m, sizes[m], 24_576 - sizes[m]]),
  );
  const file = writeBenchResult("tunnel", {
    note: "Gas of tunnel transactions (receipt gasUsed, including the 21000 base and calldata). Deposits: one P2WPKH input; custody, OP_RETURN and change outputs; block of 21 txs (merkle depth 5); fresh recipient each.",
    depositAlone: { gasUsed: aloneGas, samples: alone, lightClientVerifyTx: Number(verifyGas) },
    depositBatch: { deposits: BATCH, gasUsed: batchGas, gasPerDeposit: perBatched },
    requestWithdrawal: { gasUsed: requestGas },
    requestWithdrawalMaxFee: { gasUsed: requestMaxFeeGas },
    finalizeWithdrawal: { gasUsed: finalizeGas },
    addCollateral: { gasUsed: addCollateralGas },
    withdrawCollateral: { gasUsed: withdrawCollateralGas },
    challengeWithdrawal: { gasUsed: challengeGas },
    liquidate: { gasUsed: liquidateGas },
    deployedBytes: sizes,
  });
  console.log(`\nwrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
