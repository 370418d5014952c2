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
