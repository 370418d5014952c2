import { readFileSync } from "node:fs";
import path from "node:path";
import { bondCommand } from "./commands/bond";
import { btcNodeCommand } from "./commands/btcNode";
import { deployCommand } from "./commands/deploy";
import { depositCommand } from "./commands/deposit";
import { devnetCommand } from "./commands/devnet";
import { relayerCommand } from "./commands/relayer";
import { statusCommand } from "./commands/status";
import { withdrawCommand } from "./commands/withdraw";
import { mineCommand } from "./commands/mine";
import { formatHelp, wantsHelp, type CommandHelp } from "./commands/args";
import { verifyAnchorsCommand } from "./commands/verifyAnchors";
import { provenanceCommand } from "./commands/provenance";

/** A sub-command of the `hemi-fabric` CLI. */
export interface Command {
  name: string;
  summary: string;
  /** What `<name> --help` prints: options with their defaults (see args.ts). */
  help?: CommandHelp;
  run(args: string[]): Promise<number>;
}

/** Every sub-command, in the order help lists them. Add new commands here. */
const commands: Command[] = [
  relayerCommand,
  deployCommand,
  btcNodeCommand,
  depositCommand,
  withdrawCommand,
  statusCommand,
  bondCommand,
  mineCommand,
  devnetCommand,
  verifyAnchorsCommand,
  provenanceCommand,
];

function packageVersion(): string {
  const pkgPath = path.join(__dirname, "..", "..", "..", "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { version: string };
  return pkg.version;
}

function help(): string {
  const lines = [
    `hemi-fabric ${packageVersion()}: a Bitcoin-secured EVM toolkit (light client, hVM, tunnel, PoP, relayer)`,
    "",
    "Usage: npx hemi-fabric <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    `  ${"help".padEnd(12)} show this help`,
    `  ${"version".padEnd(12)} print the version`,
  ];
  return lines.join("\n");
}

/** Runs the CLI with the given arguments and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(help());
    return 0;
  }
  if (name === "version" || name === "--version" || name === "-v") {
    console.log(packageVersion());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`hemi-fabric: unknown command "${name}"\n`);
    console.error(help());
    return 2;
  }
  // A command without a help record (devnet) answers --help itself, with its options and defaults.
  if (wantsHelp(rest) && command.help !== undefined) {
    console.log(formatHelp(command.help));
    return 0;
  }
  return command.run(rest);
}
