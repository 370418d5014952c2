import { errorMessage } from "../../core/logger";
import { formatBtc, parseAmount } from "../../sdk/amounts";
import { connectTunnel } from "../../sdk/connect";
import type { Command } from "../main";
import { describeWithdrawal, fail, intOption, loadCliConfig, parseArgs, toJson } from "./tunnelCommon";
import { settingsHelp } from "./settingsHelp";
import { userKey } from "./userKey";

const USAGE =
  "withdraw --amount <BTC|Nsat> --to <bitcoin address | 0x-script> [--vault N] [--private-key 0x... | --keystore " +
  "file.json] [--wait " +
  "[--timeout S]] [--json] [--config file.json]";

/**
 * `hemi-fabric withdraw`: burns hemiBTC and queues a withdrawal to a Bitcoin address; the vault operator pays it
 * out. The user's EVM key: --private-key, else --keystore (password in USER_KEYSTORE_PASSWORD), else
 * USER_PRIVATE_KEY; never the relayer's key. `--wait` follows it to the proven payout.
 */
export const withdrawCommand: Command = {
  name: "withdraw",
  summary: `burn hemiBTC for BTC: ${USAGE}`,
  help: {
    usage: `hemi-fabric ${USAGE}`,
    description:
      "Burns the user's hemiBTC and queues a withdrawal to a Bitcoin address; the vault operator pays it on Bitcoin. " +
      "Signs with the user's EVM key only (--private-key, --keystore or USER_PRIVATE_KEY), never with the relayer's.",
    options: [
      { name: "amount", value: "BTC|Nsat", description: "hemiBTC to burn: 0.5 (BTC) or 50000sat (required)" },
      { name: "to", value: "address", description: "Bitcoin address (or 0x-hex script) to pay (required)" },
      { name: "vault", value: "N", description: "vault to withdraw from", default: "chosen by the tunnel" },
      { name: "private-key", value: "0x...", description: "the user's EVM key", default: "USER_PRIVATE_KEY" },
      {
        name: "keystore",
        value: "file.json",
        description: "the user's encrypted JSON keystore (password in USER_KEYSTORE_PASSWORD)",
      },
      { name: "wait", description: "follow the withdrawal until its payout is proven" },
      { name: "timeout", value: "S", description: "seconds --wait waits", default: "600" },
      { name: "json", description: "print JSON" },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
    env: [
      ...settingsHelp(["EVM_RPC_URL", "BITCOIN_RPC_URL", "DEPLOYMENT_FILE"]),
      { name: "USER_PRIVATE_KEY", description: "the user's EVM key when --private-key and --keystore are absent" },
      { name: "USER_KEYSTORE_PASSWORD", description: "password of --keystore" },
    ],
  },
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let amount: bigint;
    let to: string;
    let key: string;
    let vault: number | undefined;
    let timeoutS: number | undefined;
    try {
      parsed = parseArgs(
        args,
        ["amount", "to", "vault", "private-key", "keystore", "timeout", "config"],
        ["wait", "json"],
      );
      const a = parsed.values.get("amount");
      if (a === undefined) throw new Error(`--amount is required (usage: ${USAGE})`);
      amount = parseAmount(a);
      const t = parsed.values.get("to");
      if (t === undefined) throw new Error(`--to is required (usage: ${USAGE})`);
      to = t;
      vault = intOption(parsed, "vault", 1, 2 ** 32 - 1);
      timeoutS = intOption(parsed, "timeout", 1, 86_400);
      cfg = loadCliConfig(parsed);
      key = await userKey(parsed, process.env);
    } catch (err) {
      console.error(`hemi-fabric withdraw: ${errorMessage(err)}`);
      return 2;
    }
    const json = parsed.flags.has("json");
    let conn;
    try {
      conn = await connectTunnel({ cfg, privateKey: key });
      const { client } = conn;
      const req = await client.requestWithdrawal({ to, sats: amount, vaultId: vault });
      if (!json) {
        console.log(
          `withdrawal ${req.id} requested from vault ${req.vaultId}: burned ${formatBtc(req.sats)} hemiBTC, ` +
            `payout ${formatBtc(req.payout)} BTC (fee ${req.fee} sat), deadline ${new Date(req.deadline * 1000).toISOString()}, EVM tx ${req.evmTxHash}`,
        );
      }
      if (!parsed.flags.has("wait")) {
        if (json) console.log(toJson(req));
        else console.log(`follow it with: npx hemi-fabric status --withdrawal ${req.id}`);
        return 0;
      }
      const final = await client.trackWithdrawal(req.id, {
        timeoutMs: (timeoutS ?? 600) * 1_000,
        onUpdate: (s) => {
          if (!json) console.log(describeWithdrawal(s));
        },
      });
      if (json) console.log(toJson({ request: req, status: final }));
      return final.stage === "finalized" ? 0 : 1;
    } catch (err) {
      return fail("withdraw", err);
    } finally {
      conn?.close();
    }
  },
};
