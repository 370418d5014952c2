import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";

/** Root of hemi-fabric (this checkout). */
export const ROOT = path.resolve(__dirname, "..", "..");

/**
 * An offline install of an example project's dependencies: node_modules/ gets a symlink to every package of
 * hemi-fabric's own node_modules (which holds everything the examples use: hardhat, the toolbox, solc, ts-node,
 * ...) plus `hemi-fabric` itself, linked to this checkout as `"hemi-fabric": "file:../.."` would link it. No
 * network, no copying; links from an earlier run are reused and a stale link is replaced.
 */
export function linkExampleDependencies(exampleDir: string): void {
  const nm = path.join(exampleDir, "node_modules");
  if (existsSync(nm) && lstatSync(nm).isSymbolicLink()) rmSync(nm);
  mkdirSync(nm, { recursive: true });
  const link = (name: string, target: string): void => {
    const at = path.join(nm, name);
    if (existsSync(at) || lstatExists(at)) {
      if (lstatSync(at).isSymbolicLink() && readlinkSync(at) === target) return;
      rmSync(at, { recursive: true, force: true });
    }
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(target, at, "dir");
  };
  const rootNm = path.join(ROOT, "node_modules");
  for (const entry of readdirSync(rootNm)) {
    if (entry === ".package-lock.json") continue;
    link(entry, path.join(rootNm, entry));
  }
  link("hemi-fabric", ROOT);
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs `npx <args>` in `cwd` with a clean environment; kills it after `timeoutMs`. */
export function runIn(cwd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    npm_config_offline: "true",
  };
  const proc = spawn("npx", ["--no-install", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}
