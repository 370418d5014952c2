/**
 * The PoP miner's Bitcoin transaction, in popm's shape (HEMI-FACTS.md §3.3): version 2, locktime = the Bitcoin
 * tip height, exactly one P2PKH input of the miner's key (SIGHASH_ALL, legacy signing), outputs [change back to
 * the miner's P2PKH script, only when not dust] then `6a 4c 50 "HEMI" <76-byte keystone>` (83 bytes, value 0).
 * The miner's EVM address is the address of the same secp256k1 key. Txids are display order at this edge.
 */
import { crypto as btcCrypto, script as btcScript, Transaction } from "bitcoinjs-lib";
import { computeAddress } from "ethers";
import * as ecc from "tiny-secp256k1";
import { dustThreshold } from "../bitcoin/node/mempool";
import { keyOutput, type KeyPair } from "../bitcoin/txBuilder";
import { decodeKeystone, KEYSTONE_ABBREV_LENGTH, type Keystone } from "./keystone";

/** ASCII "HEMI". */
export const POP_MAGIC = Buffer.from("HEMI", "ascii");
/** Length of the PoP OP_RETURN script. */
export const POP_SCRIPT_LENGTH = 83;
/** OP_RETURN OP_PUSHDATA1 80: the PoP script's first three bytes. */
export const POP_SCRIPT_HEAD = Buffer.from([0x6a, 0x4c, 0x50]);
/** PoP transaction version (popm). */
export const POP_TX_VERSION = 2;
/** Input sequence: 0xfffffffd signals BIP125 replaceability (so a stuck PoP transaction can be fee-bumped). */
export const POP_INPUT_SEQUENCE = 0xfffffffd;
/** Signature push lengths accepted (DER + sighash byte), as PopVerifier checks them. */
export const POP_SIG_LENGTHS = { min: 71, max: 73 } as const;

/** The 83-byte PoP script: `6a 4c 50 48454d49 <abbrev>`. */
export function popScript(abbrev: Uint8Array): Buffer {
  if (abbrev.length !== KEYSTONE_ABBREV_LENGTH)
    throw new Error(`abbreviated keystone must be ${KEYSTONE_ABBREV_LENGTH} bytes, got ${abbrev.length}`);
  return Buffer.concat([POP_SCRIPT_HEAD, POP_MAGIC, abbrev]);
}

/** The keystone abbreviation a script carries when it is exactly the PoP script shape, else undefined. */
export function keystoneOfScript(script: Uint8Array): Buffer | undefined {
  const s = Buffer.from(script);
  if (s.length !== POP_SCRIPT_LENGTH) return undefined;
  if (!s.subarray(0, 3).equals(POP_SCRIPT_HEAD) || !s.subarray(3, 7).equals(POP_MAGIC)) return undefined;
  return Buffer.from(s.subarray(7));
}

/**
 * Virtual size of a PoP transaction (legacy, so size = vsize): version 4 + input count 1 + the P2PKH input
 * (36 outpoint + 1 + scriptSig(1 + sigLen + 1 + 33) + 4 sequence) + output count 1 + [change 34] + PoP output
 * (8 + 1 + 83) + locktime 4. `sigLen` is the signature push (DER + sighash byte): 73 gives an upper bound.
 */
export function estimatePopVsize(withChange: boolean, sigLen: number = POP_SIG_LENGTHS.max): number {
  const input = 36 + 1 + (1 + sigLen + 1 + 33) + 4;
  return 4 + 1 + input + 1 + (withChange ? 8 + 1 + 25 : 0) + (8 + 1 + POP_SCRIPT_LENGTH) + 4;
}

/** Fee in sats of `vsize` vbytes at `feeRate` sat/vB (rounded up; fractional rates allowed). */
export function feeFor(vsize: number, feeRate: number): bigint {
  if (!(feeRate > 0) || !Number.isFinite(feeRate)) throw new Error(`fee rate must be positive, got ${feeRate}`);
  return (BigInt(vsize) * BigInt(Math.ceil(feeRate * 1000)) + 999n) / 1000n;
}

/** The miner's funding output (the first of its P2PKH outputs that covers the fee, as popm picks it). */
export interface PopUtxo {
  /** Display-order txid. */
  txid: string;
  vout: number;
  value: bigint;
}

export interface BuildPopTxOptions {
  /** The 76-byte abbreviated keystone. */
  abbrev: Uint8Array;
  utxo: PopUtxo;
  /** The miner's key: the UTXO must pay its P2PKH script; change returns there. */
  key: KeyPair;
  /** Bitcoin tip height (the locktime). */
  tipHeight: number;
  /** sat/vB. */
  feeRate: number;
  /** Input sequence; default POP_INPUT_SEQUENCE (BIP125-replaceable). */
  sequence?: number;
}

export interface PopTx {
  tx: Transaction;
  hex: string;
  /** Display order. */
  txid: string;
  fee: bigint;
  vsize: number;
  /** Change returned to the miner (0n when below dust and left to the fee). */
  change: bigint;
  /** Index of the PoP output. */
  popVout: number;
}

/** Signs with grinding of the nonce's extra entropy until the signature push is 71..73 bytes (PopVerifier's rule). */
function signP2pkh(tx: Transaction, key: KeyPair, prevScript: Buffer): Buffer {
  if (key.privateKey === undefined) throw new Error("the miner key has no private key");
  const hash = tx.hashForSignature(0, prevScript, Transaction.SIGHASH_ALL);
  for (let i = 0; i < 256; i++) {
    const entropy = Buffer.alloc(32);
    entropy.writeUInt32BE(i, 28);
    const sig = ecc.sign(hash, key.privateKey, i === 0 ? undefined : entropy);
    const encoded = Buffer.from(btcScript.signature.encode(sig, Transaction.SIGHASH_ALL));
    if (encoded.length >= POP_SIG_LENGTHS.min && encoded.length <= POP_SIG_LENGTHS.max) return encoded;
  }
  throw new Error("could not produce a 71..73-byte signature");
}

/**
 * Builds and signs popm's transaction. Throws when the UTXO does not cover the fee. The fee is priced on the
 * largest signature (73 bytes), so the real fee rate is at least `feeRate`.
 */
export function buildPopTx(opts: BuildPopTxOptions): PopTx {
  if (!Number.isInteger(opts.tipHeight) || opts.tipHeight < 0 || opts.tipHeight >= 500_000_000)
    throw new Error(`tip height must be a block height below 500000000, got ${opts.tipHeight}`);
  const minerScript = keyOutput(opts.key, "p2pkh").script;
  const pop = popScript(opts.abbrev);
  const feeWithChange = feeFor(estimatePopVsize(true), opts.feeRate);
  const feeNoChange = feeFor(estimatePopVsize(false), opts.feeRate);
  const change = opts.utxo.value - feeWithChange;
  const withChange = change >= dustThreshold(minerScript);
  if (!withChange && opts.utxo.value < feeNoChange)
    throw new Error(`UTXO of ${opts.utxo.value} sat does not cover the PoP fee of ${feeNoChange} sat`);

  const tx = new Transaction();
  tx.version = POP_TX_VERSION;
  tx.locktime = opts.tipHeight;
  tx.addInput(Buffer.from(opts.utxo.txid, "hex").reverse(), opts.utxo.vout, opts.sequence ?? POP_INPUT_SEQUENCE);
  if (withChange) tx.addOutput(minerScript, change);
  tx.addOutput(pop, 0n);
  const sig = signP2pkh(tx, opts.key, minerScript);
  tx.setInputScript(0, btcScript.compile([sig, opts.key.publicKey]));
  return {
    tx,
    hex: tx.toHex(),
    txid: tx.getId(),
    fee: withChange ? feeWithChange : opts.utxo.value,
    vsize: tx.virtualSize(),
    change: withChange ? change : 0n,
    popVout: withChange ? 1 : 0,
  };
}

/** What a PoP transaction carries. */
export interface ParsedPopTx {
  abbrev: Buffer;
  keystone: Keystone;
  /** The miner's 33-byte compressed public key (from the input's scriptSig). */
  pubkey: Buffer;
  /** The miner's EVM address (checksummed): the address of the same key. */
  minerAddress: string;
  /** The miner's P2PKH script. */
  minerScript: Buffer;
  popVout: number;
  version: number;
  locktime: number;
}

/** The 33-byte key of a `<sig 71..73> <compressed key>` scriptSig, or undefined. */
export function p2pkhScriptSigKey(scriptSig: Uint8Array): Buffer | undefined {
  const s = Buffer.from(scriptSig);
  if (s.length < 1) return undefined;
  const sigLen = s[0];
  if (sigLen < POP_SIG_LENGTHS.min || sigLen > POP_SIG_LENGTHS.max || s.length !== sigLen + 35) return undefined;
  if (s[1] !== 0x30 || s[sigLen + 1] !== 33 || (s[sigLen + 2] !== 0x02 && s[sigLen + 2] !== 0x03)) return undefined;
  return Buffer.from(s.subarray(sigLen + 2));
}

/** Parses a PoP transaction (object, hex or bytes) by PopVerifier's rules; throws with the reason otherwise. */
export function parsePopTx(input: Transaction | string | Uint8Array): ParsedPopTx {
  const tx =
    input instanceof Transaction
      ? input
      : Transaction.fromBuffer(typeof input === "string" ? Buffer.from(input.replace(/^0x/, ""), "hex") : input);
  if (tx.ins.length !== 1) throw new Error(`a PoP transaction has exactly one input, this one has ${tx.ins.length}`);
  const pubkey = p2pkhScriptSigKey(tx.ins[0].script);
  if (pubkey === undefined) throw new Error("the PoP transaction's input is not a P2PKH spend with a compressed key");
  let popVout = -1;
  let abbrev: Buffer | undefined;
  tx.outs.forEach((o, i) => {
    const k = keystoneOfScript(o.script);
    if (k === undefined) return;
    if (abbrev !== undefined) throw new Error(`two HEMI outputs (${popVout} and ${i}); a PoP transaction has one`);
    abbrev = k;
    popVout = i;
  });
  if (abbrev === undefined) throw new Error("no HEMI output");
  if (!ecc.isPoint(pubkey)) throw new Error("the PoP transaction's public key is not a point on secp256k1");
  return {
    abbrev,
    keystone: decodeKeystone(abbrev),
    pubkey,
    minerAddress: minerEvmAddress(pubkey),
    minerScript: p2pkhScriptOf(pubkey),
    popVout,
    version: tx.version,
    locktime: tx.locktime,
  };
}

/** The P2PKH script of a public key: `76 a9 14 <hash160> 88 ac`. */
export function p2pkhScriptOf(pubkey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x76, 0xa9, 0x14]), btcCrypto.hash160(pubkey), Buffer.from([0x88, 0xac])]);
}

/** EVM address of a miner key (the address PopVerifier derives on chain). */
export function minerEvmAddress(key: KeyPair | Uint8Array): string {
  const pub = key instanceof Uint8Array ? key : key.publicKey;
  return computeAddress("0x" + Buffer.from(pub).toString("hex"));
}
