import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ErrorFragment, Interface, type InterfaceAbi, type JsonFragment } from "ethers";
import { PermanentError } from "../core/errors";
import { REPO_ROOT } from "./artifacts";

/** A decoded revert: the custom error's name and arguments (or Error(string) / Panic(uint256)). */
export interface DecodedRevert {
  name: string;
  args: readonly unknown[];
  /** `Name(arg, …)` for logs and failed-job reasons. */
  text: string;
  data: string;
}

/** A transaction or call reverted; `revert` holds the decoded custom error when it could be decoded. */
export class RevertError extends PermanentError {
  constructor(
    readonly what: string,
    readonly revert: DecodedRevert | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${what} reverted: ${revert?.text ?? "no revert data"}`, options);
    this.name = "RevertError";
  }
}

const STANDARD = new Interface(["error Error(string)", "error Panic(uint256)"]);

function formatArg(a: unknown): string {
  if (typeof a === "bigint") return a.toString();
  if (Array.isArray(a)) return `[${a.map(formatArg).join(", ")}]`;
  return String(a);
}

/** Finds revert data (0x-hex) in an ethers / JSON-RPC error, wherever the provider put it. */
export function extractRevertData(err: unknown, depth = 0): string | undefined {
  if (err === null || typeof err !== "object" || depth > 6) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]*$/.test(e.data) && e.data.length >= 10) return e.data;
  if (e.data !== null && typeof e.data === "object") {
    const inner = e.data as Record<string, unknown>;
    if (typeof inner.data === "string" && /^0x[0-9a-fA-F]*$/.test(inner.data) && inner.data.length >= 10) {
      return inner.data;
    }
  }
  for (const key of ["info", "error", "cause", "revert"]) {
    const found = extractRevertData(e[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every Hardhat artifact file (`<Name>.json`, not `.dbg.json`) under `dir`. */
function artifactFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...artifactFiles(p));
    else if (name.endsWith(".json") && !name.endsWith(".dbg.json")) out.push(p);
  }
  return out;
}

/**
 * The custom errors of every compiled contract and library of the project and of its OpenZeppelin bases (from the
 * Hardhat artifacts), one fragment per selector: a revert raised anywhere in our contracts decodes to its name, even
 * when it comes from a library or a contract other than the one called.
 */
export function allContractErrors(artifactsDir = path.join(REPO_ROOT, "artifacts")): ErrorFragment[] {
  const bySelector = new Map<string, ErrorFragment>();
  const dirs = [path.join(artifactsDir, "contracts"), path.join(artifactsDir, "@openzeppelin")];
  for (const file of dirs.flatMap(artifactFiles)) {
    let abi: JsonFragment[] | undefined;
    try {
      abi = (JSON.parse(readFileSync(file, "utf8")) as { abi?: JsonFragment[] }).abi;
    } catch {
      continue;
    }
    for (const f of abi ?? []) {
      if (f.type !== "error") continue;
      const frag = ErrorFragment.from(f);
      if (!bySelector.has(frag.selector)) bySelector.set(frag.selector, frag);
    }
  }
  return [...bySelector.values()];
}

/** Decodes revert data against the contracts' ABIs (custom errors by name) and the standard errors. */
export class RevertDecoder {
  private readonly interfaces: Interface[];

  constructor(abis: InterfaceAbi[]) {
    this.interfaces = [...abis.map((a) => new Interface(a)), STANDARD];
  }

  /** A decoder of the given ABIs plus every custom error of every compiled contract of the project. */
  static withAllContractErrors(abis: InterfaceAbi[] = [], artifactsDir?: string): RevertDecoder {
    return new RevertDecoder([...abis, allContractErrors(artifactsDir)]);
  }

  decode(data: string | undefined): DecodedRevert | undefined {
    if (data === undefined || data.length < 10) return undefined;
    for (const iface of this.interfaces) {
      try {
        const parsed = iface.parseError(data);
        if (parsed === null) continue;
        const args = [...parsed.args];
        return { name: parsed.name, args, text: `${parsed.name}(${args.map(formatArg).join(", ")})`, data };
      } catch {
        // not this interface's error
      }
    }
    return { name: "unknown", args: [], text: `unknown error ${data.slice(0, 10)} (data ${data})`, data };
  }

  /** The decoded revert carried by an ethers error, if any. */
  decodeError(err: unknown): DecodedRevert | undefined {
    return this.decode(extractRevertData(err));
  }
}
