import hre from "hardhat";
import { createProvider } from "hardhat/internal/core/providers/construction";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import type { EthereumProvider } from "hardhat/types";

/** Hardhat's well-known development keys (accounts 0 to 3 of "test test ... junk"). */
export const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
] as const;

export interface EvmNode {
  url: string;
  provider: EthereumProvider;
  close(): Promise<void>;
}

/**
 * Shared by the demo, the benchmarks and the tests.
 * A fresh Hardhat network (its own chain, not the test's shared one) served over JSON-RPC on a free port of
 * 127.0.0.1 (or `opts.port`: a restarted node on the same URL), like `npx hardhat node`, so that a relayer child process
 * can reach it. `opts.provider` serves an existing network instead (e.g. a test's `network.provider`).
 */
export async function startEvmNode(opts: { port?: number; provider?: EthereumProvider } = {}): Promise<EvmNode> {
  const provider = opts.provider ?? (await createProvider(hre.config, "hardhat", hre.artifacts));
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: opts.port ?? 0, provider });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, provider, close: () => server.close() };
}
