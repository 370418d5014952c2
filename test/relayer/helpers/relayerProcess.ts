import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";

const BIN = path.resolve(__dirname, "..", "..", "..", "bin", "hemi-fabric.js");

/** A `hemi-fabric` CLI child process whose JSON log lines are collected. */
export interface CliProcess {
  proc: ChildProcess;
  /** Parsed JSON log lines (stdout and stderr), in arrival order. */
  logs: Record<string, unknown>[];
  /** Raw output, for failure messages. */
  output(): string;
  /** Resolves with the first log line matching `pred` (rejects after `timeoutMs` or if the process exits). */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Splits a byte stream into lines: `push` each chunk, `end` at the end of the stream; `onLine` gets every complete
 * line (without its newline), including lines split across chunks (the unfinished tail is kept until the next chunk)
 * and multi-byte characters split across chunks.
 */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  return {
    push(chunk) {
      const parts = (rest + decoder.write(chunk)).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) onLine(line);
    },
    end() {
      const last = rest + decoder.end();
      rest = "";
      if (last !== "") onLine(last);
    },
  };
}

/** Spawns `node bin/hemi-fabric.js <args>` with `env` added to a clean environment (no inherited settings). */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...base, LOG_FORMAT: "json", ...env } });
  const logs: Record<string, unknown>[] = [];
  let raw = "";
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  const onLine = (line: string): void => {
    if (!line.startsWith("{")) return;
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a JSON log line
    }
    logs.push(l);
    for (const w of [...waiters]) {
      if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  // One splitter per stream: a line split across chunks is completed by the next chunk of the same stream.
  for (const stream of [proc.stdout, proc.stderr]) {
    const split = lineSplitter(onLine);
    stream?.on("data", (buf: Buffer) => {
      raw += buf.toString();
      split.push(buf);
    });
    stream?.on("end", () => split.end());
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    logs,
    output: () => raw,
    exited,
    waitForLog(pred, timeoutMs) {
      const found = logs.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching log line in ${timeoutMs} ms:\n${raw.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${code ?? signal}) before a matching log line:\n${raw.slice(-3000)}`));
        });
      });
    },
  };
}

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs `hemi-fabric deploy --out-dir <dir>` with `env` and returns the deployment file it wrote. */
export async function deployWithCli(dir: string, env: Record<string, string>): Promise<string> {
  const cli = spawnCli(["deploy", "--out-dir", dir], env);
  const { code } = await cli.exited;
  if (code !== 0) throw new Error(`deploy exited with ${code}:\n${cli.output()}`);
  return cli.output().trim().split("\n").pop() ?? "";
}
