/**
 * Hardhat script behind `npx hemi-fabric deploy`: deploys the contracts with the Hardhat network's first signer,
 * anchoring the light client at a checkpoint read from the Bitcoin node (BITCOIN_RPC_URL; tip minus
 * DEPLOY_ANCHOR_MARGIN, or DEPLOY_ANCHOR_HEIGHT), deploys BitcoinTunnel and its HemiBTC, creates the signer's vault
 * when VAULT_CUSTODY_KEY is set, and writes deployments/<chainId>.json (DEPLOYMENTS_DIR).
 *
 *   BITCOIN_RPC_URL=http://hemi:hemi@127.0.0.1:18443 npx hardhat run scripts/deploy.ts --network localhost
 */
import hre from "hardhat";
import { BitcoinRpcClient } from "../relayer/src/bitcoin/rpcClient";
import { loadConfig } from "../relayer/src/config/load";
import { deployFabric, deployOptionsFromConfig } from "../relayer/src/evm/deployFabric";
import { writeDeployment } from "../relayer/src/evm/deployment";

async function main(): Promise<void> {
  // The same settings as the CLI (HEMI_FABRIC_CONFIG file and environment); the signer comes from Hardhat's network
  // config instead of RELAYER_PRIVATE_KEY.
  const cfg = loadConfig();
  const [signer] = await hre.ethers.getSigners();
  const bitcoin = new BitcoinRpcClient({ url: cfg.BITCOIN_RPC_URL, cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE });
  const deployment = await deployFabric({ signer, bitcoin, ...deployOptionsFromConfig(cfg) });
  console.log(writeDeployment(cfg.DEPLOYMENTS_DIR, deployment));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
