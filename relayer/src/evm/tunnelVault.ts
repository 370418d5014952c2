/**
 * Vault set-up for operators: create a vault whose custody script is the P2WPKH of a custody key, and post its
 * collateral.
 *
 * Every satoshi a vault holds must be backed by collateral (an ERC-20 that is not hemiBTC, worth
 * `collateralRatioBps` of the custody at the governance price); a vault short of collateral stops taking new
 * deposits and is the first chosen for withdrawals. An operator:
 *   1. `createOperatorVault` (deploy does it when VAULT_CUSTODY_KEY is set);
 *   2. `addCollateralFromBalance(operatorSigner, tunnel, vaultId, units)` (approve + addCollateral), for instance
 *      with `npx hemi-fabric bond --amount <tokens>`; on a local deployment the TestCollateral token can be minted
 *      first (`mintTestCollateral`).
 * The vault then takes deposits up to `vaultBacking(id).depositCapacity` and withdrawals its collateral covers.
 */
import { type Signer } from "ethers";
import type { OutputSpec } from "../bitcoin/txBuilder";
import { IERC20__factory } from "../../../typechain-types/factories/@openzeppelin/contracts/token/ERC20/IERC20__factory";
import { TestCollateral__factory } from "../../../typechain-types/factories/contracts/tunnel/TestCollateral__factory";
import { parseContractEvents } from "./events";
import { tunnelAt, type VaultTermsStruct } from "./tunnelAbi";

/** BitcoinTunnel's VaultTerms. Fees: flat + amount * bps / 10000; minDeposit in satoshis. */
export interface VaultTerms extends VaultTermsStruct {
  depositFeeBps: number;
  depositFlatFee: bigint;
  withdrawalFeeBps: number;
  withdrawalFlatFee: bigint;
  minDeposit: bigint;
}

export interface CreatedVault {
  id: number;
  operator: string;
  /** Hex without 0x. */
  custodyScript: string;
  confirmations: number;
}

/**
 * Creates a vault operated by `operator` with `custodyScript` and `terms`, granting the roles on the way when
 * `admin` (DEFAULT_ADMIN_ROLE holder, e.g. the deployer) is given: admin takes VAULT_MANAGER_ROLE, grants
 * OPERATOR_ROLE to the operator, and sets the vault's confirmations when they differ from the default 6.
 * Without `admin`, the operator must already hold OPERATOR_ROLE and `confirmations` must be 6 (or be set by a
 * vault manager later).
 */
export async function createOperatorVault(opts: {
  tunnel: string;
  operator: Signer;
  admin?: Signer;
  custodyScript: string;
  terms: VaultTerms;
  confirmations: number;
}): Promise<CreatedVault> {
  const operatorAddress = await opts.operator.getAddress();
  const script = "0x" + opts.custodyScript.replace(/^0x/, "").toLowerCase();
  if (opts.admin !== undefined) {
    const t = tunnelAt(opts.tunnel, opts.admin);
    const admin = await opts.admin.getAddress();
    const manager = await t.VAULT_MANAGER_ROLE();
    if (!(await t.hasRole(manager, admin))) await (await t.grantRole(manager, admin)).wait();
    const operatorRole = await t.OPERATOR_ROLE();
    if (!(await t.hasRole(operatorRole, operatorAddress))) {
      await (await t.grantRole(operatorRole, operatorAddress)).wait();
    }
  }
  const t = tunnelAt(opts.tunnel, opts.operator);
  const receipt = await (await t.createVault(script, opts.terms)).wait();
  const created = parseContractEvents(t, opts.tunnel, receipt?.logs ?? []).find((e) => e.name === "VaultCreated");
  if (created === undefined) throw new Error("createVault: no VaultCreated event in the receipt");
  const id = Number(created.args.vaultId as bigint);
  if (opts.confirmations !== 6) {
    if (opts.admin === undefined) {
      throw new Error(`vault ${id}: confirmations ${opts.confirmations} need a VAULT_MANAGER_ROLE holder (admin)`);
    }
    await (await tunnelAt(opts.tunnel, opts.admin).setVaultConfirmations(id, opts.confirmations)).wait();
  }
  return {
    id,
    operator: operatorAddress,
    custodyScript: script.slice(2),
    confirmations: opts.confirmations,
  };
}

/** The outputs of a deposit: `sats` to the custody script and `OP_RETURN <recipient>` (add inputs and change). */
export function depositOutputs(custodyScript: string, sats: bigint, recipient: string): OutputSpec[] {
  if (!/^0x[0-9a-fA-F]{40}$/.test(recipient)) throw new Error(`deposit recipient ${recipient} is not an EVM address`);
  return [
    { script: custodyScript.replace(/^0x/, ""), value: sats },
    { opReturn: recipient.slice(2).toLowerCase(), value: 0n },
  ];
}

/** Mints `units` of a local deployment's TestCollateral token to the signer (anyone may: it is a faucet). */
export async function mintTestCollateral(signer: Signer, tunnelAddress: string, units: bigint): Promise<void> {
  const t = tunnelAt(tunnelAddress, signer);
  const token = TestCollateral__factory.connect(await t.collateralToken(), signer);
  await (await token.mint(await signer.getAddress(), units)).wait();
}

/**
 * Adds `units` of the signer's collateral token to a vault's collateral (approve if needed, then addCollateral);
 * returns the vault's new collateral.
 */
export async function addCollateralFromBalance(
  signer: Signer,
  tunnelAddress: string,
  vaultId: number,
  units: bigint,
): Promise<bigint> {
  const t = tunnelAt(tunnelAddress, signer);
  const token = IERC20__factory.connect(await t.collateralToken(), signer);
  const owner = await signer.getAddress();
  const balance = await token.balanceOf(owner);
  if (balance < units) {
    throw new Error(
      `collateral of ${units} units needs that much of the collateral token ${await token.getAddress()}; ${owner} holds ${balance}`,
    );
  }
  if ((await token.allowance(owner, tunnelAddress)) < units) {
    await (await token.approve(tunnelAddress, units)).wait();
  }
  await (await t.addCollateral(vaultId, units)).wait();
  return (await t.vault(vaultId)).collateral;
}
