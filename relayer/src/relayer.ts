import { existsSync } from "node:fs";
import type { JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { BitcoinRpcClient } from "./bitcoin/rpcClient";
import { ConfigError, redactUrl } from "./config/load";
import type { FabricConfig } from "./config/schema";
import { loadSigner } from "./config/signer";
import { errorMessage } from "./core/logger";
import { RelayerMetrics } from "./core/metrics";
import { startOpsServer, type OpsServer } from "./core/opsServer";
import { QueueCore } from "./core/queues";
import { checkRedis, createRedisConnection, resolveRedis, type RedisEndpoint } from "./core/redis";
import { withRetry } from "./core/retry";
import { deploymentPath, readDeployment, type Deployment } from "./evm/deployment";
import { LightClientReader, lightClientAbi } from "./evm/lightClient";
import { connectEvm } from "./evm/provider";
import { RevertDecoder } from "./evm/revertDecoder";
import { EvmSender } from "./evm/sender";
import { HeadersRole } from "./roles/headers/headersRole";
import { DepositsRole } from "./roles/deposits/depositsRole";
import { WithdrawalsRole } from "./roles/withdrawals/withdrawalsRole";
import { parseCustodyKey } from "./roles/withdrawals/custodyKey";
import { hvmIndexAbi, startHvmIndexRole } from "./roles/hvm-index/hvmIndexRole";
import { TunnelClient, tunnelAbi } from "./evm/tunnel";
import type { RoleName } from "./config/roles";
import { checkPopRoles, popContractAbis, startPopRoles } from "./roles/popRoles";

export interface RunningRelayer {
  chainId: number;
  prefix: string;
  signer: string;
  lightClient: string;
  /** BitcoinTunnel address, when the deployment has one. */
  tunnel?: string;
  opsPort?: number;
  /** Graceful stop: no new jobs, jobs in hand finished or released, connections closed. */
  stop(): Promise<void>;
}

/** Finds the light client's address: LIGHT_CLIENT_ADDRESS, else the deployment file deploy wrote. */
function locateDeployment(cfg: FabricConfig, chainId: number): { address: string; deployment?: Deployment } {
  const file = cfg.DEPLOYMENT_FILE ?? deploymentPath(cfg.DEPLOYMENTS_DIR, chainId);
  const deployment = cfg.DEPLOYMENT_FILE !== undefined || existsSync(file) ? readDeployment(file) : undefined;
  if (deployment !== undefined && deployment.chainId !== chainId) {
    throw new ConfigError(
      `DEPLOYMENT_FILE: ${file} is for chain ${deployment.chainId} but EVM_RPC_URL serves chain ${chainId}`,
      ["DEPLOYMENT_FILE", "EVM_RPC_URL"],
    );
  }
  const address = cfg.LIGHT_CLIENT_ADDRESS ?? deployment?.contracts.BitcoinLightClient;
  if (address === undefined) {
    throw new ConfigError(
      `LIGHT_CLIENT_ADDRESS: not set and no deployment file at ${file}; run \`npx hemi-fabric deploy\` first`,
      ["LIGHT_CLIENT_ADDRESS", "DEPLOYMENT_FILE"],
    );
  }
  return { address, deployment };
}

/**
 * Starts the relayer: checks Redis, the EVM node and the Bitcoin node (bounded retries, a log line each), finds
 * the deployment, then runs the chosen roles on the queue core, with the ops server (/metrics, /healthz).
 */
export async function startRelayer(cfg: FabricConfig, roles: RoleName[], log: Logger): Promise<RunningRelayer> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const redisEndpoint: RedisEndpoint = await resolveRedis({ url: cfg.REDIS_URL, log });
    cleanups.push(() => redisEndpoint.close());
    await checkRedis(redisEndpoint.url, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS, log);

    const evm = await connectEvm(cfg.EVM_RPC_URL, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS, log);
    const provider: JsonRpcProvider = evm.provider;
    cleanups.push(async () => provider.destroy());

    const bitcoin = new BitcoinRpcClient({
      url: cfg.BITCOIN_RPC_URL,
      cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE,
      timeoutMs: cfg.BITCOIN_RPC_TIMEOUT_MS,
      retries: 2,
    });
    const btcHeight = await withRetry(() => bitcoin.getBlockCount(), {
      retries: cfg.STARTUP_RETRIES,
      delayMs: cfg.STARTUP_RETRY_DELAY_MS,
      log,
      what: `Bitcoin node at ${redactUrl(cfg.BITCOIN_RPC_URL)} (BITCOIN_RPC_URL)`,
    });

    const { address, deployment } = locateDeployment(cfg, evm.chainId);
    const tunnelAddress = cfg.TUNNEL_ADDRESS ?? deployment?.contracts.BitcoinTunnel;
    const tunnelRoles = roles.filter((r) => r === "deposits" || r === "withdrawals");
    if (tunnelRoles.length > 0 && tunnelAddress === undefined) {
      throw new ConfigError(
        `roles ${tunnelRoles.join(", ")} need the tunnel: set TUNNEL_ADDRESS or use a deployment file with contracts.BitcoinTunnel (redeploy with \`npx hemi-fabric deploy\`)`,
        ["TUNNEL_ADDRESS", "DEPLOYMENT_FILE"],
      );
    }
    if (roles.includes("withdrawals") && cfg.VAULT_CUSTODY_KEY === undefined) {
      throw new ConfigError("role withdrawals needs VAULT_CUSTODY_KEY (the vault's custody key, hex or WIF)", [
        "VAULT_CUSTODY_KEY",
      ]);
    }
    if (tunnelAddress !== undefined && tunnelRoles.length > 0 && (await provider.getCode(tunnelAddress)) === "0x") {
      throw new ConfigError(`no contract at tunnel address ${tunnelAddress} on chain ${evm.chainId}`, [
        "TUNNEL_ADDRESS",
        "DEPLOYMENT_FILE",
      ]);
    }
    if ((await provider.getCode(address)) === "0x") {
      throw new ConfigError(
        `no contract at light client address ${address} on chain ${evm.chainId}: redeploy, or fix DEPLOYMENT_FILE / LIGHT_CLIENT_ADDRESS`,
        ["LIGHT_CLIENT_ADDRESS", "DEPLOYMENT_FILE"],
      );
    }
    await checkPopRoles({ cfg, roles, deployment, provider });
    const signer = await loadSigner(cfg, provider);
    const lc = new LightClientReader(address, provider);
    const anchorHeight = await lc.anchorHeight();
    const prefix = cfg.REDIS_PREFIX ?? `hf:${evm.chainId}:${address.toLowerCase()}`;

    const redis: Redis = createRedisConnection(redisEndpoint.url, log);
    cleanups.push(async () => void (await redis.quit().catch(() => redis.disconnect())));
    const metrics = new RelayerMetrics();
    const core = new QueueCore({
      connection: redis,
      prefix,
      log,
      metrics,
      attempts: cfg.JOB_ATTEMPTS,
      backoffMs: cfg.JOB_BACKOFF_MS,
      lockDurationMs: cfg.JOB_LOCK_MS,
      stalledIntervalMs: cfg.JOB_STALLED_INTERVAL_MS,
    });
    const sender = new EvmSender({
      signer,
      provider,
      redis,
      prefix,
      decoder: new RevertDecoder([lightClientAbi(), tunnelAbi(), hvmIndexAbi, ...popContractAbis()]),
      log: log.child({ component: "sender" }),
      metrics,
      receiptTimeoutMs: cfg.TX_RECEIPT_TIMEOUT_MS,
      bumpPercent: cfg.TX_FEE_BUMP_PERCENT,
      maxReplacements: cfg.TX_MAX_REPLACEMENTS,
      maxFeeGwei: cfg.TX_MAX_FEE_GWEI,
      lockTtlMs: cfg.LOCK_TTL_MS,
    });

    const running = new Map<RoleName, { stop(): void; health(): { ok: boolean; detail: unknown } }>();
    const tunnel =
      tunnelAddress === undefined
        ? undefined
        : new TunnelClient(tunnelAddress, address, provider, deployment?.blockNumber ?? 0);
    if (roles.includes("headers")) {
      const role = new HeadersRole({
        core,
        log: log.child({ role: "headers" }),
        node: bitcoin,
        lc,
        sender,
        redis,
        lockKey: `${prefix}:headers:submit-lock`,
        lockTtlMs: cfg.LOCK_TTL_MS,
        metrics,
        maxBatchGas: cfg.HEADERS_MAX_BATCH_GAS,
        gasPerHeader: cfg.HEADERS_GAS_PER_HEADER,
        pollIntervalMs: cfg.BITCOIN_POLL_INTERVAL_MS,
        batchSize: Math.max(
          1,
          Math.min(cfg.HEADERS_BATCH_SIZE, Math.floor(cfg.HEADERS_MAX_BATCH_GAS / cfg.HEADERS_GAS_PER_HEADER)),
        ),
        anchorHeight,
      });
      role.start();
      running.set("headers", role);
    }
    if (roles.includes("deposits") && tunnel !== undefined) {
      const role = new DepositsRole({
        core,
        log: log.child({ role: "deposits" }),
        redis,
        node: bitcoin,
        tunnel,
        sender,
        metrics,
        prefix,
        lockTtlMs: cfg.LOCK_TTL_MS,
        maxBatch: cfg.DEPOSITS_MAX_BATCH,
        pollIntervalMs: cfg.BITCOIN_POLL_INTERVAL_MS,
        startHeight: anchorHeight,
        scanBlocks: cfg.DEPOSITS_SCAN_BLOCKS,
      });
      role.start();
      running.set("deposits", role);
    }
    if (roles.includes("withdrawals") && tunnel !== undefined && cfg.VAULT_CUSTODY_KEY !== undefined) {
      const role = new WithdrawalsRole({
        core,
        log: log.child({ role: "withdrawals" }),
        redis,
        node: bitcoin,
        tunnel,
        provider,
        sender,
        metrics,
        prefix,
        key: parseCustodyKey(cfg.VAULT_CUSTODY_KEY),
        pollIntervalMs: cfg.BITCOIN_POLL_INTERVAL_MS,
        lockTtlMs: cfg.LOCK_TTL_MS,
        concurrency: cfg.WITHDRAWALS_CONCURRENCY,
        feeTarget: cfg.WITHDRAWAL_FEE_TARGET,
        fallbackFeeRate: cfg.WITHDRAWAL_FALLBACK_FEE_RATE,
        searchDepth: cfg.WITHDRAWAL_SEARCH_DEPTH,
      });
      role.start();
      running.set("withdrawals", role);
    }
    if (roles.includes("hvm-index")) {
      running.set(
        "hvm-index",
        startHvmIndexRole({
          core,
          log: log.child({ role: "hvm-index" }),
          node: bitcoin,
          lc,
          sender,
          metrics,
          deployment,
          anchorHeight,
          pollIntervalMs: cfg.BITCOIN_POLL_INTERVAL_MS,
          redis,
          prefix,
          maxWholeTxs: cfg.HVM_INDEX_MAX_WHOLE_TXS,
        }),
      );
    }
    const popRoles = startPopRoles({
      cfg,
      roles,
      deployment,
      provider,
      bitcoin,
      lc,
      anchorHeight,
      core,
      sender,
      redis,
      metrics,
      prefix,
      log,
    });
    popRoles.forEach((role, name) => running.set(name, role));
    cleanups.push(() => core.close(cfg.SHUTDOWN_TIMEOUT_MS));
    cleanups.push(async () => running.forEach((r) => r.stop()));

    const ops: OpsServer = await startOpsServer({
      host: cfg.METRICS_HOST,
      port: cfg.METRICS_PORT,
      metrics,
      log,
      checks: {
        redis: async () => ({ ok: redis.status === "ready", detail: redis.status }),
        ...Object.fromEntries([...running.entries()].map(([name, role]) => [name, async () => role.health()] as const)),
      },
    });
    cleanups.push(() => ops.close());

    log.info(
      {
        roles,
        chainId: evm.chainId,
        lightClient: address,
        tunnel: tunnelAddress,
        anchorHeight,
        bitcoinHeight: btcHeight,
        signer: signer.address,
        prefix,
        redis: redactUrl(redisEndpoint.url),
        opsPort: ops.port,
      },
      "relayer started",
    );
    let stopping: Promise<void> | undefined;
    return {
      chainId: evm.chainId,
      prefix,
      signer: signer.address,
      lightClient: address,
      tunnel: tunnelAddress,
      opsPort: ops.port,
      stop: () => {
        stopping ??= (async () => {
          log.info("relayer stopping: finishing jobs in hand");
          await cleanup();
          log.info("relayer stopped");
        })();
        return stopping;
      },
    };
  } catch (err) {
    log.debug({ err: errorMessage(err) }, "start-up failed; cleaning up");
    await cleanup();
    throw err;
  }
}
