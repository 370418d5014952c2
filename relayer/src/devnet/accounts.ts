import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Wallet, parseEther } from "ethers";
import { z } from "zod";
import { keyFromPrivate, keyOutput, randomKey } from "../bitcoin/txBuilder";
import { minerEvmAddress } from "../pop/popTx";

/** The devnet's own keys, kept in DATADIR/keys.json so that addresses stay the same from one run to the next. */
export interface DevnetKeys {
  /** EVM key of the relayer's serialised sender. */
  relayer: string;
  /** EVM key that deploys the contracts, administers the tunnel and operates the vault. */
  operator: string;
  /** Bitcoin custody key of the operator's vault (32 bytes hex). */
  custody: string;
  /** Bitcoin key of the devnet's PoP miner (32 bytes hex): pays from its P2PKH address, rewarded at its EVM address. */
  popMiner: string;
}

const keysSchema = z.object({
  relayer: z.string().regex(/^0x[0-9a-f]{64}$/),
  operator: z.string().regex(/^0x[0-9a-f]{64}$/),
  custody: z.string().regex(/^[0-9a-f]{64}$/),
  /** Absent in key files of earlier versions: created then. */
  popMiner: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

function newBtcKey(): string {
  return Buffer.from(randomKey().privateKey ?? []).toString("hex");
}

function newEvmKey(): string {
  return Wallet.createRandom().privateKey.toLowerCase();
}

/** Reads DATADIR/keys.json, or creates it (mode 0600) with fresh random keys. */
export function loadOrCreateKeys(datadir: string): { keys: DevnetKeys; file: string; created: boolean } {
  const file = path.join(datadir, "keys.json");
  if (existsSync(file)) {
    const parsed = keysSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) throw new Error(`${file} is not a devnet key file (delete it to get new keys)`);
    if (parsed.data.popMiner !== undefined)
      return { keys: { ...parsed.data, popMiner: parsed.data.popMiner }, file, created: false };
    const keys: DevnetKeys = { ...parsed.data, popMiner: newBtcKey() };
    writeFileSync(file, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
    return { keys, file, created: false };
  }
  const keys: DevnetKeys = {
    relayer: newEvmKey(),
    operator: newEvmKey(),
    custody: newBtcKey(),
    popMiner: newBtcKey(),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
  return { keys, file, created: true };
}

/** An account the devnet funds at start: ETH on the EVM (hardhat_setBalance) and/or BTC from the faucet wallet. */
export interface DevnetAccount {
  name: string;
  evmAddress?: string;
  /** Balance set on the EVM, in wei. */
  wei?: bigint;
  /** Bitcoin address paid from the faucet (one transaction, mined at once). */
  btcAddress?: string;
  btcSats?: bigint;
}

/** The PoP miner's funding, split into DEVNET_POP_MINER_COINS coins (popMinerCoins.ts). */
export const DEVNET_POP_MINER_SATS = 20_000_000n;

/** Balance the devnet gives each of its EVM accounts. */
export const DEVNET_ETH = parseEther("10000");

/**
 * The accounts the devnet funds. Extension point: a role that needs a funded key of its own (the PoP miner's
 * P2PKH key, for example) adds its entry here, from the keys above or from the configuration.
 */
export function devnetAccounts(keys: DevnetKeys): DevnetAccount[] {
  return [
    { name: "relayer", evmAddress: new Wallet(keys.relayer).address, wei: DEVNET_ETH },
    { name: "operator", evmAddress: new Wallet(keys.operator).address, wei: DEVNET_ETH },
    {
      // The vault's custody address holds a little BTC, so payouts can pay their fee before deposits arrive.
      name: "custody",
      btcAddress: keyOutput(keyFromPrivate(keys.custody), "p2wpkh").address,
      btcSats: 100_000_000n,
    },
    {
      name: "pop-miner",
      evmAddress: minerEvmAddress(keyFromPrivate(keys.popMiner)),
      btcAddress: keyOutput(keyFromPrivate(keys.popMiner), "p2pkh").address,
      btcSats: DEVNET_POP_MINER_SATS,
    },
  ];
}
