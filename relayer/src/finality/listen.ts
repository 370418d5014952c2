/** Serving the finality interfaces' HTTP servers on 127.0.0.1 (or `host`), a free port for 0. */
import type http from "node:http";
import type { AddressInfo } from "node:net";

export interface ListeningServer {
  /** http://host:port */
  url: string;
  port: number;
  /** Closes the server and its open connections. */
  close(): Promise<void>;
}

/** Listens on `host:port`; rejects with a clear error when the port cannot be bound. */
export async function listen(server: http.Server, host: string, port: number, what: string): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(new Error(`${what}: cannot listen on ${host}:${port} (${err.code ?? err.message})`));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
