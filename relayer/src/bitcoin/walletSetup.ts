/**
 * Picking the wallet of a bitcoind (or the embedded node) the way Bitcoin Core needs it: Core has no default wallet
 * (a fresh node answers wallet calls with -18 "No wallet is loaded"), and with several wallets loaded a wallet call
 * must go to /wallet/<name> (else -19). Given a node URL, ensureWallet loads or creates the wallet and returns a URL
 * whose path names it, so that every later call (the client sends all calls to the URL's path) reaches that wallet.
 */
import { BitcoinRpcClient, BitcoinRpcError, type BitcoinRpcOptions } from "./rpcClient";

/** The wallet used when the URL names none and the node has none loaded. */
export const DEFAULT_WALLET_NAME = "hemi-fabric";

export interface WalletSelection {
  /** The node URL with /wallet/<name> (credentials kept as given). */
  url: string;
  client: BitcoinRpcClient;
  wallet: string;
  /** What was done: the wallet was loaded already, loaded now, or created now. */
  action: "in-use" | "loaded" | "created";
}

/** `url` with its path set to /wallet/<name>. */
export function walletUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/wallet/${encodeURIComponent(name)}`;
  return u.toString();
}

/** The wallet named by a /wallet/<name> URL path, or undefined. */
export function walletNameOf(url: string): string | undefined {
  const p = new URL(url).pathname;
  return p.startsWith("/wallet/") ? decodeURIComponent(p.slice("/wallet/".length)) : undefined;
}

/**
 * Makes sure a wallet is loaded: the one the URL names, else the only one loaded, else `fallbackName` (loaded if the
 * node has it on disk, created otherwise). Several loaded and none named: an error that says to name one.
 */
export async function ensureWallet(
  options: BitcoinRpcOptions,
  fallbackName: string = DEFAULT_WALLET_NAME,
): Promise<WalletSelection> {
  const probe = new BitcoinRpcClient(options);
  const loaded = await probe.listWallets();
  let name = walletNameOf(options.url);
  if (name === undefined) {
    if (loaded.length === 1) name = loaded[0];
    else if (loaded.length > 1 && !loaded.includes(fallbackName))
      throw new Error(
        `the Bitcoin node has several wallets loaded (${loaded.map((w) => JSON.stringify(w)).join(", ")}): ` +
          `name one in the URL, e.g. ${walletUrl(probe.displayUrl, loaded[0])}`,
      );
    else name = fallbackName;
  }
  let action: WalletSelection["action"] = "in-use";
  if (!loaded.includes(name)) {
    try {
      await probe.loadWallet(name);
      action = "loaded";
    } catch (err) {
      // -18: no such wallet on disk. Core's other answers (e.g. -4 for a wallet it cannot open) are real errors.
      if (!(err instanceof BitcoinRpcError && err.code === -18)) throw err;
      await probe.createWallet(name);
      action = "created";
    }
  }
  const url = walletUrl(options.url, name);
  return { url, client: new BitcoinRpcClient({ ...options, url }), wallet: name, action };
}
