import { formatUnits } from "ethers";
import { errorMessage } from "../../core/logger";
import { formatBtc } from "../../sdk/amounts";
import { connectTunnel } from "../../sdk/connect";
import type { Command } from "../main";
import { describeDeposit, describeWithdrawal, fail, intOption, loadCliConfig, parseArgs, toJson } from "./tunnelCommon";
import { settingsHelp } from "./settingsHelp";

const USAGE = "status [--deposit <txid> [--vout N]] [--withdrawal <id>] [--recent N] [--json] [--config file.json]";

/** `hemi-fabric status`: the tunnel (vaults, supply, recent deposits and withdrawals), or one deposit or withdrawal. */
export const statusCommand: Command = {
  name: "status",
  summary: `tunnel, deposit or withdrawal status: ${USAGE}`,
  help: {
    usage: `hemi-fabric ${USAGE}`,
    description:
      "Shows the tunnel (vaults, supply, the light client against the Bitcoin tip, recent deposits and withdrawals), " +
      "or where one deposit or withdrawal is. A deposit already minted is found from the tunnel's record even on a " +
      "Bitcoin node without -txindex.",
    options: [
      { name: "deposit", value: "txid", description: "one deposit (txid as bitcoind shows it)" },
      { name: "vout", value: "N", description: "the deposit's custody output", default: "the first one" },
      { name: "withdrawal", value: "id", description: "one withdrawal" },
      { name: "recent", value: "N", description: "recent deposits and withdrawals listed", default: "5" },
      { name: "json", description: "print JSON" },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
    env: settingsHelp(["EVM_RPC_URL", "BITCOIN_RPC_URL", "DEPLOYMENT_FILE", "DEPLOYMENTS_DIR"]),
  },
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let txid: string | undefined;
    let vout: number | undefined;
    let id: bigint | undefined;
    let recent: number;
    try {
      parsed = parseArgs(args, ["deposit", "vout", "withdrawal", "recent", "config"], ["json"]);
      txid = parsed.values.get("deposit");
      if (txid !== undefined && !/^[0-9a-fA-F]{64}$/.test(txid))
        throw new Error(`--deposit must be a txid (64 hex digits, as bitcoind shows it), got "${txid}"`);
      vout = intOption(parsed, "vout", 0, 2 ** 32 - 1);
      if (vout !== undefined && txid === undefined) throw new Error("--vout goes with --deposit");
      const w = parsed.values.get("withdrawal");
      if (w !== undefined) {
        if (!/^\d+$/.test(w) || BigInt(w) === 0n || BigInt(w) >= 2n ** 64n)
          throw new Error(`--withdrawal must be a withdrawal id (1, 2, ...), got "${w}"`);
        id = BigInt(w);
      }
      if (txid !== undefined && id !== undefined) throw new Error("give --deposit or --withdrawal, not both");
      recent = intOption(parsed, "recent", 0, 1_000) ?? 5;
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric status: ${errorMessage(err)}`);
      return 2;
    }
    const json = parsed.flags.has("json");
    let conn;
    try {
      conn = await connectTunnel({ cfg });
      const { client } = conn;
      if (txid !== undefined) {
        const s = await client.depositStatus(txid.toLowerCase(), vout);
        console.log(json ? toJson(s) : describeDeposit(s));
        return 0;
      }
      if (id !== undefined) {
        const s = await client.withdrawalStatus(id);
        console.log(json ? toJson(s) : describeWithdrawal(s));
        return 0;
      }
      const sum = await client.summary(recent);
      if (json) {
        console.log(toJson(sum));
        return 0;
      }
      console.log(`tunnel ${sum.tunnel} (${sum.network})${sum.paused ? " PAUSED" : ""}`);
      console.log(`  hemiBTC ${sum.token}: supply ${formatBtc(sum.totalSupply)}`);
      console.log(
        `  light client ${sum.lightClient}: best ${sum.lightClientBest.height}; Bitcoin node tip ${sum.bitcoinTip.height}`,
      );
      console.log(`  deposits minted ${sum.depositCount}, withdrawals requested ${sum.withdrawalCount}`);
      for (const v of sum.vaults) {
        console.log(
          `  vault ${v.id} ${v.status} operator ${v.operator} custody ${v.address ?? v.custodyScript}: ` +
            `custody ${formatBtc(v.custody)} pending ${formatBtc(v.pending)} collateral ${formatUnits(v.collateral, 18)} ` +
            `min ${v.minDeposit} sat, ${v.confirmations} conf`,
        );
      }
      for (const d of sum.recentDeposits) {
        console.log(
          `  deposit #${d.sequence} ${d.txid}:${d.vout} ${formatBtc(d.sats)} BTC -> ${d.recipient} minted ${formatBtc(d.minted)}`,
        );
      }
      for (const w of sum.recentWithdrawals) {
        console.log(
          `  withdrawal ${w.id} ${w.status} ${formatBtc(w.sats)} -> ${w.btcAddress ?? w.btcScript} (vault ${w.vaultId})`,
        );
      }
      return 0;
    } catch (err) {
      return fail("status", err);
    } finally {
      conn?.close();
    }
  },
};
