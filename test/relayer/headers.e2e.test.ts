import { expect } from "chai";
import { Contract, JsonRpcProvider, Network } from "ethers";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { freePort } from "../../relayer/src/core/ports";
import { lightClientAbi } from "../../relayer/src/evm/lightClient";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { removeTestKeys } from "./helpers/redisKeys";
import { spawnCli, waitFor, type CliProcess } from "./helpers/relayerProcess";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("relayer headers role (end to end: Redis, Hardhat node, embedded Bitcoin node, relayer processes)", function () {
  this.timeout(240_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let provider: JsonRpcProvider;
  let minerAddress: string;
  const children: CliProcess[] = [];
  /** Redis prefixes the tests create (their keys are removed at the end). */
  const prefixes = new Set<string>();

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    minerAddress = await btc.getNewAddress();
    evm = await startEvmNode();
    provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    provider.destroy();
    await evm.close();
    await btcNode.close();
    await removeTestKeys(...prefixes);
  });

  /** Runs `hemi-fabric deploy` into a temp dir; returns the deployment file and the light client. */
  async function deploy(extraEnv: Record<string, string> = {}): Promise<{ file: string; lc: Contract }> {
    const dir = mkdtempSync(path.join(tmpdir(), "hf-deploy-"));
    const cli = spawnCli(["deploy", "--out-dir", dir], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      ...extraEnv,
    });
    const { code } = await cli.exited;
    expect(code, cli.output()).to.equal(0);
    const file = cli.output().trim().split("\n").pop() ?? "";
    expect(file).to.equal(path.join(dir, "31337.json"));
    const dep = JSON.parse(readFileSync(file, "utf8")) as { contracts: { BitcoinLightClient: string } };
    return { file, lc: new Contract(dep.contracts.BitcoinLightClient, lightClientAbi(), provider) };
  }

  function relayer(file: string, prefix: string, key: string, extra: Record<string, string> = {}): CliProcess {
    prefixes.add(prefix);
    const cli = spawnCli(["relayer", "--roles", "headers"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: key,
      DEPLOYMENT_FILE: file,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "100",
      JOB_LOCK_MS: "4000",
      JOB_STALLED_INTERVAL_MS: "1000",
      LOCK_TTL_MS: "3000",
      ...extra,
    });
    children.push(cli);
    return cli;
  }

  async function lcBest(lc: Contract): Promise<{ hash: string; height: number }> {
    const [hash, height] = (await lc.bestBlock()) as [string, bigint];
    return { hash, height: Number(height) };
  }

  /** The light client's canonical chain equals the node's best chain over [from, tip]. */
  async function matchesNode(lc: Contract, from: number): Promise<boolean> {
    const tip = await btc.getBlockCount();
    const best = await lcBest(lc);
    if (best.height !== tip || best.hash !== displayToInternal(await btc.getBestBlockHash())) return false;
    const rows = await btc.getRawHeaders(from, tip - from + 1);
    for (const r of rows) {
      if ((await lc.blockHashAt(r.height)) !== displayToInternal(r.hash)) return false;
    }
    return true;
  }

  async function lcStored(lc: Contract, displayHash: string, height: number): Promise<boolean> {
    return (await lc.isKnown(displayToInternal(displayHash), height)) as boolean;
  }

  async function headersAddedEvents(lc: Contract): Promise<{ firstHeight: number; count: number }[]> {
    const logs = await lc.queryFilter(lc.filters.HeadersAdded(), 0, "latest");
    return logs.map((l) => {
      const args = (l as unknown as { args: { firstHeight: bigint; count: bigint } }).args;
      return { firstHeight: Number(args.firstHeight), count: Number(args.count) };
    });
  }

  it("from a fresh deploy, brings the light client to the tip after 500 blocks, keeps it there, and serves /metrics and /healthz", async () => {
    const { file, lc } = await deploy();
    const anchor = JSON.parse(readFileSync(file, "utf8")) as { anchor: { height: number; hash: string } };
    expect(anchor.anchor.height).to.equal(0);
    await btc.generateToAddress(500, minerAddress);
    const r = relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0]);
    const started = await r.waitForLog((l) => l.msg === "relayer started", 60_000);
    const t0 = Date.now();
    await waitFor("sync to 500", async () => (await lcBest(lc)).height === 500, 90_000);
    const syncMs = Date.now() - t0;
    expect(await matchesNode(lc, 1)).to.equal(true);

    await btc.generateToAddress(7, minerAddress);
    await waitFor("sync to 507", () => matchesNode(lc, 495), 30_000);

    const port = started.opsPort as number;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).to.match(/^hemi_fabric_light_client_lag_blocks 0$/m);
    expect(metrics).to.match(/^hemi_fabric_gas_used_total\{role="headers"\} [1-9]/m);
    expect(metrics).to.match(/^hemi_fabric_queue_jobs\{queue="btc-headers",state="completed"\} [1-9]/m);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).to.equal(200);

    const events = await headersAddedEvents(lc);
    expect(events.reduce((s, e) => s + e.count, 0)).to.equal(507);
    console.log(`      synced 500 headers in ${syncMs} ms with ${events.length} transactions`);

    // Reorg: invalidate the block at height 504, then mine a longer branch on 503.
    const invalidated = await btc.getBlockHash(504);
    await btc.invalidateBlock(invalidated);
    expect(await btc.getBlockCount()).to.equal(503);
    await btc.generateToAddress(6, minerAddress);
    await waitFor("reorg followed", () => matchesNode(lc, 490), 30_000);
    const reorgs = await lc.queryFilter(lc.filters.Reorg(), 0, "latest");
    expect(reorgs.length).to.equal(1);
    const reorgArgs = (reorgs[0] as unknown as { args: { forkHeight: bigint; newBest: string } }).args;
    expect(Number(reorgArgs.forkHeight)).to.equal(503);
    expect(reorgArgs.newBest).to.equal(displayToInternal(await btc.getBestBlockHash()));
    expect(await lc.blockHashAt(504)).to.not.equal(displayToInternal(invalidated));

    // Graceful stop on SIGTERM.
    r.proc.kill("SIGTERM");
    const exit = await r.exited;
    expect(exit.code).to.equal(0);
    expect(r.logs.some((l) => l.msg === "relayer stopped")).to.equal(true);
  });

  it("follows a reorg deeper than a batch: the node's branch is stored as a fork batch by batch until it is heavier", async () => {
    const { file, lc } = await deploy();
    const r = relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0], { HEADERS_BATCH_SIZE: "4" });
    await btc.generateToAddress(12, minerAddress);
    const start = (await btc.getBlockCount()) - 12;
    await waitFor("initial sync", () => matchesNode(lc, start), 60_000);
    const tip = await btc.getBlockCount();
    // Replace the last 10 blocks with a 15-block branch: 4 batches, the first two lighter than the old chain.
    const evmBlockBefore = await provider.getBlockNumber();
    await btc.invalidateBlock(await btc.getBlockHash(tip - 9));
    await btc.generateToAddress(15, minerAddress);
    await waitFor("deep reorg followed", () => matchesNode(lc, tip - 12), 60_000);
    const reorgs = await lc.queryFilter(lc.filters.Reorg(), 0, "latest");
    expect(reorgs.length).to.equal(1);
    expect(Number((reorgs[0] as unknown as { args: { forkHeight: bigint } }).args.forkHeight)).to.equal(tip - 10);
    const branch = (await lc.queryFilter(lc.filters.HeadersAdded(), evmBlockBefore + 1, "latest")).map((l) => {
      const args = (l as unknown as { args: { firstHeight: bigint; count: bigint } }).args;
      return { firstHeight: Number(args.firstHeight), count: Number(args.count) };
    });
    // The 15 branch headers went in once each, in several batches of at most 4 (so some were stored as a fork).
    const heights = branch.flatMap((e) => Array.from({ length: e.count }, (_, i) => e.firstHeight + i));
    expect(heights.sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 15 }, (_, i) => tip - 9 + i));
    expect(branch.length).to.be.at.least(4);
    expect(branch.every((e) => e.count <= 4)).to.equal(true);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  it("follows A -> F -> S -> F (invalidateblock/reconsiderblock), where S was stored on a block F displaced", async () => {
    const { file, lc } = await deploy();
    const r = relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0], { HEADERS_BATCH_SIZE: "4" });
    const t = await btc.getBlockCount();
    const start = (await lcBest(lc)).height;
    await waitFor("initial sync", () => matchesNode(lc, start), 60_000);
    // A: three blocks on t.
    await btc.generateToAddress(3, minerAddress);
    await waitFor("A followed", () => matchesNode(lc, t), 30_000);
    const [a1, , a3] = [await btc.getBlockHash(t + 1), await btc.getBlockHash(t + 2), await btc.getBlockHash(t + 3)];
    // S: a block on a2 with the same work as A, stored as a fork whose base is a2.
    await btc.invalidateBlock(a3);
    await btc.generateToAddress(1, minerAddress);
    const s1 = await btc.getBestBlockHash();
    await waitFor("S stored", () => lcStored(lc, s1, t + 3), 30_000);
    // F: five blocks on t, heavier: A (and so S's base) is displaced.
    await btc.invalidateBlock(a1);
    await btc.generateToAddress(5, minerAddress);
    const f1 = await btc.getBlockHash(t + 1);
    await waitFor("F followed", () => matchesNode(lc, t), 30_000);
    // S comes back heavier (a1, a2, s1 and three more): the stored s1 sits above blocks the client forgot.
    await btc.reconsiderBlock(a1); // also clears a3 (a descendant), as Bitcoin Core does
    await btc.invalidateBlock(a3);
    await btc.invalidateBlock(f1);
    expect(await btc.getBestBlockHash()).to.equal(s1);
    await btc.generateToAddress(3, minerAddress);
    await waitFor("S followed", () => matchesNode(lc, t), 60_000);
    // And F once more.
    await btc.reconsiderBlock(f1);
    await btc.invalidateBlock(a1);
    await btc.generateToAddress(3, minerAddress);
    await waitFor("F followed again", () => matchesNode(lc, t), 60_000);
    const reorgs = await lc.queryFilter(lc.filters.Reorg(), 0, "latest");
    expect(
      reorgs.slice(-3).map((e) => Number((e as unknown as { args: { forkHeight: bigint } }).args.forkHeight)),
    ).to.deep.equal([t, t, t]);
    expect(r.logs.some((l) => String(l.msg).startsWith("giving up") || String(l.msg).includes("stuck"))).to.equal(
      false,
    );
    await btc.reconsiderBlock(a1);
    await btc.reconsiderBlock(a3);
    await waitFor("settled", () => matchesNode(lc, t), 60_000);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  it("drives a reorganisation deeper than one transaction to completion (continueReorg)", async () => {
    const { file, lc } = await deploy();
    await btc.generateToAddress(310, minerAddress);
    // The default gas budget per transaction (HEADERS_MAX_BATCH_GAS 12M): fork batches of 100 headers (about 8.2M
    // gas each, above a third of EIP-7825's cap, so the local chain must estimate them: see hardhat.config.ts).
    const r = relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0], { HEADERS_BATCH_SIZE: "100" });
    const start = (await lcBest(lc)).height;
    await waitFor("initial sync", () => matchesNode(lc, start), 120_000);
    const tip = await btc.getBlockCount();
    const evmBlockBefore = await provider.getBlockNumber();
    // Replace the last 300 blocks with a 305-block branch.
    await btc.invalidateBlock(await btc.getBlockHash(tip - 299));
    await btc.generateToAddress(305, minerAddress);
    await waitFor("deep reorg followed", () => matchesNode(lc, start), 180_000).catch((err: unknown) => {
      console.log(r.output().slice(-6000));
      throw err;
    });
    const started = await lc.queryFilter(lc.filters.ReorgStarted(), evmBlockBefore + 1, "latest");
    expect(started.length).to.equal(1);
    const steps = await lc.queryFilter(lc.filters.ReorgProgress(), evmBlockBefore + 1, "latest");
    expect(steps.length).to.be.at.least(2);
    const reorgs = await lc.queryFilter(lc.filters.Reorg(), evmBlockBefore + 1, "latest");
    expect(reorgs.length).to.equal(1);
    expect(Number((reorgs[0] as unknown as { args: { forkHeight: bigint } }).args.forkHeight)).to.equal(tip - 300);
    expect(r.logs.some((l) => l.msg === "reorganisation completed")).to.equal(true);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  it("two relayers on one Redis while Bitcoin keeps growing: the header lock lets no batch be sent twice or wasted", async () => {
    const { file, lc } = await deploy();
    const prefix = `hf-test-${randomBytes(4).toString("hex")}`;
    // Small batches and fast polls: both relayers plan often, and with the node's tip moving their plans differ
    // (different job ids for overlapping heights), so without the lock both would send the same headers.
    const fast = { HEADERS_BATCH_SIZE: "3", BITCOIN_POLL_INTERVAL_MS: "50" };
    const a = relayer(file, prefix, DEV_KEYS[0], fast);
    const b = relayer(file, prefix, DEV_KEYS[1], fast);
    await Promise.all([a, b].map((r) => r.waitForLog((l) => l.msg === "relayer started", 60_000)));
    const from = (await lcBest(lc)).height;
    // EVM blocks every 400 ms (not one per transaction): a sent batch stays pending for a while, as on a real chain,
    // while the other relayer plans from the same light-client state with a different count.
    await provider.send("evm_setAutomine", [false]);
    await provider.send("evm_setIntervalMining", [400]);
    try {
      for (let i = 0; i < 40; i++) {
        await btc.generateToAddress(1, minerAddress);
        await new Promise((res) => setTimeout(res, 150));
      }
      await waitFor("both relayers synced", () => matchesNode(lc, from + 1), 120_000);
    } finally {
      await provider.send("evm_setIntervalMining", [0]);
      await provider.send("evm_setAutomine", [true]);
    }
    const added = await lc.queryFilter(lc.filters.HeadersAdded(), 0, "latest");
    const heights = added.flatMap((e) => {
      const args = (e as unknown as { args: { firstHeight: bigint; count: bigint } }).args;
      return Array.from({ length: Number(args.count) }, (_, i) => Number(args.firstHeight) + i);
    });
    expect(new Set(heights).size).to.equal(heights.length);
    // Every headers transaction either relayer sent added headers (none reverted or raced), and no job attempt
    // failed on a header another relayer had just submitted.
    const sent = [a, b].flatMap((r) => r.logs.filter((l) => l.msg === "transaction sent"));
    const addedTxs = new Set(added.map((e) => e.transactionHash));
    expect(sent.length).to.equal(addedTxs.size);
    for (const l of sent) expect(addedTxs.has(String(l.hash))).to.equal(true);
    const failed = [a, b].flatMap((r) => r.logs.filter((l) => String(l.msg).startsWith("job attempt failed")));
    expect(failed, JSON.stringify(failed.slice(0, 2))).to.deep.equal([]);
    console.log(
      `      (${sent.length} transactions, ${heights.length} headers, sent by ${new Set(sent.map((l) => l.pid)).size} of the 2 relayers)`,
    );
    for (const r of [a, b]) r.proc.kill("SIGTERM");
    expect((await a.exited).code).to.equal(0);
    expect((await b.exited).code).to.equal(0);
  });

  it("killed with SIGKILL mid-sync and restarted, with a second relayer on the same Redis, ends in the node's state with every header submitted once", async () => {
    const { file, lc } = await deploy();
    const from = (await lcBest(lc)).height;
    await btc.generateToAddress(600, minerAddress);
    // The deploy anchored a few blocks below the tip (the safety margin): those are submitted too.
    const total = (await btc.getBlockCount()) - from;
    expect(total).to.be.at.least(600);
    const prefix = `hf-test-${randomBytes(4).toString("hex")}`;
    const small = { HEADERS_BATCH_SIZE: "20" };
    const a = relayer(file, prefix, DEV_KEYS[0], small);
    const b = relayer(file, prefix, DEV_KEYS[1], small);
    await waitFor("partial sync", async () => (await lcBest(lc)).height >= from + 120, 90_000);
    a.proc.kill("SIGKILL");
    await a.exited;
    expect((await lcBest(lc)).height).to.be.lessThan(from + total);
    const a2 = relayer(file, prefix, DEV_KEYS[0], small);
    await waitFor("full sync", () => matchesNode(lc, from + 1), 120_000);

    const events = await headersAddedEvents(lc);
    const heights = events.flatMap((e) => Array.from({ length: e.count }, (_, i) => e.firstHeight + i));
    expect(heights.length).to.equal(total);
    expect(new Set(heights).size).to.equal(total);
    expect(Math.min(...heights)).to.equal(from + 1);
    // The second relayer was live on the same Redis for the whole sync (which of the two signers wins each
    // batch is up to timing, so the test does not require both to have sent one: it requires no duplicates).
    expect(b.logs.some((l) => String(l.msg) === "headers role started (polling)")).to.equal(true);
    const senders = new Set<string>();
    for (const ev of await lc.queryFilter(lc.filters.HeadersAdded(), 0, "latest")) {
      senders.add((await provider.getTransaction(ev.transactionHash))?.from ?? "");
    }
    console.log(`      (batches sent by ${senders.size} signer(s))`);
    for (const c of [b, a2]) c.proc.kill("SIGTERM");
    expect((await b.exited).code).to.equal(0);
    expect((await a2.exited).code).to.equal(0);
  });

  it("fails clearly, after bounded retries, on bad config and on an unreachable Bitcoin node, EVM node or Redis", async () => {
    const { file } = await deploy();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const fast = { STARTUP_RETRIES: "2", STARTUP_RETRY_DELAY_MS: "100" };
    const cases: { env: Record<string, string>; code: number; expect: RegExp }[] = [
      { env: { HEADERS_BATCH_SIZE: "many" }, code: 2, expect: /HEADERS_BATCH_SIZE/ },
      {
        env: { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:" + dead.split(":")[2], ...fast },
        code: 1,
        expect: /BITCOIN_RPC_URL\) failed after 3 attempt/,
      },
      { env: { EVM_RPC_URL: dead, ...fast }, code: 1, expect: /EVM_RPC_URL\) failed after 3 attempt/ },
      { env: { REDIS_URL: deadRedis, ...fast }, code: 1, expect: /REDIS_URL\) failed after 3 attempt/ },
    ];
    const t0 = Date.now();
    const runs = cases.map((c) => relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0], c.env));
    for (let i = 0; i < cases.length; i++) {
      const exit = await runs[i].exited;
      expect(exit.code, runs[i].output()).to.equal(cases[i].code);
      expect(runs[i].output()).to.match(cases[i].expect);
      if (cases[i].code === 1) {
        // One log line per failed attempt before giving up.
        expect(runs[i].logs.filter((l) => String(l.msg).endsWith("failed, retrying")).length).to.equal(2);
      }
    }
    expect(Date.now() - t0).to.be.lessThan(60_000);
  });
  it("rides out its Bitcoin node and its Redis going away while running (log lines, unhealthy, no crash) and catches up", async () => {
    // A Bitcoin node of its own, on a fixed port and datadir, so it can be stopped and started again.
    const datadir = mkdtempSync(path.join(tmpdir(), "hf-btc-"));
    const btcPort = await freePort();
    let node2 = await startRegtestNode({ port: btcPort, datadir, rpcPassword: "pw" });
    const btc2 = new BitcoinRpcClient({ url: node2.url });
    const miner = await btc2.getNewAddress();
    await btc2.generateToAddress(20, miner);
    const redisPort = await freePort();
    const startRedis = () =>
      spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdio: "ignore",
      });
    let redisProc = startRedis();
    const { file, lc } = await deploy({ BITCOIN_RPC_URL: node2.url, DEPLOY_ANCHOR_HEIGHT: "0" });
    const r = relayer(file, `hf-test-${randomBytes(4).toString("hex")}`, DEV_KEYS[0], {
      BITCOIN_RPC_URL: node2.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    try {
      const started = await r.waitForLog((l) => l.msg === "relayer started", 60_000);
      await waitFor("sync to 20", async () => (await lcBest(lc)).height === 20, 30_000);
      const health = () => fetch(`http://127.0.0.1:${started.opsPort as number}/healthz`).then((x) => x.status);

      // The Bitcoin node goes away: polls fail with a log line each, backing off; the relayer stays up.
      await node2.close();
      await r.waitForLog((l) => l.msg === "headers poll failed" && Number(l.consecutiveFailures) >= 2, 30_000);
      await waitFor("unhealthy", async () => (await health()) === 503, 60_000);
      expect(r.proc.exitCode).to.equal(null);
      node2 = await startRegtestNode({ port: btcPort, datadir, rpcPassword: "pw" });
      await new BitcoinRpcClient({ url: node2.url }).generateToAddress(5, miner);
      await waitFor("sync to 25", async () => (await lcBest(lc)).height === 25, 60_000);
      await r.waitForLog((l) => l.msg === "Bitcoin/EVM polling recovered", 5_000);

      // Redis goes away: one error line per outage, reconnection with backoff, no crash; work resumes after.
      redisProc.kill("SIGKILL");
      await r.waitForLog((l) => l.msg === "Redis connection error; reconnecting", 30_000);
      await new Promise((res) => setTimeout(res, 3_000));
      expect(r.proc.exitCode).to.equal(null);
      expect(await health()).to.equal(503);
      redisProc = startRedis();
      await r.waitForLog((l) => l.msg === "Redis connection restored", 30_000);
      await new BitcoinRpcClient({ url: node2.url }).generateToAddress(5, miner);
      await waitFor("sync to 30", async () => (await lcBest(lc)).height === 30, 60_000);
      r.proc.kill("SIGTERM");
      expect((await r.exited).code).to.equal(0);
    } finally {
      if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
      redisProc.kill("SIGKILL");
      await node2.close();
    }
  });
});
