import path from "node:path";
import { errorMessage } from "../../core/logger";
import { startDevnet, type RunningDevnet } from "../../devnet/devnet";
import type { Command } from "../main";
import { parseArgs } from "./args";

/** Defaults of the devnet's options (ports as `npx hardhat node`, bitcoind regtest and the relayer use). */
export const DEVNET_DEFAULTS = {
  evmPort: 8545,
  bfgPort: 8080,
  btcPort: 18443,
  metricsPort: 9464,
  viewPort: 8090,
  datadir: ".datadir/devnet",
  btcBlockIntervalS: 10,
  evmBlockIntervalS: 1,
} as const;

const HELP = `Usage: hemi-fabric devnet [options]   (npx hemi-fabric devnet)

Starts the whole local stack and runs until Ctrl-C (SIGINT) or SIGTERM, then stops everything it started:
the embedded Bitcoin regtest node, a Hardhat network, Redis (127.0.0.1:6379 if it answers, else a private
redis-server), the contracts (as \`npx hemi-fabric deploy\`), the relayer with every role the deployment
supports, Hemi's finality interfaces (BFG's GET /v2/keystonefinality/{hash}, and the EVM RPC URL answering
optimism_btcFinalityByBlockHash, kss_getKeystone and kss_getLatestKeystones, every other method passed to
the Hardhat network), the live view (a web page on 127.0.0.1 showing Bitcoin, the light client, keystones with
their PoP finality, deposits and withdrawals as they happen, and the chain of trust of any deposit), and a
Bitcoin block every --btc-block-interval seconds.

Options:
  --evm-port <port>            EVM JSON-RPC port, with Hemi's finality methods (default ${DEVNET_DEFAULTS.evmPort}; 0 = a free port)
  --bfg-port <port>            BFG finality API port (default ${DEVNET_DEFAULTS.bfgPort}, BFG's; 0 = a free port)
  --btc-port <port>            Bitcoin JSON-RPC port (default ${DEVNET_DEFAULTS.btcPort}; 0 = a free port)
  --metrics-port <port>        relayer /metrics and /healthz port (default ${DEVNET_DEFAULTS.metricsPort}; 0 = a free port)
  --view-port <port>           the live view's web page on 127.0.0.1 (default ${DEVNET_DEFAULTS.viewPort}; 0 = a free port)
  --datadir <dir>              Bitcoin chain, devnet keys and relayer log (default ${DEVNET_DEFAULTS.datadir})
  --btc-block-interval <s>     seconds between Bitcoin blocks (default ${DEVNET_DEFAULTS.btcBlockIntervalS}; 0 = only on request)
  --evm-block-interval <s>     seconds between empty EVM blocks besides automine, so keystones fall due on an idle
                               chain (default ${DEVNET_DEFAULTS.evmBlockIntervalS}; 0 = automine only)
  --private-redis              start a private redis-server even if a Redis answers on 127.0.0.1:6379
  --help                       this help

Relayer and deploy settings (VAULT_CONFIRMATIONS, DEPLOYMENTS_DIR, LOG_LEVEL, ...) are read from the
environment as for \`deploy\` and \`relayer\`; the deployment file goes to DEPLOYMENTS_DIR (default ./deployments).`;

function portOption(values: Map<string, string>, name: string, dflt: number): number {
  const v = values.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new Error(`--${name} must be a port 0..65535, got "${v}"`);
  return n;
}

/** The endpoint summary printed once the devnet is up. */
export function describeDevnet(d: RunningDevnet): string {
  const btcUrl = new URL(d.bitcoin.url);
  const lines = [
    "",
    "hemi-fabric devnet is running (Ctrl-C to stop)",
    `  EVM RPC          ${d.evm.url}  (chain ${d.evm.chainId}; with Hemi's optimism_btcFinalityByBlockHash, kss_getKeystone, kss_getLatestKeystones)`,
    `    Hardhat node   ${d.evm.hardhatUrl}  (the node itself, without Hemi's methods)`,
    `  BFG              ${d.bfg.url}/v2/keystonefinality/{keystone hash}`,
    `  Bitcoin RPC      http://${btcUrl.host}  user ${d.bitcoin.user} password ${d.bitcoin.password}  (${d.bitcoin.url})`,
    `  deployment file  ${d.deploymentFile}`,
    ...Object.entries(d.deployment.contracts).map(([name, addr]) => `    ${name.padEnd(22)} ${addr}`),
    ...(d.deployment.hvm === undefined
      ? []
      : [
          `  hVM              precompiles at 0x40..0x49 (${d.deployment.hvm.installedWith ?? "not installed"}), 0x42 layout ${d.deployment.hvm.layout}, tip lag ${d.deployment.hvm.lag}`,
        ]),
    ...(d.deployment.pop === undefined
      ? []
      : [
          `  PoP              KeystoneLedger ${d.deployment.pop.keystoneLedger}  PopVerifier ${d.deployment.pop.popVerifier}`,
          `                   PopRewards ${d.deployment.pop.popRewards}  (a keystone every ${d.deployment.pop.keystoneInterval} EVM blocks)`,
        ]),
    `  live view        ${d.viewUrl}  (open it in a browser: Bitcoin, light client, keystones, deposits, withdrawals)`,
    `  metrics          ${d.metricsUrl}   health ${d.healthUrl}`,
    `  relayer roles    ${d.roles.join(", ")}   log ${d.relayerLog}`,
    `  Redis            ${d.redis.url}${d.redis.private ? " (private)" : ""}  prefix ${d.redis.prefix}`,
    `  faucet           ${d.faucetAddress}`,
    `  funded accounts  (keys in ${d.keysFile})`,
    ...d.accounts.map((a) => `    ${a.name.padEnd(10)} ${[a.evmAddress, a.btcAddress].filter((x) => x).join("  ")}`),
    "",
  ];
  return lines.join("\n");
}

/** `hemi-fabric devnet`: the one command a contract developer runs. */
export const devnetCommand: Command = {
  name: "devnet",
  summary:
    "run Bitcoin regtest + Hardhat + Redis + contracts + relayer + Hemi's finality interfaces until Ctrl-C: [--evm-port 8545] [--bfg-port 8080] [--btc-port 18443] [--view-port 8090] [--btc-block-interval 10] [--datadir DIR]",
  async run(args: string[]): Promise<number> {
    let opts;
    try {
      const parsed = parseArgs(
        args,
        [
          "evm-port",
          "bfg-port",
          "btc-port",
          "metrics-port",
          "view-port",
          "datadir",
          "btc-block-interval",
          "evm-block-interval",
        ],
        ["private-redis", "help"],
      );
      if (parsed.flags.has("help")) {
        console.log(HELP);
        return 0;
      }
      const v = parsed.values;
      const interval = v.get("btc-block-interval") ?? String(DEVNET_DEFAULTS.btcBlockIntervalS);
      const seconds = Number(interval);
      if (!/^\d+(\.\d+)?$/.test(interval) || seconds > 86_400) {
        throw new Error(`--btc-block-interval must be seconds 0..86400, got "${interval}"`);
      }
      const evmInterval = v.get("evm-block-interval") ?? String(DEVNET_DEFAULTS.evmBlockIntervalS);
      const evmSeconds = Number(evmInterval);
      if (!/^\d+(\.\d+)?$/.test(evmInterval) || evmSeconds > 86_400) {
        throw new Error(`--evm-block-interval must be seconds 0..86400, got "${evmInterval}"`);
      }
      opts = {
        evmPort: portOption(v, "evm-port", DEVNET_DEFAULTS.evmPort),
        bfgPort: portOption(v, "bfg-port", DEVNET_DEFAULTS.bfgPort),
        btcPort: portOption(v, "btc-port", DEVNET_DEFAULTS.btcPort),
        metricsPort: portOption(v, "metrics-port", DEVNET_DEFAULTS.metricsPort),
        viewPort: portOption(v, "view-port", DEVNET_DEFAULTS.viewPort),
        datadir: path.resolve(v.get("datadir") ?? DEVNET_DEFAULTS.datadir),
        btcBlockIntervalMs: Math.round(seconds * 1000),
        evmBlockIntervalMs: Math.round(evmSeconds * 1000),
        privateRedis: parsed.flags.has("private-redis"),
      };
    } catch (err) {
      console.error(`hemi-fabric devnet: ${errorMessage(err)}`);
      return 2;
    }
    console.log("hemi-fabric devnet: starting");
    let devnet: RunningDevnet | undefined;
    let interrupted = false;
    const early = (): void => {
      interrupted = true;
    };
    process.once("SIGINT", early);
    process.once("SIGTERM", early);
    try {
      devnet = await startDevnet({ ...opts, env: process.env, progress: (line) => console.log(line) });
    } catch (err) {
      console.error(`hemi-fabric devnet: cannot start: ${errorMessage(err)}`);
      return 1;
    } finally {
      process.removeListener("SIGINT", early);
      process.removeListener("SIGTERM", early);
    }
    const running = devnet;
    console.log(describeDevnet(running));
    return new Promise<number>((resolve) => {
      let signals = 0;
      const onSignal = (signal: string): void => {
        signals++;
        if (signals > 1) {
          console.error(`hemi-fabric devnet: second ${signal}, exiting without waiting`);
          process.exit(130);
        }
        console.log(`hemi-fabric devnet: ${signal}, stopping`);
        running
          .stop()
          .then(() => {
            console.log("hemi-fabric devnet: stopped");
            // Idle keep-alive sockets must not hold the process open once everything is closed.
            setTimeout(() => process.exit(0), 1_000).unref();
            resolve(0);
          })
          .catch((err: unknown) => {
            console.error(`hemi-fabric devnet: error while stopping: ${errorMessage(err)}`);
            resolve(1);
          });
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      if (interrupted) onSignal("SIGINT");
    });
  },
};
