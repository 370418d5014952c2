import path from "node:path";
import { DEFAULT_RPC_PORT, startRegtestNode } from "../../bitcoin/node";
import type { Command } from "../main";
import { parseOptions } from "./args";

/** `hemi-fabric btc-node [--port 18443] [--datadir DIR] [--rpcuser U --rpcpassword P]`: the embedded regtest node. */
export const btcNodeCommand: Command = {
  name: "btc-node",
  summary: "run the embedded Bitcoin regtest node: [--port 18443] [--datadir DIR] [--rpcuser U --rpcpassword P]",
  help: {
    usage: "hemi-fabric btc-node [--port N] [--datadir DIR] [--rpcuser U --rpcpassword P]",
    description:
      "Runs the embedded Bitcoin regtest node (bitcoind's JSON-RPC subset) until SIGINT/SIGTERM; prints its URL. " +
      "With a datadir, blocks are kept across restarts and a cookie file is written (DIR/.cookie).",
    options: [
      { name: "port", value: "N", description: "JSON-RPC port on 127.0.0.1 (0: any free port)", default: "18443" },
      { name: "datadir", value: "DIR", description: "where blocks are kept", default: "none (in memory)" },
      { name: "rpcuser", value: "U", description: "RPC user (needs --rpcpassword)", default: "hemi" },
      { name: "rpcpassword", value: "P", description: "RPC password", default: "hemi" },
      {
        name: "txindex",
        value: "0|1",
        description: "0: find confirmed transactions only by block hash, as bitcoind without -txindex",
        default: "1",
      },
    ],
  },
  async run(args: string[]): Promise<number> {
    let opts: Map<string, string>;
    let port = DEFAULT_RPC_PORT;
    try {
      opts = parseOptions(args, ["port", "datadir", "rpcuser", "rpcpassword", "txindex"]);
      if (opts.has("txindex") && !["0", "1"].includes(opts.get("txindex") ?? ""))
        throw new Error(`--txindex must be 0 or 1, got "${opts.get("txindex")}"`);
      const p = opts.get("port");
      if (p !== undefined) {
        port = Number(p);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${p}"`);
      }
      if (opts.has("rpcuser") && !opts.has("rpcpassword")) throw new Error("--rpcuser needs --rpcpassword");
    } catch (err) {
      console.error(`hemi-fabric btc-node: ${err instanceof Error ? err.message : String(err)}`);
      return 2;
    }
    const datadir = opts.get("datadir");
    let running;
    try {
      running = await startRegtestNode({
        port,
        datadir: datadir === undefined ? undefined : path.resolve(datadir),
        rpcUser: opts.get("rpcuser"),
        rpcPassword: opts.get("rpcpassword"),
        txindex: opts.get("txindex") !== "0",
        log: (msg) => console.error(`btc-node: ${msg}`),
      });
    } catch (err) {
      console.error(`hemi-fabric btc-node: cannot start: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    console.log(running.url);
    if (running.cookieFile !== undefined) console.error(`btc-node: cookie file ${running.cookieFile}`);
    const node = running;
    return new Promise<number>((resolve) => {
      const stop = (signal: string): void => {
        console.error(`btc-node: ${signal}, shutting down`);
        void node.close().then(() => resolve(0));
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
  },
};
