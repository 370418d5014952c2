import { BitcoinTransportError } from "./rpcClient";

/**
 * True when the Bitcoin node refused our credentials (HTTP 401, or 403 for a wallet/method the user may not use):
 * retrying cannot help, so start-up retries stop at once and the error says to fix the credentials.
 */
export function isAuthFailure(err: unknown): boolean {
  const e =
    err instanceof Error && err.cause !== undefined && !(err instanceof BitcoinTransportError) ? err.cause : err;
  return e instanceof BitcoinTransportError && (e.status === 401 || e.status === 403);
}
