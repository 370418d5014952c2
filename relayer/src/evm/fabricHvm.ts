import type { Signer } from "ethers";
import type { Logger } from "pino";
import type { FabricConfig } from "../config/schema";
import type { HvmLayout } from "../hvm/precompiles";
import type { Deployment } from "./deployment";

/** What `deploy` does about the hVM: deploy it with this layout and lag (installed at 0x40..0x49 where it can be). */
export interface FabricHvmOption {
  layout: HvmLayout;
  lag: number;
}

/** The hVM deploy option from the configuration (HVM_LAYOUT, HVM_LAG). */
export function hvmOptionFromConfig(cfg: FabricConfig): FabricHvmOption {
  return { layout: cfg.HVM_LAYOUT, lag: cfg.HVM_LAG };
}

/**
 * Deploys the hVM (BitcoinTxIndex, the precompile emulators installed at Hemi's addresses, BitcoinKit) over the
 * deployment's light client and returns the deployment with the hVM's addresses, layout and lag added. Without
 * an option the deployment is returned unchanged.
 */
export async function withHvm(
  opts: { signer: Signer; hvm?: FabricHvmOption; log?: Logger },
  deployment: Deployment,
): Promise<Deployment> {
  if (opts.hvm === undefined) return deployment;
  // Loaded on use: the hVM's deploy code loads every typechain factory, which would slow every CLI start.
  const { deployHvm, hvmDeploymentFields } = await import("../hvm");
  const hvm = await deployHvm(opts.signer, {
    lightClient: deployment.contracts.BitcoinLightClient,
    network: deployment.anchor.network,
    layout: opts.hvm.layout,
    lag: opts.hvm.lag,
    log: (line) => opts.log?.info(line),
  });
  const fields = hvmDeploymentFields(hvm);
  opts.log?.info(
    { ...fields.contracts, layout: hvm.layout, lag: hvm.lag, installedWith: hvm.installedWith },
    "hVM deployed",
  );
  return { ...deployment, contracts: { ...deployment.contracts, ...fields.contracts }, hvm: fields.hvm };
}
