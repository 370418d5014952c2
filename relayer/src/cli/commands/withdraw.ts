import { errorMessage } from "../../core/logger";
import { formatBtc, parseAmount } from "../../sdk/amounts";
import { connectTunnel } from "../../sdk/connect";
import type { Command } from "../main";
import { describeWithdrawal, fail, intOption, loadCliConfig, parseArgs, toJson } from "./tunnelCommon";

const USAGE =
  "withdraw --amount <BTC|Nsat> --to <bitcoin address | 0x-script> [--vault N] [--private-key 0x...] [--wait " +
  "[--timeout S]] [--json] [--config file.json]";

/**
 * `hemi-fabric withdraw`: burns hemiBTC and queues a withdrawal to a Bitcoin address; the vault operator pays it
 * out. The EVM key: --private-key, else USER_PRIVATE_KEY, else RELAYER_PRIVATE_KEY. `--wait` follows it to the
 * proven payout.
 */
export const withdrawCommand: Command = {
  name: "withdraw",
  summary: `burn hemiBTC for BTC: ${USAGE}`,
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let amount: bigint;
    let to: string;
    let key: string;
    let vault: number | undefined;
    let timeoutS: number | undefined;
    try {
      parsed = parseArgs(args, ["amount", "to", "vault", "private-key", "timeout", "config"], ["wait", "json"]);
      const a = parsed.values.get("amount");
      if (a === undefined) throw new Error(`--amount is required (usage: ${USAGE})`);
      amount = parseAmount(a);
      const t = parsed.values.get("to");
      if (t === undefined) throw new Error(`--to is required (usage: ${USAGE})`);
      to = t;
      vault = intOption(parsed, "vault", 1, 2 ** 32 - 1);
      timeoutS = intOption(parsed, "timeout", 1, 86_400);
      cfg = loadCliConfig(parsed);
      const k = parsed.values.get("private-key") ?? process.env.USER_PRIVATE_KEY ?? cfg.RELAYER_PRIVATE_KEY;
      if (k === undefined || k === "")
        throw new Error("an EVM key is needed: --private-key, USER_PRIVATE_KEY or RELAYER_PRIVATE_KEY");
      key = k;
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
