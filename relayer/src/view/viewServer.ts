/**
 * The live view's HTTP server (127.0.0.1 only): the page (index.html, view.js, view.css, favicon.svg, plain files
 * shipped in relayer/src/view/static, read once at start), GET /api/state (the snapshot the page polls every
 * second), GET /api/provenance/<txid[:vout] | sequence | 0x EVM tx hash> (the provenance report of one minted
 * deposit, as `npx hemi-fabric provenance --json` prints it) and GET /api/provenance/withdrawal/<id> (that of one
 * withdrawal, as `provenance --withdrawal <id> --json` prints it). Nothing is fetched from anywhere else.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import type { JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { errorMessage, type Logger } from "../core/logger";
import type { Deployment } from "../evm/deployment";
import { listen } from "../finality/listen";
import { NotMintedError, parseQuery } from "../provenance/deposit";
import { provenanceDepsOf } from "../provenance/deps";
import { provenance, withdrawalProvenance } from "../provenance/provenance";
import type { ProvenanceDeps, ProvenanceReport, WithdrawalProvenanceReport } from "../provenance/types";
import { NoSuchWithdrawalError, parseWithdrawalId } from "../provenance/withdrawal";
import { FabricViewState } from "./viewState";

export interface ViewServerOptions {
  provider: JsonRpcProvider;
  bitcoin: BitcoinRpcClient;
  deployment: Deployment;
  redis?: { client: Redis; prefix: string };
  /** 0: a free port. */
  port: number;
  /** Default 127.0.0.1: the view is for this machine only. */
  host?: string;
  log?: Logger;
}

export interface RunningViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATIC_DIR = path.join(__dirname, "static");
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/view.js": { file: "view.js", type: "text/javascript; charset=utf-8" },
  "/view.css": { file: "view.css", type: "text/css; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
};
/** The page may load only its own files and call only its own API. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
/** Host names the view answers to. */
const LOCAL_HOSTNAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** How long a provenance report is served again before it is checked anew. */
const PROVENANCE_MAX_AGE_MS = 2_000;

function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
}

/** Starts the view on `host:port`; rejects with a clear error when the port cannot be bound. */
export async function startViewServer(o: ViewServerOptions): Promise<RunningViewServer> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [route, f] of Object.entries(STATIC_FILES))
    files.set(route, { body: readFileSync(path.join(STATIC_DIR, f.file)), type: f.type });

  const state = new FabricViewState({
    provider: o.provider,
    bitcoin: o.bitcoin,
    deployment: o.deployment,
    redis: o.redis,
  });
  let deps: Promise<ProvenanceDeps> | undefined;
  const provenanceDeps = (): Promise<ProvenanceDeps> => {
    if (deps === undefined) {
      deps = provenanceDepsOf(o.provider, o.bitcoin, o.deployment);
      deps.catch(() => (deps = undefined)); // a failed start (a node down) is tried again by the next request
    }
    return deps;
  };
  type AnyReport = ProvenanceReport | WithdrawalProvenanceReport;
  const reports = new Map<string, { at: number; report: Promise<AnyReport> }>();
  /** A report checked at most once per PROVENANCE_MAX_AGE_MS, whatever the number of open pages. */
  const cachedReport = (key: string, check: (d: ProvenanceDeps) => Promise<AnyReport>): Promise<AnyReport> => {
    let cached = reports.get(key);
    if (cached === undefined || Date.now() - cached.at > PROVENANCE_MAX_AGE_MS) {
      cached = { at: Date.now(), report: provenanceDeps().then(check) };
      reports.set(key, cached);
      if (reports.size > 100) reports.delete(reports.keys().next().value as string);
    }
    return cached.report;
  };
  const sendReport = async (res: http.ServerResponse, key: string, report: Promise<AnyReport>): Promise<void> => {
    try {
      sendJson(res, 200, await report);
    } catch (err) {
      reports.delete(key);
      const notFound = err instanceof NotMintedError || err instanceof NoSuchWithdrawalError;
      sendJson(res, notFound ? 404 : 502, { error: errorMessage(err) });
    }
  };

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...SECURITY_HEADERS });
    res.end(body);
  };
  const sendJson = (res: http.ServerResponse, status: number, v: unknown): void =>
    send(res, status, "application/json; charset=utf-8", toJson(v));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // Only pages of this machine: a Host of another name is a page elsewhere reaching in (DNS rebinding).
    const hostname = /^(\[[^\]]*\]|[^:]*)/.exec(req.headers.host ?? "")?.[1].toLowerCase() ?? "";
    if (!LOCAL_HOSTNAMES.has(hostname)) {
      sendJson(res, 403, { error: `the live view answers only to 127.0.0.1 or localhost, not to "${hostname}"` });
      return;
    }
    const url = new URL(req.url ?? "/", "http://view.local");
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { error: `${req.method ?? "?"} is not served; only GET` });
      return;
    }
    const file = files.get(url.pathname);
    if (file !== undefined) {
      send(res, 200, file.type, file.body);
      return;
    }
    if (url.pathname === "/api/state") {
      sendJson(res, 200, await state.state());
      return;
    }
    const withdrawal = /^\/api\/provenance\/withdrawal\/([^/]*)$/.exec(url.pathname);
    if (withdrawal !== null) {
      let id: bigint;
      try {
        id = parseWithdrawalId(withdrawal[1]);
      } catch (err) {
        sendJson(res, 400, { error: errorMessage(err) });
        return;
      }
      const key = `withdrawal/${id}`;
      await sendReport(
        res,
        key,
        cachedReport(key, (d) => withdrawalProvenance(d, id)),
      );
      return;
    }
    const prov = /^\/api\/provenance\/([^/]+)$/.exec(url.pathname);
    if (prov !== null) {
      let query;
      let q;
      try {
        q = decodeURIComponent(prov[1]);
        query = parseQuery(q);
      } catch (err) {
        sendJson(res, 400, { error: errorMessage(err) });
        return;
      }
      await sendReport(
        res,
        q,
        cachedReport(q, (d) => provenance(d, query)),
      );
      return;
    }
    sendJson(res, 404, { error: `no such page: ${url.pathname}` });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.log?.warn({ err: errorMessage(err), url: req.url }, "view request failed");
      if (!res.headersSent) sendJson(res, 502, { error: errorMessage(err) });
      else res.end();
    });
  });
  const listening = await listen(server, o.host ?? "127.0.0.1", o.port, "live view (--view-port)");
  return { url: listening.url, port: listening.port, close: () => listening.close() };
}
