/**
 * The demo's treasury on Bitcoin: its own key, funded with block rewards mined to its P2WPKH address (as a miner
 * treasury would hold them), then matured by COINBASE_MATURITY blocks to another address so they can be spent.
 */
import { COINBASE_MATURITY } from "../../relayer/src/bitcoin/node/consensus";
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { keyOutput, type KeyPair, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";

/** Most blocks mined to the treasury before giving up (the chain's block reward is too small). */
const MAX_FUNDING_BLOCKS = 20;

export interface FundedKey {
  /** The key's P2WPKH address. */
  address: string;
  /** The mature coinbase outputs it holds, ready to spend. */
  coins: UtxoToSpend[];
  total: bigint;
  /** Height of the last block mined (the tip after maturing). */
  tip: number;
}

/**
 * Mines blocks paying `key`'s P2WPKH until they hold at least `targetSats`, then COINBASE_MATURITY blocks to
 * `matureTo` so every one of them can be spent. Throws when MAX_FUNDING_BLOCKS rewards are not enough (a chain
 * past many halvings: use a fresh regtest node).
 */
export async function fundFromBlockRewards(
  rpc: BitcoinRpcClient,
  key: KeyPair,
  targetSats: bigint,
  matureTo: string,
): Promise<FundedKey> {
  const { address, script } = keyOutput(key, "p2wpkh");
  const coins: UtxoToSpend[] = [];
  let total = 0n;
  while (total < targetSats) {
    if (coins.length >= MAX_FUNDING_BLOCKS) {
      throw new Error(
        `${MAX_FUNDING_BLOCKS} block rewards paid only ${total} sat of the ${targetSats} sat the treasury needs: ` +
          "the chain's block reward is too small (use a fresh regtest node)",
      );
    }
    const [hash] = await rpc.generateToAddress(1, address);
    const cb = (await rpc.getBlock(hash, 2)).tx[0];
    const out = cb.vout.find((o) => o.scriptPubKey.address === address);
    if (out === undefined) throw new Error(`the coinbase of block ${hash} does not pay ${address}`);
    const value = BigInt(Math.round(out.value * 1e8));
    coins.push({ txid: cb.txid, vout: out.n, value, script, key });
    total += value;
  }
  await rpc.generateToAddress(COINBASE_MATURITY, matureTo);
  return { address, coins, total, tip: await rpc.getBlockCount() };
}
