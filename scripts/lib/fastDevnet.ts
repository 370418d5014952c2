/**
 * Devnet options for a run that must be quick (the live view's test, the provenance benchmark): free ports, shared
 * Redis, one confirmation, a keystone every 10 EVM blocks and short polls; Bitcoin blocks only when the caller mines.
 */
import path from "node:path";
import type { DevnetOptions } from "../../relayer/src/devnet/devnet";

export function fastDevnetOptions(
  dir: string,
  o: { evmBlockIntervalMs: number; logLevel: string; progress: (line: string) => void },
): DevnetOptions {
  return {
    evmPort: 0,
    bfgPort: 0,
    btcPort: 0,
    metricsPort: 0,
    viewPort: 0,
    datadir: path.join(dir, "data"),
    btcBlockIntervalMs: 0,
    evmBlockIntervalMs: o.evmBlockIntervalMs,
    privateRedis: false,
    env: {
      REDIS_URL: process.env.REDIS_URL,
      DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      VAULT_CONFIRMATIONS: "1",
      KEYSTONE_INTERVAL: "10",
      KEYSTONES_POLL_INTERVAL_MS: "200",
      BITCOIN_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "200",
      LOG_LEVEL: o.logLevel,
    },
    progress: o.progress,
  };
}
