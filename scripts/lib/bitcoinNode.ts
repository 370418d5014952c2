/**
 * The Bitcoin node a script runs against: the one BITCOIN_RPC_URL names (a real bitcoind or a separately started
 * embedded node; it must be on regtest, since the script mines), or else a new embedded regtest node in this process.
 * Either way the wallet is found or created as Bitcoin Core needs (ensureWallet) and funded by mining 101 blocks.
 */
import { startRegtestNode } from "../../relayer/src/bitcoin/node";
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { ensureWallet } from "../../relayer/src/bitcoin/walletSetup";

export interface ScriptBitcoinNode {
  /** Node URL with credentials and the wallet path. */
  url: string;
  cookieFile?: string;
  rpc: BitcoinRpcClient;
  /** A wallet address that received 101 block rewards (one mature). */
  faucet: string;
  /** What node this is, in words, for the script's output. */
  description: string;
  close(): Promise<void>;
}

/** Opens the node (see the module comment). `env` is process.env by default. */
export async function openBitcoinNode(env: NodeJS.ProcessEnv = process.env): Promise<ScriptBitcoinNode> {
  const external = env.BITCOIN_RPC_URL;
  let close = async (): Promise<void> => undefined;
  let baseUrl: string;
  let cookieFile: string | undefined;
  let kind: string;
  if (external !== undefined && external !== "") {
    baseUrl = external;
    cookieFile = env.BITCOIN_RPC_COOKIE_FILE || undefined;
    kind = "the Bitcoin node at BITCOIN_RPC_URL, JSON-RPC on";
  } else {
    const node = await startRegtestNode({ port: 0 });
    close = () => node.close();
    baseUrl = node.url;
    kind = "embedded Bitcoin regtest node (BITCOIN_RPC_URL unset), JSON-RPC on";
  }
  try {
    const w = await ensureWallet({ url: baseUrl, cookieFile });
    const [chain, net] = await Promise.all([w.client.getBlockchainInfo(), w.client.getNetworkInfo()]);
    if (chain.chain !== "regtest")
      throw new Error(
        `the Bitcoin node at ${w.client.displayUrl} is on ${chain.chain}: this script mines, so it needs regtest`,
      );
    const faucet = await w.client.getNewAddress("faucet");
    await w.client.generateToAddress(101, faucet);
    const description =
      `${kind} ${w.client.displayUrl} (bitcoind's protocol; ${net.subversion}, chain ${chain.chain}, height ${chain.blocks}); ` +
      `wallet "${w.wallet}" ${w.action === "in-use" ? "in use" : w.action}`;
    return { url: w.url, cookieFile, rpc: w.client, faucet, description, close };
  } catch (err) {
    await close();
    throw err;
  }
}
