/**
 * Deploys the PoP contracts next to a light client: KeystoneLedger (the signer is its admin and holds
 * SEQUENCER_ROLE), PopVerifier, PopRewards (which deploys its PopRewardToken). Returns the `pop` record of the
 * deployment file.
 */
import { ContractFactory, type Signer } from "ethers";
import type { Logger } from "pino";
import { loadArtifact } from "../evm/artifacts";
import { DEFAULT_KEYSTONE_INTERVAL } from "./keystone";
import { DEFAULT_PAYOUT_DELAY } from "./rewards";

/** Default reward pool per keystone: 5 tokens (18 decimals), about one per optimal publication of V2's target. */
export const DEFAULT_POOL_PER_KEYSTONE = 5n * 10n ** 18n;

export interface DeployPopOptions {
  /** BitcoinLightClient address. */
  lightClient: string;
  /** Keystone interval in EVM blocks (default 25). */
  interval?: number;
  /** EVM blocks after a keystone before its rewards can be paid (default 200). */
  payoutDelay?: number;
  /** Reward token units per keystone (default DEFAULT_POOL_PER_KEYSTONE). */
  poolPerKeystone?: bigint;
  log?: Logger;
}

/** The deployment file's `pop` record. */
export interface PopDeployment {
  keystoneLedger: string;
  popVerifier: string;
  popRewards: string;
  rewardToken: string;
  keystoneInterval: number;
  payoutDelay: number;
  /** The first keystone height the ledger records. */
  firstKeystone: number;
}

async function deploy(signer: Signer, name: string, args: unknown[]): Promise<{ address: string; gas: bigint }> {
  const a = loadArtifact(name);
  const c = await new ContractFactory(a.abi, a.bytecode, signer).deploy(...args);
  const receipt = await c.deploymentTransaction()?.wait();
  return { address: await c.getAddress(), gas: receipt?.gasUsed ?? 0n };
}

/** Deploys the PoP contracts; the signer becomes the ledger's admin and sequencer and the rewards admin. */
export async function deployPop(signer: Signer, opts: DeployPopOptions): Promise<PopDeployment> {
  const interval = opts.interval ?? DEFAULT_KEYSTONE_INTERVAL;
  const payoutDelay = opts.payoutDelay ?? DEFAULT_PAYOUT_DELAY;
  if (!Number.isInteger(interval) || interval < 1 || interval > 0xffffffff)
    throw new Error(`keystone interval must be a positive uint32, got ${interval}`);
  if (!Number.isInteger(payoutDelay) || payoutDelay < 0 || payoutDelay > 0xffffffff)
    throw new Error(`payout delay must be a uint32, got ${payoutDelay}`);
  const admin = await signer.getAddress();
  const ledger = await deploy(signer, "KeystoneLedger", [opts.lightClient, interval, admin]);
  const ledgerAbi = loadArtifact("KeystoneLedger").abi;
  const ledgerContract = new ContractFactory(ledgerAbi, "0x", signer).attach(ledger.address);
  const role = (await ledgerContract.getFunction("SEQUENCER_ROLE").staticCall()) as string;
  await (await ledgerContract.getFunction("grantRole")(role, admin)).wait();
  const firstKeystone = Number(await ledgerContract.getFunction("firstKeystoneNumber").staticCall());
  const verifier = await deploy(signer, "PopVerifier", [opts.lightClient, ledger.address]);
  const rewards = await deploy(signer, "PopRewards", [
    verifier.address,
    payoutDelay,
    opts.poolPerKeystone ?? DEFAULT_POOL_PER_KEYSTONE,
    admin,
  ]);
  const rewardsContract = new ContractFactory(loadArtifact("PopRewards").abi, "0x", signer).attach(rewards.address);
  const rewardToken = (await rewardsContract.getFunction("token").staticCall()) as string;
  opts.log?.info(
    {
      keystoneLedger: ledger.address,
      popVerifier: verifier.address,
      popRewards: rewards.address,
      rewardToken,
      interval,
      firstKeystone,
      gas: (ledger.gas + verifier.gas + rewards.gas).toString(),
    },
    "PoP contracts deployed",
  );
  return {
    keystoneLedger: ledger.address,
    popVerifier: verifier.address,
    popRewards: rewards.address,
    rewardToken,
    keystoneInterval: interval,
    payoutDelay,
    firstKeystone,
  };
}
