import { errorMessage } from "../../core/logger";
import { parseAmount, formatBtc } from "../../sdk/amounts";
import { connectTunnel } from "../../sdk/connect";
import type { Command } from "../main";
import { describeDeposit, fail, intOption, loadCliConfig, parseArgs, toJson } from "./tunnelCommon";
import { settingsHelp } from "./settingsHelp";

const USAGE =
  "deposit --amount <BTC|Nsat> --recipient 0x... [--vault N] [--fee-rate sat/vB] [--instructions-only] [--wait " +
  "[--timeout S]] [--json] [--config file.json]";

/**
 * `hemi-fabric deposit`: locks BTC in the tunnel for an EVM recipient, paying from the Bitcoin node's wallet (the
 * wallet funds a one-time key that signs the deposit), or prints what a wallet must pay (`--instructions-only`).
 * `--wait` follows it until it is minted.
 */
export const depositCommand: Command = {
  name: "deposit",
  summary: `lock BTC for hemiBTC: ${USAGE}`,
  help: {
    usage: `hemi-fabric ${USAGE}`,
    description:
      "Locks BTC in the tunnel for an EVM recipient: pays from the Bitcoin node's wallet (the wallet funds a " +
      "one-time key that signs the deposit), or only prints what a wallet must pay (--instructions-only). An amount " +
      "under the vault's minimum is refused either way.",
    options: [
      {
        name: "amount",
        value: "BTC|Nsat",
        description: "amount: 0.5 (BTC) or 50000sat (required unless --instructions-only)",
      },
      { name: "recipient", value: "0x...", description: "EVM address that gets the hemiBTC (required)" },
      { name: "vault", value: "N", description: "vault id", default: "the lowest-id Live vault" },
      { name: "fee-rate", value: "sat/vB", description: "Bitcoin fee rate", default: "the node's estimate, else 2" },
      { name: "instructions-only", description: "print the custody address, OP_RETURN and fees; pay nothing" },
      { name: "wait", description: "follow the deposit until it is minted" },
      { name: "timeout", value: "S", description: "seconds --wait waits", default: "600" },
      { name: "json", description: "print JSON" },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
    env: settingsHelp(["EVM_RPC_URL", "BITCOIN_RPC_URL", "DEPLOYMENT_FILE", "DEPLOYMENTS_DIR"]),
  },
  async run(args: string[]): Promise<number> {
    let parsed;
    let cfg;
    let amount: bigint | undefined;
    let recipient: string;
    let vault: number | undefined;
    let timeoutS: number | undefined;
    let feeRate: number | undefined;
    try {
      parsed = parseArgs(
        args,
        ["amount", "recipient", "vault", "fee-rate", "timeout", "config"],
        ["instructions-only", "wait", "json"],
      );
      const r = parsed.values.get("recipient");
      if (r === undefined) throw new Error(`--recipient is required (usage: ${USAGE})`);
      recipient = r;
      const a = parsed.values.get("amount");
      if (a === undefined && !parsed.flags.has("instructions-only"))
        throw new Error(`--amount is required (usage: ${USAGE})`);
      amount = a === undefined ? undefined : parseAmount(a);
      vault = intOption(parsed, "vault", 1, 2 ** 32 - 1);
      timeoutS = intOption(parsed, "timeout", 1, 86_400);
      const fr = parsed.values.get("fee-rate");
      if (fr !== undefined) {
        feeRate = Number(fr);
        if (!Number.isFinite(feeRate) || feeRate < 1 || feeRate > 10_000)
          throw new Error(`--fee-rate must be 1..10000 sat/vB, got "${fr}"`);
      }
      if (parsed.flags.has("instructions-only") && parsed.flags.has("wait"))
        throw new Error("--wait needs a deposit to follow; it cannot go with --instructions-only");
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric deposit: ${errorMessage(err)}`);
      return 2;
    }
    const json = parsed.flags.has("json");
    let conn;
    try {
      conn = await connectTunnel({ cfg });
      const { client } = conn;
      const ins = await client.depositInstructions(recipient, vault);
      if (parsed.flags.has("instructions-only")) {
        // Refused as the paying path refuses it: such a deposit would never be minted.
        if (amount !== undefined && amount < ins.minDeposit) {
          throw new Error(
            `deposit of ${amount} sat is below vault ${ins.vaultId}'s minimum of ${ins.minDeposit} sat: it would never be minted`,
          );
        }
        const rate = feeRate ?? (await client.feeRate());
        const out = {
          vaultId: ins.vaultId,
          address: ins.address,
          custodyScript: ins.custodyScript,
          recipient: ins.recipient,
          opReturnScript: ins.opReturnScript,
          opReturnData: ins.opReturnHex,
          minDeposit: ins.minDeposit,
          confirmations: ins.confirmations,
          tunnelFee: amount === undefined ? undefined : ins.tunnelFee(amount),
          networkFeeEstimate: ins.networkFee(rate),
          feeRate: rate,
        };
        if (json) console.log(toJson(out));
        else {
          console.log(
            `pay ${amount === undefined ? "the amount" : `${formatBtc(amount)} BTC`} to ${ins.address} (vault ${ins.vaultId})`,
          );
          console.log(`add exactly one OP_RETURN output: script ${ins.opReturnScript} (data ${ins.opReturnHex})`);
          console.log(`minimum ${formatBtc(ins.minDeposit)} BTC; minted after ${ins.confirmations} confirmations`);
          if (amount !== undefined)
            console.log(
              `tunnel fee ${out.tunnelFee} sat; you receive ${amount - ins.tunnelFee(amount)} sat of hemiBTC`,
            );
          console.log(`network fee about ${out.networkFeeEstimate} sat at ${rate} sat/vB (one P2WPKH input)`);
        }
        return 0;
      }
      const sent = await client.sendDepositFromNodeWallet({
        amountSats: amount as bigint,
        recipient,
        vaultId: vault,
        feeRate,
      });
      if (!json) {
        console.log(
          `deposit ${sent.txid}:${sent.vout} broadcast: ${formatBtc(sent.amountSats)} BTC to vault ${sent.vaultId} for ${sent.recipient}`,
        );
        console.log(`  funded by wallet transaction ${sent.fundingTxid}; network fee ${sent.fee} sat`);
      }
      if (!parsed.flags.has("wait")) {
        if (json) console.log(toJson(sent));
        else console.log(`follow it with: npx hemi-fabric status --deposit ${sent.txid}`);
        return 0;
      }
      const final = await client.trackDeposit(sent.txid, {
        vout: sent.vout,
        timeoutMs: (timeoutS ?? 600) * 1_000,
        onUpdate: (s) => {
          if (!json) console.log(describeDeposit(s));
        },
      });
      if (json) console.log(toJson({ deposit: sent, status: final }));
      return 0;
    } catch (err) {
      return fail("deposit", err);
    } finally {
      conn?.close();
    }
  },
};
