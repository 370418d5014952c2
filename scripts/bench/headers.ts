/**
 * Benchmark of the relayer's headers role: 5,000 regtest headers from the embedded Bitcoin node into
 * BitcoinLightClient, through the real relayer (queue core on Redis, serialised sender, gas-sized batches).
 * Prints headers per second and gas per header; writes bench/results/headers.json.
 *
 *   npx hardhat run scripts/bench/headers.ts        (needs redis-server on PATH or Redis on 127.0.0.1:6379)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { DEV_KEYS, startEvmNode } from "../lib/evmNode";
import { Contract, JsonRpcProvider, Network, Wallet } from "ethers";
import { startRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { loadConfig } from "../../relayer/src/config/load";
import { createLogger } from "../../relayer/src/core/logger";
import { resolveRedis } from "../../relayer/src/core/redis";
import { deployFabric } from "../../relayer/src/evm/deployFabric";
import { writeDeployment } from "../../relayer/src/evm/deployment";
import { LIGHT_CLIENT_ABI } from "../../relayer/src/evm/lightClient";
import { startRelayer, type RunningRelayer } from "../../relayer/src/relayer";
import { writeBenchResult } from "./report";

/** Hardhat development account 0 deploys and relays. */
const DEV_KEY = DEV_KEYS[0];

export interface HeadersBenchResult {
  headers: number;
  batchSize: number;
  seconds: number;
  headersPerSecond: number;
  transactions: number;
  gasTotal: number;
  gasPerHeader: number;
}

/** Syncs `headers` fresh regtest headers through the headers role and measures throughput and gas. */
export async function runHeadersBench(headers = 5_000, batchSize = 200): Promise<HeadersBenchResult> {
  const btcNode = await startRegtestNode();
  const server = await startEvmNode();
  const evmUrl = server.url;
  const redis = await resolveRedis({ url: process.env.REDIS_URL });
  const provider = new JsonRpcProvider(evmUrl, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
  const log = createLogger({ level: "warn" });
  let relayer: RunningRelayer | undefined;
  try {
    const btc = new BitcoinRpcClient({ url: btcNode.url });
    const deployment = await deployFabric({
      signer: new Wallet(DEV_KEY, provider),
      bitcoin: btc,
      anchorHeight: 0,
      anchorMargin: 0,
    });
    const file = writeDeployment(mkdtempSync(path.join(tmpdir(), "hf-bench-")), deployment);
    await btc.generateToAddress(headers, await btc.getNewAddress());

    const cfg = loadConfig({
      env: {
        EVM_RPC_URL: evmUrl,
        BITCOIN_RPC_URL: btcNode.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: `hf-bench-${randomBytes(4).toString("hex")}`,
        RELAYER_PRIVATE_KEY: DEV_KEY,
        DEPLOYMENT_FILE: file,
        METRICS_PORT: "0",
        BITCOIN_POLL_INTERVAL_MS: "100",
        HEADERS_BATCH_SIZE: String(batchSize),
      },
    });
    const lc = new Contract(deployment.contracts.BitcoinLightClient, LIGHT_CLIENT_ABI, provider);
    const t0 = process.hrtime.bigint();
    relayer = await startRelayer(cfg, ["headers"], log);
    // Bounded: a stuck relayer fails the benchmark instead of hanging it (generous: 50 ms per header, >= 2 min).
    const limitMs = Math.max(120_000, headers * 50);
    const deadline = Date.now() + limitMs;
    for (;;) {
      const [, height] = (await lc.bestBlock()) as [string, bigint];
      if (Number(height) >= headers) break;
      if (Date.now() > deadline) {
        throw new Error(`headers bench: light client at ${height} of ${headers} after ${limitMs} ms; giving up`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await relayer.stop();
    relayer = undefined;

    const events = await lc.queryFilter(lc.filters.HeadersAdded(), 0, "latest");
    let gasTotal = 0;
    for (const ev of events)
      gasTotal += Number((await provider.getTransactionReceipt(ev.transactionHash))?.gasUsed ?? 0);
    return {
      headers,
      batchSize,
      seconds: Number(seconds.toFixed(2)),
      headersPerSecond: Math.round(headers / seconds),
      transactions: events.length,
      gasTotal,
      gasPerHeader: Math.round(gasTotal / headers),
    };
  } finally {
    await relayer?.stop();
    provider.destroy();
    await server.close();
    await btcNode.close();
    await redis.close();
  }
}

async function main(): Promise<void> {
  // The default batch (200) and two others, to show what batching does to gas per header.
  const results: HeadersBenchResult[] = [];
  for (const batch of [200, 50, 400]) results.push(await runHeadersBench(5_000, batch));
  for (const r of results) {
    console.log(
      `headers role: ${r.headers} headers in ${r.seconds} s = ${r.headersPerSecond} headers/s; ` +
        `${r.transactions} transactions of up to ${r.batchSize} headers; ${r.gasPerHeader} gas per header`,
    );
  }
  console.log(`wrote ${writeBenchResult("headers", { results })}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
