/** Errors the SDK throws besides address, amount and deposit-shape errors. */
import { RevertDecoder } from "../evm/revertDecoder";

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

/** The custom error of an ethers call exception, as `Name(arg, ...)`, or undefined. */
export function decodedRevert(err: unknown): string | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const revert = (err as { revert?: { name?: unknown; args?: unknown } }).revert;
  if (revert === undefined || revert === null || typeof revert.name !== "string") {
    // ethers found no custom error of the called contract's ABI (the revert data sits elsewhere in the node's error,
    // or the error is another contract's, e.g. the light client's under the tunnel): every compiled contract's errors.
    decoder ??= RevertDecoder.withAllContractErrors();
    const d = decoder.decodeError(err);
    return d === undefined || d.name === "unknown" ? undefined : d.text;
  }
  const args = Array.isArray(revert.args) ? (revert.args as unknown[]).map((a) => String(a)).join(", ") : "";
  return `${revert.name}(${args})`;
}

/** Rethrows a revert as a TunnelRevertError naming the method and the custom error; other errors unchanged. */
export function rethrowRevert(method: string, err: unknown): never {
  const reason = decodedRevert(err);
  if (reason !== undefined) throw new TunnelRevertError(method, reason);
  throw err;
}
