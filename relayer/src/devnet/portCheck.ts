import { createServer } from "node:net";

/** Rejects with a clear error when `host:port` cannot be bound (in use, or not allowed); port 0 always passes. */
export function assertPortFree(host: string, port: number, what: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === "EADDRINUSE"
            ? `${what} ${port} on ${host} is already in use`
            : `${what} ${port} on ${host} cannot be bound: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
