/**
 * Building and signing Bitcoin transactions with bitcoinjs-lib for tests, scripts and the embedded
 * node's wallet: P2WPKH, P2PKH and P2TR key-path inputs, any output script, OP_RETURN outputs.
 * Txids are display order at this edge, as bitcoind shows them.
 */
import { crypto as btcCrypto, initEccLib, payments, script as btcScript, Transaction } from "bitcoinjs-lib";
import { ECPairFactory, type ECPairInterface } from "ecpair";
import * as ecc from "tiny-secp256k1";
import { addressToScript, classifyScript, REGTEST } from "./node/script";

initEccLib(ecc);

/** ECPair bound to tiny-secp256k1. */
export const ECPair = ECPairFactory(ecc);
export type KeyPair = ECPairInterface;

/** The spend types this builder signs ("p2sh-p2wpkh": Bitcoin Core's p2sh-segwit address type). */
export type SpendType = "p2wpkh" | "p2pkh" | "p2tr" | "p2sh-p2wpkh";

/** A new random regtest key. */
export function randomKey(): KeyPair {
  return ECPair.makeRandom({ network: REGTEST });
}

/** A key from a 32-byte private key (hex or bytes). */
export function keyFromPrivate(priv: string | Uint8Array): KeyPair {
  const bytes = typeof priv === "string" ? Buffer.from(priv.replace(/^0x/, ""), "hex") : priv;
  return ECPair.fromPrivateKey(bytes, { network: REGTEST });
}

/** The 32-byte x-only form of a compressed public key. */
export function xOnly(pubkey: Uint8Array): Buffer {
  return Buffer.from(pubkey.subarray(1, 33));
}

/** Address and output script of a key for one spend type (P2TR: BIP86-style key path, no script tree). */
export function keyOutput(key: KeyPair, type: SpendType): { address: string; script: Buffer } {
  const p =
    type === "p2wpkh"
      ? payments.p2wpkh({ pubkey: key.publicKey, network: REGTEST })
      : type === "p2pkh"
        ? payments.p2pkh({ pubkey: key.publicKey, network: REGTEST })
        : type === "p2sh-p2wpkh"
          ? payments.p2sh({ redeem: payments.p2wpkh({ pubkey: key.publicKey, network: REGTEST }), network: REGTEST })
          : payments.p2tr({ internalPubkey: xOnly(key.publicKey), network: REGTEST });
  if (p.address === undefined || p.output === undefined) throw new Error(`cannot derive ${type} output`);
  return { address: p.address, script: Buffer.from(p.output) };
}

/** `OP_RETURN <data>` as one push. */
export function opReturnScript(data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data.replace(/^0x/, ""), "hex") : Buffer.from(data);
  return Buffer.from(btcScript.compile([btcScript.OPS.OP_RETURN, bytes]));
}

/** The spend type of an output script this builder can sign, or undefined. */
export function spendTypeOf(script: Uint8Array): SpendType | undefined {
  switch (classifyScript(script)) {
    case "witness_v0_keyhash":
      return "p2wpkh";
    case "pubkeyhash":
      return "p2pkh";
    case "witness_v1_taproot":
      return "p2tr";
    default:
      return undefined;
  }
}

/** An output to spend and the key that controls it. */
export interface UtxoToSpend {
  /** Display-order txid. */
  txid: string;
  vout: number;
  value: bigint;
  /** Output script (bytes or hex). */
  script: Uint8Array | string;
  key: KeyPair;
  sequence?: number;
}

/** An output to create: to an address, to a raw script, or OP_RETURN data (value 0 unless given). */
export type OutputSpec =
  | { address: string; value: bigint }
  | { script: Uint8Array | string; value: bigint }
  | { opReturn: Uint8Array | string; value?: bigint };

function outputScript(o: OutputSpec): Buffer {
  if ("address" in o) return addressToScript(o.address);
  if ("script" in o)
    return typeof o.script === "string" ? Buffer.from(o.script.replace(/^0x/, ""), "hex") : Buffer.from(o.script);
  return opReturnScript(o.opReturn);
}

function scriptBytes(s: Uint8Array | string): Buffer {
  return typeof s === "string" ? Buffer.from(s.replace(/^0x/, ""), "hex") : Buffer.from(s);
}

/** Signs input `index` (SIGHASH_ALL, or SIGHASH_DEFAULT for taproot) given every input's prevout. */
export function signInput(
  tx: Transaction,
  index: number,
  key: KeyPair,
  prevouts: readonly { script: Uint8Array; value: bigint }[],
): void {
  const script = prevouts[index].script;
  const type =
    spendTypeOf(script) ??
    (classifyScript(script) === "scripthash" && keyOutput(key, "p2sh-p2wpkh").script.equals(script)
      ? "p2sh-p2wpkh"
      : undefined);
  if (type === "p2sh-p2wpkh") {
    const redeem = payments.p2wpkh({ pubkey: key.publicKey }).output as Uint8Array;
    const scriptCode = payments.p2pkh({ pubkey: key.publicKey }).output as Uint8Array;
    const hash = tx.hashForWitnessV0(index, scriptCode, prevouts[index].value, Transaction.SIGHASH_ALL);
    const sig = btcScript.signature.encode(key.sign(hash), Transaction.SIGHASH_ALL);
    tx.setWitness(index, [sig, key.publicKey]);
    tx.setInputScript(index, btcScript.compile([redeem]));
  } else if (type === "p2wpkh") {
    const scriptCode = payments.p2pkh({ pubkey: key.publicKey }).output as Uint8Array;
    const hash = tx.hashForWitnessV0(index, scriptCode, prevouts[index].value, Transaction.SIGHASH_ALL);
    const sig = btcScript.signature.encode(key.sign(hash), Transaction.SIGHASH_ALL);
    tx.setWitness(index, [sig, key.publicKey]);
  } else if (type === "p2pkh") {
    const hash = tx.hashForSignature(index, script, Transaction.SIGHASH_ALL);
    const sig = btcScript.signature.encode(key.sign(hash), Transaction.SIGHASH_ALL);
    tx.setInputScript(index, btcScript.compile([sig, key.publicKey]));
  } else if (type === "p2tr") {
    const tweak = btcCrypto.taggedHash("TapTweak", xOnly(key.publicKey));
    const tweaked = key.tweak(tweak);
    const hash = tx.hashForWitnessV1(
      index,
      prevouts.map((p) => p.script),
      prevouts.map((p) => p.value),
      Transaction.SIGHASH_DEFAULT,
    );
    tx.setWitness(index, [tweaked.signSchnorr(hash)]);
  } else {
    throw new Error(`cannot sign input ${index}: unsupported output script ${Buffer.from(script).toString("hex")}`);
  }
}

export interface BuildOptions {
  inputs: readonly UtxoToSpend[];
  outputs: readonly OutputSpec[];
  version?: number;
  locktime?: number;
}

/** Builds and signs a transaction spending exactly `inputs` into exactly `outputs` (the difference is the fee). */
export function buildSignedTx(opts: BuildOptions): Transaction {
  const tx = new Transaction();
  tx.version = opts.version ?? 2;
  tx.locktime = opts.locktime ?? 0;
  for (const i of opts.inputs) tx.addInput(Buffer.from(i.txid, "hex").reverse(), i.vout, i.sequence ?? 0xfffffffd);
  for (const o of opts.outputs) tx.addOutput(outputScript(o), "value" in o && o.value !== undefined ? o.value : 0n);
  const prevouts = opts.inputs.map((i) => ({ script: scriptBytes(i.script), value: i.value }));
  opts.inputs.forEach((i, idx) => signInput(tx, idx, i.key, prevouts));
  return tx;
}

/** Approximate virtual size of a signed input of each type (P2PKH with a 72-byte signature, upper bound). */
const INPUT_VBYTES: Record<SpendType, number> = { p2wpkh: 68, p2pkh: 148, p2tr: 58, "p2sh-p2wpkh": 91 };

/**
 * Builds and signs a transaction paying `outputs` from `inputs` at `feeRate` sat/vB, sending the rest
 * to `changeScript` when it is above dust (else it goes to the fee). Throws when the inputs do not cover it.
 */
export function buildSignedTxWithChange(opts: BuildOptions & { changeScript: Uint8Array | string; feeRate: number }): {
  tx: Transaction;
  fee: bigint;
  changeVout: number | undefined;
} {
  const unsigned = new Transaction();
  for (const i of opts.inputs) unsigned.addInput(Buffer.from(i.txid, "hex").reverse(), i.vout);
  for (const o of opts.outputs)
    unsigned.addOutput(outputScript(o), "value" in o && o.value !== undefined ? o.value : 0n);
  const types = opts.inputs.map((i) => spendTypeOf(scriptBytes(i.script)) ?? "p2pkh");
  const anyWitness = types.some((t) => t !== "p2pkh");
  const nonInput = unsigned.byteLength(false) - 41 * opts.inputs.length + (anyWitness ? 1 : 0);
  const inputVbytes = types.reduce((s, t) => s + INPUT_VBYTES[t], 0);
  const changeScript = scriptBytes(opts.changeScript);
  const changeVbytes = 8 + 1 + changeScript.length;
  const totalIn = opts.inputs.reduce((s, i) => s + i.value, 0n);
  const totalOut = opts.outputs.reduce((s, o) => s + ("value" in o && o.value !== undefined ? o.value : 0n), 0n);
  const rate = BigInt(Math.ceil(opts.feeRate * 1000));
  const feeWithChange = (BigInt(nonInput + inputVbytes + changeVbytes) * rate + 999n) / 1000n;
  const change = totalIn - totalOut - feeWithChange;
  if (change >= 546n) {
    const tx = buildSignedTx({ ...opts, outputs: [...opts.outputs, { script: changeScript, value: change }] });
    return { tx, fee: totalIn - totalOut - change, changeVout: opts.outputs.length };
  }
  const feeNoChange = (BigInt(nonInput + inputVbytes) * rate + 999n) / 1000n;
  if (totalIn - totalOut < feeNoChange)
    throw new Error(`insufficient funds: inputs ${totalIn} sat < outputs ${totalOut} sat + fee ${feeNoChange} sat`);
  const base = buildSignedTx(opts);
  return { tx: base, fee: totalIn - totalOut, changeVout: undefined };
}
