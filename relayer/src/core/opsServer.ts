import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { errorMessage } from "./logger";
import type { RelayerMetrics } from "./metrics";

/** One named health check: ok plus a detail for /healthz. */
export type HealthCheck = () => Promise<{ ok: boolean; detail?: unknown }>;

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (Prometheus text) and GET /healthz (200 when every check is ok, else 503, JSON body). */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  metrics: RelayerMetrics;
  checks: Record<string, HealthCheck>;
  log: Logger;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (url === "/metrics") {
      opts.metrics.registry
        .metrics()
        .then((body) => res.writeHead(200, { "content-type": opts.metrics.registry.contentType }).end(body))
        .catch((err: unknown) => res.writeHead(500).end(errorMessage(err)));
      return;
    }
    if (url === "/healthz") {
      const names = Object.keys(opts.checks);
      Promise.all(
        names.map((n) => opts.checks[n]().catch((err: unknown) => ({ ok: false, detail: errorMessage(err) }))),
      )
        .then((results) => {
          const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
          const ok = results.every((r) => r.ok);
          res
            .writeHead(ok ? 200 : 503, { "content-type": "application/json" })
            .end(JSON.stringify({ status: ok ? "ok" : "unhealthy", checks }));
        })
        .catch((err: unknown) => res.writeHead(500).end(errorMessage(err)));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /healthz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `METRICS_PORT: cannot listen on ${opts.host}:${opts.port} (${err.code ?? err.message}); ` +
            "choose a free port, or 0 for any free port",
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: opts.host, port }, "ops server listening (/metrics, /healthz)");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
