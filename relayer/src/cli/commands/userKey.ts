import { readFileSync } from "node:fs";
import { Wallet } from "ethers";
import { ConfigError } from "../../config/load";
import type { ParsedArgs } from "./args";

/**
 * The user's EVM key for commands that spend the user's tokens (withdraw): --private-key, else --keystore FILE
 * (password in USER_KEYSTORE_PASSWORD), else USER_PRIVATE_KEY. Never RELAYER_PRIVATE_KEY: the relayer's key pays the
 * relayer's gas and must not burn anyone's hemiBTC by accident.
 */
export async function userKey(parsed: ParsedArgs, env: NodeJS.ProcessEnv): Promise<string> {
  const given = parsed.values.get("private-key");
  const keystore = parsed.values.get("keystore");
  if (given !== undefined && keystore !== undefined) {
    throw new ConfigError("give --private-key or --keystore, not both", ["private-key", "keystore"]);
  }
  if (given !== undefined) return given;
  if (keystore !== undefined) {
    let json: string;
    try {
      json = readFileSync(keystore, "utf8");
    } catch (err) {
      throw new ConfigError(`--keystore: cannot read ${keystore}: ${(err as Error).message}`, ["keystore"]);
    }
    try {
      return (await Wallet.fromEncryptedJson(json, env.USER_KEYSTORE_PASSWORD ?? "")).privateKey;
    } catch (err) {
      throw new ConfigError(
        `--keystore: cannot decrypt ${keystore} with USER_KEYSTORE_PASSWORD: ${(err as Error).message}`,
        ["keystore", "USER_KEYSTORE_PASSWORD"],
      );
    }
  }
  const k = env.USER_PRIVATE_KEY;
  if (k !== undefined && k !== "") return k;
  throw new ConfigError(
    "the user's EVM key is needed: --private-key 0x..., --keystore file.json (password in USER_KEYSTORE_PASSWORD) or " +
      "USER_PRIVATE_KEY; withdraw never signs with RELAYER_PRIVATE_KEY",
    ["private-key", "keystore", "USER_PRIVATE_KEY"],
  );
}
