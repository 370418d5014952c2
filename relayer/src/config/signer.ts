import { readFileSync } from "node:fs";
import { Wallet, type Provider } from "ethers";
import { ConfigError } from "./load";
import type { FabricConfig } from "./schema";

/** The relayer's EVM signer from RELAYER_PRIVATE_KEY or an encrypted JSON keystore (RELAYER_KEYSTORE). */
export async function loadSigner(cfg: FabricConfig, provider: Provider): Promise<Wallet> {
  if (cfg.RELAYER_PRIVATE_KEY !== undefined) {
    const key = cfg.RELAYER_PRIVATE_KEY.startsWith("0x") ? cfg.RELAYER_PRIVATE_KEY : `0x${cfg.RELAYER_PRIVATE_KEY}`;
    return new Wallet(key, provider);
  }
  if (cfg.RELAYER_KEYSTORE !== undefined) {
    let json: string;
    try {
      json = readFileSync(cfg.RELAYER_KEYSTORE, "utf8");
    } catch (err) {
      throw new ConfigError(`RELAYER_KEYSTORE: cannot read ${cfg.RELAYER_KEYSTORE}: ${(err as Error).message}`, [
        "RELAYER_KEYSTORE",
      ]);
    }
    try {
      const wallet = await Wallet.fromEncryptedJson(json, cfg.RELAYER_KEYSTORE_PASSWORD ?? "");
      return new Wallet(wallet.privateKey, provider);
    } catch (err) {
      throw new ConfigError(
        `RELAYER_KEYSTORE: cannot decrypt ${cfg.RELAYER_KEYSTORE} with RELAYER_KEYSTORE_PASSWORD: ${(err as Error).message}`,
        ["RELAYER_KEYSTORE", "RELAYER_KEYSTORE_PASSWORD"],
      );
    }
  }
  throw new ConfigError("RELAYER_PRIVATE_KEY: is required (or set RELAYER_KEYSTORE and RELAYER_KEYSTORE_PASSWORD)", [
    "RELAYER_PRIVATE_KEY",
  ]);
}
