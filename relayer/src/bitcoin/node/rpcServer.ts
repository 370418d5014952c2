/**
 * bitcoind's JSON-RPC over HTTP: POST only, HTTP basic auth (user/password and the cookie), JSON-RPC
 * 1.0 and 2.0 request objects and batch arrays, positional or named params, and Bitcoin Core's HTTP
 * statuses (401 on bad auth; for 1.0 requests 404 for an unknown method and 500 for other errors).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { Args, METHODS, type CallContext } from "./rpcMethods";
import type { RegtestNode } from "./regtestNode";
import { RpcCode, RpcMethodError } from "./rpcError";

export interface RpcCredentials {
  user: string;
  password: string;
}

export interface RpcServerOptions {
  node: RegtestNode;
  /** Every accepted user/password pair (the configured one and the cookie). */
  credentials: RpcCredentials[];
  log?: (msg: string) => void;
  /** Called when a client sends `stop`. */
  onStop?: () => void;
}

interface RpcRequest {
  method?: unknown;
  params?: unknown;
  id?: unknown;
  jsonrpc?: unknown;
}

interface RpcReply {
  result: unknown;
  error: { code: number; message: string } | null;
  id: unknown;
  jsonrpc?: string;
}

const MAX_BODY = 64 * 1024 * 1024;

export class RpcServer {
  private readonly server: Server;
  private readonly opts: RpcServerOptions;

  constructor(opts: RpcServerOptions) {
    this.opts = opts;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  /** Listens on 127.0.0.1 only; resolves to the bound port (0 picks a free one). */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
      this.server.once("error", onError);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (h === undefined || !h.startsWith("Basic ")) return false;
    const given = Buffer.from(Buffer.from(h.slice(6).trim(), "base64").toString("utf8"));
    return this.opts.credentials.some((c) => {
      const expected = Buffer.from(`${c.user}:${c.password}`);
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "POST") {
      res.writeHead(405, { "Content-Type": "text/plain" }).end("JSONRPC server handles only POST requests");
      return;
    }
    // Bitcoin Core serves "/" and "/wallet/<name>" (the wallet a wallet method works on); other paths are 404.
    const urlPath = (req.url ?? "/").split("?")[0];
    let ctx: CallContext;
    if (urlPath === "/" || urlPath === "") ctx = {};
    else if (urlPath.startsWith("/wallet/")) ctx = { walletName: decodeURIComponent(urlPath.slice("/wallet/".length)) };
    else {
      res.writeHead(404).end();
      return;
    }
    if (!this.authorized(req)) {
      this.opts.log?.(`rpc: incorrect credentials from ${req.socket.remoteAddress ?? "?"}`);
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="jsonrpc"', "Content-Type": "text/html" }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        this.send(res, 500, { result: null, error: { code: RpcCode.PARSE_ERROR, message: "Parse error" }, id: null });
        return;
      }
      if (Array.isArray(body)) {
        this.send(
          res,
          200,
          body.map((r) => this.execute(r as RpcRequest, ctx)),
        );
        return;
      }
      if (typeof body !== "object" || body === null) {
        this.send(res, 400, {
          result: null,
          error: { code: RpcCode.INVALID_REQUEST, message: "Top-level object parse error" },
          id: null,
        });
        return;
      }
      const reply = this.execute(body as RpcRequest, ctx);
      let status = 200;
      if (reply.error !== null && reply.jsonrpc !== "2.0")
        status =
          reply.error.code === RpcCode.METHOD_NOT_FOUND
            ? 404
            : reply.error.code === RpcCode.INVALID_REQUEST
              ? 400
              : 500;
      this.send(res, status, reply);
    });
  }

  private send(res: ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload) + "\n";
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
  }

  /** Runs one request object and builds its reply. */
  execute(req: RpcRequest, ctx: CallContext = {}): RpcReply {
    const id = req?.id ?? null;
    const v2 = req?.jsonrpc === "2.0";
    const reply = (result: unknown, error: RpcReply["error"]): RpcReply =>
      v2 ? { jsonrpc: "2.0", result: error === null ? result : undefined, error, id } : { result, error, id };
    if (typeof req !== "object" || req === null)
      return reply(null, { code: RpcCode.INVALID_REQUEST, message: "Invalid Request object" });
    if (typeof req.method !== "string")
      return reply(null, { code: RpcCode.INVALID_REQUEST, message: "Method must be a string" });
    const spec = Object.prototype.hasOwnProperty.call(METHODS, req.method) ? METHODS[req.method] : undefined;
    if (spec === undefined) return reply(null, { code: RpcCode.METHOD_NOT_FOUND, message: "Method not found" });
    try {
      let positional: unknown[];
      if (req.params === undefined || req.params === null) positional = [];
      else if (Array.isArray(req.params)) positional = req.params;
      else if (typeof req.params === "object") {
        positional = [];
        for (const [name, value] of Object.entries(req.params as Record<string, unknown>)) {
          const i = spec.params.indexOf(name);
          if (i < 0) throw new RpcMethodError(RpcCode.INVALID_PARAMETER, `Unknown named parameter ${name}`);
          positional[i] = value;
        }
      } else throw new RpcMethodError(RpcCode.INVALID_REQUEST, "Params must be an array or object");
      if (positional.length > spec.params.length && spec.params.length >= 0 && req.method !== "help")
        throw new RpcMethodError(
          RpcCode.MISC_ERROR,
          `${req.method}: too many parameters (${positional.length} > ${spec.params.length})`,
        );
      const result = spec.handler(this.opts.node, new Args(positional, spec.params), ctx);
      if (req.method === "stop") this.opts.onStop?.();
      return reply(result === undefined ? null : result, null);
    } catch (err) {
      if (err instanceof RpcMethodError) return reply(null, { code: err.code, message: err.message });
      const message = err instanceof Error ? err.message : String(err);
      this.opts.log?.(`rpc: ${req.method} failed: ${message}`);
      return reply(null, { code: RpcCode.MISC_ERROR, message });
    }
  }
}
