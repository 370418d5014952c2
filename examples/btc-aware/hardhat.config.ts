import path from "node:path";
import { subtask } from "hardhat/config";
import type { HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";

const SOLC_VERSION = "0.8.28";

// Offline compiler: the `solc` npm package (pinned in package.json) instead of Hardhat's download.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  if (args.solcVersion !== SOLC_VERSION) throw new Error(`this project compiles with solc ${SOLC_VERSION} only`);
  const dir = path.dirname(require.resolve("solc/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require(path.join(dir, "index.js")) as { version(): string };
  if (!solc.version().startsWith(SOLC_VERSION))
    throw new Error(`installed solc is ${solc.version()}, need ${SOLC_VERSION}`);
  return {
    compilerPath: path.join(dir, "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version(),
  };
});

const config: HardhatUserConfig = {
  solidity: { version: SOLC_VERSION, settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 } } },
  // EIP-7825's per-transaction cap as the block gas limit: with a larger block, Hardhat's gas estimation fails for a
  // transaction above about 5.6M gas that needs a little more than it uses (hemi-fabric's README, BitcoinLightClient).
  networks: { hardhat: { blockGasLimit: 16_777_216 } },
  mocha: { timeout: 120_000 },
};

export default config;
