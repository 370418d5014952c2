/**
 * The Bitcoin side of a deposit and a payout, as the tunnel reads them: the deposit's OP_RETURN (0x6a14 || the
 * 20-byte EVM recipient), building and signing a deposit transaction, checking a transaction against the tunnel's
 * deposit rules before it costs anything, and the payout OP_RETURN of a withdrawal (0x6a08 || id big-endian).
 */
import { Transaction } from "bitcoinjs-lib";
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { buildSignedTxWithChange, type UtxoToSpend } from "../bitcoin/txBuilder";

/** A transaction that the tunnel would not mint, with the reason (the contract's error name where there is one). */
export class NotADepositError extends Error {
  constructor(
    readonly txid: string,
    readonly reason: string,
  ) {
    super(`transaction ${txid} is not a tunnel deposit: ${reason}`);
    this.name = "NotADepositError";
  }
}

/** Checks and checksums an EVM recipient; the zero address is refused (the tunnel reverts with ZeroRecipient). */
export function checkRecipient(recipient: string): string {
  if (!isAddress(recipient) || !/^0x[0-9a-fA-F]{40}$/.test(recipient)) {
    throw new Error(`recipient "${recipient}" is not a 0x-prefixed 20-byte EVM address`);
  }
  const a = getAddress(recipient);
  if (a === ZeroAddress) throw new Error("recipient is the zero address: the tunnel never mints to it");
  return a;
}

/** The deposit's OP_RETURN script, `0x6a 0x14 <recipient>`, hex without 0x. */
export function depositOpReturnHex(recipient: string): string {
  return "6a14" + checkRecipient(recipient).slice(2).toLowerCase();
}

/** The payout OP_RETURN script of withdrawal `id`, `0x6a 0x08 <id, 8 bytes big-endian>`, hex without 0x. */
export function payoutOpReturnHex(id: bigint): string {
  if (id <= 0n || id >= 1n << 64n) throw new Error(`withdrawal id ${id} is out of range`);
  return "6a08" + id.toString(16).padStart(16, "0");
}

/** Fee = flat + amount * bps / 10000, capped at the amount (the tunnel's formula for deposits and withdrawals). */
export function tunnelFee(amount: bigint, bps: number, flat: bigint): bigint {
  const fee = flat + (amount * BigInt(bps)) / 10_000n;
  return fee > amount ? amount : fee;
}

/** One output of a deposit transaction that pays a vault's custody script. */
export interface DepositOutput {
  vout: number;
  vaultId: number;
  sats: bigint;
}

/** What the tunnel reads out of a deposit transaction. */
export interface InspectedDeposit {
  /** Display order. */
  txid: string;
  recipient: string;
  outputs: DepositOutput[];
}

/**
 * Reads a deposit transaction as the tunnel does: exactly one OP_RETURN output, exactly 0x6a14 || recipient (not
 * zero), and at least one output paying a custody script (`vaultOfScript`: script hex -> vault id). Throws a
 * NotADepositError otherwise. (Vault status and minimum are checked by the caller, who knows the vaults.)
 */
export function inspectDepositTx(
  raw: string | Uint8Array,
  vaultOfScript: ReadonlyMap<string, number>,
): InspectedDeposit {
  const tx = Transaction.fromBuffer(typeof raw === "string" ? Buffer.from(raw.replace(/^0x/, ""), "hex") : raw);
  const txid = tx.getId();
  let opIndex = -1;
  let recipient = "";
  const outputs: DepositOutput[] = [];
  tx.outs.forEach((o, i) => {
    const s = Buffer.from(o.script);
    if (s.length > 0 && s[0] === 0x6a) {
      if (opIndex >= 0) throw new NotADepositError(txid, `MultipleOpReturns (outputs ${opIndex} and ${i})`);
      opIndex = i;
      if (s.length !== 22 || s[1] !== 0x14) {
        throw new NotADepositError(txid, `MalformedOpReturn (output ${i} is not OP_RETURN PUSH20 <EVM address>)`);
      }
      recipient = getAddress("0x" + s.subarray(2).toString("hex"));
      return;
    }
    const vaultId = vaultOfScript.get(s.toString("hex"));
    if (vaultId !== undefined) outputs.push({ vout: i, vaultId, sats: o.value });
  });
  if (opIndex < 0) throw new NotADepositError(txid, "MissingOpReturn (no OP_RETURN <EVM recipient> output)");
  if (recipient === ZeroAddress) throw new NotADepositError(txid, "ZeroRecipient");
  if (outputs.length === 0) throw new NotADepositError(txid, "no output pays a vault's custody script");
  return { txid, recipient, outputs };
}

/** Virtual size of a deposit transaction with P2WPKH inputs, a custody output, the OP_RETURN and optional change. */
export function depositVsize(inputs: number, custodyScriptBytes: number, changeScriptBytes?: number): number {
  const base = 10.5 + 68 * inputs + (8 + 1 + custodyScriptBytes) + (8 + 1 + 22);
  return Math.ceil(base + (changeScriptBytes === undefined ? 0 : 8 + 1 + changeScriptBytes));
}

export interface BuildDepositOptions {
  /** Coins to spend (P2WPKH, P2PKH or P2TR key-path) with their keys. */
  inputs: readonly UtxoToSpend[];
  /** The vault's custody script, hex. */
  custodyScript: string;
  amountSats: bigint;
  /** EVM address to mint to. */
  recipient: string;
  /** sat/vB. */
  feeRate: number;
  /** Where the rest goes (dropped into the fee when under the dust limit). */
  changeScript: string;
}

/** A signed deposit transaction. */
export interface BuiltDeposit {
  /** Display order. */
  txid: string;
  /** With witnesses, ready for sendrawtransaction. */
  hex: string;
  /** The output paying the custody script. */
  vout: number;
  fee: bigint;
  changeVout: number | undefined;
}

/** Builds and signs a deposit: output 0 pays `amountSats` to the custody script, output 1 is the OP_RETURN. */
export function buildDepositTx(opts: BuildDepositOptions): BuiltDeposit {
  if (opts.amountSats <= 0n) throw new Error(`deposit amount must be positive, got ${opts.amountSats}`);
  if (opts.inputs.length === 0) throw new Error("a deposit needs at least one input to spend");
  const { tx, fee, changeVout } = buildSignedTxWithChange({
    inputs: opts.inputs,
    outputs: [
      { script: opts.custodyScript, value: opts.amountSats },
      { script: depositOpReturnHex(opts.recipient), value: 0n },
    ],
    changeScript: opts.changeScript,
    feeRate: opts.feeRate,
  });
  return { txid: tx.getId(), hex: tx.toHex(), vout: 0, fee, changeVout };
}
