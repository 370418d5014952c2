import { expect } from "chai";
import { buildSignedTx } from "../../relayer/src/bitcoin/txBuilder";
import { fundKey, startTestNode, type TestNode } from "./helpers";

describe("embedded regtest node: reorganisations with invalidateblock / reconsiderblock", () => {
  let t: TestNode;
  beforeEach(async () => {
    t = await startTestNode();
  });
  afterEach(async () => {
    await t.running.close();
  });

  it("follows a reorg: best hash, confirmations, gettxout, and dropped transactions back in the mempool", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const tx = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    await t.rpc.sendRawTransaction(tx.toHex());
    const [a1, a2] = await t.rpc.generateToAddress(2, t.minerAddress);
    const forkHeight = (await t.rpc.getBlockHeader(a1)).height - 1;
    const forkHash = await t.rpc.getBlockHash(forkHeight);
    expect((await t.rpc.getRawTransaction(tx.getId(), true)).blockhash).to.equal(a1);
    expect(await t.rpc.getTxOut(tx.getId(), 0)).to.include({ confirmations: 2 });

    await t.rpc.invalidateBlock(a1);
    expect(await t.rpc.getBestBlockHash()).to.equal(forkHash);
    expect(await t.rpc.getBlockCount()).to.equal(forkHeight);
    expect((await t.rpc.getBlockHeader(a1)).confirmations).to.equal(-1);
    expect((await t.rpc.getBlockHeader(a2)).confirmations).to.equal(-1);
    expect(await t.rpc.getRawMempool()).to.deep.equal([tx.getId()]);
    expect(await t.rpc.getTxOut(tx.getId(), 0, false)).to.equal(null); // not in the chain any more
    expect(await t.rpc.getTxOut(tx.getId(), 0)).to.include({ confirmations: 0 }); // but in the mempool
    expect(await t.rpc.getTxOut(utxo.txid, utxo.vout, false)).to.not.equal(null); // its input is unspent again

    // A new, longer branch without the transaction.
    const b = await t.rpc.generateBlock(t.minerAddress, []);
    const more = await t.rpc.generateBlock(t.minerAddress, []);
    const b3 = await t.rpc.generateBlock(t.minerAddress, []);
    expect(await t.rpc.getBestBlockHash()).to.equal(b3.hash);
    expect((await t.rpc.getBlockHeader(b.hash)).confirmations).to.equal(3);
    expect((await t.rpc.getBlockHeader(forkHash)).nextblockhash).to.equal(b.hash);
    expect(await t.rpc.getRawMempool()).to.deep.equal([tx.getId()]);
    expect(more.hash).to.not.equal(a2);

    // Mining picks the transaction up again on the new branch.
    const [c] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getRawTransaction(tx.getId(), true)).blockhash).to.equal(c);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
    const tips = await t.rpc.getChainTips();
    expect(tips.find((x) => x.hash === a2)).to.include({ status: "invalid", branchlen: 2 });
    expect(tips.find((x) => x.hash === c)).to.include({ status: "active", branchlen: 0 });
  });

  it("reconsiderblock re-activates a heavier branch; fork choice is by chain work", async () => {
    const start = await t.rpc.getBlockCount();
    const a = await t.rpc.generateToAddress(3, t.minerAddress);
    await t.rpc.invalidateBlock(a[0]);
    const b = await t.rpc.generateToAddress(2, t.minerAddress); // lighter than A (2 < 3 blocks)
    expect(await t.rpc.getBestBlockHash()).to.equal(b[1]);
    await t.rpc.reconsiderBlock(a[0]);
    expect(await t.rpc.getBestBlockHash()).to.equal(a[2]);
    expect(await t.rpc.getBlockCount()).to.equal(start + 3);
    expect((await t.rpc.getBlockHeader(b[0])).confirmations).to.equal(-1);
    // extend B past A: B becomes best again without any RPC other than mining on it
    await t.rpc.invalidateBlock(a[0]);
    await t.rpc.generateToAddress(2, t.minerAddress); // B is now 4 blocks
    await t.rpc.reconsiderBlock(a[0]); // A (3 blocks) is valid again but lighter: the tip stays on B
    expect(await t.rpc.getBlockCount()).to.equal(start + 4);
    expect(await t.rpc.getBlockHash(start + 1)).to.equal(b[0]);
  });

  it("drops a transaction whose input is spent on the new branch", async () => {
    const utxo = await fundKey(t, "p2tr", 1);
    const x = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    const y = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 5_000n }] });
    await t.rpc.sendRawTransaction(x.toHex());
    const [a] = await t.rpc.generateToAddress(1, t.minerAddress);
    await t.rpc.invalidateBlock(a);
    expect(await t.rpc.getRawMempool()).to.deep.equal([x.getId()]);
    // The conflicting y is mined directly on the new branch (generateblock with raw tx), then A's branch stays invalid.
    await t.rpc.generateBlock(t.minerAddress, [y.toHex()]);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
    expect(await t.rpc.getTxOut(y.getId(), 0)).to.include({ confirmations: 1 });
  });
});
