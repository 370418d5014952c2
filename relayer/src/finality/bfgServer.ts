/**
 * BFG's HTTP API (heminetwork service/bfg): `GET /v2/keystonefinality/{hash}` answered from the chain
 * (bfgFinality.ts). The answers are written as BFG's Go server writes them: the finality as one line of JSON with
 * a trailing newline and no explicit Content-Type (Go then sniffs "text/plain; charset=utf-8"); errors with
 * "application/json; charset=utf-8" and "X-Content-Type-Options: nosniff", body {timestamp, trace, error}.
 * Other paths answer as Go's ServeMux does: 404 "404 page not found", or 405 for another method on the route.
 */
import http from "node:http";
import type { Logger } from "pino";
import { errorMessage } from "../core/logger";
import { listen, type ListeningServer } from "./listen";
import { bfgKeystoneFinality } from "./bfgFinality";
import type { FinalityChainView } from "./chainView";
import { bfgHttpError } from "./hemiWire";

/** BFG's route prefix (bfgapi.RouteKeystoneFinality, API version 2). */
export const BFG_FINALITY_PATH = "/v2/keystonefinality/";

export interface BfgServerOptions {
  view: FinalityChainView;
  host?: string;
  /** 0 = a free port. */
  port: number;
  log?: Logger;
}

/** A running BFG: `url` is BFG's base URL (op-node's bfgURL). */
export type RunningBfgServer = ListeningServer;

function goText(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    ...extra,
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function goJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + "\n";
  const headers: Record<string, string> =
    status === 200
      ? { "Content-Type": "text/plain; charset=utf-8" }
      : { "Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff" };
  res.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(text)) });
  res.end(text);
}

async function handle(opts: BfgServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://bfg").pathname;
  if (!path.startsWith(BFG_FINALITY_PATH)) return goText(res, 404, "404 page not found\n");
  if (req.method !== "GET" && req.method !== "HEAD") {
    return goText(res, 405, "Method Not Allowed\n", { Allow: "GET, HEAD" });
  }
  let hash: string;
  try {
    hash = decodeURIComponent(path.slice(BFG_FINALITY_PATH.length));
  } catch {
    return goJson(res, 400, bfgHttpError("invalid keystone length"));
  }
  try {
    const answer = await bfgKeystoneFinality(opts.view, hash);
    goJson(res, answer.status, answer.body);
  } catch (err) {
    opts.log?.error({ err: errorMessage(err), hash }, "BFG: internal error");
    goJson(res, 500, bfgHttpError("internal error"));
  }
}

/** Starts BFG's finality API on `host:port` (127.0.0.1, 0 = a free port). */
export async function startBfgServer(opts: BfgServerOptions): Promise<RunningBfgServer> {
  const host = opts.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => void handle(opts, req, res));
  return listen(server, host, opts.port, "BFG");
}
