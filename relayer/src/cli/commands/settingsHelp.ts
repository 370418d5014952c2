import { CONFIG_KEYS, configSchema } from "../../config/schema";
import type { CommandHelp } from "./args";

/** Short meanings of the settings commands name most; the full list with defaults is config/schema.ts. */
const MEANING: Record<string, string> = {
  EVM_RPC_URL: "the EVM node's JSON-RPC URL",
  BITCOIN_RPC_URL: "the Bitcoin node, credentials in the URL (http://user:pass@host:port)",
  BITCOIN_RPC_COOKIE_FILE: "Bitcoin Core's cookie file, instead of credentials in the URL",
  REDIS_URL: "Redis (unset: 127.0.0.1:6379 if it answers, else a private redis-server)",
  REDIS_PREFIX: "Redis key prefix (unset: hf:<chainId>:<light client address>)",
  RELAYER_PRIVATE_KEY: "the relayer's EVM key (or RELAYER_KEYSTORE + RELAYER_KEYSTORE_PASSWORD)",
  DEPLOYMENTS_DIR: "where deploy writes <chainId>.json",
  DEPLOYMENT_FILE: "the deployment file to use (unset: DEPLOYMENTS_DIR/<chainId>.json)",
  VAULT_CUSTODY_KEY: "the vault operator's Bitcoin custody key (hex or WIF)",
  METRICS_PORT: "port of /metrics and /healthz (0: any free port)",
  STALE_STATE: "Redis state of another deployment (reset EVM chain): reset removes it, refuse stops",
  ROLE_STUCK_AFTER_MS: "a role blocked this long is reported stuck by /healthz",
  DEPLOY_ANCHOR_HEIGHT: "light client anchor height (unset: the tip minus DEPLOY_ANCHOR_MARGIN)",
  DEPLOY_ANCHOR_MARGIN: "blocks below the tip the light client is anchored at",
  LOG_LEVEL: "trace, debug, info, warn, error, fatal or silent",
};

let defaults: Record<string, unknown> | undefined;

/** Every setting's default, read from the schema itself (so --help never disagrees with it). */
function schemaDefaults(): Record<string, unknown> {
  if (defaults === undefined) {
    const parsed = configSchema.safeParse({ BITCOIN_RPC_URL: "http://127.0.0.1:18443" });
    defaults = parsed.success ? { ...parsed.data, BITCOIN_RPC_URL: undefined } : {};
  }
  return defaults;
}

/** The `env` part of a command's help: the named settings (default: all), with their defaults. */
export function settingsHelp(names: readonly string[] = CONFIG_KEYS): NonNullable<CommandHelp["env"]> {
  const d = schemaDefaults();
  return names.map((name) => ({
    name,
    description: MEANING[name] ?? "see relayer/src/config/schema.ts",
    default: d[name] === undefined ? (name === "BITCOIN_RPC_URL" ? "required" : "unset") : String(d[name]),
  }));
}
