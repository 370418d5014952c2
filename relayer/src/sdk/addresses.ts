/**
 * Bitcoin addresses <-> output scripts for mainnet, testnet and regtest (bech32, bech32m and base58), with errors
 * that say what is wrong with an address. Scripts are hex without 0x at this edge.
 */
import { address as btcAddress, networks, type Network } from "bitcoinjs-lib";

/** The Bitcoin networks the light client supports (the deployment file's `anchor.network`). */
export type BitcoinNetworkName = "mainnet" | "testnet" | "regtest";

/** An address that is malformed or belongs to another network. */
export class AddressError extends Error {
  constructor(
    message: string,
    readonly address: string,
  ) {
    super(message);
    this.name = "AddressError";
  }
}

/** bitcoinjs-lib's parameters of a network. */
export function networkParams(name: BitcoinNetworkName): Network {
  switch (name) {
    case "mainnet":
      return networks.bitcoin;
    case "testnet":
      return networks.testnet;
    case "regtest":
      return networks.regtest;
  }
}

/**
 * Maps bitcoind's getblockchaininfo `chain` ("main", "test", "testnet4", "regtest") to a network name. Signet is
 * refused: its addresses look like testnet's, but its blocks (signed, with a far easier proof-of-work limit) are not
 * what the light client's Testnet rules accept, so no tunnel can run on it.
 */
export function networkOfChainName(chain: string): BitcoinNetworkName {
  if (chain === "main") return "mainnet";
  if (chain === "test" || chain === "testnet4") return "testnet";
  if (chain === "regtest") return "regtest";
  if (chain === "signet") {
    throw new Error(
      `Bitcoin chain "signet" is not supported (the light client has no signet rules); use main, test, testnet4 or regtest`,
    );
  }
  throw new Error(`unsupported Bitcoin chain "${chain}" (expected main, test, testnet4 or regtest)`);
}

/** The address network of a light-client network: testnet4 uses testnet's address formats (tb1..., m/n/2...). */
export function addressNetworkOf(network: BitcoinNetworkName | "testnet4"): BitcoinNetworkName {
  return network === "testnet4" ? "testnet" : network;
}

const BECH32_PREFIXES: Record<string, BitcoinNetworkName> = { bc: "mainnet", tb: "testnet", bcrt: "regtest" };

/** The network an address looks like it belongs to, or undefined when it looks like none. */
function guessNetwork(addr: string): BitcoinNetworkName | undefined {
  const lower = addr.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep > 0 && BECH32_PREFIXES[lower.slice(0, sep)] !== undefined) return BECH32_PREFIXES[lower.slice(0, sep)];
  if (/^[13]/.test(addr)) return "mainnet";
  if (/^[mn2]/.test(addr)) return "testnet"; // testnet and regtest share base58 versions
  return undefined;
}

/**
 * The output script of `addr` on `network`, hex. Throws an AddressError that names the problem: empty, another
 * network's address, or not a valid address (bad checksum or characters).
 */
export function addressToScriptHex(addr: string, network: BitcoinNetworkName): string {
  const a = addr.trim();
  if (a === "") throw new AddressError("empty Bitcoin address", addr);
  try {
    return Buffer.from(btcAddress.toOutputScript(a, networkParams(network))).toString("hex");
  } catch (err) {
    const guessed = guessNetwork(a);
    const sameBase58 = guessed === "testnet" && network === "regtest";
    if (guessed !== undefined && guessed !== network && !sameBase58) {
      throw new AddressError(`${a} is a ${guessed} address, but this tunnel is on ${network}`, addr);
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new AddressError(`${a} is not a valid ${network} Bitcoin address (${why})`, addr);
  }
}

/** The address of an output script on `network`, or undefined when the script has no address form (OP_RETURN...). */
export function scriptHexToAddress(scriptHex: string, network: BitcoinNetworkName): string | undefined {
  try {
    return btcAddress.fromOutputScript(Buffer.from(scriptHex.replace(/^0x/, ""), "hex"), networkParams(network));
  } catch {
    return undefined;
  }
}

/**
 * A withdrawal destination given as an address or as a raw script (0x-hex): the script hex. Raw scripts are passed
 * through (the tunnel checks their kind); anything else must be an address of `network`.
 */
export function destinationScriptHex(to: string, network: BitcoinNetworkName): string {
  if (/^0x([0-9a-fA-F]{2})+$/.test(to)) return to.slice(2).toLowerCase();
  return addressToScriptHex(to, network);
}
