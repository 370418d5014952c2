import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { InterfaceAbi } from "ethers";

/** Root of the repository (artifacts/ is compiled here by `npx hardhat compile`). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface ContractArtifact {
  contractName: string;
  abi: InterfaceAbi;
  bytecode: string;
}

/** Where each deployable contract's Hardhat artifact lives, relative to artifacts/contracts. */
const SOURCES: Record<string, string> = {
  BitcoinLightClient: "bitcoin/BitcoinLightClient.sol",
  BitcoinTunnel: "tunnel/BitcoinTunnel.sol",
  HemiBTC: "tunnel/HemiBTC.sol",
  KeystoneLedger: "pop/KeystoneLedger.sol",
  PopVerifier: "pop/PopVerifier.sol",
  PopRewards: "pop/PopRewards.sol",
  PopRewardToken: "pop/PopRewardToken.sol",
};

/** Reads a compiled contract's ABI and bytecode from Hardhat's artifacts folder; says how to build it if missing. */
export function loadArtifact(contractName: string, artifactsDir = path.join(REPO_ROOT, "artifacts")): ContractArtifact {
  const source = SOURCES[contractName];
  if (source === undefined) throw new Error(`no artifact location known for contract ${contractName}`);
  const file = path.join(artifactsDir, "contracts", source, `${contractName}.json`);
  if (!existsSync(file)) {
    throw new Error(`artifact ${file} is missing: run \`npx hardhat compile\` (npm run build) first`);
  }
  const json = JSON.parse(readFileSync(file, "utf8")) as { contractName: string; abi: InterfaceAbi; bytecode: string };
  return { contractName: json.contractName, abi: json.abi, bytecode: json.bytecode };
}

/** The compiled ABI of `contractName` (with its custom errors, for revert decoding), else `fallback`. */
export function compiledAbiOr(contractName: string, fallback: InterfaceAbi): InterfaceAbi {
  try {
    return loadArtifact(contractName).abi;
  } catch {
    return fallback;
  }
}
