import { subtask } from "hardhat/config";
import type { HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import path from "node:path";

/** The one Solidity version the project compiles with; `solc` in package.json is pinned to it. */
export const SOLC_VERSION = "0.8.28";

// Offline compiler: Hardhat would download solc; we use the exact `solc` npm package instead.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  if (args.solcVersion !== SOLC_VERSION) {
    throw new Error(
      `hemi-fabric compiles with solc ${SOLC_VERSION} only, but a compilation job asked for ${args.solcVersion}. ` +
        `Set the pragma or hardhat.config.ts to ${SOLC_VERSION}.`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPkg = require("solc/package.json") as { version: string };
  if (solcPkg.version !== SOLC_VERSION) {
    throw new Error(
      `The installed npm package solc is ${solcPkg.version} but hardhat.config.ts is configured for ${SOLC_VERSION}. ` +
        `Run \`npm ci\` (package.json pins "solc": "${SOLC_VERSION}").`,
    );
  }
  const compilerPath = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require(compilerPath.replace(/soljson\.js$/, "index.js")) as { version(): string };
  return { compilerPath, isSolcJs: true, version: SOLC_VERSION, longVersion: solc.version() };
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 10_000 },
      viaIR: false,
    },
  },
  networks: {
    hardhat: {
      allowUnlimitedContractSize: false,
      // The block gas limit is EIP-7825's per-transaction cap (2^24, enforced by the default hardfork, Osaka), not
      // more. When a transaction needs a little more gas than it uses (an SSTORE needs more than 2,300 gas left; a
      // cleared slot's refund comes back only at the end), Hardhat's eth_estimateGas (EDR) searches between the gas
      // used and the block gas limit, and its first probe is min(3x the gas used, the midpoint): with a 60M block,
      // above 5.6M gas used that probe exceeds the cap, and EDR reports "transaction gas limit (...) is greater than
      // the cap (16777216)" instead of searching lower. Light-client fork batches, continueReorg and large
      // indexBlock calls could not be estimated. With the block at the cap, every probe is a valid transaction.
      // test/bitcoin/BitcoinLightClient.gasEstimation.test.ts guards it.
      blockGasLimit: 16_777_216,
    },
    localhost: {
      url: process.env.EVM_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
  mocha: {
    timeout: 600_000,
  },
  gasReporter: {
    enabled: false,
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
};

export default config;
