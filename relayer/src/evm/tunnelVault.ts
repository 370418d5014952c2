/**
 * Vault set-up for operators: create a vault whose custody script is the P2WPKH of a custody key, and bond it.
 *
 * Bonding is in hemiBTC, and hemiBTC only comes from deposits, so an operator bootstraps its bond like this:
 *   1. `createOperatorVault` (deploy does it when VAULT_CUSTODY_KEY is set);
 *   2. deposit BTC to its own vault with `depositOutputs(custodyScript, sats, operatorEvmAddress)` (a normal deposit:
 *      custody output + `OP_RETURN <operator address>`), which the `deposits` role mints to the operator;
 *   3. `addBondFromBalance(operatorSigner, tunnel, vaultId, sats)` (approve + addBond).
 * The vault then takes withdrawals up to its free bond (bond - pending).
 */
import { Contract, type ContractRunner, type Signer } from "ethers";
import type { OutputSpec } from "../bitcoin/txBuilder";
import { parseContractEvents } from "./events";
import { HEMI_BTC_ABI, TUNNEL_ABI } from "./tunnel";

/** BitcoinTunnel.VaultTerms. Fees: flat + amount * bps / 10000; minDeposit in satoshis. */
export interface VaultTerms {
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

function tunnelAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, TUNNEL_ABI, runner);
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
    const manager = (await t.VAULT_MANAGER_ROLE()) as string;
    if (!((await t.hasRole(manager, admin)) as boolean)) await (await t.grantRole(manager, admin)).wait();
    const operatorRole = (await t.OPERATOR_ROLE()) as string;
    if (!((await t.hasRole(operatorRole, operatorAddress)) as boolean)) {
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

/** Adds `sats` of the signer's hemiBTC to a vault's bond (approve if needed, then addBond); returns the new bond. */
export async function addBondFromBalance(
  signer: Signer,
  tunnelAddress: string,
  vaultId: number,
  sats: bigint,
): Promise<bigint> {
  const t = tunnelAt(tunnelAddress, signer);
  const token = new Contract((await t.token()) as string, HEMI_BTC_ABI, signer);
  const owner = await signer.getAddress();
  const balance = (await token.balanceOf(owner)) as bigint;
  if (balance < sats) throw new Error(`bond of ${sats} sat needs that much hemiBTC; ${owner} holds ${balance}`);
  if (((await token.allowance(owner, tunnelAddress)) as bigint) < sats) {
    await (await token.approve(tunnelAddress, sats)).wait();
  }
  await (await t.addBond(vaultId, sats)).wait();
  const v = (await t.vault(vaultId)) as { bond: bigint };
  return v.bond;
}
