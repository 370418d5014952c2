/**
 * The connections verify-anchors and provenance share: the EVM node, the deployment file, the light client, the
 * PoP contracts and the Bitcoin node, from the settings.
 */
import { existsSync } from "node:fs";
import type { JsonRpcProvider } from "ethers";
import { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import { ConfigError } from "../../config/load";
import type { FabricConfig } from "../../config/schema";
import type { Logger } from "../../core/logger";
import { deploymentPath, readDeployment, type Deployment } from "../../evm/deployment";
import { LightClientReader } from "../../evm/lightClient";
import { connectEvm } from "../../evm/provider";
import { KeystoneLedgerClient, PopVerifierClient } from "../../pop/popContracts";
import { popAddresses } from "../../roles/popRoles";

export interface AnchorConnection {
  provider: JsonRpcProvider;
  chainId: number;
  deployment: Deployment | undefined;
  lc: LightClientReader;
  ledger: KeystoneLedgerClient;
  verifier: PopVerifierClient;
  bitcoin: BitcoinRpcClient;
}

/** Connects; throws ConfigError for missing settings (exit 2), anything else when a node is unreachable (3). */
export async function connectAnchors(cfg: FabricConfig, log: Logger, command: string): Promise<AnchorConnection> {
  const evm = await connectEvm(cfg.EVM_RPC_URL, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS, log);
  const provider = evm.provider;
  try {
    const file = cfg.DEPLOYMENT_FILE ?? deploymentPath(cfg.DEPLOYMENTS_DIR, evm.chainId);
    const deployment = cfg.DEPLOYMENT_FILE !== undefined || existsSync(file) ? readDeployment(file) : undefined;
    const lcAddress = cfg.LIGHT_CLIENT_ADDRESS ?? deployment?.contracts.BitcoinLightClient;
    if (lcAddress === undefined) {
      throw new ConfigError(`no light client: set LIGHT_CLIENT_ADDRESS or DEPLOYMENT_FILE (looked for ${file})`, [
        "LIGHT_CLIENT_ADDRESS",
        "DEPLOYMENT_FILE",
      ]);
    }
    const addresses = popAddresses(cfg, deployment, command);
    const bitcoin = new BitcoinRpcClient({
      url: cfg.BITCOIN_RPC_URL,
      cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE,
      timeoutMs: cfg.BITCOIN_RPC_TIMEOUT_MS,
      retries: 2,
    });
    return {
      provider,
      chainId: evm.chainId,
      deployment,
      lc: new LightClientReader(lcAddress, provider),
      ledger: new KeystoneLedgerClient(addresses.ledger, provider),
      verifier: new PopVerifierClient(addresses.verifier, provider),
      bitcoin,
    };
  } catch (err) {
    provider.destroy();
    throw err;
  }
}
