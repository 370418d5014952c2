/**
 * Outages (issue 11, item 13), on a private redis-server of the test's own (never the shared one): /metrics answers
 * while Redis is hung or down, /healthz notices a hung Redis (PING with a time limit), an outage is told in a few
 * lines, a Redis that comes back EMPTY is announced and the relayer re-derives its state (a new deposit is minted),
 * and a relayer restarted after SIGKILL says what it waits for and resumes within the (shorter) lock times.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, Network } from "ethers";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import type { KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { freePort } from "../../relayer/src/core/ports";
import { redisAnswers } from "../../relayer/src/core/redis";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import { LightClientReader } from "../../relayer/src/evm/lightClient";
import { TUNNEL_ABI } from "../../relayer/src/evm/tunnel";
import { custodyScriptOf, parseCustodyKey } from "../../relayer/src/roles/withdrawals/custodyKey";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { deployWithCli, spawnCli, waitFor, type CliProcess } from "./helpers/relayerProcess";
import { buildDeposit, depositorCoins, type Coin } from "./helpers/tunnelBitcoin";

const RECIPIENT = "0x" + "43".repeat(20);

/** A private, non-persistent redis-server on `port` (the test can stop, freeze and restart it). */
async function startRedis(port: number): Promise<ChildProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "hf-outage-redis-"));
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    {
      stdio: "ignore",
    },
  );
  await waitFor("private redis-server", () => redisAnswers(`redis://127.0.0.1:${port}`, 300), 10_000);
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** GET on the relayer's ops server, with a time limit (a hung endpoint fails the test instead of hanging it). */
async function get(
  port: number,
  what: string,
  timeoutMs = 3_000,
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}/${what}`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text(), ms: Date.now() - t0 };
}

describe("relayer through Redis outages and a SIGKILL (private redis-server)", function () {
  this.timeout(300_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let redisPort: number;
  let redis: ChildProcess;
  let funder: KeyPair;
  let coins: Coin[];
  let miner: string;
  let deployment: Deployment;
  let file: string;
  const children: CliProcess[] = [];
  const custodyKeyHex = randomBytes(32).toString("hex");
  const custodyScript = custodyScriptOf(parseCustodyKey(custodyKeyHex));

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    ({ funder, coins, miner } = await depositorCoins(btc, 2));
    evm = await startEvmNode();
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    file = await deployWithCli(mkdtempSync(path.join(tmpdir(), "hf-outage-")), {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      DEPLOY_ANCHOR_MARGIN: "0",
      VAULT_CUSTODY_KEY: custodyKeyHex,
      VAULT_CONFIRMATIONS: "1",
    });
    deployment = readDeployment(file);
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    if (redis !== undefined) {
      if (redis.signalCode === null) redis.kill("SIGCONT");
      await stopRedis(redis);
    }
    await evm?.close();
    await btcNode?.close();
  });

  function relayer(extra: Record<string, string> = {}): CliProcess {
    const cli = spawnCli(["relayer", "--roles", "headers,deposits,withdrawals"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      RELAYER_PRIVATE_KEY: DEV_KEYS[1],
      VAULT_CUSTODY_KEY: custodyKeyHex,
      DEPLOYMENT_FILE: file,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      LOG_LEVEL: "info",
      ...extra,
    });
    children.push(cli);
    return cli;
  }

  async function minted(txid: string): Promise<boolean> {
    const provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    try {
      const tunnel = new Contract(deployment.contracts.BitcoinTunnel, TUNNEL_ABI, provider);
      return ((await tunnel.depositRecord(displayToInternal(txid), 0)) as { sequence: bigint }).sequence !== 0n;
    } finally {
      provider.destroy();
    }
  }

  it("hung, down, then back EMPTY: /metrics answers, /healthz tells, a few lines, state re-derived", async () => {
    const r = relayer({ REDIS_WATCH_INTERVAL_MS: "300", REDIS_PING_TIMEOUT_MS: "500" });
    const started = await r.waitForLog((l) => l.msg === "relayer started", 60_000);
    const ops = started.opsPort as number;
    await waitFor("healthy", async () => (await get(ops, "healthz")).status === 200, 30_000);

    // Hung: the process is frozen, its socket stays open.
    redis.kill("SIGSTOP");
    await r.waitForLog((l) => l.msg?.toString().startsWith("Redis not answering") === true, 10_000);
    const hungMetrics = await get(ops, "metrics");
    expect(hungMetrics.status).to.equal(200);
    expect(hungMetrics.ms).to.be.below(2_500);
    expect(hungMetrics.body).to.match(/^hemi_fabric_role_healthy\{role="headers"\} [01]$/m);
    const hungHealth = await get(ops, "healthz");
    expect(hungHealth.status).to.equal(503);
    expect(JSON.parse(hungHealth.body).checks.redis.detail.reason).to.match(/did not answer PING within 500 ms/);
    redis.kill("SIGCONT");
    await r.waitForLog((l) => l.msg === "Redis answering again; work resumes", 10_000);

    // Down: killed. A few lines for the whole outage, not one per reconnect of every queue and worker.
    const before = r.logs.length;
    await stopRedis(redis);
    await new Promise((res) => setTimeout(res, 8_000));
    const downMetrics = await get(ops, "metrics");
    expect(downMetrics.status).to.equal(200);
    expect(downMetrics.ms).to.be.below(2_500);
    const downHealth = await get(ops, "healthz");
    expect(downHealth.status).to.equal(503);
    expect(JSON.parse(downHealth.body).checks.redis.detail.reason).to.match(/Redis unreachable/);
    const outageLines = r.logs.slice(before).filter((l) => (l.level as number) >= 40);
    expect(outageLines.length, JSON.stringify(outageLines, null, 1)).to.be.within(1, 4);

    // Back, EMPTY (no persistence): announced once; the state is re-derived and a new deposit is minted.
    redis = await startRedis(redisPort);
    await r.waitForLog((l) => l.msg?.toString().startsWith("Redis came back EMPTY") === true, 20_000);
    const tx = buildDeposit(funder, coins[0], {
      pays: [{ script: custodyScript, sats: 300_000n }],
      recipient: RECIPIENT,
    });
    await btc.sendRawTransaction(tx.toHex());
    await btc.generateBlock(miner, [tx.getId()]);
    await waitFor("the deposit minted after the empty Redis", () => minted(tx.getId()), 60_000).catch(
      (err: unknown) => {
        throw new Error(`${(err as Error).message}\n${r.output().slice(-4000)}`);
      },
    );
    await waitFor("healthy again", async () => (await get(ops, "healthz")).status === 200, 30_000);
    expect(r.logs.filter((l) => l.msg?.toString().startsWith("Redis came back EMPTY") === true).length).to.equal(1);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  it("after a SIGKILL mid-transaction, the restarted relayer says what it waits for and recovers the job as soon as its lock expires", async () => {
    // The EVM stops mining: the header batch's transaction waits for its receipt, holding the job and signer locks.
    await btc.generateToAddress(120, miner);
    await evm.provider.request({ method: "evm_setAutomine", params: [false] });
    const a = relayer({ HEADERS_BATCH_SIZE: "40", JOB_LOCK_MS: "20000" });
    await a.waitForLog((l) => l.msg === "transaction sent", 60_000);
    a.proc.kill("SIGKILL");
    await a.exited;
    const killedAt = Date.now();
    // The restarted relayer has the default lock settings (JOB_STALLED_INTERVAL_MS 5 s).
    const b = relayer();
    const locks = await b.waitForLog(
      (l) => (l.msg as string | undefined)?.includes("lock(s) of a relayer that stopped") === true,
      60_000,
    );
    const held = locks.locks as { key: string; expiresInMs: number }[];
    expect(
      held.some((h) => /^btc-headers:headers-.*:lock$/.test(h.key)),
      JSON.stringify(held),
    ).to.equal(true);
    expect(locks.waitMs as number).to.be.at.most(20_000);
    await b.waitForLog((l) => l.msg === "stalled job recovered (its worker died)", 60_000);
    const waited = Date.now() - killedAt;
    console.log(`      job recovered ${waited} ms after the SIGKILL (its lock: 20 s)`);
    // Lock expiry (20 s after the last renewal) + one stalled check (5 s) + slack.
    expect(waited).to.be.below(20_000 + 5_000 + 5_000);
    await evm.provider.request({ method: "evm_setAutomine", params: [true] });
    await evm.provider.request({ method: "evm_mine", params: [] });
    const provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    try {
      const lc = new LightClientReader(deployment.contracts.BitcoinLightClient, provider);
      const tip = await btc.getBlockCount();
      await waitFor("light client at the tip", async () => (await lc.bestBlock()).height === tip, 60_000);
    } finally {
      provider.destroy();
    }
    b.proc.kill("SIGTERM");
    expect((await b.exited).code).to.equal(0);
  });
});
