import { Interface, type InterfaceAbi } from "ethers";
import { PermanentError } from "../core/errors";

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

/** Decodes revert data against the contracts' ABIs (custom errors by name) and the standard errors. */
export class RevertDecoder {
  private readonly interfaces: Interface[];

  constructor(abis: InterfaceAbi[]) {
    this.interfaces = [...abis.map((a) => new Interface(a)), STANDARD];
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
