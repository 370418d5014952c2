/**
 * Deploying BitcoinTunnel: its module libraries first (TunnelVaults, TunnelDeposits, TunnelWithdrawals,
 * TunnelLiquidation: external libraries, linked into the tunnel's bytecode), then the tunnel, which deploys its
 * HemiBTC. On a local chain without a collateral token, a TestCollateral token is deployed too. Used by `deploy`,
 * the demo, the benches and the tests, with the typechain factories of the compiled contracts.
 */
import type { Signer } from "ethers";
import { BitcoinTunnel__factory } from "../../../typechain-types/factories/contracts/tunnel/BitcoinTunnel__factory";
import { TestCollateral__factory } from "../../../typechain-types/factories/contracts/tunnel/TestCollateral__factory";
import { TunnelDeposits__factory } from "../../../typechain-types/factories/contracts/tunnel/modules/TunnelDeposits__factory";
import { TunnelLiquidation__factory } from "../../../typechain-types/factories/contracts/tunnel/modules/TunnelLiquidation__factory";
import { TunnelVaults__factory } from "../../../typechain-types/factories/contracts/tunnel/modules/TunnelVaults__factory";
import { TunnelWithdrawals__factory } from "../../../typechain-types/factories/contracts/tunnel/modules/TunnelWithdrawals__factory";
import type { BitcoinTunnel } from "../../../typechain-types";
import type { BitcoinTunnelLibraryAddresses } from "../../../typechain-types/factories/contracts/tunnel/BitcoinTunnel__factory";

/** The default collateral price of local deployments: 1 tCOL (1e18 units) = 0.01 BTC. */
export const DEFAULT_COLLATERAL_PRICE = 1_000_000n;

/** Addresses of a deployed tunnel, as the deployment file records them. */
export interface DeployedTunnel {
  tunnel: BitcoinTunnel;
  BitcoinTunnel: string;
  HemiBTC: string;
  CollateralToken: string;
  TunnelVaults: string;
  TunnelDeposits: string;
  TunnelWithdrawals: string;
  TunnelLiquidation: string;
  /** EVM block of the tunnel's deployment. */
  blockNumber: number;
  gasUsed: bigint;
}

export interface DeployTunnelOptions {
  signer: Signer;
  lightClient: string;
  admin: string;
  /** The collateral ERC-20; omitted: deploy a TestCollateral (local chains). */
  collateralToken?: string;
  /** Satoshis per 1e18 units of the collateral token; default DEFAULT_COLLATERAL_PRICE. */
  collateralPrice?: bigint;
  /** Called after each contract is deployed. */
  onDeployed?: (name: string, address: string) => void;
}

/** Deploys the module libraries, links them and deploys BitcoinTunnel (and a TestCollateral when needed). */
export async function deployTunnel(opts: DeployTunnelOptions): Promise<DeployedTunnel> {
  const { signer } = opts;
  const done = async (name: string, c: { waitForDeployment(): Promise<unknown>; getAddress(): Promise<string> }) => {
    await c.waitForDeployment();
    const address = await c.getAddress();
    opts.onDeployed?.(name, address);
    return address;
  };
  let collateral = opts.collateralToken;
  if (collateral === undefined) {
    collateral = await done("TestCollateral", await new TestCollateral__factory(signer).deploy());
  }
  const libs = {
    TunnelVaults: await done("TunnelVaults", await new TunnelVaults__factory(signer).deploy()),
    TunnelDeposits: await done("TunnelDeposits", await new TunnelDeposits__factory(signer).deploy()),
    TunnelWithdrawals: await done("TunnelWithdrawals", await new TunnelWithdrawals__factory(signer).deploy()),
    TunnelLiquidation: await done("TunnelLiquidation", await new TunnelLiquidation__factory(signer).deploy()),
  };
  const links: BitcoinTunnelLibraryAddresses = {
    ["contracts/tunnel/modules/TunnelVaults.sol:TunnelVaults"]: libs.TunnelVaults,
    ["contracts/tunnel/modules/TunnelDeposits.sol:TunnelDeposits"]: libs.TunnelDeposits,
    ["contracts/tunnel/modules/TunnelWithdrawals.sol:TunnelWithdrawals"]: libs.TunnelWithdrawals,
    ["contracts/tunnel/modules/TunnelLiquidation.sol:TunnelLiquidation"]: libs.TunnelLiquidation,
  };
  const tunnel = await new BitcoinTunnel__factory(links, signer).deploy(
    opts.lightClient,
    opts.admin,
    collateral,
    opts.collateralPrice ?? DEFAULT_COLLATERAL_PRICE,
  );
  const address = await done("BitcoinTunnel", tunnel);
  const receipt = await tunnel.deploymentTransaction()?.wait();
  return {
    tunnel,
    BitcoinTunnel: address,
    HemiBTC: await tunnel.token(),
    CollateralToken: collateral,
    ...libs,
    blockNumber: receipt?.blockNumber ?? 0,
    gasUsed: receipt?.gasUsed ?? 0n,
  };
}
