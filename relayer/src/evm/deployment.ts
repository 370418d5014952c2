import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { hvmRecordSchema } from "../hvm/record";

const hexAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

/** `deployments/<chainId>.json`: what `deploy` wrote and what the relayer reads its addresses from. */
export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  contracts: z.object({ BitcoinLightClient: hexAddress }).catchall(hexAddress),
  anchor: z.object({
    height: z.number().int().min(0),
    /** Display order (as bitcoind shows it). */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    header: z.string().regex(/^[0-9a-f]{160}$/),
    epochStartTimestamp: z.number().int().min(0),
    network: z.enum(["mainnet", "testnet", "regtest"]),
  }),
  /** Vaults created at deploy (for the operator whose custody key the relayer holds). */
  vaults: z
    .array(
      z.object({
        id: z.number().int().positive(),
        operator: hexAddress,
        /** P2WPKH custody script, hex without 0x. */
        custodyScript: z.string().regex(/^[0-9a-f]+$/),
        confirmations: z.number().int().positive(),
      }),
    )
    .optional(),
  /** The PoP contracts (relayer/src/pop/deployPop.ts). */
  pop: z
    .object({
      keystoneLedger: hexAddress,
      popVerifier: hexAddress,
      popRewards: hexAddress,
      rewardToken: hexAddress,
      keystoneInterval: z.number().int().positive(),
      payoutDelay: z.number().int().min(0),
      firstKeystone: z.number().int().positive(),
    })
    .optional(),
  deployer: hexAddress.optional(),
  blockNumber: z.number().int().min(0).optional(),
  deployedAt: z.string().optional(),
  /** hVM deployment (BitcoinTxIndex, emulators, BitcoinKit, 0x42 layout, lag). */
  hvm: hvmRecordSchema.optional(),
});

export type Deployment = z.infer<typeof deploymentSchema>;

/** Path of the deployment file of `chainId` inside `dir`. */
export function deploymentPath(dir: string, chainId: number | bigint): string {
  return path.join(dir, `${chainId.toString()}.json`);
}

/** Writes the deployment file atomically (temp file + rename) and returns its path. */
export function writeDeployment(dir: string, deployment: Deployment): string {
  mkdirSync(dir, { recursive: true });
  const file = deploymentPath(dir, deployment.chainId);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(deployment, null, 2) + "\n");
  renameSync(tmp, file);
  return file;
}

/** Reads and validates a deployment file; the error says which file and which field is wrong. */
export function readDeployment(file: string): Deployment {
  if (!existsSync(file)) {
    throw new Error(`deployment file ${file} not found: run \`npx hemi-fabric deploy\` first, or set DEPLOYMENT_FILE`);
  }
  const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`deployment file ${file} is invalid: ${fields}`);
  }
  return parsed.data;
}
