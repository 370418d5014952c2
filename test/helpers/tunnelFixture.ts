/**
 * The shared deployment of the tunnel tests: a light client over a regtest chain mined in the test, the tunnel
 * deployed with its module libraries (the same `deployTunnel` the `deploy` command uses), a TestCollateral token,
 * roles granted, and vault 1 created with COLLATERAL units of collateral. Loaded with `loadFixture`, so each test
 * starts from a snapshot instead of a fresh deployment.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Transaction } from "bitcoinjs-lib";
import {
  HemiBTC__factory,
  TestCollateral__factory,
  type BitcoinLightClient,
  type BitcoinTunnel,
  type HemiBTC,
  type TestCollateral,
} from "../../typechain-types";
import { deployTunnel, type DeployedTunnel } from "../../relayer/src/evm/tunnelDeploy";
import { TunnelBitcoinChain, randomP2wpkh, signedTx, withdrawalIdScript, type MinedBlock } from "./tunnelChain";

export const TERMS = {
  depositFeeBps: 10, // 0.1%
  depositFlatFee: 100n,
  withdrawalFeeBps: 20, // 0.2%
  withdrawalFlatFee: 200n,
  minDeposit: 10_000n,
};
/** Terms without fees. */
export const ZERO_TERMS = {
  depositFeeBps: 0,
  depositFlatFee: 0n,
  withdrawalFeeBps: 0,
  withdrawalFlatFee: 0n,
  minDeposit: 1n,
};
export const VaultStatus = { None: 0n, Live: 1n, Paused: 2n, Closing: 3n, Slashed: 4n };
export const WithdrawalStatus = { None: 0n, Pending: 1n, Finalized: 2n, Challenged: 3n };

/** Collateral price: 1e18 units (1 tCOL) = 1,000,000 sats. */
export const PRICE = 1_000_000n;
export const UNIT = 10n ** 18n;
/** Vault 1's collateral: 300 tCOL, worth 3 BTC, backing 2 BTC of custody at 150%. */
export const COLLATERAL = 300n * UNIT;
/** The default ratios. */
export const RATIO_BPS = 15_000n;
export const THRESHOLD_BPS = 12_000n;
export const BONUS_BPS = 500n;

export function depositFee(sats: bigint): bigint {
  return TERMS.depositFlatFee + (sats * BigInt(TERMS.depositFeeBps)) / 10_000n;
}
export function withdrawalFee(sats: bigint): bigint {
  return TERMS.withdrawalFlatFee + (sats * BigInt(TERMS.withdrawalFeeBps)) / 10_000n;
}
/** Collateral units worth `sats` * (1 + bonus), rounded up, at `price`. */
export function unitsFor(sats: bigint, bonusBps = 0n, price = PRICE): bigint {
  const num = sats * (10_000n + bonusBps) * UNIT;
  const den = 10_000n * price;
  return (num + den - 1n) / den;
}

export interface TunnelFixture {
  btc: TunnelBitcoinChain;
  client: BitcoinLightClient;
  tunnel: BitcoinTunnel;
  token: HemiBTC;
  collateral: TestCollateral;
  deployed: DeployedTunnel;
  admin: HardhatEthersSigner;
  manager: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  user: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  custody: Buffer;
  /** The Bitcoin tip when the fixture was taken (restored on every load). */
  tip0: MinedBlock;
}

async function tunnelFixture(): Promise<TunnelFixture> {
  const [admin, manager, pauser, operator, user, stranger] = await ethers.getSigners();
  const btc = await TunnelBitcoinChain.deploy();
  const deployed = await deployTunnel({
    signer: admin,
    lightClient: await btc.client.getAddress(),
    admin: admin.address,
    collateralPrice: PRICE,
  });
  const tunnel = deployed.tunnel;
  const token = HemiBTC__factory.connect(deployed.HemiBTC, admin);
  const collateral = TestCollateral__factory.connect(deployed.CollateralToken, admin);
  await (await tunnel.grantRole(await tunnel.VAULT_MANAGER_ROLE(), manager.address)).wait();
  await (await tunnel.grantRole(await tunnel.PAUSER_ROLE(), pauser.address)).wait();
  await (await tunnel.connect(manager).grantRole(await tunnel.OPERATOR_ROLE(), operator.address)).wait();
  const custody = randomP2wpkh();
  await (await tunnel.connect(operator).createVault(custody, TERMS)).wait();
  for (const who of [operator, user, stranger]) {
    await (await collateral.mint(who.address, 10_000n * UNIT)).wait();
    await (await collateral.connect(who).approve(deployed.BitcoinTunnel, ethers.MaxUint256)).wait();
  }
  await (await tunnel.connect(operator).addCollateral(1, COLLATERAL)).wait();
  return {
    btc,
    client: btc.client,
    tunnel,
    token,
    collateral,
    deployed,
    admin,
    manager,
    pauser,
    operator,
    user,
    stranger,
    custody,
    tip0: btc.tip,
  };
}

/** The shared deployment, reverted to its snapshot (the Bitcoin chain object's tip included). */
export async function loadTunnel(): Promise<TunnelFixture> {
  const f = await loadFixture(tunnelFixture);
  f.btc.tip = f.tip0;
  return f;
}

/** Mines `tx` with `confirmations` and confirms output `vout` (from `stranger`: anyone may). */
export async function deposit(f: TunnelFixture, tx: Transaction, vout = 0, confirmations = 6): Promise<MinedBlock> {
  const block = await f.btc.mineConfirmed([tx], confirmations);
  await (await f.tunnel.connect(f.stranger).confirmDeposit(f.btc.proof(block, tx), vout)).wait();
  return block;
}

/** The accounting invariant of vaults never challenged: supply + accrued fees = custody - pending. */
export async function expectBacked(f: TunnelFixture, vaultIds: number[] = [1]): Promise<void> {
  let backing = 0n;
  let accrued = 0n;
  for (const id of vaultIds) {
    const v = await f.tunnel.vault(id);
    backing += v.custody - v.pending;
    accrued += v.accruedFees;
  }
  expect((await f.token.totalSupply()) + accrued).to.equal(backing);
}

/** A payout of withdrawal `id`: `amount` to `script`, OP_RETURN <id>, change to the custody script. */
export function payoutTx(
  f: TunnelFixture,
  id: bigint,
  amount: bigint,
  script: Buffer,
  opts: { idScript?: Buffer | null; change?: Buffer; custody?: Buffer } = {},
): Transaction {
  const outputs: { script: Buffer; value: bigint }[] = [{ script, value: amount }];
  if (opts.idScript !== null) outputs.push({ script: opts.idScript ?? withdrawalIdScript(id), value: 0n });
  outputs.push({ script: opts.change ?? opts.custody ?? f.custody, value: 1_000_000n });
  return signedTx(outputs);
}

/** Requests a withdrawal of `sats` for `f.user` to `script` (vault chosen by the tunnel); returns its id. */
export async function request(f: TunnelFixture, script: Buffer, sats: bigint): Promise<bigint> {
  await (await f.tunnel.connect(f.user)["requestWithdrawal(bytes,uint64)"](script, sats)).wait();
  return f.tunnel.withdrawalCount();
}

/** Mines a payout of withdrawal `id` to `script` (paying `sats - fee`, change to `custody`) and proves it. */
export async function payAndFinalize(f: TunnelFixture, id: bigint, script: Buffer, custody = f.custody): Promise<void> {
  const w = await f.tunnel.withdrawal(id);
  const tx = payoutTx(f, id, w.sats - w.fee, script, { custody });
  const block = await f.btc.mineConfirmed([tx], Number(w.confirmations));
  await (await f.tunnel.finalizeWithdrawal(id, f.btc.proof(block, tx))).wait();
}
