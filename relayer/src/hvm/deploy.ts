/**
 * Deploys the hVM: BitcoinTxIndex over an existing BitcoinLightClient, the ten precompile emulators, installs them
 * at 0x40..0x49 where the chain allows it, and BitcoinKit pointed at wherever the precompiles answer.
 */
import type { BaseContract, Signer } from "ethers";
import {
  BitcoinKit__factory,
  BitcoinLightClient__factory,
  BitcoinTxIndex__factory,
  HvmBtcAddrToScript__factory,
  HvmBtcBalAddr__factory,
  HvmBtcHeaderN__factory,
  HvmBtcInputByTxid__factory,
  HvmBtcLastHeader__factory,
  HvmBtcOutputByTxid__factory,
  HvmBtcTxByTxid__factory,
  HvmBtcTxConfirmations__factory,
  HvmBtcTxGetInputWitness__factory,
  HvmBtcUtxosAddrList__factory,
} from "../../../typechain-types";
import { NETWORK_ENUM, type BitcoinNetworkName } from "../evm/deployFabric";
import { installHvmPrecompiles, type EvmRpc, type SetCodeMethod } from "./install";
import { DEFAULT_HVM_LAG, PRECOMPILES, layoutEnum, type HvmLayout, type PrecompileKey } from "./precompiles";

export interface DeployHvmOptions {
  /** The BitcoinLightClient every answer follows. */
  lightClient: string;
  /** 0x42 layout; default "current". */
  layout?: HvmLayout;
  /** Tip lag in blocks; default 2 (Hemi). */
  lag?: number;
  /** The light client's network; checked against it. */
  network: BitcoinNetworkName;
  /**
   * Install at 0x40..0x49: "auto" (default: when the node has hardhat_setCode / anvil_setCode), "required"
   * (throw when it has neither) or "never".
   */
  install?: "auto" | "required" | "never";
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Reuse this BitcoinTxIndex instead of deploying one (its lag then applies; `lag` must be unset or equal): e.g. a
   * second set of emulators with the other 0x42 layout over the same data.
   */
  index?: string;
}

/** Everything a user of the hVM needs to know about one deployment. */
export interface HvmDeployment {
  /** BitcoinTxIndex. */
  index: string;
  /** BitcoinKit (hBK). */
  bitcoinKit: string;
  lightClient: string;
  /** Where each emulator contract is deployed. */
  emulators: Record<PrecompileKey, string>;
  /** Where each precompile answers: 0x40..0x49 when installed, else the emulator contracts. */
  precompiles: Record<PrecompileKey, string>;
  /** How the emulators were installed at 0x40..0x49, or null (not installed). */
  installedWith: SetCodeMethod | null;
  layout: HvmLayout;
  lag: number;
  network: BitcoinNetworkName;
}

function keyed(values: string[]): Record<PrecompileKey, string> {
  return Object.fromEntries(PRECOMPILES.map((p, i) => [p.key, values[i]])) as Record<PrecompileKey, string>;
}

/** Deploys and (where possible) installs the hVM; see DeployHvmOptions. */
export async function deployHvm(signer: Signer, opts: DeployHvmOptions): Promise<HvmDeployment> {
  const layout = opts.layout ?? "current";
  let lag = opts.lag ?? DEFAULT_HVM_LAG;
  const install = opts.install ?? "auto";
  const log = opts.log ?? (() => undefined);
  if (!Number.isInteger(lag) || lag < 0 || lag > 1000)
    throw new Error(`hVM lag must be an integer 0..1000, got ${lag}`);
  const provider = signer.provider;
  if (provider === null) throw new Error("deployHvm needs a signer connected to a provider");
  const lc = BitcoinLightClient__factory.connect(opts.lightClient, signer);
  const lcNetwork = Number(await lc.network());
  if (lcNetwork !== NETWORK_ENUM[opts.network])
    throw new Error(`light client ${opts.lightClient} is for network ${lcNetwork}, not ${opts.network}`);

  let indexAddr: string;
  if (opts.index !== undefined) {
    const existing = BitcoinTxIndex__factory.connect(opts.index, signer);
    const existingLag = Number(await existing.lag());
    if (opts.lag !== undefined && opts.lag !== existingLag)
      throw new Error(`index ${opts.index} has lag ${existingLag}, not ${opts.lag}`);
    if ((await existing.lightClient()).toLowerCase() !== opts.lightClient.toLowerCase())
      throw new Error(`index ${opts.index} follows another light client`);
    indexAddr = opts.index;
    lag = existingLag;
  } else {
    const index = await new BitcoinTxIndex__factory(signer).deploy(opts.lightClient, lag);
    await index.waitForDeployment();
    indexAddr = await index.getAddress();
  }
  log(`hVM: BitcoinTxIndex ${indexAddr} (lag ${lag})`);

  const emulatorAddrs: string[] = [];
  for (const p of PRECOMPILES) {
    const c =
      p.key === "0x42"
        ? await new HvmBtcTxByTxid__factory(signer).deploy(indexAddr, layoutEnum(layout))
        : await EMULATOR_FACTORIES[p.key](signer).deploy(indexAddr);
    await c.waitForDeployment();
    emulatorAddrs.push(await c.getAddress());
  }
  const emulators = keyed(emulatorAddrs);
  log(`hVM: ${PRECOMPILES.length} precompile emulators deployed (0x42 layout ${layout})`);

  let installedWith: SetCodeMethod | null = null;
  if (install !== "never") {
    installedWith = await installHvmPrecompiles(provider as unknown as EvmRpc, { emulators });
    if (installedWith === null && install === "required")
      throw new Error("the EVM node has neither hardhat_setCode nor anvil_setCode: cannot install at 0x40..0x49");
    log(installedWith ? `hVM: installed at 0x40..0x49 with ${installedWith}` : "hVM: not installed (no setCode)");
  }
  const precompiles = installedWith ? keyed(PRECOMPILES.map((p) => p.address)) : emulators;
  const kitTargets = PRECOMPILES.slice(0, 7).map((p) => precompiles[p.key]) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const kit = await new BitcoinKit__factory(signer).deploy(kitTargets, layoutEnum(layout));
  await kit.waitForDeployment();
  const bitcoinKit = await kit.getAddress();
  log(`hVM: BitcoinKit ${bitcoinKit}`);
  return {
    index: indexAddr,
    bitcoinKit,
    lightClient: opts.lightClient,
    emulators,
    precompiles,
    installedWith,
    layout,
    lag,
    network: opts.network,
  };
}

type IndexOnlyFactory = (signer: Signer) => { deploy(index: string): Promise<BaseContract> };

/** Factories of the emulators whose constructor takes only the index (all but 0x42). */
const EMULATOR_FACTORIES: Record<Exclude<PrecompileKey, "0x42">, IndexOnlyFactory> = {
  "0x40": (s) => new HvmBtcBalAddr__factory(s),
  "0x41": (s) => new HvmBtcUtxosAddrList__factory(s),
  "0x43": (s) => new HvmBtcTxConfirmations__factory(s),
  "0x44": (s) => new HvmBtcLastHeader__factory(s),
  "0x45": (s) => new HvmBtcHeaderN__factory(s),
  "0x46": (s) => new HvmBtcAddrToScript__factory(s),
  "0x47": (s) => new HvmBtcInputByTxid__factory(s),
  "0x48": (s) => new HvmBtcOutputByTxid__factory(s),
  "0x49": (s) => new HvmBtcTxGetInputWitness__factory(s),
};
