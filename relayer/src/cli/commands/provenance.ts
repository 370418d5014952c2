import { Contract } from "ethers";
import { ConfigError } from "../../config/load";
import { createLogger, errorMessage } from "../../core/logger";
import { loadArtifact } from "../../evm/artifacts";
import { PublicationIndex } from "../../pop/publicationIndex";
import { NotMintedError, parseQuery, type ProvenanceQuery } from "../../provenance/deposit";
import { exitCodeOf, provenanceOf, withdrawalProvenance } from "../../provenance/provenance";
import { formatProvenance, formatWithdrawalProvenance } from "../../provenance/report";
import type { ProvenanceDeps } from "../../provenance/types";
import { NoSuchWithdrawalError, parseWithdrawalId } from "../../provenance/withdrawal";
import type { Command } from "../main";
import type { CommandHelp } from "./args";
import { connectAnchors } from "./anchorConnection";
import { loadCliConfig, parseArgs, toJson } from "./tunnelCommon";

const USAGE =
  "provenance <deposit txid[:vout] | sequence | EVM tx hash | payout txid> | --withdrawal <id> [--json] [--config file.json]";

export const help: CommandHelp = {
  usage: `hemi-fabric ${USAGE}`,
  description:
    "Checks the whole chain of trust of one minted deposit, or of one withdrawal, link by link, against the nodes\n" +
    "and the contracts. A deposit (named by its Bitcoin txid[:vout], its sequence or the EVM tx that minted it):\n" +
    "  1. Bitcoin lock: the deposit tx is in the Bitcoin node's best chain at the height the tunnel recorded, the\n" +
    "     light client holds that block, and a fresh SPV proof passes the light client's verifyTx;\n" +
    "  2. tunnel order: sequence, Bitcoin position, inBitcoinOrder (recomputed), the deposits before and after;\n" +
    "  3. EVM block and keystone: the minting tx is in the EVM chain, the keystone covering its block (next multiple\n" +
    "     of the interval) rebuilt from the EVM node's blocks matches the ledger and every publication on Bitcoin;\n" +
    "  4. PoP anchoring: publications of that keystone or a later one (PopVerifier), each Bitcoin block on the\n" +
    "     node's best chain and canonical in the light client; effective confirmations and superfinality by BFG's\n" +
    "     rule, recomputed and compared with PopVerifier's view.\n" +
    "A withdrawal (--withdrawal <id>, or the EVM tx that requested or finalized it, or the Bitcoin txid of its payout,\n" +
    "when they name no deposit):\n" +
    "  1. burn: the request tx is in the EVM chain, its WithdrawalRequested event agrees with withdrawal(id) (vault,\n" +
    "     destination, amount, fee, deadline), and it burned that hemiBTC (Transfer to the zero address);\n" +
    "  2. payout on Bitcoin: the payout is in the node's best chain, pays the destination sats - fee with\n" +
    "     OP_RETURN <id> and only change to the vault besides, spends the vault's coins, has the required\n" +
    "     confirmations; the light client holds its block and a fresh SPV proof passes verifyTx;\n" +
    "  3. finalization: withdrawal(id) is Finalized (not Challenged), the finalize tx is in the EVM chain, its\n" +
    "     event and the proof in its calldata name that payout and its block;\n" +
    "  4. and 5. EVM block and keystone, PoP anchoring: as for a deposit, of the finalize tx's block.\n" +
    "Each link prints ✔ (passes), ✘ (fails, with the failure named) or … pending (not anchored yet).\n" +
    'Exit codes: 0 every link passes, or it is pending (status "pending" in the report); 1 a link fails, or no\n' +
    "minted deposit or withdrawal matches; 2 bad arguments or settings; 3 the check could not run (a node unreachable).",
  options: [
    { name: "withdrawal", value: "id", description: "check withdrawal <id> (1, 2, ...) instead of a deposit" },
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

/** `hemi-fabric provenance`: the checked chain of trust of one minted deposit or one withdrawal. */
export const provenanceCommand: Command = {
  name: "provenance",
  summary: `check the chain of trust of one minted deposit or withdrawal: ${USAGE}`,
  help,
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let query: ProvenanceQuery | undefined;
    let withdrawalId = 0n;
    try {
      // The deposit: the one argument that is neither an option nor the value of --config or --withdrawal.
      const at = args.findIndex(
        (a, i) => !a.startsWith("--") && (i === 0 || !["--config", "--withdrawal"].includes(args[i - 1])),
      );
      parsed = parseArgs(
        args.filter((_a, i) => i !== at),
        ["config", "withdrawal"],
        ["json"],
      );
      const target = args[at];
      if (parsed.values.has("withdrawal")) {
        if (at >= 0) throw new ConfigError(`give a deposit or --withdrawal <id>, not both: ${USAGE}`, []);
        withdrawalId = parseWithdrawalId(parsed.values.get("withdrawal"));
      } else {
        if (at < 0 || target === undefined) throw new ConfigError(`name the deposit or the withdrawal: ${USAGE}`, []);
        query = parseQuery(target);
      }
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
      const deps: ProvenanceDeps = {
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
      };
      // A deposit, else (an EVM tx hash, a bare txid) the withdrawal it requested, finalized or paid.
      const report =
        query !== undefined ? await provenanceOf(deps, query) : await withdrawalProvenance(deps, withdrawalId);
      console.log(
        json ? toJson(report) : "subject" in report ? formatWithdrawalProvenance(report) : formatProvenance(report),
      );
      return exitCodeOf(report);
    } catch (err) {
      console.error(`hemi-fabric provenance: ${errorMessage(err)}`);
      return err instanceof ConfigError
        ? 2
        : err instanceof NotMintedError || err instanceof NoSuchWithdrawalError
          ? 1
          : 3;
    } finally {
      provider?.destroy();
    }
  },
};
