/**
 * A JSON-RPC proxy in front of the EVM node (the devnet's Hardhat network): it answers the Hemi methods
 * (hemiMethods.ts) itself and passes everything else to the node unchanged.
 * - A request with no Hemi method in it (single, batch, malformed, GET/OPTIONS, ...) is forwarded byte for
 *   byte, and the node's status, headers and body are returned byte for byte.
 * - A single Hemi call is answered here: `{"jsonrpc":"2.0","id":...,"result":...}` or geth's error object
 *   `{"jsonrpc":"2.0","id":...,"error":{"code":...,"message":...}}`.
 * - A batch with Hemi calls: the other elements are forwarded, as their original text, in one batch; the node's
 *   answers (their original text) and the local ones are put back in request order.
 * WebSocket connections (eth_subscribe) are tunnelled to the node byte for byte; Hemi's methods are HTTP only.
 * Only requests the node itself would accept are answered here (jsonrpc "2.0", a number or string id, params
 * absent or an array): anything else, e.g. a Hemi-method notification, goes to the node, which answers it as it
 * answers any invalid request (Hardhat: -32600 "Invalid request"), so both kinds of method behave alike.
 */
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { errorMessage } from "../core/logger";
import { listen, type ListeningServer } from "./listen";
import type { FinalityChainView } from "./chainView";
import { callHemiMethod, isHemiMethod } from "./hemiMethods";
import { splitJsonArray } from "./rawJson";
import { HemiRpcError } from "./rpcErrors";

export interface RpcProxyOptions {
  /** The EVM node's JSON-RPC URL (http://host:port[/path]). */
  upstreamUrl: string;
  view: FinalityChainView;
  host?: string;
  /** 0 = a free port. */
  port: number;
  log?: Logger;
}

/** A running proxy: `url` is the EVM JSON-RPC URL with Hemi's methods. */
export type RunningRpcProxy = ListeningServer;

interface HemiCall {
  jsonrpc: "2.0";
  id: number | string;
  method: string;
  params?: unknown[];
}

/** Whether `e` is a request the node would accept that calls a Hemi method. */
function hemiCall(e: unknown): e is HemiCall {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return false;
  const r = e as Record<string, unknown>;
  return (
    r.jsonrpc === "2.0" &&
    (typeof r.id === "number" || typeof r.id === "string") &&
    isHemiMethod(r.method) &&
    (r.params === undefined || Array.isArray(r.params))
  );
}

/** The headers the node (Hardhat's JSON-RPC server) sets on every answer. */
const ANSWER_HEADERS = {
  "Content-Type": "application/json",
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Request-Method": "*",
  "Access-Control-Allow-Methods": "OPTIONS, GET",
  "Access-Control-Allow-Headers": "*",
};

async function answerHemi(view: FinalityChainView, call: HemiCall, log?: Logger): Promise<string> {
  try {
    const result = await callHemiMethod(view, call.method as Parameters<typeof callHemiMethod>[1], call.params);
    return JSON.stringify({ jsonrpc: "2.0", id: call.id, result });
  } catch (err) {
    const e =
      err instanceof HemiRpcError
        ? err
        : (log?.warn({ err: errorMessage(err), method: call.method }, "Hemi method failed"),
          new HemiRpcError(-32000, errorMessage(err)));
    return JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: e.code, message: e.message } });
  }
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function forward(url: URL, req: http.IncomingMessage, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: url.host, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const up = http.request(
      { hostname: url.hostname, port: url.port, path: req.url ?? "/", method: req.method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    up.on("error", reject);
    up.end(body);
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendUpstream(res: http.ServerResponse, up: Upstream): void {
  const headers = { ...up.headers };
  delete headers["transfer-encoding"];
  delete headers.connection;
  delete headers["keep-alive"];
  headers["content-length"] = String(up.body.length);
  res.writeHead(up.status, headers);
  res.end(up.body);
}

function sendJson(res: http.ServerResponse, text: string): void {
  const body = Buffer.from(text);
  res.writeHead(200, { ...ANSWER_HEADERS, "Content-Length": String(body.length) });
  res.end(body);
}

/** What to do with a request body: pass it through, or answer (part of) it here. */
type Plan = { kind: "pass" } | { kind: "single"; call: HemiCall } | { kind: "batch"; raw: string[]; parsed: unknown[] };

function plan(method: string | undefined, body: Buffer): Plan {
  if (method !== "POST") return { kind: "pass" };
  let json: unknown;
  const text = body.toString();
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "pass" };
  }
  if (Array.isArray(json)) {
    if (!json.some(hemiCall)) return { kind: "pass" };
    const raw = splitJsonArray(text);
    if (raw.length !== json.length) return { kind: "pass" };
    return { kind: "batch", raw, parsed: json };
  }
  return hemiCall(json) ? { kind: "single", call: json } : { kind: "pass" };
}

async function answerBatch(
  p: { raw: string[]; parsed: unknown[] },
  view: FinalityChainView,
  forwardRaw: (body: Buffer) => Promise<Upstream>,
  log?: Logger,
): Promise<{ text: string } | { upstream: Upstream }> {
  const others = p.raw.filter((_, i) => !hemiCall(p.parsed[i]));
  let theirs: string[] = [];
  if (others.length > 0) {
    const up = await forwardRaw(Buffer.from("[" + others.join(",") + "]"));
    let split: string[] | undefined;
    try {
      split = up.status === 200 ? splitJsonArray(up.body.toString()) : undefined;
    } catch {
      split = undefined;
    }
    // The node did not answer with one element per request: return its answer as is.
    if (split?.length !== others.length) return { upstream: up };
    theirs = split;
  }
  const out: string[] = [];
  let j = 0;
  for (let i = 0; i < p.parsed.length; i++) {
    const e = p.parsed[i];
    out.push(hemiCall(e) ? await answerHemi(view, e, log) : theirs[j++]);
  }
  return { text: "[" + out.join(",") + "]" };
}

/** Starts the proxy on `host:port` (127.0.0.1, 0 = a free port). */
export async function startRpcProxy(opts: RpcProxyOptions): Promise<RunningRpcProxy> {
  const upstream = new URL(opts.upstreamUrl);
  const host = opts.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const p = plan(req.method, body);
        if (p.kind === "pass") return sendUpstream(res, await forward(upstream, req, body));
        if (p.kind === "single") return sendJson(res, await answerHemi(opts.view, p.call, opts.log));
        const r = await answerBatch(p, opts.view, (b) => forward(upstream, req, b), opts.log);
        return "text" in r ? sendJson(res, r.text) : sendUpstream(res, r.upstream);
      } catch (err) {
        opts.log?.warn({ err: errorMessage(err) }, "RPC proxy: request failed");
        if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(`hemi-fabric RPC proxy: the EVM node did not answer: ${errorMessage(err)}\n`);
      }
    })();
  });
  // WebSocket (eth_subscribe) and any other upgrade: a byte tunnel to the node, untouched.
  const tunnels = new Set<Duplex>();
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    tunnels.add(socket);
    socket.on("close", () => tunnels.delete(socket));
    const up = net.connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = (): void => {
      up.destroy();
      socket.destroy();
    };
    up.on("error", end);
    socket.on("error", end);
    up.on("close", end);
    socket.on("close", end);
  });
  const listening = await listen(server, host, opts.port, "EVM RPC proxy");
  return {
    ...listening,
    close: async () => {
      for (const t of tunnels) t.destroy();
      await listening.close();
    },
  };
}
