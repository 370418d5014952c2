import { ConfigError } from "../../config/load";
import { createLogger, errorMessage } from "../../core/logger";
import { checkAnchors, type AnchorReport } from "../../pop/anchorCheck";
import { PublicationIndex } from "../../pop/publicationIndex";
import { connectAnchors } from "./anchorConnection";
import type { Command } from "../main";
import { loadCliConfig, parseArgs, toJson } from "./tunnelCommon";

const USAGE = "verify-anchors [--json] [--config file.json]";

const HELP = `Usage: hemi-fabric ${USAGE}

Walks every anchored keystone and checks it against the EVM node's chain and Bitcoin:
  - keystones recorded in KeystoneLedger and keystones published on the Bitcoin node's best chain (HEMI
    OP_RETURNs from the light client's anchor height up), so an EVM history rewound after anchoring is seen;
  - against the EVM node: block hash, parent hash, state root and previous-keystone hash of each keystone;
  - against Bitcoin: each publication on the node's best chain and canonical in the light client; a proven
    publication that left the best chain (reorg) is a warning.

Options:
  --json             print the whole report as JSON (stdout)
  --config <file>    JSON settings file (same names as the environment variables)
  --help             this text

Settings (environment or --config): EVM_RPC_URL (default http://127.0.0.1:8545), BITCOIN_RPC_URL (required),
DEPLOYMENT_FILE (default deployments/<chainId>.json), LIGHT_CLIENT_ADDRESS, KEYSTONE_LEDGER_ADDRESS,
POP_VERIFIER_ADDRESS (defaults: from the deployment file).

Exit codes: 0 every check passes (warnings allowed); 1 a contradiction was found; 2 bad options or settings;
3 the check could not run (a node unreachable, contracts missing).`;

function describe(r: AnchorReport): string {
  const lines = [`EVM head ${r.evmHead}; Bitcoin tip ${r.bitcoinTip}; light client best ${r.lightClientBest}`];
  for (const k of r.keystones) {
    const pubs = k.publications
      .map(
        (p) =>
          `${p.height}${p.onNodeBestChain && p.canonicalInLightClient ? "" : " (not canonical)"}${p.proven ? " proven" : ""}`,
      )
      .join(", ");
    const state = k.issues.some((i) => i.severity === "error")
      ? "CONTRADICTION"
      : k.anchored
        ? "anchored"
        : "not anchored yet";
    const src = [k.inLedger ? "ledger" : undefined, k.onBitcoin ? "bitcoin" : undefined].filter(Boolean).join("+");
    lines.push(
      `  keystone ${k.l2BlockNumber} ${k.keystoneId.slice(0, 18)}… [${src}] ${state}${pubs === "" ? "" : `: published at ${pubs}`}`,
    );
    for (const i of k.issues) lines.push(`    ${i.severity === "error" ? "ERROR" : "warning"} ${i.kind}: ${i.message}`);
  }
  const anchored = r.keystones.filter((k) => k.anchored).length;
  lines.push(
    `${r.keystones.length} keystones checked: ${anchored} anchored, ${r.keystones.length - anchored} not anchored, ` +
      `${r.contradictions.length} contradiction(s), ${r.warnings.length} warning(s)` +
      (r.foreignPublications > 0 ? `, ${r.foreignPublications} publication(s) of other chains ignored` : ""),
  );
  lines.push(r.ok ? "verify-anchors: OK" : "verify-anchors: FAILED (the EVM chain contradicts its anchors)");
  return lines.join("\n");
}

/** `hemi-fabric verify-anchors`: checks every anchored keystone against the EVM node and Bitcoin. */
export const verifyAnchorsCommand: Command = {
  name: "verify-anchors",
  summary: `check every anchored keystone against the EVM chain and Bitcoin: ${USAGE}`,
  async run(args: string[]): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(HELP);
      return 0;
    }
    let parsed;
    let cfg;
    try {
      parsed = parseArgs(args, ["config"], ["json"]);
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric verify-anchors: ${errorMessage(err)}`);
      return 2;
    }
    const json = parsed.flags.has("json");
    const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT, name: "verify-anchors", fd: 2 });
    let provider;
    try {
      const {
        provider: p,
        chainId,
        deployment,
        lc,
        ledger,
        verifier,
        bitcoin,
      } = await connectAnchors(cfg, log, "verify-anchors");
      provider = p;
      if (!json) console.error(`verify-anchors: chain ${chainId}, ledger ${ledger.address}; scanning…`);
      const report = await checkAnchors({
        provider,
        ledger,
        verifier,
        lc,
        index: new PublicationIndex(bitcoin),
        bitcoinFromHeight: (await lc.anchorHeight()) + 1,
        evmFromBlock: deployment?.blockNumber ?? 0,
      });
      console.log(json ? toJson(report) : describe(report));
      return report.ok ? 0 : 1;
    } catch (err) {
      console.error(`hemi-fabric verify-anchors: ${errorMessage(err)}`);
      return err instanceof ConfigError ? 2 : 3;
    } finally {
      provider?.destroy();
    }
  },
};
