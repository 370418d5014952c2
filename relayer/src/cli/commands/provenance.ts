import { Contract } from "ethers";
import { ConfigError } from "../../config/load";
import { createLogger, errorMessage } from "../../core/logger";
import { loadArtifact } from "../../evm/artifacts";
import { PublicationIndex } from "../../pop/publicationIndex";
import { NotMintedError, parseQuery } from "../../provenance/deposit";
import { exitCodeOf, provenance } from "../../provenance/provenance";
import { formatProvenance } from "../../provenance/report";
import type { Command } from "../main";
import type { CommandHelp } from "./args";
import { connectAnchors } from "./anchorConnection";
import { loadCliConfig, parseArgs, toJson } from "./tunnelCommon";

const USAGE = "provenance <deposit txid[:vout] | sequence | EVM tx hash> [--json] [--config file.json]";

export const help: CommandHelp = {
  usage: `hemi-fabric ${USAGE}`,
  description:
    "Checks the whole chain of trust of one minted deposit, link by link, against the nodes and the contracts:\n" +
    "  1. Bitcoin lock: the deposit tx is in the Bitcoin node's best chain at the height the tunnel recorded, the\n" +
    "     light client holds that block, and a fresh SPV proof passes the light client's verifyTx;\n" +
    "  2. tunnel order: sequence, Bitcoin position, inBitcoinOrder (recomputed), the deposits before and after;\n" +
    "  3. EVM block and keystone: the minting tx is in the EVM chain, the keystone covering its block (next multiple\n" +
    "     of the interval) rebuilt from the EVM node's blocks matches the ledger and every publication on Bitcoin;\n" +
    "  4. PoP anchoring: publications of that keystone or a later one (PopVerifier), each Bitcoin block on the\n" +
    "     node's best chain and canonical in the light client; effective confirmations and superfinality by BFG's\n" +
    "     rule, recomputed and compared with PopVerifier's view.\n" +
    "Each link prints ✔ (passes), ✘ (fails, with the failure named) or … pending (not anchored yet).\n" +
    'Exit codes: 0 every link passes, or the deposit is pending (status "pending" in the report); 1 a link fails or\n' +
    "no minted deposit matches; 2 bad arguments or settings; 3 the check could not run (a node unreachable).",
  options: [
    { name: "json", description: "print the whole report as JSON (stdout)" },
    { name: "config", value: "file.json", description: "JSON settings file (same names as the environment variables)" },
  ],
  env: [
    { name: "EVM_RPC_URL", description: "the EVM node", default: "http://127.0.0.1:8545" },
    { name: "BITCOIN_RPC_URL", description: "the Bitcoin node (required)" },
    { name: "DEPLOYMENT_FILE", description: "the deployment file", default: "deployments/<chainId>.json" },
    { name: "TUNNEL_ADDRESS", description: "BitcoinTunnel", default: "from the deployment file" },
    { name: "LIGHT_CLIENT_ADDRESS", description: "BitcoinLightClient", default: "from the deployment file" },
    { name: "KEYSTONE_LEDGER_ADDRESS", description: "KeystoneLedger", default: "from the deployment file" },
    { name: "POP_VERIFIER_ADDRESS", description: "PopVerifier", default: "from the deployment file" },
  ],
};

/** `hemi-fabric provenance`: the checked chain of trust of one minted deposit. */
export const provenanceCommand: Command = {
  name: "provenance",
  summary: `check the chain of trust of one minted deposit: ${USAGE}`,
  help,
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let query;
    try {
      // The deposit: the one argument that is neither an option nor --config's value.
      const at = args.findIndex((a, i) => !a.startsWith("--") && (i === 0 || args[i - 1] !== "--config"));
      parsed = parseArgs(
        args.filter((_a, i) => i !== at),
        ["config"],
        ["json"],
      );
      const target = args[at];
      if (at < 0 || target === undefined) throw new ConfigError(`name the deposit: ${USAGE}`, []);
      query = parseQuery(target);
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric provenance: ${errorMessage(err)}`);
      return 2;
    }
    const json = parsed.flags.has("json");
    const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT, name: "provenance", fd: 2 });
    let provider;
    try {
      const c = await connectAnchors(cfg, log, "provenance");
      provider = c.provider;
      const tunnelAddress = cfg.TUNNEL_ADDRESS ?? c.deployment?.contracts.BitcoinTunnel;
      if (tunnelAddress === undefined)
        throw new ConfigError("no tunnel: set TUNNEL_ADDRESS or DEPLOYMENT_FILE", [
          "TUNNEL_ADDRESS",
          "DEPLOYMENT_FILE",
        ]);
      if (!json) console.error(`provenance: chain ${c.chainId}, tunnel ${tunnelAddress}; checking…`);
      const report = await provenance(
        {
          provider: c.provider,
          bitcoin: c.bitcoin,
          lc: c.lc,
          lightClient: new Contract(c.lc.address, loadArtifact("BitcoinLightClient").abi, c.provider),
          tunnel: new Contract(tunnelAddress, loadArtifact("BitcoinTunnel").abi, c.provider),
          ledger: c.ledger,
          verifier: c.verifier,
          evmFromBlock: c.deployment?.blockNumber ?? 0,
          index: new PublicationIndex(c.bitcoin),
          bitcoinFromHeight: (await c.lc.anchorHeight()) + 1,
        },
        query,
      );
      console.log(json ? toJson(report) : formatProvenance(report));
      return exitCodeOf(report);
    } catch (err) {
      console.error(`hemi-fabric provenance: ${errorMessage(err)}`);
      return err instanceof ConfigError ? 2 : err instanceof NotMintedError ? 1 : 3;
    } finally {
      provider?.destroy();
    }
  },
};
