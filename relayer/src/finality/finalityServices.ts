/**
 * Hemi's finality interfaces for a running chain: BFG's HTTP API and the EVM JSON-RPC proxy that adds op-node's
 * and op-geth's finality methods, both answered from the PoP contracts of a deployment. The devnet starts them.
 */
import { JsonRpcProvider, Network } from "ethers";
import type { Logger } from "pino";
import { startBfgServer, type RunningBfgServer } from "./bfgServer";
import { FinalityChainView } from "./chainView";
import { startRpcProxy, type RunningRpcProxy } from "./rpcProxy";

export interface FinalityServicesOptions {
  /** The EVM node's own JSON-RPC URL (the proxy forwards to it; the views read from it). */
  evmUrl: string;
  chainId: number;
  /** The PoP contracts (deployment.pop). */
  pop: { keystoneLedger: string; popVerifier: string };
  /** Proxy port (0 = a free one). */
  rpcPort: number;
  /** BFG port (0 = a free one). */
  bfgPort: number;
  host?: string;
  log?: Logger;
}

export interface RunningFinalityServices {
  /** The EVM JSON-RPC URL with Hemi's methods (the proxy). */
  rpcUrl: string;
  /** BFG's base URL (GET {bfgUrl}/v2/keystonefinality/{hash}). */
  bfgUrl: string;
  view: FinalityChainView;
  close(): Promise<void>;
}

/** Starts BFG and the proxy; on failure stops what was started. */
export async function startFinalityServices(opts: FinalityServicesOptions): Promise<RunningFinalityServices> {
  const provider = new JsonRpcProvider(opts.evmUrl, Network.from(opts.chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
  });
  const view = new FinalityChainView(provider, opts.pop);
  let bfg: RunningBfgServer | undefined;
  let proxy: RunningRpcProxy | undefined;
  const close = async (): Promise<void> => {
    await proxy?.close();
    await bfg?.close();
    provider.destroy();
  };
  try {
    bfg = await startBfgServer({ view, host: opts.host, port: opts.bfgPort, log: opts.log });
    proxy = await startRpcProxy({ upstreamUrl: opts.evmUrl, view, host: opts.host, port: opts.rpcPort, log: opts.log });
    return { rpcUrl: proxy.url, bfgUrl: bfg.url, view, close };
  } catch (err) {
    await close();
    throw err;
  }
}
