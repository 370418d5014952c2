import { expect } from "chai";
import { BitcoinRpcError } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";
import { badSideBlock, fundKey, startTestNode, utxoSnapshot, type TestNode } from "./helpers";

/** A parent spending `utxo` to a fresh key and a child spending the parent's output (both unconfirmed). */
function parentAndChild(utxo: UtxoToSpend) {
  const key = randomKey();
  const mid = keyOutput(key, "p2wpkh");
  const parent = buildSignedTx({ inputs: [utxo], outputs: [{ script: mid.script, value: utxo.value - 2_000n }] });
  const child = buildSignedTx({
    inputs: [{ txid: parent.getId(), vout: 0, value: utxo.value - 2_000n, script: mid.script, key }],
    outputs: [{ script: keyOutput(randomKey(), "p2wpkh").script, value: utxo.value - 4_000n }],
  });
  return { parent, child, midAddress: mid.address };
}

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

  it("disconnecting a block with a parent and its child restores the UTXO set exactly; mining again works", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const { parent, child, midAddress } = parentAndChild(utxo);
    await t.rpc.sendRawTransaction(parent.toHex());
    await t.rpc.sendRawTransaction(child.toHex());
    const before = utxoSnapshot(t);
    const [a] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlock(a)).tx.slice(1)).to.deep.equal([parent.getId(), child.getId()]);
    expect(utxoSnapshot(t)).to.not.deep.equal(before);

    await t.rpc.invalidateBlock(a);
    expect(utxoSnapshot(t)).to.deep.equal(before);
    // The parent's output was spent inside the block: it must not come back with the block gone.
    expect(await t.rpc.getTxOut(parent.getId(), 0, false)).to.equal(null);
    expect((await t.rpc.scanTxOutSet([`addr(${midAddress})`])).unspents).to.deep.equal([]);
    expect(await t.rpc.getTxOut(utxo.txid, utxo.vout, false)).to.not.equal(null);
    expect((await t.rpc.getRawMempool()).sort()).to.deep.equal([parent.getId(), child.getId()].sort());

    const [b] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlock(b)).tx.slice(1)).to.deep.equal([parent.getId(), child.getId()]);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
    expect(await t.rpc.getTxOut(child.getId(), 0, false)).to.include({ confirmations: 1 });
  });

  it("a rejected generateblock [parent, child, invalid] leaves the UTXO set unchanged", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const other = await fundKey(t, "p2wpkh", 1);
    const { parent, child } = parentAndChild(utxo);
    // Spends more than its input: fails after the parent and the child have been applied.
    const bad = buildSignedTx({ inputs: [other], outputs: [{ address: t.minerAddress, value: other.value + 1n }] });
    const before = utxoSnapshot(t);
    const tip = await t.rpc.getBestBlockHash();
    const err = await t.rpc
      .generateBlock(t.minerAddress, [parent.toHex(), child.toHex(), bad.toHex()])
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BitcoinRpcError);
    expect((err as BitcoinRpcError).rpcMessage).to.match(/bad-txns-in-belowout/);
    expect(await t.rpc.getBestBlockHash()).to.equal(tip);
    expect(utxoSnapshot(t)).to.deep.equal(before);
    expect(await t.rpc.getTxOut(parent.getId(), 0, false)).to.equal(null);
    // The same parent and child still fit in a block.
    const ok = await t.rpc.generateBlock(t.minerAddress, [parent.toHex(), child.toHex()]);
    expect(await t.rpc.getBestBlockHash()).to.equal(ok.hash);
  });

  it("verifies the scripts of a side block when invalidateblock makes it the best chain", async () => {
    const side = await badSideBlock(t);
    // Same work as the tip, arrived later: stored as a fork, not connected, so its scripts are not yet checked.
    expect(await t.rpc.submitBlock(side.raw.toString("hex"))).to.equal(null);
    expect(await t.rpc.getBestBlockHash()).to.equal(side.tip);
    const before = utxoSnapshot(t);

    await t.rpc.invalidateBlock(side.tip);
    // The side block fails its script check: it is marked invalid and the tip falls back to the parent.
    expect(await t.rpc.getBestBlockHash()).to.equal(side.parent);
    expect((await t.rpc.getChainTips()).find((x) => x.hash === side.hash)).to.include({ status: "invalid" });
    expect((await t.rpc.getBlockHeader(side.hash)).confirmations).to.equal(-1);
    const spent = side.bad.ins[0];
    const cbTxid = Buffer.from(spent.hash).reverse().toString("hex");
    expect(await t.rpc.getTxOut(cbTxid, spent.index, false)).to.not.equal(null);
    expect(await t.rpc.getTxOut(side.bad.getId(), 0, false)).to.equal(null);
    expect(await t.rpc.submitBlock(side.raw.toString("hex"))).to.equal("duplicate-invalid");

    // The valid chain goes on; reconsidering the old tip brings it back.
    await t.rpc.reconsiderBlock(side.tip);
    expect(await t.rpc.getBestBlockHash()).to.equal(side.tip);
    expect(utxoSnapshot(t)).to.deep.equal(before);
    const [next] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlockHeader(next)).previousblockhash).to.equal(side.tip);
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
