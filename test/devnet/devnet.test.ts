import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, Network } from "ethers";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { freePort } from "../../relayer/src/core/ports";
import { loadArtifact } from "../../relayer/src/evm/artifacts";
import { readDeployment } from "../../relayer/src/evm/deployment";
import { LightClientReader } from "../../relayer/src/evm/lightClient";
import { BitcoinKit__factory } from "../../typechain-types";
import { groupAlive, killGroup } from "../helpers/processGroup";
import { waitFor } from "../relayer/helpers/relayerProcess";

const BIN = path.resolve(__dirname, "..", "..", "bin", "hemi-fabric.js");

/** True when something accepts TCP connections on 127.0.0.1:port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** PIDs of the process group `pgid` (ps), for the failure message. */
function groupMembers(pgid: number): string {
  const r = spawnSync("ps", ["-o", "pid,pgid,args", "-g", String(pgid)], { encoding: "utf8" });
  return r.stdout;
}

/** Runs the CLI to completion (asynchronously, so that several can run at once). */
function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
  });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.once("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("npx hemi-fabric devnet", function () {
  this.timeout(180_000);
  let workDir: string;
  let child: ChildProcess | undefined;

  before(() => {
    workDir = mkdtempSync(path.join(tmpdir(), "hf-devnet-test-"));
  });
  after(() => {
    if (child?.pid !== undefined && groupAlive(child.pid)) killGroup(child.pid);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("answers --help with every option and its default", () => {
    const r = spawnSync(process.execPath, [BIN, "devnet", "--help"], { encoding: "utf8" });
    expect(r.status).to.equal(0);
    for (const opt of [
      "--evm-port",
      "--btc-port",
      "--datadir",
      "--btc-block-interval",
      "--evm-block-interval",
      "--metrics-port",
      "--view-port",
    ]) {
      expect(r.stdout).to.include(opt);
    }
    expect(r.stdout)
      .to.include("default 8545")
      .and.include("default 18443")
      .and.include("default 10")
      .and.include("default 8090");
  });

  it("refuses a bad option value with exit code 2 and starts nothing", async () => {
    const [r, r2] = await Promise.all([
      runCli(["devnet", "--evm-port", "70000"]),
      runCli(["devnet", "--btc-block-interval", "-1"]),
    ]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("--evm-port must be a port 0..65535");
    expect(r2.code).to.equal(2);
    expect(r2.stderr).to.include("--btc-block-interval");
  });

  it("stops what it started and exits 1 with the reason when a port is taken", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const evmPort = (busy.address() as AddressInfo).port;
    const [btcPort, viewPort] = [await freePort(), await freePort()];
    try {
      const r = await runCli(
        [
          "devnet",
          "--evm-port",
          String(evmPort),
          "--btc-port",
          String(btcPort),
          "--view-port",
          String(viewPort),
          "--datadir",
          path.join(workDir, "busy"),
        ],
        { DEPLOYMENTS_DIR: path.join(workDir, "busy-deployments") },
      );
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.stderr).to.include(`EVM RPC port (--evm-port) ${evmPort} on 127.0.0.1 is already in use`);
      expect(r.stdout).to.include("[1/9] Bitcoin regtest node"); // started first, then stopped again
      expect(await portOpen(btcPort)).to.equal(false);
    } finally {
      busy.close();
    }
  });

  it("starts on the given ports, answers on both RPCs, follows Bitcoin, and stops everything on SIGINT", async () => {
    const [evmPort, btcPort, metricsPort, bfgPort, viewPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const deploymentsDir = path.join(workDir, "deployments");
    const proc = spawn(
      process.execPath,
      [
        BIN,
        "devnet",
        "--evm-port",
        String(evmPort),
        "--btc-port",
        String(btcPort),
        "--bfg-port",
        String(bfgPort),
        "--metrics-port",
        String(metricsPort),
        "--view-port",
        String(viewPort),
        "--datadir",
        path.join(workDir, "data"),
        "--btc-block-interval",
        "1",
        "--private-redis",
      ],
      {
        detached: true, // its own process group: everything it starts must be gone when it exits
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DEPLOYMENTS_DIR: deploymentsDir },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = proc;
    const pgid = proc.pid;
    if (pgid === undefined) throw new Error("devnet did not start");
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    await waitFor("the devnet to print its endpoints", async () => out.includes("devnet is running"), 120_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${out}`);
      },
    );
    // Progress lines, then the endpoints.
    for (let i = 1; i <= 9; i++) expect(out).to.include(`[${i}/9]`);
    expect(out).to.include(`[8/9] live view on http://127.0.0.1:${viewPort}/`);
    expect(out).to.include(`live view        http://127.0.0.1:${viewPort}/`);
    expect(out).to.include(`EVM RPC          http://127.0.0.1:${evmPort}`);
    expect(out).to.include(`user hemi password hemi  (http://hemi:hemi@127.0.0.1:${btcPort})`);
    expect(out).to.include(`http://127.0.0.1:${metricsPort}/metrics`);
    const deploymentFile = path.join(deploymentsDir, "31337.json");
    expect(out).to.include(`deployment file  ${deploymentFile}`);
    const redisPort = Number(/Redis\s+redis:\/\/127\.0\.0\.1:(\d+) \(private\)/.exec(out)?.[1]);
    expect(redisPort).to.be.greaterThan(0);

    const evm = new JsonRpcProvider(`http://127.0.0.1:${evmPort}`, Network.from(31337), { staticNetwork: true });
    const btc = new BitcoinRpcClient({ url: `http://hemi:hemi@127.0.0.1:${btcPort}` });
    try {
      const deployment = readDeployment(deploymentFile);
      expect((await evm.getNetwork()).chainId).to.equal(31337n);
      expect(await evm.getCode(deployment.contracts.BitcoinLightClient)).to.not.equal("0x");
      // Blocks arrive every second and the relayer's headers role brings the light client along.
      const start = await btc.getBlockCount();
      await waitFor(
        "a Bitcoin block from the block timer",
        async () => (await btc.getBlockCount()) >= start + 2,
        20_000,
      );
      const lc = new LightClientReader(deployment.contracts.BitcoinLightClient, evm);
      await waitFor(
        "the light client to reach the Bitcoin height seen",
        async () => (await lc.bestBlock()).height >= start + 2,
        30_000,
      );
      const best = await lc.bestBlock();
      expect(best.hash.slice(2)).to.equal(
        Buffer.from(await btc.getBlockHash(best.height), "hex")
          .reverse()
          .toString("hex"),
      );
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      // The live view answers with its page and its state (the page itself is tested in test/view/).
      expect(await (await fetch(`http://127.0.0.1:${viewPort}/`)).text()).to.include("hemi-fabric");
      const view = (await (await fetch(`http://127.0.0.1:${viewPort}/api/state`)).json()) as { chainId: number };
      expect(view.chainId).to.equal(31337);
      expect(metrics).to.include("hemi_fabric_light_client_height");

      // The hVM through the EVM RPC: BitcoinKit's last header is the node's block at the light client's best
      // height minus the lag, once the hvm-index role has indexed it.
      expect(out).to.match(/relayer roles\s+headers, deposits, withdrawals, hvm-index, keystones, pop, anchors/);
      expect(deployment.hvm?.installedWith).to.equal("hardhat_setCode");
      const kit = BitcoinKit__factory.connect(deployment.contracts.BitcoinKit, evm);
      const lag = deployment.hvm?.lag ?? 2;
      const target = (await lc.bestBlock()).height - lag;
      await waitFor(
        "BitcoinKit's last header to reach the lagged tip",
        async () => Number((await kit.getLastHeader().catch(() => ({ height: 0n }))).height) >= target,
        30_000,
      );
      const header = await kit.getLastHeader();
      expect(header.blockHash).to.equal("0x" + (await btc.getBlockHash(Number(header.height))));
      expect(await evm.getCode("0x0000000000000000000000000000000000000044")).to.not.equal("0x");

      // Hemi's finality interfaces: the EVM URL answers op-geth's kss_* methods, BFG answers on its port.
      expect(out).to.include(`BFG              http://127.0.0.1:${bfgPort}/v2/keystonefinality/`);
      expect(out).to.match(/Hardhat node\s+http:\/\/127\.0\.0\.1:\d+/);
      const latest = (await evm.send("kss_getLatestKeystones", [1])) as { keystones: unknown[] };
      expect(latest.keystones).to.be.an("array");
      const unknown = await fetch(`http://127.0.0.1:${bfgPort}/v2/keystonefinality/${"ab".repeat(32)}`);
      expect(unknown.status).to.equal(404);
      // Keystones and the PoP miner run by default: the first keystone is recorded, published on Bitcoin by the
      // devnet's funded miner key and proven (EVM blocks come every second; a few more are mined to be quick).
      const pop = deployment.pop;
      if (pop === undefined) throw new Error("the devnet deployed no PoP contracts");
      const ledger = new Contract(pop.keystoneLedger, loadArtifact("KeystoneLedger").abi, evm);
      const verifier = new Contract(pop.popVerifier, loadArtifact("PopVerifier").abi, evm);
      const first = pop.firstKeystone;
      for (let n = await evm.getBlockNumber(); n <= first; n++) await evm.send("evm_mine", []);
      await waitFor(
        "the first keystone recorded",
        async () => Number(await ledger.lastKeystoneNumber()) >= first,
        60_000,
      );
      await waitFor("its publication proven", async () => Number(await verifier.publicationCount(first)) >= 1, 90_000);
      const [published] = (await verifier.publications(first)) as { miner: string }[];
      const minerAddress = /pop-miner\s+(0x[0-9a-fA-F]{40})/.exec(out)?.[1];
      expect(published.miner).to.equal(minerAddress);
    } finally {
      evm.destroy();
    }

    process.kill(pgid, "SIGINT");
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000))]);
    expect(code, out).to.equal(0);
    expect(out).to.include("hemi-fabric devnet: stopped");
    // Nothing of its process group left (the private redis-server included), and no port still served.
    await waitFor("the devnet's process group to be empty", async () => !groupAlive(pgid), 5_000).catch(() => {
      throw new Error(`processes left behind:\n${groupMembers(pgid)}`);
    });
    for (const port of [evmPort, btcPort, metricsPort, redisPort, bfgPort, viewPort])
      expect(await portOpen(port), `port ${port}`).to.equal(false);
  });
});
