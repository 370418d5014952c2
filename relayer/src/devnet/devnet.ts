import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, Network, Wallet, toBeHex } from "ethers";
import pino, { type Logger } from "pino";
import { DEFAULT_RPC_PASSWORD, DEFAULT_RPC_USER, startRegtestNode } from "../bitcoin/node";
import { COINBASE_MATURITY } from "../bitcoin/node/consensus";
import { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { loadConfig } from "../config/load";
import type { RoleName } from "../config/roles";
import type { FabricConfig } from "../config/schema";
import { errorMessage } from "../core/logger";
import { createRedisConnection, resolveRedis, startPrivateRedis, type RedisEndpoint } from "../core/redis";
import { deployFabric, deployOptionsFromConfig } from "../evm/deployFabric";
import { writeDeployment, type Deployment } from "../evm/deployment";
import { startRelayer } from "../relayer";
import { startFinalityServices } from "../finality/finalityServices";
import { startViewServer } from "../view/viewServer";
import { devnetAccounts, loadOrCreateKeys, type DevnetAccount } from "./accounts";
import { startHardhatNetwork } from "./hardhatNetwork";
import { assertPortFree } from "./portCheck";
import { splitPopMinerCoin } from "./popMinerCoins";
import { deleteKeysWithPrefix } from "./redisKeys";
import { supportedRoles } from "./roles";

export interface DevnetOptions {
  /** EVM JSON-RPC port (0: a free one): the proxy with Hemi's finality methods; Hardhat itself gets a free port. */
  evmPort: number;
  /** BFG's finality API port (0 or absent: a free one). */
  bfgPort?: number;
  /** Bitcoin JSON-RPC port (0: a free one). */
  btcPort: number;
  /** Relayer metrics/health port (0: a free one). */
  metricsPort: number;
  /** The live view's port on 127.0.0.1 (0 or absent: a free one). */
  viewPort?: number;
  /** Bitcoin node data, the devnet's keys and the relayer's log. */
  datadir: string;
  /** A Bitcoin block every this many ms; 0 = only on request (generatetoaddress over RPC). */
  btcBlockIntervalMs: number;
  /**
   * An EVM block every this many ms besides automine (Hardhat interval mining), so that keystones fall due on an idle
   * chain as on a sequencer producing blocks; 0 = automine only (default 1000).
   */
  evmBlockIntervalMs?: number;
  /** Start a private redis-server even if a Redis answers on 127.0.0.1:6379. */
  privateRedis: boolean;
  /** Settings (relayer/deploy variables) the user set; the devnet's own endpoints and keys override them. */
  env: NodeJS.ProcessEnv;
  /** One line per start-up step. */
  progress: (line: string) => void;
}

/** What a running devnet serves, and how to stop it. */
export interface RunningDevnet {
  /** `url`: the EVM JSON-RPC URL (Hemi's finality methods + Hardhat); `hardhatUrl`: the Hardhat node itself. */
  evm: { url: string; chainId: number; hardhatUrl: string };
  /** BFG's finality API (GET {url}/v2/keystonefinality/{hash}). */
  bfg: { url: string };
  bitcoin: { url: string; user: string; password: string; cookieFile?: string };
  redis: { url: string; private: boolean; prefix: string };
  deploymentFile: string;
  deployment: Deployment;
  metricsUrl: string;
  healthUrl: string;
  /** The live view: the page (http://127.0.0.1:port/) and its JSON API (/api/state, /api/provenance/<deposit>). */
  viewUrl: string;
  roles: RoleName[];
  accounts: DevnetAccount[];
  keysFile: string;
  relayerLog: string;
  faucetAddress: string;
  /** Mines `n` Bitcoin blocks to the faucet now. */
  mine(n: number): Promise<string[]>;
  /** Stops everything the devnet started (newest first); safe to call twice. */
  stop(): Promise<void>;
}

/** Number of start-up steps the progress lines count. */
const STEPS = 9;

async function fundAccounts(
  accounts: readonly DevnetAccount[],
  evm: JsonRpcProvider,
  rpc: BitcoinRpcClient,
  faucet: string,
): Promise<void> {
  let btcSent = false;
  for (const a of accounts) {
    if (a.evmAddress !== undefined && a.wei !== undefined) {
      await evm.send("hardhat_setBalance", [a.evmAddress, toBeHex(a.wei)]);
    }
    if (a.btcAddress !== undefined && a.btcSats !== undefined && a.btcSats > 0n) {
      await rpc.sendToAddress(a.btcAddress, Number(a.btcSats) / 1e8);
      btcSent = true;
    }
  }
  if (btcSent) await rpc.generateToAddress(1, faucet);
}

/**
 * Starts the whole local stack in this process: the embedded Bitcoin regtest node, a Hardhat network over HTTP,
 * Redis (the local one or a private redis-server), the contracts deployed by `deploy`'s code path (the deployment
 * file written where `deploy` writes it), the relayer with every role the deployment supports, and a Bitcoin block
 * every `btcBlockIntervalMs`. On any start-up failure everything started so far is stopped before the error is
 * rethrown.
 */
export async function startDevnet(opts: DevnetOptions): Promise<RunningDevnet> {
  const cleanups: { what: string; run: () => Promise<unknown> | void }[] = [];
  const stopAll = async (log?: Logger): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (err) {
        log?.warn({ err: errorMessage(err) }, `stopping ${c.what} failed`);
      }
    }
    cleanups.length = 0;
  };
  let step = 0;
  const progress = (line: string): void => opts.progress(`[${++step}/${STEPS}] ${line}`);
  mkdirSync(opts.datadir, { recursive: true });
  const relayerLog = path.join(opts.datadir, "relayer.log");
  const logDest = pino.destination({ dest: relayerLog, sync: true, append: true, mkdir: true });
  const log = pino({ level: opts.env.LOG_LEVEL ?? "info", name: "devnet" }, logDest);
  cleanups.push({ what: "relayer log", run: () => logDest.flushSync() });

  try {
    const { keys, file: keysFile } = loadOrCreateKeys(opts.datadir);

    // 1. Bitcoin
    const btcDir = path.join(opts.datadir, "btc");
    mkdirSync(btcDir, { recursive: true });
    const user = DEFAULT_RPC_USER;
    const password = DEFAULT_RPC_PASSWORD;
    const btc = await startRegtestNode({
      port: opts.btcPort,
      datadir: btcDir,
      rpcUser: user,
      rpcPassword: password,
      log: (msg) => log.info({ component: "btc-node" }, msg),
    });
    cleanups.push({ what: "Bitcoin node", run: () => btc.close() });
    const rpc = new BitcoinRpcClient({ url: btc.url });
    const faucetAddress = await rpc.getNewAddress("devnet-faucet");
    const height = await rpc.getBlockCount();
    // The faucet needs a mature coinbase: COINBASE_MATURITY blocks on top of its first block.
    if (height < COINBASE_MATURITY + 1) await rpc.generateToAddress(COINBASE_MATURITY + 1 - height, faucetAddress);
    progress(`Bitcoin regtest node on 127.0.0.1:${btc.port} (height ${await rpc.getBlockCount()}, data ${btcDir})`);

    // 2. EVM
    await assertPortFree("127.0.0.1", opts.evmPort, "EVM RPC port (--evm-port)");
    await assertPortFree("127.0.0.1", opts.bfgPort ?? 0, "BFG port (--bfg-port)");
    await assertPortFree("127.0.0.1", opts.viewPort ?? 0, "live view port (--view-port)");
    const evmNode = await startHardhatNetwork({ port: 0 });
    cleanups.push({ what: "Hardhat network", run: () => evmNode.close() });
    const provider = new JsonRpcProvider(evmNode.url, Network.from(evmNode.chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    provider.pollingInterval = 100;
    cleanups.push({ what: "EVM provider", run: () => provider.destroy() });
    const evmBlockMs = opts.evmBlockIntervalMs ?? 1_000;
    if (evmBlockMs > 0) await provider.send("evm_setIntervalMining", [evmBlockMs]);
    progress(
      `Hardhat network (chain ${evmNode.chainId}) on ${evmNode.url}` +
        (evmBlockMs > 0 ? `, automine and an EVM block every ${evmBlockMs / 1000} s` : ", automine only"),
    );

    // 3. Redis
    const redis: RedisEndpoint = opts.privateRedis
      ? await startPrivateRedis(log)
      : await resolveRedis({ url: opts.env.REDIS_URL, log });
    cleanups.push({ what: "Redis", run: () => redis.close() });
    const prefix = `hf-devnet-${randomBytes(6).toString("hex")}`;
    if (!redis.private) cleanups.push({ what: "Redis keys", run: () => deleteKeysWithPrefix(redis.url, prefix) });
    progress(`Redis at ${redis.url} (${redis.private ? "a private redis-server" : "shared"}; key prefix ${prefix})`);

    // 4. Keys
    const cfg: FabricConfig = loadConfig({
      env: {
        ...opts.env,
        EVM_RPC_URL: evmNode.url,
        BITCOIN_RPC_URL: btc.url,
        BITCOIN_RPC_COOKIE_FILE: undefined,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        RELAYER_PRIVATE_KEY: keys.relayer,
        RELAYER_KEYSTORE: undefined,
        RELAYER_KEYSTORE_PASSWORD: undefined,
        VAULT_CUSTODY_KEY: opts.env.VAULT_CUSTODY_KEY ?? keys.custody,
        POP_MINER_KEY: opts.env.POP_MINER_KEY ?? keys.popMiner,
        POP_SEQUENCER_ADDRESS: new Wallet(keys.relayer).address,
        METRICS_PORT: String(opts.metricsPort),
        BITCOIN_POLL_INTERVAL_MS: opts.env.BITCOIN_POLL_INTERVAL_MS ?? "500",
        DEPLOYMENT_FILE: undefined,
        LIGHT_CLIENT_ADDRESS: undefined,
        TUNNEL_ADDRESS: undefined,
      },
    });
    const accounts = devnetAccounts(keys);
    await fundAccounts(accounts, provider, rpc, faucetAddress);
    await splitPopMinerCoin(rpc, keys.popMiner, faucetAddress);
    progress(`funded ${accounts.map((a) => a.name).join(", ")} (keys in ${keysFile})`);

    // 5. Deploy, as `npx hemi-fabric deploy` does
    const operator = new Wallet(keys.operator, provider);
    const deployment = await deployFabric({ signer: operator, bitcoin: rpc, ...deployOptionsFromConfig(cfg), log });
    const deploymentFile = writeDeployment(cfg.DEPLOYMENTS_DIR, deployment);
    progress(`deployed ${Object.keys(deployment.contracts).join(", ")}; deployment file ${deploymentFile}`);

    // 6. Hemi's finality interfaces: BFG, and the EVM RPC URL with op-node's and op-geth's methods
    if (deployment.pop === undefined) throw new Error("the deployment has no PoP contracts");
    const finality = await startFinalityServices({
      evmUrl: evmNode.url,
      chainId: evmNode.chainId,
      pop: deployment.pop,
      rpcPort: opts.evmPort,
      bfgPort: opts.bfgPort ?? 0,
      log,
    });
    cleanups.push({ what: "finality interfaces", run: () => finality.close() });
    progress(`EVM RPC with Hemi's finality methods on ${finality.rpcUrl}; BFG on ${finality.bfgUrl}`);

    // 7. Relayer
    const roles = supportedRoles(deployment, cfg);
    const relayer = await startRelayer({ ...cfg, DEPLOYMENT_FILE: deploymentFile }, roles, log);
    cleanups.push({ what: "relayer", run: () => relayer.stop() });
    const opsBase = `http://${cfg.METRICS_HOST}:${relayer.opsPort ?? cfg.METRICS_PORT}`;
    progress(`relayer running roles ${roles.join(", ")} (log ${relayerLog})`);

    // 8. The live view of the fabric
    const viewRedis = createRedisConnection(redis.url, log);
    cleanups.push({ what: "live view's Redis connection", run: () => viewRedis.quit() });
    const view = await startViewServer({
      provider,
      bitcoin: rpc,
      deployment,
      redis: { client: viewRedis, prefix },
      port: opts.viewPort ?? 0,
      log,
    });
    cleanups.push({ what: "live view", run: () => view.close() });
    progress(`live view on ${view.url}/`);

    // 9. Bitcoin blocks
    const mine = (n: number): Promise<string[]> => rpc.generateToAddress(n, faucetAddress);
    if (opts.btcBlockIntervalMs > 0) {
      let mining = false;
      const timer = setInterval(() => {
        if (mining) return;
        mining = true;
        mine(1)
          .then(([hash]) => log.info({ hash }, "devnet mined a Bitcoin block"))
          .catch((err: unknown) => log.warn({ err: errorMessage(err) }, "devnet block mining failed"))
          .finally(() => (mining = false));
      }, opts.btcBlockIntervalMs);
      cleanups.push({ what: "block timer", run: () => clearInterval(timer) });
    }
    progress(
      opts.btcBlockIntervalMs > 0
        ? `mining a Bitcoin block every ${opts.btcBlockIntervalMs / 1000} s`
        : "mining Bitcoin blocks only on request (generatetoaddress)",
    );

    let stopping: Promise<void> | undefined;
    return {
      evm: { url: finality.rpcUrl, chainId: evmNode.chainId, hardhatUrl: evmNode.url },
      bfg: { url: finality.bfgUrl },
      bitcoin: { url: btc.url, user, password, cookieFile: btc.cookieFile },
      redis: { url: redis.url, private: redis.private, prefix },
      deploymentFile,
      deployment,
      metricsUrl: `${opsBase}/metrics`,
      healthUrl: `${opsBase}/healthz`,
      viewUrl: `${view.url}/`,
      roles,
      accounts,
      keysFile,
      relayerLog,
      faucetAddress,
      mine,
      stop: () => (stopping ??= stopAll(log)),
    };
  } catch (err) {
    log.error({ err: errorMessage(err) }, "devnet start-up failed; stopping what was started");
    await stopAll(log);
    throw err;
  }
}
