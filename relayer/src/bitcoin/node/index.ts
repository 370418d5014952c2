/** Starting the embedded regtest node with its JSON-RPC server, in-process or from the CLI. */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { RegtestNode } from "./regtestNode";
import { RpcServer, type RpcCredentials } from "./rpcServer";

export { RegtestNode } from "./regtestNode";
export { RpcServer } from "./rpcServer";
export { RpcCode, RpcMethodError, TxRejectedError } from "./rpcError";

export const DEFAULT_RPC_USER = "hemi";
export const DEFAULT_RPC_PASSWORD = "hemi";
export const DEFAULT_RPC_PORT = 18443;
/** User name of Bitcoin Core's cookie authentication. */
export const COOKIE_USER = "__cookie__";

export interface RegtestNodeOptions {
  /** 0 (the default here) picks a free port; the CLI defaults to 18443. */
  port?: number;
  datadir?: string;
  rpcUser?: string;
  rpcPassword?: string;
  log?: (msg: string) => void;
  /** false: serve getrawtransaction as bitcoind without -txindex (default true). */
  txindex?: boolean;
}

export interface RunningRegtestNode {
  /** http://user:pass@127.0.0.1:PORT */
  url: string;
  port: number;
  /** DATADIR/.cookie when cookie authentication is on. */
  cookieFile?: string;
  node: RegtestNode;
  close(): Promise<void>;
}

/**
 * Starts a regtest node bound to 127.0.0.1. Credentials: rpcUser/rpcPassword when a password is given;
 * otherwise the defaults hemi/hemi, plus Bitcoin Core's cookie (`__cookie__:<random>` in DATADIR/.cookie,
 * removed on close) when there is a datadir.
 */
export async function startRegtestNode(opts: RegtestNodeOptions = {}): Promise<RunningRegtestNode> {
  const user = opts.rpcUser ?? DEFAULT_RPC_USER;
  const password = opts.rpcPassword ?? DEFAULT_RPC_PASSWORD;
  const credentials: RpcCredentials[] = [{ user, password }];
  let cookieFile: string | undefined;
  const node = new RegtestNode({ datadir: opts.datadir, log: opts.log, txindex: opts.txindex });
  if (opts.rpcPassword === undefined && opts.datadir !== undefined) {
    const cookie = randomBytes(32).toString("hex");
    cookieFile = path.join(opts.datadir, ".cookie");
    writeFileSync(cookieFile, `${COOKIE_USER}:${cookie}`, { mode: 0o600 });
    credentials.push({ user: COOKIE_USER, password: cookie });
  }
  let closing: Promise<void> | undefined;
  const server = new RpcServer({
    node,
    credentials,
    log: opts.log,
    onStop: () => {
      setImmediate(() => void close());
    },
  });
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await server.close();
      node.close();
      if (cookieFile !== undefined) rmSync(cookieFile, { force: true });
    })();
    return closing;
  };
  let port: number;
  try {
    port = await server.listen(opts.port ?? 0);
  } catch (err) {
    node.close();
    if (cookieFile !== undefined) rmSync(cookieFile, { force: true });
    throw err;
  }
  const url = `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  opts.log?.(
    `regtest node listening on http://127.0.0.1:${port} (tip ${node.chain.tip.hash}, height ${node.chain.height})`,
  );
  return { url, port, cookieFile, node, close };
}
