import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  /** "json" always; "pretty" always; "auto": pretty when stdout is a terminal. */
  format?: "auto" | "json" | "pretty";
  name?: string;
  /** File descriptor to write to: 1 (stdout, default) or 2 (stderr). */
  fd?: 1 | 2;
}

/** The relayer's pino logger: JSON lines on stdout, human-readable in a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "auto";
  const fd = options.fd ?? 1;
  const stream = fd === 1 ? process.stdout : process.stderr;
  const usePretty = format === "pretty" || (format === "auto" && stream.isTTY === true);
  const base = { level: options.level ?? "info", name: options.name ?? "hemi-fabric" };
  if (usePretty) {
    return pino(
      base,
      pretty({ colorize: stream.isTTY === true, destination: fd, sync: true, translateTime: "SYS:HH:MM:ss.l" }),
    );
  }
  return pino(base, pino.destination({ dest: fd, sync: true }));
}

/** The message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
