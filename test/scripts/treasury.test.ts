/**
 * The demo's treasury funding (scripts/lib/treasury.ts) on the embedded regtest node: block rewards mined to the
 * treasury's key, matured and spendable; a clear error when the chain's rewards cannot reach the amount.
 */
import { expect } from "chai";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { fundFromBlockRewards } from "../../scripts/lib/treasury";

describe("demo treasury funding (fundFromBlockRewards)", function () {
  this.timeout(60_000);
  let node: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let miner: string;

  before(async () => {
    node = await startRegtestNode({ port: 0 });
    btc = new BitcoinRpcClient({ url: node.url });
    miner = await btc.getNewAddress();
  });

  after(async () => {
    await node?.close();
  });

  it("mines rewards to the key until they cover the amount, matures them, and they can be spent", async () => {
    const key = randomKey();
    const funded = await fundFromBlockRewards(btc, key, 100n * 100_000_000n + 1n, miner);
    expect(funded.address).to.equal(keyOutput(key, "p2wpkh").address);
    expect(funded.coins.map((c) => c.value)).to.deep.equal([5_000_000_000n, 5_000_000_000n, 5_000_000_000n]);
    expect(funded.total).to.equal(15_000_000_000n);
    expect(funded.tip).to.equal(103);
    const tx = buildSignedTx({
      inputs: funded.coins,
      outputs: [{ script: keyOutput(randomKey(), "p2wpkh").script, value: funded.total - 10_000n }],
    });
    // The node accepts the spend: every coin is mature (COINBASE_MATURITY blocks on it).
    expect(await btc.sendRawTransaction(tx.toHex())).to.equal(tx.getId());
  });

  it("says the chain's block reward is too small when 20 rewards do not reach the amount", async () => {
    await btc.generateToAddress(1, miner); // the spend above, out of the mempool (its fee would go to the next reward)
    const height = await btc.getBlockCount();
    const err = await fundFromBlockRewards(btc, randomKey(), 2_000n * 100_000_000n, miner).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err), String(err)).to.match(
      /20 block rewards paid only 100000000000 sat of the 200000000000 sat the treasury needs: the chain's block reward is too small/,
    );
    expect(await btc.getBlockCount()).to.equal(height + 20);
  });
});
