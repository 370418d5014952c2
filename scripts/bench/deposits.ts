/**
 * Benchmark of the relayer's deposits role, end to end: deposits broadcast to the embedded Bitcoin node, mined,
 * found by the relayer (headers + deposits roles on Redis, in-process), proven and minted on a Hardhat node.
 * Measures from the first broadcast to the last hemiBTC minted; vault confirmations 1, blocks mined at once, so
 * the figure is the relayer's throughput, not Bitcoin's block interval. Prints deposits per second and gas per
 * deposit; writes bench/results/deposits.json.
 *
 *   npx hardhat run scripts/bench/deposits.ts        (needs redis-server on PATH or Redis on 127.0.0.1:6379)
 */
import { mkdtempSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEV_KEYS, startEvmNode } from "../lib/evmNode";
import { Contract, JsonRpcProvider, Network, Wallet } from "ethers";
import { startRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { loadConfig } from "../../relayer/src/config/load";
import { createLogger } from "../../relayer/src/core/logger";
import { resolveRedis } from "../../relayer/src/core/redis";
import { deployFabric } from "../../relayer/src/evm/deployFabric";
import { writeDeployment } from "../../relayer/src/evm/deployment";
import { TUNNEL_ABI } from "../../relayer/src/evm/tunnel";
import { custodyScriptOf, parseCustodyKey } from "../../relayer/src/roles/withdrawals/custodyKey";
import { startRelayer, type RunningRelayer } from "../../relayer/src/relayer";
import { buildDeposit, fanOut, fundFromCoinbase } from "../../test/relayer/helpers/tunnelBitcoin";
import { printTable, writeBenchResult } from "./report";

export interface DepositsBenchResult {
  deposits: number;
  blocks: number;
  maxBatch: number;
  seconds: number;
  depositsPerSecond: number;
  evmTransactions: number;
  gasPerDeposit: number;
}

/** Broadcasts `deposits` deposits over `blocks` blocks and measures until the relayer has minted them all. */
export async function runDepositsBench(
  deposits: number,
  blocks: number,
  maxBatch: number,
): Promise<DepositsBenchResult> {
  const btcNode = await startRegtestNode();
  const server = await startEvmNode();
  const evmUrl = server.url;
  const redis = await resolveRedis({ url: process.env.REDIS_URL });
  const provider = new JsonRpcProvider(evmUrl, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
  const log = createLogger({ level: "warn" });
  let relayer: RunningRelayer | undefined;
  try {
    const btc = new BitcoinRpcClient({ url: btcNode.url });
    const funder = randomKey();
    const [coin] = await fundFromCoinbase(btc, funder, 1);
    const coins = await fanOut(btc, funder, coin, deposits, 1_000_000n);
    const custodyHex = randomBytes(32).toString("hex");
    const custodyScript = custodyScriptOf(parseCustodyKey(custodyHex));
    const deployment = await deployFabric({
      signer: new Wallet(DEV_KEYS[0], provider),
      bitcoin: btc,
      anchorMargin: 0,
      vault: {
        custodyScript,
        confirmations: 1,
        terms: {
          depositFeeBps: 10,
          depositFlatFee: 0n,
          withdrawalFeeBps: 0,
          withdrawalFlatFee: 0n,
          minDeposit: 1_000n,
        },
      },
    });
    const file = writeDeployment(mkdtempSync(path.join(tmpdir(), "hf-bench-")), deployment);
    const recipients = Array.from({ length: 10 }, () => Wallet.createRandom().address);
    const txs = coins.map((c, i) =>
      buildDeposit(funder, c, {
        pays: [{ script: custodyScript, sats: 100_000n + BigInt(i) }],
        recipient: recipients[i % 10],
      }),
    );
    const cfg = loadConfig({
      env: {
        EVM_RPC_URL: evmUrl,
        BITCOIN_RPC_URL: btcNode.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: `hf-bench-${randomBytes(4).toString("hex")}`,
        RELAYER_PRIVATE_KEY: DEV_KEYS[1],
        DEPLOYMENT_FILE: file,
        METRICS_PORT: "0",
        BITCOIN_POLL_INTERVAL_MS: "100",
        DEPOSITS_MAX_BATCH: String(maxBatch),
      },
    });
    relayer = await startRelayer(cfg, ["headers", "deposits"], log);
    const tunnel = new Contract(deployment.contracts.BitcoinTunnel, TUNNEL_ABI, provider);
    const miner = await btc.getNewAddress();

    const t0 = process.hrtime.bigint();
    const perBlock = Math.ceil(deposits / blocks);
    for (let b = 0; b < blocks; b++) {
      const ids: string[] = [];
      for (const tx of txs.slice(b * perBlock, (b + 1) * perBlock)) ids.push(await btc.sendRawTransaction(tx.toHex()));
      await btc.generateBlock(miner, ids);
    }
    // Bounded: a stuck relayer fails the benchmark instead of hanging it (generous: 1 s per deposit, >= 2 min).
    const limitMs = Math.max(120_000, deposits * 1_000);
    const deadline = Date.now() + limitMs;
    for (;;) {
      const { count } = (await tunnel.orderCursor()) as { count: bigint };
      if (Number(count) >= deposits) break;
      if (Date.now() > deadline) {
        throw new Error(`deposits bench: ${count} of ${deposits} deposits minted after ${limitMs} ms; giving up`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await relayer.stop();
    relayer = undefined;

    const events = await tunnel.queryFilter(tunnel.filters.DepositConfirmed(), 0, "latest");
    if (events.length !== deposits)
      throw new Error(`expected ${deposits} DepositConfirmed events, got ${events.length}`);
    const hashes = [...new Set(events.map((e) => e.transactionHash))];
    let gas = 0;
    for (const h of hashes) gas += Number((await provider.getTransactionReceipt(h))?.gasUsed ?? 0);
    return {
      deposits,
      blocks,
      maxBatch,
      seconds: Number(seconds.toFixed(2)),
      depositsPerSecond: Number((deposits / seconds).toFixed(1)),
      evmTransactions: hashes.length,
      gasPerDeposit: Math.round(gas / deposits),
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
  const runs: [number, number, number][] = [
    [200, 1, 100],
    [200, 10, 100],
    [200, 10, 1],
  ];
  const results: DepositsBenchResult[] = [];
  for (const [n, blocks, batch] of runs) results.push(await runDepositsBench(n, blocks, batch));
  printTable(
    "deposits role, end to end (broadcast -> hemiBTC minted), vault confirmations 1",
    ["deposits", "blocks", "max batch", "seconds", "deposits/s", "EVM txs", "gas/deposit"],
    results.map((r) => [
      r.deposits,
      r.blocks,
      r.maxBatch,
      r.seconds,
      r.depositsPerSecond,
      r.evmTransactions,
      r.gasPerDeposit,
    ]),
  );
  console.log(`wrote ${writeBenchResult("deposits", { results })}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
