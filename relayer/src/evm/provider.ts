import { JsonRpcProvider, Network } from "ethers";
import type { Logger } from "pino";
import { redactUrl } from "../config/load";
import { withRetry } from "../core/retry";

/** Asks an EVM JSON-RPC endpoint for its chain id (one request, bounded by a timeout). */
export async function fetchChainId(url: string, timeoutMs = 5_000): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (body.result === undefined) throw new Error(`eth_chainId failed: ${body.error?.message ?? "no result"}`);
  return Number(BigInt(body.result));
}

/**
 * Connects to the EVM node with a bounded number of retries (a log line each) and returns a provider pinned to
 * the chain id it reported, so that ethers never loops on network detection against a dead node.
 */
export async function connectEvm(
  url: string,
  retries: number,
  delayMs: number,
  log?: Logger,
): Promise<{ provider: JsonRpcProvider; chainId: number }> {
  const chainId = await withRetry(() => fetchChainId(url), {
    retries,
    delayMs,
    log,
    what: `EVM node at ${redactUrl(url)} (EVM_RPC_URL)`,
  });
  const provider = new JsonRpcProvider(url, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: 1,
    cacheTimeout: -1,
  });
  provider.pollingInterval = 250;
  return { provider, chainId };
}
