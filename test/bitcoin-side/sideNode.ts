/**
 * The Bitcoin node of the Bitcoin-side suite, taken from the environment as a user would point at one:
 *   BITCOIND=<path to bitcoind>  a Bitcoin Core regtest node: bitcoind -regtest -datadir=<tmp> -rpcport=<free>
 *                                -fallbackfee=0.0002 -txindex ... (see bitcoindArgs)
 *   (unset)                      the embedded node as a separate process: npx hemi-fabric btc-node --port <free> ...
 * Either way the suite reaches it only over JSON-RPC, and finds or creates its wallet with ensureWallet (Bitcoin
 * Core has no default wallet), so every scenario runs unchanged against both.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { ensureWallet } from "../../relayer/src/bitcoin/walletSetup";
import { freePort } from "../../relayer/src/core/ports";

const ROOT = path.resolve(__dirname, "..", "..");

export interface SideNode {
  /** What runs, in words (printed by the suite). */
  kind: string;
  /** http://user:password@127.0.0.1:port (no wallet path). */
  baseUrl: string;
  /** baseUrl with /wallet/<name>: what BITCOIN_RPC_URL is set to for the CLI, the relayer and the demo. */
  url: string;
  /** A client on `url`. */
  rpc: BitcoinRpcClient;
  wallet: string;
  stop(): Promise<void>;
}

export interface BitcoindArgsOptions {
  datadir: string;
  rpcPort: number;
  rpcUser: string;
  rpcPassword: string;
}

/** bitcoind's command line for the suite: regtest, private datadir, RPC on a free port of 127.0.0.1, no P2P. */
export function bitcoindArgs(o: BitcoindArgsOptions): string[] {
  return [
    "-regtest",
    `-datadir=${o.datadir}`,
    `-rpcport=${o.rpcPort}`,
    "-rpcbind=127.0.0.1",
    "-rpcallowip=127.0.0.1",
    `-rpcuser=${o.rpcUser}`,
    `-rpcpassword=${o.rpcPassword}`,
    "-server=1",
    "-listen=0",
    "-dnsseed=0",
    "-fallbackfee=0.0002",
    "-txindex=1",
    "-printtoconsole=0",
  ];
}

/** The embedded node's command line, as a user starts it. */
export function embeddedArgs(o: BitcoindArgsOptions): string[] {
  return [
    "hemi-fabric",
    "btc-node",
    "--port",
    String(o.rpcPort),
    "--datadir",
    o.datadir,
    "--rpcuser",
    o.rpcUser,
    "--rpcpassword",
    o.rpcPassword,
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the node answers getblockchaininfo (bitcoind answers -28 while it warms up). */
async function waitReady(proc: ChildProcess, url: string, what: string, output: () => string): Promise<void> {
  const probe = new BitcoinRpcClient({ url, retries: 0, timeoutMs: 2_000 });
  const deadline = Date.now() + 90_000;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `${what} exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${output().slice(-2000)}`,
      );
    try {
      await probe.getBlockchainInfo();
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(250);
  }
  throw new Error(`${what} did not answer JSON-RPC within 90 s (last: ${last}):\n${output().slice(-2000)}`);
}

/** Starts the node the environment asks for (see the module comment). */
export async function startSideNode(env: NodeJS.ProcessEnv = process.env): Promise<SideNode> {
  const datadir = mkdtempSync(path.join(tmpdir(), "hf-btc-side-"));
  const o: BitcoindArgsOptions = {
    datadir,
    rpcPort: await freePort(),
    rpcUser: "side",
    rpcPassword: randomBytes(12).toString("hex"),
  };
  const bitcoind = env.BITCOIND;
  const core = bitcoind !== undefined && bitcoind !== "";
  const [cmd, args, kind] = core
    ? [bitcoind, bitcoindArgs(o), `Bitcoin Core at ${bitcoind} (regtest)`]
    : ["npx", embeddedArgs(o), "the embedded node as a separate process (npx hemi-fabric btc-node)"];
  let out = "";
  const proc = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const spawnError = new Promise<never>((_, reject) =>
    proc.once("error", (err) => reject(new Error(`cannot start ${cmd}: ${err.message}`))),
  );
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const killGroup = (): void => {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const baseUrl = `http://${o.rpcUser}:${o.rpcPassword}@127.0.0.1:${o.rpcPort}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await new BitcoinRpcClient({ url: baseUrl, retries: 0, timeoutMs: 5_000 }).call("stop").catch(() => undefined);
      await Promise.race([exited, sleep(20_000)]);
    }
    killGroup(); // npx's own process, or a node that did not stop in time
    rmSync(datadir, { recursive: true, force: true });
  };
  try {
    await Promise.race([spawnError, waitReady(proc, baseUrl, kind, () => out)]);
    const sel = await ensureWallet({ url: baseUrl, retries: 2 });
    return { kind, baseUrl, url: sel.url, rpc: sel.client, wallet: sel.wallet, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
