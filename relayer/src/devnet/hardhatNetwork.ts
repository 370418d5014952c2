import path from "node:path";
import type { EthereumProvider, HardhatRuntimeEnvironment } from "hardhat/types";
import { REPO_ROOT } from "../evm/artifacts";
import { assertPortFree } from "./portCheck";

/** A Hardhat network served over JSON-RPC (what `npx hardhat node` serves), inside this process. */
export interface HardhatNetworkNode {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  chainId: number;
  provider: EthereumProvider;
  close(): Promise<void>;
}

export interface HardhatNetworkOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Compile hemi-fabric's contracts first if their artifacts are stale or missing (default true). */
  compile?: boolean;
}

/**
 * Hemi-fabric's own Hardhat runtime. Outside `hardhat run`/`hardhat test` (the CLI runs under ts-node), it is
 * loaded from hemi-fabric's hardhat.config.ts whatever the current directory is: HARDHAT_CONFIG names the config
 * (Hardhat reads its parameters from HARDHAT_* variables when it is imported as a library). Inside a Hardhat task the
 * running runtime is returned as is.
 */
export function loadHardhatRuntime(): HardhatRuntimeEnvironment {
  if (process.env.HARDHAT_CONFIG === undefined) process.env.HARDHAT_CONFIG = path.join(REPO_ROOT, "hardhat.config.ts");
  // A lazy require: loading Hardhat reads its config, which must not happen when this module is merely imported.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("hardhat") as HardhatRuntimeEnvironment;
}

/**
 * Starts a fresh Hardhat network (chain 31337, Hardhat's 20 funded development accounts, automine) with the
 * project's network settings and serves it over HTTP JSON-RPC on `host:port`, like `npx hardhat node --port`.
 */
export async function startHardhatNetwork(opts: HardhatNetworkOptions): Promise<HardhatNetworkNode> {
  const hre = loadHardhatRuntime();
  if (opts.compile !== false) await hre.run("compile", { quiet: true });
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { createProvider } =
    require("hardhat/internal/core/providers/construction") as typeof import("hardhat/internal/core/providers/construction");
  const { JsonRpcServer } =
    require("hardhat/internal/hardhat-network/jsonrpc/server") as typeof import("hardhat/internal/hardhat-network/jsonrpc/server");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const provider = await createProvider(hre.config, "hardhat", hre.artifacts);
  const host = opts.host ?? "127.0.0.1";
  const server = new JsonRpcServer({ hostname: host, port: opts.port, provider });
  // Hardhat's server has no listen-error handler (a busy port would be an uncaught exception): check first.
  await assertPortFree(host, opts.port, "EVM RPC port (--evm-port)");
  const { port } = await server.listen();
  const chainId = Number(BigInt((await provider.request({ method: "eth_chainId" })) as string));
  return { url: `http://${host}:${port}`, port, chainId, provider, close: () => server.close() };
}
