import { expect } from "chai";
import { spawn } from "node:child_process";
import path from "node:path";
import { freePort } from "../relayer/src/core/ports";

const ROOT = path.resolve(__dirname, "..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether any process of the demo's process group was still running after `npm` exited (then killed). */
  leftover: boolean;
}

/** True while any process of group `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends every process of group `pgid` (npm, its shell, Hardhat, the demo script with its in-process nodes). */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}

const running = new Set<number>();

/**
 * Runs `npm run demo` as a child process in its own process group; after `timeoutMs` the whole group is killed
 * (killing npm alone would leave `hardhat run` and the demo, with its Hardhat and Bitcoin nodes, running).
 */
function runDemo(env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const proc = spawn("npm", ["run", "demo"], { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error("npm run demo did not start");
  running.add(pgid);
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => killGroup(pgid), timeoutMs);
  return new Promise((resolve) =>
    proc.once("exit", (code) => {
      clearTimeout(timer);
      // npm exits after its children; anything of the group still alive was left behind by the demo.
      const leftover = groupAlive(pgid);
      killGroup(pgid);
      running.delete(pgid);
      resolve({ code, stdout, stderr, leftover });
    }),
  );
}

describe("npm run demo (end to end, child process)", function () {
  this.timeout(240_000);

  after(() => {
    for (const pgid of running) killGroup(pgid);
  });

  it("locks BTC, mints hemiBTC, withdraws and gets the BTC paid back, then exits 0", async () => {
    const r = await runDemo({}, 200_000);
    const out = r.stdout;
    expect(r.code, `${out}\n${r.stderr}`).to.equal(0);
    const user = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    expect(out).to.match(/\[1\] embedded Bitcoin regtest node/);
    expect(out).to.match(/\[4\] deployed \(anchored at Bitcoin block 101\)/);
    expect(out).to.match(/BitcoinTunnel +0x[0-9a-fA-F]{40}/);
    expect(out).to.match(/\[5\] relayer running in this process: roles headers, deposits, withdrawals/);
    expect(out).to.match(/vault 1 collateral: 300\.0 tCOL, worth 3\.00000000 BTC \(backs 2\.00000000 BTC of deposits/);
    // Which intermediate states are printed depends on when the poller looks; the first one after broadcast is
    // one of these, and a block with some of the 6 confirmations is always seen before the mint.
    expect(out).to.match(
      /deposit [0-9a-f]{64}:0 1\.00000000 BTC(?: for 0x[0-9a-fA-F]{40}: in the mempool|: mined in block)/,
    );
    expect(out).to.match(/mined in block \d+, [1-6]\/6 confirmations, light client [0-6]\/6/);
    expect(out).to.include(`minted 0.99900000 hemiBTC to ${user}, sequence 1`);
    expect(out).to.include("user hemiBTC balance: 0.99900000");
    expect(out).to.match(
      /withdrawal 1 from vault 1: burned 0\.40000000 hemiBTC, payout 0\.39999000 BTC \(fee 1000 sat\)/,
    );
    expect(out).to.match(/finalized, paid 0\.39999000 BTC in [0-9a-f]{64}, EVM tx 0x[0-9a-f]{64}/);
    expect(out).to.match(/received 0\.39999000 BTC on Bitcoin/);
    expect(out).to.match(/hemiBTC supply 0\.59900000; deposits minted 1; withdrawals 1/);
    expect(out).to.match(/demo complete in [\d.]+ s/);
    expect(r.leftover, "processes of the demo still running after npm exited").to.equal(false);
  });

  it("fails with a clear message and exit code 1 when Redis cannot be reached", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const r = await runDemo({ REDIS_URL: dead }, 120_000);
    expect(r.code, r.stdout).to.equal(1);
    expect(r.stderr).to.match(/demo failed: Redis at redis:\/\/127\.0\.0\.1:\d+\/? does not answer \(REDIS_URL\)/);
    expect(r.stdout).to.not.match(/demo complete/);
    expect(r.leftover, "processes of the demo still running after npm exited").to.equal(false);
  });
});
