import { ConfigError } from "../../config/load";

/** Parses `--name value` / `--name=value` options; every option must be in `known`. */
export function parseOptions(args: string[], known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}"`, [arg]);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!known.includes(name)) {
      throw new ConfigError(`unknown option --${name} (options: ${known.map((k) => `--${k}`).join(", ")})`, [name]);
    }
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ConfigError(`--${name} needs a value`, [name]);
      i++;
    }
    out.set(name, value);
  }
  return out;
}
