import { BitcoinRpcClient } from "../../bitcoin/rpcClient";
import { errorMessage } from "../../core/logger";
import { ConfigError } from "../../config/load";
import type { Command } from "../main";
import { fail, intOption, loadCliConfig, parseArgs } from "./tunnelCommon";
import type { CommandHelp } from "./args";

/** Blocks per generatetoaddress call (a progress line after each when mining more). */
const CHUNK = 100;
/** Blocks before a coinbase output can be spent (Bitcoin's consensus rule). */
const COINBASE_MATURITY = 100;

const HELP: CommandHelp = {
  usage: "hemi-fabric mine [--blocks N] [--to <bitcoin address>] [--config file.json]",
  description:
    "Mines regtest blocks on the Bitcoin node of BITCOIN_RPC_URL (the embedded node or a bitcoind in regtest mode): " +
    "to confirm deposits and payouts, and to fund the node's wallet (a block's reward is spendable after " +
    `${COINBASE_MATURITY} more blocks, so --blocks ${COINBASE_MATURITY + 1} funds an empty wallet). Refused on ` +
    "any network other than regtest.",
  options: [
    { name: "blocks", value: "N", description: "how many blocks to mine (1..10000)", default: "1" },
    {
      name: "to",
      value: "address",
      description: "who gets the block rewards",
      default: "a new address of the node's wallet",
    },
    { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
  ],
  env: [
    { name: "BITCOIN_RPC_URL", description: "the Bitcoin node, credentials in the URL (or BITCOIN_RPC_COOKIE_FILE)" },
  ],
};

/** `hemi-fabric mine [--blocks N] [--to address]`: mines regtest blocks (and funds the node's wallet). */
export const mineCommand: Command = {
  name: "mine",
  summary: "mine regtest Bitcoin blocks (confirmations; funds the node's wallet): [--blocks N] [--to address]",
  help: HELP,
  async run(args: string[]): Promise<number> {
    let blocks: number;
    let to: string | undefined;
    let cfg;
    try {
      const parsed = parseArgs(args, ["blocks", "to", "config"], []);
      blocks = intOption(parsed, "blocks", 1, 10_000) ?? 1;
      to = parsed.values.get("to");
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric mine: ${errorMessage(err)}`);
      return 2;
    }
    try {
      const node = new BitcoinRpcClient({
        url: cfg.BITCOIN_RPC_URL,
        cookieFile: cfg.BITCOIN_RPC_COOKIE_FILE,
        timeoutMs: cfg.BITCOIN_RPC_TIMEOUT_MS,
        retries: 2,
      });
      const { chain } = await node.getBlockchainInfo();
      if (chain !== "regtest") {
        throw new ConfigError(`mine works on regtest only; the node at BITCOIN_RPC_URL is on "${chain}"`, [
          "BITCOIN_RPC_URL",
        ]);
      }
      const address = to ?? (await node.getNewAddress());
      let last: string | undefined;
      for (let done = 0; done < blocks;) {
        const n = Math.min(CHUNK, blocks - done);
        const hashes = await node.generateToAddress(n, address);
        last = hashes[hashes.length - 1];
        done += n;
        if (blocks > CHUNK) console.error(`mine: ${done}/${blocks} blocks`);
      }
      const height = await node.getBlockCount();
      console.log(`mined ${blocks} block(s) to ${address}: tip ${last ?? "?"} at height ${height}`);
      return 0;
    } catch (err) {
      return fail("mine", err);
    }
  },
};
