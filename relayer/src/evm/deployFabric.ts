import { ContractFactory, type Signer } from "ethers";
import type { Logger } from "pino";
import { displayToInternal } from "../bitcoin/byteOrder";
import type { FabricConfig } from "../config/schema";
import { custodyScriptOf, parseCustodyKey } from "../roles/withdrawals/custodyKey";
import { loadArtifact } from "./artifacts";
import type { Deployment } from "./deployment";
import { hvmOptionFromConfig, withHvm, type FabricHvmOption } from "./fabricHvm";
import { loadTunnelArtifact } from "./tunnel";
import { createOperatorVault, type VaultTerms } from "./tunnelVault";
import { deployPop, type DeployPopOptions } from "../pop/deployPop";
import { grantSequencer } from "../pop/sequencerRole";

/** What deploy reads from the Bitcoin node (BitcoinRpcClient provides it). */
export interface DeployBitcoinSource {
  call<T>(method: string, params?: unknown[]): Promise<T>;
  getBlockCount(): Promise<number>;
  getBlockHash(height: number): Promise<string>;
  getBlockHeaderHex(hash: string): Promise<string>;
  getBlockHeader(hash: string): Promise<{ time: number }>;
}

export type BitcoinNetworkName = "mainnet" | "testnet" | "regtest";

/** The light client's `Network` enum values, as DESIGN.md fixes them. */
export const NETWORK_ENUM: Record<BitcoinNetworkName, number> = { mainnet: 0, testnet: 1, regtest: 2 };

/** Maps bitcoind's getblockchaininfo `chain` to the light client's network. */
export function networkOfChain(chain: string): BitcoinNetworkName {
  switch (chain) {
    case "main":
      return "mainnet";
    case "test":
    case "testnet4":
      return "testnet";
    case "regtest":
      return "regtest";
    default:
      throw new Error(
        `Bitcoin chain "${chain}" is not supported by BitcoinLightClient (main, test, testnet4, regtest)`,
      );
  }
}

export interface DeployOptions {
  signer: Signer;
  bitcoin: DeployBitcoinSource;
  /** Anchor at this height; default: the node's tip minus `anchorMargin`. */
  anchorHeight?: number;
  anchorMargin: number;
  /**
   * Also create a vault operated by the deploy signer (VAULT_CUSTODY_KEY): its P2WPKH custody script, terms and
   * confirmations. The signer is the tunnel's admin, so it grants itself VAULT_MANAGER_ROLE and OPERATOR_ROLE.
   */
  vault?: { custodyScript: string; terms: VaultTerms; confirmations: number };
  /** PoP contracts' settings (keystone interval, payout delay, pool); defaults when absent. */
  pop?: Omit<DeployPopOptions, "lightClient" | "log">;
  /** Another address to hold KeystoneLedger's SEQUENCER_ROLE (the keystones role's signer, POP_SEQUENCER_ADDRESS). */
  popSequencer?: string;
  /** Also deploy the hVM over the light client (BitcoinTxIndex, precompiles, BitcoinKit). */
  hvm?: FabricHvmOption;
  log?: Logger;
}

/** Reads the anchor checkpoint (header, height, epoch start time, network) from the Bitcoin node. */
export async function readAnchor(
  bitcoin: DeployBitcoinSource,
  anchorHeight: number | undefined,
  anchorMargin: number,
): Promise<Deployment["anchor"]> {
  const info = await bitcoin.call<{ chain: string }>("getblockchaininfo");
  const network = networkOfChain(info.chain);
  const tip = await bitcoin.getBlockCount();
  const height = anchorHeight ?? Math.max(0, tip - anchorMargin);
  if (height > tip) throw new Error(`DEPLOY_ANCHOR_HEIGHT ${height} is above the Bitcoin node's tip ${tip}`);
  const hash = await bitcoin.getBlockHash(height);
  const header = (await bitcoin.getBlockHeaderHex(hash)).toLowerCase();
  const epochStart = height - (height % 2016);
  const epochStartTimestamp = (await bitcoin.getBlockHeader(await bitcoin.getBlockHash(epochStart))).time;
  return { height, hash, header, epochStartTimestamp, network };
}

/**
 * Deploys BitcoinLightClient (anchored at a checkpoint read from the Bitcoin node) and BitcoinTunnel (which deploys
 * its HemiBTC), with the signer as the tunnel's admin; optionally creates the operator's vault. Returns the record
 * that `writeDeployment` stores as deployments/<chainId>.json.
 */
export async function deployFabric(opts: DeployOptions): Promise<Deployment> {
  const provider = opts.signer.provider;
  if (provider === null) throw new Error("the deploy signer has no provider");
  const { chainId } = await provider.getNetwork();
  const anchor = await readAnchor(opts.bitcoin, opts.anchorHeight, opts.anchorMargin);
  opts.log?.info({ chainId: Number(chainId), anchor: { height: anchor.height, hash: anchor.hash } }, "deploying");

  const artifact = loadArtifact("BitcoinLightClient");
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, opts.signer);
  const lc = await factory.deploy(
    "0x" + anchor.header,
    anchor.height,
    anchor.epochStartTimestamp,
    NETWORK_ENUM[anchor.network],
  );
  const receipt = await lc.deploymentTransaction()?.wait();
  const address = await lc.getAddress();
  const [bestHash] = (await lc.getFunction("bestBlock").staticCall()) as [string, bigint];
  if (bestHash !== displayToInternal(anchor.hash)) {
    throw new Error(`deployed light client reports best ${bestHash}, expected the anchor ${anchor.hash}`);
  }
  opts.log?.info({ address, gasUsed: receipt?.gasUsed.toString() }, "BitcoinLightClient deployed");

  const deployer = await opts.signer.getAddress();
  const tunnelArtifact = loadTunnelArtifact("BitcoinTunnel");
  const tunnelFactory = new ContractFactory(tunnelArtifact.abi, tunnelArtifact.bytecode, opts.signer);
  const tunnel = await tunnelFactory.deploy(address, deployer);
  const tunnelReceipt = await tunnel.deploymentTransaction()?.wait();
  const tunnelAddress = await tunnel.getAddress();
  const hemiBtc = (await tunnel.getFunction("token").staticCall()) as string;
  opts.log?.info(
    { address: tunnelAddress, hemiBTC: hemiBtc, gasUsed: tunnelReceipt?.gasUsed.toString() },
    "BitcoinTunnel deployed",
  );
  let vaults: Deployment["vaults"];
  if (opts.vault !== undefined) {
    const v = await createOperatorVault({
      tunnel: tunnelAddress,
      operator: opts.signer,
      admin: opts.signer,
      custodyScript: opts.vault.custodyScript,
      terms: opts.vault.terms,
      confirmations: opts.vault.confirmations,
    });
    opts.log?.info({ vaultId: v.id, custodyScript: v.custodyScript, confirmations: v.confirmations }, "vault created");
    vaults = [v];
  }
  const pop = await deployPop(opts.signer, { ...opts.pop, lightClient: address, log: opts.log });
  await grantSequencer(opts.signer, pop.keystoneLedger, opts.popSequencer, opts.log);
  return withHvm(opts, {
    chainId: Number(chainId),
    contracts: { BitcoinLightClient: address, BitcoinTunnel: tunnelAddress, HemiBTC: hemiBtc },
    vaults,
    pop,
    anchor,
    deployer,
    blockNumber: receipt?.blockNumber,
    deployedAt: new Date().toISOString(),
  });
}

/** The deploy options the configuration sets: the anchor (DEPLOY_ANCHOR_*) and the vault (VAULT_*). */
export function deployOptionsFromConfig(
  cfg: FabricConfig,
): Pick<DeployOptions, "anchorHeight" | "anchorMargin" | "vault" | "pop" | "popSequencer" | "hvm"> {
  return {
    anchorHeight: cfg.DEPLOY_ANCHOR_HEIGHT,
    anchorMargin: cfg.DEPLOY_ANCHOR_MARGIN,
    vault: vaultOptionFromConfig(cfg),
    pop: { interval: cfg.KEYSTONE_INTERVAL, payoutDelay: cfg.POP_PAYOUT_DELAY },
    popSequencer: cfg.POP_SEQUENCER_ADDRESS,
    hvm: hvmOptionFromConfig(cfg),
  };
}

/** The `vault` deploy option from the configuration: set when VAULT_CUSTODY_KEY is. */
export function vaultOptionFromConfig(cfg: FabricConfig): DeployOptions["vault"] {
  if (cfg.VAULT_CUSTODY_KEY === undefined) return undefined;
  return {
    custodyScript: custodyScriptOf(parseCustodyKey(cfg.VAULT_CUSTODY_KEY)),
    confirmations: cfg.VAULT_CONFIRMATIONS,
    terms: {
      depositFeeBps: cfg.VAULT_DEPOSIT_FEE_BPS,
      depositFlatFee: BigInt(cfg.VAULT_DEPOSIT_FLAT_FEE),
      withdrawalFeeBps: cfg.VAULT_WITHDRAWAL_FEE_BPS,
      withdrawalFlatFee: BigInt(cfg.VAULT_WITHDRAWAL_FLAT_FEE),
      minDeposit: BigInt(cfg.VAULT_MIN_DEPOSIT),
    },
  };
}
