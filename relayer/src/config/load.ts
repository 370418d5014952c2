import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_KEYS, configSchema, type FabricConfig } from "./schema";

/** A configuration that failed validation; the message names every bad field. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly fields: readonly string[],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface LoadConfigOptions {
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** JSON config file; default `$HEMI_FABRIC_CONFIG` when set. Keys are the environment variable names. */
  configFile?: string;
  /** Base directory for relative paths (deployments dir, keystore); default the current directory. */
  cwd?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`, ["configFile"]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, ["configFile"]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object of settings`, ["configFile"]);
  }
  const obj = parsed as Record<string, unknown>;
  const unknownKeys = Object.keys(obj).filter((k) => !CONFIG_KEYS.includes(k));
  if (unknownKeys.length > 0) {
    throw new ConfigError(
      `config file ${file} has unknown setting(s) ${unknownKeys.join(", ")}; known settings: ${CONFIG_KEYS.join(", ")}`,
      unknownKeys,
    );
  }
  return obj;
}

/**
 * Reads the configuration from an optional JSON file and the environment (environment wins), validates it and
 * resolves relative paths. Throws a ConfigError naming every bad field; values are never echoed (they may be secret).
 */
export function loadConfig(options: LoadConfigOptions = {}): FabricConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.configFile ?? (env.HEMI_FABRIC_CONFIG || undefined);
  const raw: Record<string, unknown> = file === undefined ? {} : readConfigFile(path.resolve(cwd, file));
  for (const key of CONFIG_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const byField = new Map<string, string[]>();
    for (const issue of result.error.issues) {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(config)";
      const msgs = byField.get(field) ?? [];
      const msg = issue.code === "invalid_type" && raw[field] === undefined ? "is required" : issue.message;
      if (!msgs.includes(msg)) msgs.push(msg);
      byField.set(field, msgs);
    }
    const lines = [...byField.entries()].map(([field, msgs]) => `  ${field}: ${msgs.join("; ")}`);
    throw new ConfigError(
      `invalid configuration${file === undefined ? "" : ` (file ${file} and environment)`}:\n${lines.join("\n")}`,
      [...byField.keys()],
    );
  }
  const cfg = result.data;
  cfg.DEPLOYMENTS_DIR = path.resolve(cwd, cfg.DEPLOYMENTS_DIR);
  if (cfg.DEPLOYMENT_FILE !== undefined) cfg.DEPLOYMENT_FILE = path.resolve(cwd, cfg.DEPLOYMENT_FILE);
  if (cfg.RELAYER_KEYSTORE !== undefined) cfg.RELAYER_KEYSTORE = path.resolve(cwd, cfg.RELAYER_KEYSTORE);
  return cfg;
}

/** A URL with its password (and user) replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    if (u.username !== "") u.username = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
