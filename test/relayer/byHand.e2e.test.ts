/**
 * The README's "Running the relayer by hand" followed literally (issue 11, item 11): every command of its shell
 * blocks is run as written, with free ports instead of 18443/8545/9464, a temporary datadir and working directory,
 * and a Redis prefix of the test's own. `&` lines keep running; `# until: <text>` lines are run again until their
 * output shows the text, as a person would. Ends with the withdrawal paid on Bitcoin and proven on the EVM.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../relayer/src/core/ports";
import { removeTestKeys } from "./helpers/redisKeys";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "hemi-fabric.js");
const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "bootstrap.js");

/** One line of a README shell block. */
interface Step {
  line: string;
  background: boolean;
  until?: string;
}

/** The shell blocks of the README section `## Running the relayer by hand`, as steps. */
function readmeSteps(): Step[][] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Running the relayer by hand");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const hash = l.search(/\s#/);
        const comment = hash === -1 ? "" : l.slice(hash).trim();
        let cmd = (hash === -1 ? l : l.slice(0, hash)).trim();
        const background = cmd.endsWith("&");
        if (background) cmd = cmd.slice(0, -1).trim();
        const until = /^# until: (.*)$/.exec(comment)?.[1];
        return { line: cmd, background, until };
      }),
  );
}

interface Run {
  code: number | null;
  out: string;
}

describe("the README's by-hand path, followed literally", function () {
  this.timeout(600_000);
  const background: ChildProcess[] = [];
  const prefix = `hf-test-byhand-${randomBytes(4).toString("hex")}`;
  const cwd = mkdtempSync(path.join(tmpdir(), "hf-byhand-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    // Isolation from other tests on the shared machine (the README leaves these at their defaults).
    REDIS_PREFIX: prefix,
    METRICS_PORT: "0",
  };
  let ports: Record<string, string>;

  after(async () => {
    for (const p of background.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (p.exitCode === null) p.kill("SIGKILL");
    }
    await removeTestKeys(prefix);
  });

  /** The README line with the test's ports and directories. */
  function localize(line: string): string {
    return line
      .replace(".datadir/btc", path.join(cwd, "btc"))
      .replace(/(?<=[: ])(18443|8545)\b/g, (p) => ports[p] ?? p);
  }

  /** Starts one command: `npx hemi-fabric …` and `npx hardhat …` (from the repository, as `npx` would). */
  function start(line: string): { proc: ChildProcess; out: () => string } {
    const words = line.split(/\s+/);
    if (words[0] !== "npx") throw new Error(`README step not understood: ${line}`);
    const [bin, dir] = words[1] === "hemi-fabric" ? [BIN, cwd] : words[1] === "hardhat" ? [HARDHAT, ROOT] : ["", ""];
    if (bin === "") throw new Error(`README step not understood: ${line}`);
    const proc = spawn(process.execPath, [bin, ...words.slice(2)], { cwd: dir, env: { ...env } });
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    return { proc, out: () => out };
  }

  async function runOnce(line: string): Promise<Run> {
    const { proc, out } = start(line);
    const code = await new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
    return { code, out: out() };
  }

  /** Runs one README step: an export, a background process (until it is ready), or a command (until its text). */
  async function step(s: Step): Promise<Run | undefined> {
    const line = localize(s.line);
    if (line.startsWith("export ")) {
      for (const kv of line.slice(7).trim().split(/\s+/)) {
        const eq = kv.indexOf("=");
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      return undefined;
    }
    if (s.background) {
      const { proc, out } = start(line);
      background.push(proc);
      const ready =
        /http:\/\/\S+:\d+|Started HTTP and WebSocket JSON-RPC server|"msg":"relayer started"|relayer started/;
      const deadline = Date.now() + 120_000;
      while (!ready.test(out())) {
        if (proc.exitCode !== null) throw new Error(`\`${line}\` exited (${proc.exitCode}):\n${out()}`);
        if (Date.now() > deadline) throw new Error(`\`${line}\` not ready in 120 s:\n${out()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      return undefined;
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await runOnce(line);
      if (s.until === undefined) {
        expect(r.code, `\`${line}\`:\n${r.out}`).to.equal(0);
        return r;
      }
      if (r.code === 0 && r.out.includes(s.until)) return r;
      if (Date.now() > deadline) throw new Error(`\`${line}\` never showed "${s.until}":\n${r.out}`);
      await new Promise((res) => setTimeout(res, 1_500));
    }
  }

  it("mines, deploys, relays, mints the deposit, and pays and proves the withdrawal", async () => {
    ports = {
      "18443": String(await freePort()),
      "8545": String(await freePort()),
    };
    const blocks = readmeSteps();
    expect(blocks).to.have.length(1);
    const steps = blocks[0];
    expect(steps.map((x) => x.line.split(" ").slice(0, 3).join(" "))).to.include.members([
      "npx hemi-fabric mine",
      "npx hemi-fabric bond",
      "npx hemi-fabric withdraw",
    ]);
    const t0 = Date.now();
    let last: Run | undefined;
    for (const s of steps) last = (await step(s)) ?? last;
    expect(last?.out).to.match(
      /withdrawal 1 \(0\.20000000 hemiBTC, fee 0 sat, to bcrt1q2vfxp232rx0z9rzn0hay9jptagk8c86ddphpjv\): finalized, paid 0\.20000000 BTC in [0-9a-f]{64}/,
    );
    console.log(`      withdrawal paid and proven ${Date.now() - t0} ms after the first command`);
  });
});
