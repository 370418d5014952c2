/**
 * The hVM's part of the deployment file (deployments/<chainId>.json): the `hvm` object and the two contract
 * addresses added to `contracts`.
 */
import { z } from "zod";
import type { HvmDeployment } from "./deploy";
import { HVM_LAYOUTS, PRECOMPILES, type PrecompileKey } from "./precompiles";

const hexAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const keyedAddresses = z.object(
  Object.fromEntries(PRECOMPILES.map((p) => [p.key, hexAddress])) as Record<PrecompileKey, typeof hexAddress>,
);

/** The `hvm` field of the deployment file. */
export const hvmRecordSchema = z.object({
  index: hexAddress,
  bitcoinKit: hexAddress,
  lightClient: hexAddress,
  emulators: keyedAddresses,
  precompiles: keyedAddresses,
  installedWith: z.enum(["hardhat_setCode", "anvil_setCode"]).nullable(),
  layout: z.enum(HVM_LAYOUTS as [string, ...string[]]),
  lag: z.number().int().min(0),
  network: z.enum(["mainnet", "testnet", "regtest"]),
});

/** What to merge into the deployment file for an hVM deployment. */
export function hvmDeploymentFields(d: HvmDeployment): {
  contracts: { BitcoinTxIndex: string; BitcoinKit: string };
  hvm: HvmDeployment;
} {
  return { contracts: { BitcoinTxIndex: d.index, BitcoinKit: d.bitcoinKit }, hvm: d };
}

/** Reads the `hvm` field back (validated). */
export function parseHvmRecord(value: unknown): HvmDeployment {
  return hvmRecordSchema.parse(value) as HvmDeployment;
}
