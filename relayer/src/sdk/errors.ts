/** Errors the SDK throws besides address, amount and deposit-shape errors. */
import type { Interface } from "ethers";
import { extractRevertData, RevertDecoder } from "../evm/revertDecoder";

/** A tracked deposit or withdrawal did not reach its final state in time; `last` is the last state seen. */
export class TrackTimeoutError<S> extends Error {
  constructor(
    what: string,
    timeoutMs: number,
    readonly last: S | undefined,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = "TrackTimeoutError";
  }
}

/** An EVM call of the tunnel reverted; `reason` is the decoded custom error, e.g. `NoVaultCanServe(1000)`. */
export class TunnelRevertError extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`BitcoinTunnel.${method} reverted: ${reason}`);
    this.name = "TunnelRevertError";
  }
}

let decoder: RevertDecoder | undefined;

/**
 * The custom error of an ethers call exception, as `Name(arg, ...)`, or undefined. When ethers did not decode it
 * (a node that answers the revert in another shape, such as Hardhat's in-process network during gas estimation),
 * the revert data found in the error is decoded with `iface`, else with every compiled contract's errors (an error
 * of another contract than the one called, e.g. the light client's under the tunnel).
 */
export function decodedRevert(err: unknown, iface?: Interface): string | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const revert = (err as { revert?: { name?: unknown; args?: unknown } }).revert;
  if (revert !== undefined && revert !== null && typeof revert.name === "string") {
    const args = Array.isArray(revert.args) ? (revert.args as unknown[]).map((a) => String(a)).join(", ") : "";
    return `${revert.name}(${args})`;
  }
  const data = extractRevertData(err);
  if (data === undefined) return undefined;
  try {
    const parsed = iface?.parseError(data);
    if (parsed !== null && parsed !== undefined) {
      return `${parsed.name}(${[...parsed.args].map((a: unknown) => String(a)).join(", ")})`;
    }
  } catch {
    // not the called contract's error: try every contract's
  }
  decoder ??= RevertDecoder.withAllContractErrors();
  const d = decoder.decode(data);
  return d === undefined || d.name === "unknown" ? undefined : d.text;
}

/** Rethrows a revert as a TunnelRevertError naming the method and the custom error; other errors unchanged. */
export function rethrowRevert(method: string, err: unknown, iface?: Interface): never {
  const reason = decodedRevert(err, iface);
  if (reason !== undefined) throw new TunnelRevertError(method, reason);
  throw err;
}
