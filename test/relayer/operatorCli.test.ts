/**
 * The operator's command line (issue 11, item 12): every command answers --help with its options and defaults, a
 * Bitcoin node refusing our credentials (HTTP 401) is not retried, a corrupt deployment file is named in the error,
 * `withdraw` never signs with the relayer's key, and `mine` mines regtest blocks.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { main } from "../../relayer/src/cli/main";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";

const BIN = path.resolve(__dirname, "..", "..", "bin", "hemi-fabric.js");

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node bin/hemi-fabric.js <args>` with a clean environment plus `env`. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  const t0 = Date.now();
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...base, LOG_FORMAT: "json", ...env } });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })));
}

/** Runs the CLI in this process (fast: no ts-node start-up), capturing what it prints. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** The options a command's parser knows, from its own "unknown option" error (so --help is checked against it). */
async function parserOptions(command: string): Promise<string[]> {
  const saved = process.env.BITCOIN_RPC_URL;
  process.env.BITCOIN_RPC_URL = "http://u:p@127.0.0.1:1";
  try {
    const r = await inProcess([command, "--no-such-option"]);
    const m = /\(options: ([^)]*)\)/.exec(r.stderr);
    if (m === null) throw new Error(`${command}: no option list in ${r.stderr}`);
    return m[1].split(", ").map((o) => o.split(" ")[0]);
  } finally {
    if (saved === undefined) delete process.env.BITCOIN_RPC_URL;
    else process.env.BITCOIN_RPC_URL = saved;
  }
}

describe("operator CLI: --help, credentials, deployment file, user key, mine", function () {
  this.timeout(240_000);

  it("every command answers --help with its usage, every option its parser knows, and the defaults", async () => {
    const top = await inProcess(["help"]);
    expect(top.code).to.equal(0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)]
      .map((m) => m[1])
      .filter((n) => n !== "help" && n !== "version");
    expect(names).to.include.members(["relayer", "deploy", "btc-node", "deposit", "withdraw", "status", "mine"]);
    const results = await Promise.all(
      names.map(async (n) => [n, await cli([n, "--help"]), await parserOptions(n)] as const),
    );
    for (const [name, r, options] of results) {
      expect(r.code, `${name} --help: ${r.stderr}`).to.equal(0);
      expect(r.stdout, name).to.match(new RegExp(`^Usage: hemi-fabric ${name}`));
      expect(r.stdout, name).to.include("\nOptions:\n");
      for (const o of options) expect(r.stdout, `${name} --help lists ${o}`).to.match(new RegExp(`^ {2}${o}\\b`, "m"));
    }
    const help = Object.fromEntries(results.map(([n, r]) => [n, r.stdout]));
    // Defaults, as the parsers and the schema apply them.
    expect(help.relayer).to.match(/--roles <list> .*\(default: headers\)/);
    expect(help.relayer).to.match(/METRICS_PORT .*\(default: 9464\)/);
    expect(help.relayer).to.match(/JOB_LOCK_MS .*\(default: 10000\)/);
    expect(help.relayer).to.match(/STALE_STATE .*\(default: reset\)/);
    expect(help.deploy).to.match(/--anchor-margin <N> .*\(default: 6\)/);
    expect(help.deploy).to.match(/VAULT_CONFIRMATIONS .*\(default: 6\)/);
    expect(help["btc-node"]).to.match(/--port <N> .*\(default: 18443\)/);
    expect(help.deposit).to.match(/--timeout <S> .*\(default: 600\)/);
    expect(help.status).to.match(/--recent <N> .*\(default: 5\)/);
    expect(help.mine).to.match(/--blocks <N> .*\(default: 1\)/);
    expect(help.withdraw).to.include("never with the relayer's");
  });

  it("withdraw never signs with RELAYER_PRIVATE_KEY: without the user's key it stops (exit 2) before any call", async () => {
    const r = await cli(["withdraw", "--amount", "0.1", "--to", "bcrt1qxyz"], {
      BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1",
      EVM_RPC_URL: "http://127.0.0.1:1",
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
    });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include("the user's EVM key is needed");
    expect(r.stderr).to.include("never signs with RELAYER_PRIVATE_KEY");
  });

  describe("against an EVM node and an embedded Bitcoin node", () => {
    let evm: EvmNode;
    let btc: RunningRegtestNode;
    let rpc: BitcoinRpcClient;
    let dir: string;

    before(async () => {
      evm = await startEvmNode();
      btc = await startRegtestNode();
      rpc = new BitcoinRpcClient({ url: btc.url });
      dir = mkdtempSync(path.join(tmpdir(), "hf-opcli-"));
    });

    after(async () => {
      await evm?.close();
      await btc?.close();
    });

    it("a Bitcoin node refusing the credentials (HTTP 401) is not retried: deploy and relayer stop at once", async () => {
      const wrong = btc.url.replace("hemi:hemi@", "hemi:wrong@");
      const env = {
        EVM_RPC_URL: evm.url,
        BITCOIN_RPC_URL: wrong,
        RELAYER_PRIVATE_KEY: DEV_KEYS[0],
        REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        STARTUP_RETRIES: "3",
        STARTUP_RETRY_DELAY_MS: "4000",
      };
      const [deploy, relayer] = await Promise.all([
        cli(["deploy", "--out-dir", dir], env),
        cli(["relayer", "--roles", "headers"], { ...env, METRICS_PORT: "0" }),
      ]);
      for (const r of [deploy, relayer]) {
        expect(r.code).to.equal(1);
        expect(r.stdout + r.stderr).to.include("authentication failed (HTTP 401)");
        expect(r.stdout + r.stderr).to.include("failed after 1 attempt(s)");
        expect(r.stdout + r.stderr).to.not.include("retrying");
      }
    });

    it("a corrupt deployment file is named in the error of the relayer and of the tunnel commands", async () => {
      const file = path.join(dir, "corrupt.json");
      writeFileSync(file, '{"chainId": 31337, "contracts": {');
      const env = {
        EVM_RPC_URL: evm.url,
        BITCOIN_RPC_URL: btc.url,
        RELAYER_PRIVATE_KEY: DEV_KEYS[0],
        DEPLOYMENT_FILE: file,
        REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        METRICS_PORT: "0",
      };
      const [status, relayer] = await Promise.all([cli(["status"], env), cli(["relayer", "--roles", "headers"], env)]);
      for (const r of [status, relayer]) {
        expect(r.code).to.not.equal(0);
        expect(r.stdout + r.stderr).to.include(`deployment file ${file} is not valid JSON`);
      }
    });

    it("mine mines regtest blocks to the node's wallet (funding it) or to --to, and refuses bad counts", async () => {
      const h0 = await rpc.getBlockCount();
      const r = await cli(["mine", "--blocks", "101"], { BITCOIN_RPC_URL: btc.url });
      expect(r.code, r.stderr).to.equal(0);
      expect(await rpc.getBlockCount()).to.equal(h0 + 101);
      expect(r.stdout).to.match(
        new RegExp(`^mined 101 block\\(s\\) to bcrt1\\w+: tip [0-9a-f]{64} at height ${h0 + 101}`),
      );
      expect(r.stderr).to.include("mine: 100/101 blocks");
      expect(await rpc.getBalance()).to.be.at.least(50);
      const to = await rpc.getNewAddress();
      const one = await cli(["mine", "--to", to], { BITCOIN_RPC_URL: btc.url });
      expect(one.code, one.stderr).to.equal(0);
      const tip = await rpc.getBlock(await rpc.getBlockHash(h0 + 102), 2);
      expect(tip.tx[0].vout[0].scriptPubKey.address).to.equal(to);
      for (const bad of ["0", "-1", "x", "10001"]) {
        const b = await inProcess(["mine", "--blocks", bad]);
        expect(b.code, bad).to.equal(2);
        expect(b.stderr).to.include("--blocks must be an integer in 1..10000");
      }
      expect(await rpc.getBlockCount()).to.equal(h0 + 102);
    });
  });
});
