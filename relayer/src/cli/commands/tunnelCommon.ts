/**
 * What the tunnel commands (deposit, withdraw, status) share: option parsing with flags, configuration loading,
 * exit codes, JSON output with bigints, and one-line descriptions of deposit and withdrawal states.
 */
import { ConfigError, loadConfig } from "../../config/load";
import type { FabricConfig } from "../../config/schema";
import { errorMessage } from "../../core/logger";
import { AddressError } from "../../sdk/addresses";
import { AmountError, formatBtc } from "../../sdk/amounts";
import { NotADepositError } from "../../sdk/depositTx";
import type { DepositStatus, WithdrawalStatus } from "../../sdk/tunnelClient";
import type { ParsedArgs } from "./args";

export { parseArgs, type ParsedArgs } from "./args";

/** The configuration as every command loads it (`--config file.json` and the environment). */
export function loadCliConfig(parsed: ParsedArgs): FabricConfig {
  return loadConfig({ configFile: parsed.values.get("config") });
}

/** An integer option within bounds, or undefined when absent. */
export function intOption(parsed: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = parsed.values.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${name} must be an integer in ${min}..${max}, got "${v}"`, [name]);
  }
  return n;
}

/** True for errors caused by the user's input (exit code 2) rather than by a failure on the way (exit code 1). */
export function isUsageError(err: unknown): boolean {
  return (
    err instanceof ConfigError ||
    err instanceof AddressError ||
    err instanceof AmountError ||
    err instanceof NotADepositError
  );
}

/** Prints the error as `hemi-fabric <command>: <message>` and returns the exit code. */
export function fail(command: string, err: unknown): number {
  console.error(`hemi-fabric ${command}: ${errorMessage(err)}`);
  return isUsageError(err) ? 2 : 1;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** One line for a deposit state. */
export function describeDeposit(s: DepositStatus): string {
  const amount = s.sats === undefined ? "" : ` ${formatBtc(s.sats)} BTC`;
  switch (s.stage) {
    case "not-found":
      return `deposit ${s.txid}: not known to the Bitcoin node (not broadcast yet?)`;
    case "mempool":
      return `deposit ${s.txid}:${s.vout}${amount} for ${s.recipient}: in the mempool (vault ${s.vaultId}${s.vaultStatus === "Paused" ? ", Paused" : ""})`;
    case "mined":
    case "ready":
      return (
        `deposit ${s.txid}:${s.vout}${amount}: mined in block ${s.blockHeight}, ${s.confirmations}/${s.required} ` +
        `confirmations, light client ${s.lightClientConfirmations}/${s.required}` +
        (s.stage === "ready" ? " (ready to mint)" : "") +
        (s.vaultStatus === "Paused" ? ` (vault ${s.vaultId} is Paused: minted once it is resumed)` : "")
      );
    case "minted":
      return (
        `deposit ${s.txid}:${s.vout}${amount}: minted ${s.minted === undefined ? "?" : formatBtc(s.minted)} hemiBTC ` +
        `to ${s.recipient}, sequence ${s.sequence}${s.inBitcoinOrder === false ? " (out of Bitcoin order)" : ""}, ` +
        `EVM tx ${s.evmTxHash ?? "?"}`
      );
  }
}

/** One line for a withdrawal state. */
export function describeWithdrawal(s: WithdrawalStatus): string {
  const head = `withdrawal ${s.id} (${formatBtc(s.sats)} hemiBTC, fee ${s.fee} sat, to ${s.btcAddress ?? s.btcScript})`;
  switch (s.stage) {
    case "requested":
      return `${head}: requested from vault ${s.vaultId}, waiting for the operator's payout`;
    case "payout-broadcast":
      return `${head}: payout ${s.payoutTxid} in the mempool`;
    case "payout-mined":
      return (
        `${head}: payout ${s.payoutTxid} mined in block ${s.payoutBlockHeight}, ${s.confirmations}/${s.required} ` +
        `confirmations, light client ${s.lightClientConfirmations}/${s.required}`
      );
    case "finalized":
      return `${head}: finalized, paid ${s.paid === undefined ? "?" : formatBtc(s.paid)} BTC in ${s.payoutTxid}, EVM tx ${s.finalizeTxHash ?? "?"}`;
    case "challenged":
      return `${head}: challenged (not paid by the deadline); the requester was paid from the vault's collateral`;
  }
}
