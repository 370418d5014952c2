import { ConfigError } from "../../config/load";

/** Parsed command line: `--name value` options and bare `--flag`s. */
export interface ParsedArgs {
  values: Map<string, string>;
  flags: Set<string>;
}

/** Parses `--name value`, `--name=value` and `--flag`; anything unknown is a ConfigError listing what is known. */
export function parseArgs(args: string[], valueNames: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const known = [...valueNames.map((n) => `--${n} <value>`), ...flagNames.map((n) => `--${n}`)].join(", ");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}" (options: ${known})`, [arg]);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (flagNames.includes(name)) {
      if (eq !== -1) throw new ConfigError(`--${name} takes no value`, [name]);
      flags.add(name);
      continue;
    }
    if (!valueNames.includes(name)) throw new ConfigError(`unknown option --${name} (options: ${known})`, [name]);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ConfigError(`--${name} needs a value`, [name]);
      i++;
    }
    if (values.has(name)) throw new ConfigError(`--${name} given twice`, [name]);
    values.set(name, value);
  }
  return { values, flags };
}

/** Parses `--name value` / `--name=value` options only (no flags); every option must be in `known`. */
export function parseOptions(args: string[], known: readonly string[]): Map<string, string> {
  return parseArgs(args, known, []).values;
}

/** One option of a command, for its `--help`. */
export interface OptionHelp {
  /** Without the leading dashes. */
  name: string;
  /** Placeholder of the value (`N`, `file.json`); absent for a flag. */
  value?: string;
  description: string;
  /** The default, as the user would type it (or a phrase: "from the deployment"). */
  default?: string;
}

/** What `<command> --help` prints. */
export interface CommandHelp {
  /** One line: `hemi-fabric <name> [options]`. */
  usage: string;
  /** A few sentences: what the command does. */
  description: string;
  options: OptionHelp[];
  /** Settings read from the environment (or --config), with their meaning. */
  env?: { name: string; description: string; default?: string }[];
}

/** True when the arguments ask for help. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** The `--help` text of a command: usage, description, options with their defaults, environment settings. */
export function formatHelp(h: CommandHelp): string {
  const opt = (o: OptionHelp): string => `--${o.name}${o.value === undefined ? "" : ` <${o.value}>`}`;
  const width = Math.max(12, ...h.options.map((o) => opt(o).length), ...(h.env ?? []).map((e) => e.name.length)) + 2;
  const line = (left: string, text: string, def?: string): string =>
    `  ${left.padEnd(width)}${text}${def === undefined ? "" : ` (default: ${def})`}`;
  const lines = [`Usage: ${h.usage}`, "", h.description, "", "Options:"];
  for (const o of h.options) lines.push(line(opt(o), o.description, o.default));
  lines.push(line("--help", "show this help"));
  if (h.env !== undefined && h.env.length > 0) {
    lines.push("", "Settings (environment variables, or the same names in --config file.json):");
    for (const e of h.env) lines.push(line(e.name, e.description, e.default));
  }
  return lines.join("\n");
}
