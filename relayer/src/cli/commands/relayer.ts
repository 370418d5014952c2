import { ConfigError, loadConfig } from "../../config/load";
import { createLogger, errorMessage } from "../../core/logger";
import { RetryExhaustedError } from "../../core/retry";
import { parseRoles } from "../../config/roles";
import { startRelayer } from "../../relayer";
import type { Command } from "../main";
import { parseOptions } from "./args";
import { settingsHelp } from "./settingsHelp";

/** `hemi-fabric relayer --roles headers[,deposits][,withdrawals] [--config file.json]`. */
export const relayerCommand: Command = {
  name: "relayer",
  summary:
    "run the relayer: --roles headers,deposits,withdrawals,hvm-index,keystones,pop,anchors (any of them) [--config file.json] (settings from env, see README)",
  help: {
    usage: "hemi-fabric relayer [--roles headers,deposits,...] [--config file.json]",
    description:
      "Runs the relayer's roles until SIGINT/SIGTERM: headers feeds Bitcoin headers to the light client, deposits " +
      "proves deposits in Bitcoin order, withdrawals (vault operator, needs VAULT_CUSTODY_KEY) pays and proves " +
      "withdrawals. Serves /metrics and /healthz on METRICS_HOST:METRICS_PORT.",
    options: [
      {
        name: "roles",
        value: "list",
        description: "comma-separated roles: headers, deposits, withdrawals, hvm-index, keystones, pop, anchors",
        default: "headers",
      },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
    env: settingsHelp(),
  },
  async run(args: string[]): Promise<number> {
    let opts: Map<string, string>;
    let cfg;
    let roles;
    try {
      opts = parseOptions(args, ["roles", "config"]);
      cfg = loadConfig({ configFile: opts.get("config") });
      roles = parseRoles(opts.get("roles"));
    } catch (err) {
      console.error(`hemi-fabric relayer: ${errorMessage(err)}`);
      return 2;
    }
    const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT, name: "relayer" });
    process.on("unhandledRejection", (reason) => {
      log.fatal({ err: errorMessage(reason) }, "unhandled rejection; exiting");
      process.exit(1);
    });
    let relayer;
    try {
      relayer = await startRelayer(cfg, roles, log);
    } catch (err) {
      const kind =
        err instanceof ConfigError ? "configuration" : err instanceof RetryExhaustedError ? "connection" : "start-up";
      log.fatal({ err: errorMessage(err) }, `relayer cannot start (${kind} error)`);
      return err instanceof ConfigError ? 2 : 1;
    }
    return new Promise<number>((resolve) => {
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          log.warn({ signal }, "second signal: exiting without waiting");
          process.exit(130);
        }
        log.info({ signal }, "shutdown requested");
        relayer
          .stop()
          .then(() => {
            // Idle keep-alive sockets must not hold the process open once everything is closed.
            setTimeout(() => process.exit(0), 1_000).unref();
            resolve(0);
          })
          .catch((err: unknown) => {
            log.error({ err: errorMessage(err) }, "error during shutdown");
            resolve(1);
          });
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  },
};
