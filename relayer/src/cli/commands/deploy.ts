import { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import { isAuthFailure } from "../../bitcoin/rpcFailure";
import { ConfigError, loadConfig, redactUrl } from "../../config/load";
import { loadSigner } from "../../config/signer";
import { createLogger, errorMessage } from "../../core/logger";
import { withRetry } from "../../core/retry";
import { deployFabric, deployOptionsFromConfig } from "../../evm/deployFabric";
import { writeDeployment } from "../../evm/deployment";
import { connectEvm } from "../../evm/provider";
import type { Command } from "../main";
import { parseOptions } from "./args";
import { settingsHelp } from "./settingsHelp";

/** `hemi-fabric deploy [--anchor-height N] [--anchor-margin N] [--out-dir dir] [--config file.json]`. */
export const deployCommand: Command = {
  name: "deploy",
  summary:
    "deploy the light client and the tunnel (+ the operator's vault when VAULT_CUSTODY_KEY is set); writes deployments/<chainId>.json",
  help: {
    usage: "hemi-fabric deploy [--anchor-height N] [--anchor-margin N] [--out-dir dir] [--config file.json]",
    description:
      "Deploys BitcoinLightClient (anchored at a header of the Bitcoin node), HemiBTC and BitcoinTunnel, and the " +
      "operator's vault when VAULT_CUSTODY_KEY is set; prints the path of the deployment file it writes.",
    options: [
      {
        name: "anchor-height",
        value: "N",
        description: "light client anchor height",
        default: "the tip minus --anchor-margin",
      },
      { name: "anchor-margin", value: "N", description: "blocks below the Bitcoin tip to anchor at", default: "6" },
      { name: "out-dir", value: "dir", description: "where to write <chainId>.json", default: "deployments" },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
    env: settingsHelp([
      "EVM_RPC_URL",
      "BITCOIN_RPC_URL",
      "RELAYER_PRIVATE_KEY",
      "VAULT_CUSTODY_KEY",
      "VAULT_CONFIRMATIONS",
      "VAULT_MIN_DEPOSIT",
      "VAULT_DEPOSIT_FEE_BPS",
      "VAULT_DEPOSIT_FLAT_FEE",
      "VAULT_WITHDRAWAL_FEE_BPS",
      "VAULT_WITHDRAWAL_FLAT_FEE",
    ]),
  },
  async run(args: string[]): Promise<number> {
    let cfg;
    try {
      const opts = parseOptions(args, ["anchor-height", "anchor-margin", "out-dir", "config"]);
      const env = { ...process.env };
      if (opts.has("anchor-height")) env.DEPLOY_ANCHOR_HEIGHT = opts.get("anchor-height");
      if (opts.has("anchor-margin")) env.DEPLOY_ANCHOR_MARGIN = opts.get("anchor-margin");
      if (opts.has("out-dir")) env.DEPLOYMENTS_DIR = opts.get("out-dir");
      cfg = loadConfig({ env, configFile: opts.get("config") });
    } catch (err) {
      console.error(`hemi-fabric deploy: ${errorMessage(err)}`);
      return 2;
    }
    // Logs go to stderr so that stdout carries only the deployment file's path.
    const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT, name: "deploy", fd: 2 });
    try {
      const { provider } = await connectEvm(cfg.EVM_RPC_URL, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS, log);
      const signer = await loadSigner(cfg, provider);
      const bitcoin = new BitcoinRpcClient({
        url: cfg.BITCOIN_RPC_URL,
        cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE,
        timeoutMs: cfg.BITCOIN_RPC_TIMEOUT_MS,
        retries: 2,
      });
      await withRetry(() => bitcoin.getBlockCount(), {
        retries: cfg.STARTUP_RETRIES,
        delayMs: cfg.STARTUP_RETRY_DELAY_MS,
        log,
        what: `Bitcoin node at ${redactUrl(cfg.BITCOIN_RPC_URL)} (BITCOIN_RPC_URL)`,
        shouldRetry: (err) => !isAuthFailure(err),
      });
      const deployment = await deployFabric({ signer, bitcoin, ...deployOptionsFromConfig(cfg), log });
      const file = writeDeployment(cfg.DEPLOYMENTS_DIR, deployment);
      provider.destroy();
      console.log(file);
      return 0;
    } catch (err) {
      log.fatal({ err: errorMessage(err) }, "deploy failed");
      return err instanceof ConfigError ? 2 : 1;
    }
  },
};
