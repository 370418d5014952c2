/**
 * Signature checks for the spends the node accepts: P2PK, P2PKH, P2WPKH, P2SH-P2WPKH and P2TR key path.
 * Signature hashes come from bitcoinjs-lib (legacy, BIP143, BIP341); signatures are checked with
 * tiny-secp256k1 (strict DER and low S for ECDSA, BIP340 for Schnorr). Failures carry Bitcoin Core's
 * script error strings.
 */
import { crypto as btcCrypto, script as btcScript, Transaction } from "bitcoinjs-lib";
import * as ecc from "tiny-secp256k1";
import { classifyScript } from "./script";

/** A spent output as signature checks need it. */
export interface Prevout {
  script: Uint8Array;
  value: bigint;
}

/** A script failure, with Bitcoin Core's ScriptErrorString text. */
export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScriptError";
  }
}

const EVAL_FALSE = "Script evaluated without error but finished with a false/empty top stack element";

function decodeEcdsa(sigWithType: Uint8Array): { signature: Uint8Array; hashType: number } {
  if (!btcScript.isCanonicalScriptSignature(sigWithType)) throw new ScriptError("Non-canonical DER signature");
  const decoded = btcScript.signature.decode(sigWithType);
  if (!btcScript.isDefinedHashType(decoded.hashType)) throw new ScriptError("Non-canonical DER signature");
  return decoded;
}

function checkEcdsa(hash: Uint8Array, pubkey: Uint8Array, signature: Uint8Array): boolean {
  if (!ecc.isPoint(pubkey)) return false;
  // strict = true rejects high-S signatures (LOW_S is a standardness rule of Bitcoin Core).
  return ecc.verify(hash, pubkey, signature, true);
}

function pushes(scriptSig: Uint8Array): Uint8Array[] {
  const chunks = btcScript.decompile(scriptSig);
  if (chunks === null) throw new ScriptError("Opcode missing or not understood");
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (typeof c === "number") {
      if (c === 0) out.push(new Uint8Array(0));
      else throw new ScriptError("Only push operators allowed in signatures");
    } else out.push(c);
  }
  return out;
}

function p2pkhScript(hash: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from("76a914", "hex"), hash, Buffer.from("88ac", "hex")]);
}

function verifyP2wpkh(tx: Transaction, index: number, program: Uint8Array, value: bigint): void {
  const w = tx.ins[index].witness;
  if (w.length !== 2) throw new ScriptError("Witness program hash mismatch");
  const [sig, pubkey] = w;
  if (pubkey.length !== 33) throw new ScriptError("Using non-compressed keys in segwit");
  if (!Buffer.from(btcCrypto.hash160(pubkey)).equals(program)) throw new ScriptError("Witness program hash mismatch");
  if (sig.length === 0) throw new ScriptError(EVAL_FALSE);
  const { signature, hashType } = decodeEcdsa(sig);
  const hash = tx.hashForWitnessV0(index, p2pkhScript(program), value, hashType);
  if (!checkEcdsa(hash, pubkey, signature)) throw new ScriptError(EVAL_FALSE);
}

/**
 * Verifies input `index` of `tx` against its prevout. `prevouts` lists every input's spent output (BIP341
 * commits to all of them). Throws ScriptError on failure.
 */
export function verifyInput(tx: Transaction, index: number, prevouts: readonly Prevout[]): void {
  const input = tx.ins[index];
  const prev = prevouts[index];
  const spk = Buffer.from(prev.script);
  const type = classifyScript(spk);
  switch (type) {
    case "pubkeyhash": {
      if (input.witness.length > 0) throw new ScriptError("Witness provided for non-witness script");
      const stack = pushes(input.script);
      if (stack.length !== 2)
        throw new ScriptError(
          stack.length < 2
            ? "Operation not valid with the current stack size"
            : "Stack size must be exactly one after execution",
        );
      const [sig, pubkey] = stack;
      if (!Buffer.from(btcCrypto.hash160(pubkey)).equals(spk.subarray(3, 23)))
        throw new ScriptError("Script failed an OP_EQUALVERIFY operation");
      if (sig.length === 0) throw new ScriptError(EVAL_FALSE);
      const { signature, hashType } = decodeEcdsa(sig);
      const hash = tx.hashForSignature(index, spk, hashType);
      if (!checkEcdsa(hash, pubkey, signature)) throw new ScriptError(EVAL_FALSE);
      return;
    }
    case "pubkey": {
      if (input.witness.length > 0) throw new ScriptError("Witness provided for non-witness script");
      const stack = pushes(input.script);
      if (stack.length !== 1) throw new ScriptError("Stack size must be exactly one after execution");
      if (stack[0].length === 0) throw new ScriptError(EVAL_FALSE);
      const { signature, hashType } = decodeEcdsa(stack[0]);
      const hash = tx.hashForSignature(index, spk, hashType);
      if (!checkEcdsa(hash, spk.subarray(1, spk.length - 1), signature)) throw new ScriptError(EVAL_FALSE);
      return;
    }
    case "witness_v0_keyhash": {
      if (input.script.length !== 0) throw new ScriptError("Witness requires empty scriptSig");
      verifyP2wpkh(tx, index, spk.subarray(2), prev.value);
      return;
    }
    case "scripthash": {
      const stack = pushes(input.script);
      if (stack.length !== 1) throw new ScriptError("Witness requires only-redeemscript scriptSig");
      const redeem = Buffer.from(stack[0]);
      if (!Buffer.from(btcCrypto.hash160(redeem)).equals(spk.subarray(2, 22))) throw new ScriptError(EVAL_FALSE);
      if (classifyScript(redeem) !== "witness_v0_keyhash")
        throw new ScriptError("unsupported P2SH redeem script (this node verifies P2SH-P2WPKH only)");
      verifyP2wpkh(tx, index, redeem.subarray(2), prev.value);
      return;
    }
    case "witness_v1_taproot": {
      if (input.script.length !== 0) throw new ScriptError("Witness requires empty scriptSig");
      let stack = input.witness.slice();
      let annex: Uint8Array | undefined;
      if (stack.length >= 2 && stack[stack.length - 1].length > 0 && stack[stack.length - 1][0] === 0x50) {
        annex = stack[stack.length - 1];
        stack = stack.slice(0, -1);
      }
      if (stack.length === 0) throw new ScriptError("Witness program was passed an empty witness");
      if (stack.length !== 1)
        throw new ScriptError("unsupported taproot script-path spend (this node verifies key-path spends only)");
      const sig = stack[0];
      let hashType = Transaction.SIGHASH_DEFAULT;
      if (sig.length === 65) {
        hashType = sig[64];
        if (hashType === Transaction.SIGHASH_DEFAULT) throw new ScriptError("Invalid Schnorr signature hash type");
      } else if (sig.length !== 64) throw new ScriptError("Invalid Schnorr signature size");
      const outType = hashType & Transaction.SIGHASH_OUTPUT_MASK;
      if (!(hashType <= 0x03 || (hashType >= 0x81 && hashType <= 0x83)))
        throw new ScriptError("Invalid Schnorr signature hash type");
      if (outType === Transaction.SIGHASH_SINGLE && index >= tx.outs.length)
        throw new ScriptError("Invalid Schnorr signature hash type");
      const hash = tx.hashForWitnessV1(
        index,
        prevouts.map((p) => p.script),
        prevouts.map((p) => p.value),
        hashType,
        undefined,
        annex,
      );
      if (!ecc.verifySchnorr(hash, spk.subarray(2), sig.subarray(0, 64)))
        throw new ScriptError("Invalid Schnorr signature");
      return;
    }
    default:
      throw new ScriptError(
        `unsupported script type ${type} (this node verifies P2PK, P2PKH, P2WPKH, P2SH-P2WPKH and P2TR key-path spends)`,
      );
  }
}
