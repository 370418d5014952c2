/**
 * The vault custody key (VAULT_CUSTODY_KEY): a secp256k1 private key as 64 hex digits (optional 0x) or as WIF
 * (mainnet, testnet or regtest prefix). The custody script is the key's P2WPKH script, the same on every network.
 */
import { networks } from "bitcoinjs-lib";
import { ECPair, keyFromPrivate, keyOutput, type KeyPair } from "../../bitcoin/txBuilder";

/** Parses VAULT_CUSTODY_KEY; throws with a message that never echoes the key. */
export function parseCustodyKey(value: string): KeyPair {
  const v = value.trim();
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(v)) {
    try {
      return keyFromPrivate(v);
    } catch {
      throw new Error("is not a valid secp256k1 private key (out of range)");
    }
  }
  try {
    const key = ECPair.fromWIF(v, [networks.bitcoin, networks.testnet, networks.regtest]);
    if (!key.compressed) throw new Error("uncompressed");
    return key;
  } catch {
    throw new Error("must be 32 bytes of hex (64 hex digits, optional 0x) or a compressed-key WIF");
  }
}

/** The P2WPKH custody script of a key, lowercase hex without 0x. */
export function custodyScriptOf(key: KeyPair): string {
  return keyOutput(key, "p2wpkh").script.toString("hex");
}
