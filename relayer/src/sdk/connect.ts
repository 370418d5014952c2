/**
 * A TunnelClient from the project's configuration (the same settings as the relayer and `deploy`: EVM_RPC_URL,
 * BITCOIN_RPC_URL, DEPLOYMENT_FILE / DEPLOYMENTS_DIR, TUNNEL_ADDRESS), for the CLI and for scripts.
 */
import { Wallet, type JsonRpcProvider } from "ethers";
import { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { ConfigError, redactUrl } from "../config/load";
import type { FabricConfig } from "../config/schema";
import { deploymentPath, readDeployment, type Deployment } from "../evm/deployment";
import { networkOfChainName } from "./addresses";
import { connectEvm } from "../evm/provider";
import { TunnelClient } from "./tunnelClient";

export interface ConnectTunnelOptions {
  cfg: FabricConfig;
  /** EVM key of the user (withdrawals); omit for read-only use. */
  privateKey?: string;
  pollIntervalMs?: number;
}

export interface ConnectedTunnel {
  client: TunnelClient;
  deployment: Deployment;
  provider: JsonRpcProvider;
  /** Releases the EVM provider. */
  close(): void;
}

/**
 * Checks that the Bitcoin node follows the network of the deployment's light client: deposits, payouts and addresses
 * read from a node of another network would never match the tunnel. A node that cannot be reached is a connection
 * failure (plain Error); a node of another or an unsupported network is a ConfigError naming BITCOIN_RPC_URL.
 */
async function checkBitcoinNetwork(
  bitcoin: BitcoinRpcClient,
  url: string,
  expected: Deployment["anchor"]["network"],
  file: string,
): Promise<void> {
  let chain: string;
  try {
    chain = (await bitcoin.getBlockchainInfo()).chain;
  } catch (err) {
    throw new Error(
      `BITCOIN_RPC_URL: cannot read the network of the Bitcoin node at ${redactUrl(url)} (getblockchaininfo): ` +
        (err instanceof Error ? err.message : String(err)),
    );
  }
  let actual: Deployment["anchor"]["network"];
  try {
    actual = networkOfChainName(chain);
  } catch (err) {
    throw new ConfigError(
      `BITCOIN_RPC_URL: the Bitcoin node at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
      ["BITCOIN_RPC_URL"],
    );
  }
  // The light client tells testnet3 and testnet4 apart (their difficulty rules differ); their addresses do not.
  if (chain === "testnet4") actual = "testnet4" as const;
  if (actual !== expected) {
    throw new ConfigError(
      `BITCOIN_RPC_URL: the Bitcoin node at ${redactUrl(url)} is on ${actual} (chain "${chain}"), but the tunnel's ` +
        `light client in ${file} follows ${expected}`,
      ["BITCOIN_RPC_URL"],
    );
  }
}

/**
 * Connects to the EVM node (bounded retries) and the Bitcoin node, reads the deployment, checks that the Bitcoin
 * node is on the deployment's network, builds the client.
 */
export async function connectTunnel(opts: ConnectTunnelOptions): Promise<ConnectedTunnel> {
  const { cfg } = opts;
  const { provider, chainId } = await connectEvm(cfg.EVM_RPC_URL, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS);
  try {
    const file = cfg.DEPLOYMENT_FILE ?? deploymentPath(cfg.DEPLOYMENTS_DIR, chainId);
    const deployment = readDeployment(file);
    if (deployment.chainId !== chainId) {
      throw new ConfigError(
        `DEPLOYMENT_FILE: ${file} is for chain ${deployment.chainId}, EVM_RPC_URL serves ${chainId}`,
        ["DEPLOYMENT_FILE"],
      );
    }
    const bitcoin = new BitcoinRpcClient({
      url: cfg.BITCOIN_RPC_URL,
      cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE,
      timeoutMs: cfg.BITCOIN_RPC_TIMEOUT_MS,
      retries: 2,
    });
    await checkBitcoinNetwork(bitcoin, cfg.BITCOIN_RPC_URL, deployment.anchor.network, file);
    let signer: Wallet | undefined;
    if (opts.privateKey !== undefined) {
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(opts.privateKey)) {
        throw new ConfigError("the EVM private key must be 32 bytes of hex (64 hex digits, optional 0x)", [
          "USER_PRIVATE_KEY",
        ]);
      }
      signer = new Wallet(opts.privateKey.startsWith("0x") ? opts.privateKey : `0x${opts.privateKey}`, provider);
    }
    // TUNNEL_ADDRESS overrides the deployment file's tunnel (as it does for the relayer).
    const withTunnel: Deployment =
      cfg.TUNNEL_ADDRESS === undefined
        ? deployment
        : { ...deployment, contracts: { ...deployment.contracts, BitcoinTunnel: cfg.TUNNEL_ADDRESS } };
    const client = TunnelClient.fromDeployment(withTunnel, {
      provider,
      signer,
      bitcoin,
      pollIntervalMs: opts.pollIntervalMs,
    });
    if ((await provider.getCode(await client.tunnel.getAddress())) === "0x") {
      throw new ConfigError(
        `no BitcoinTunnel contract at ${await client.tunnel.getAddress()} on chain ${chainId}: redeploy or fix DEPLOYMENT_FILE`,
        ["DEPLOYMENT_FILE"],
      );
    }
    return { client, deployment, provider, close: () => provider.destroy() };
  } catch (err) {
    provider.destroy();
    throw err;
  }
}
