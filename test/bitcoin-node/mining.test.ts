import { expect } from "chai";
import { Block, Transaction } from "bitcoinjs-lib";
import { heightPush } from "../../relayer/src/bitcoin/node/consensus";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { BitcoinRpcError } from "../../relayer/src/bitcoin/rpcClient";
import { fundKey, startTestNode, type TestNode } from "./helpers";

/** Checks a raw block the way a full node would, with bitcoinjs-lib: PoW, merkle root, witness commitment, BIP34. */
function checkBlockWithBitcoinjs(hex: string, height: number): Block {
  const block = Block.fromHex(hex);
  expect(block.bits).to.equal(0x207fffff);
  expect(block.checkProofOfWork(), "proof of work").to.equal(true);
  expect(block.checkTxRoots(), "merkle root and witness commitment").to.equal(true);
  const txs = block.transactions ?? [];
  expect(txs[0].isCoinbase()).to.equal(true);
  const push = heightPush(height);
  expect(Buffer.from(txs[0].ins[0].script.subarray(0, push.length)).equals(push), "BIP34 height").to.equal(true);
  if (txs.some((tx) => tx.hasWitnesses())) expect(block.hasWitnessCommit(), "witness commitment").to.equal(true);
  return block;
}

describe("embedded regtest node: blocks", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t.running.close();
  });

  it("starts from Bitcoin Core's regtest genesis", async () => {
    const hash = await t.rpc.getBlockHash(0);
    expect(hash).to.equal("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    const g = Block.fromHex(await t.rpc.getBlock(hash, 0));
    expect(g.getId()).to.equal(hash);
    expect(g.timestamp).to.equal(1296688602);
    expect(g.nonce).to.equal(2);
    const header = await t.rpc.getBlockHeader(hash);
    expect(header.merkleroot).to.equal("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
  });

  it("mines blocks that pass proof of work, merkle root, witness commitment and BIP34 checks", async () => {
    const count = await t.rpc.getBlockCount();
    for (let h = 1; h <= count; h += 10) {
      const hash = await t.rpc.getBlockHash(h);
      checkBlockWithBitcoinjs(await t.rpc.getBlock(hash, 0), h);
    }
  });

  it("puts a witness commitment in a block holding segwit transactions and the right fees in the coinbase", async () => {
    const utxo = await fundKey(t, "p2wpkh", 2);
    const to = keyOutput(randomKey(), "p2tr");
    const fee = 5_000n;
    const tx = buildSignedTx({ inputs: [utxo], outputs: [{ address: to.address, value: utxo.value - fee }] });
    await t.rpc.sendRawTransaction(tx.toHex());
    const [hash] = await t.rpc.generateToAddress(1, t.minerAddress);
    const info = await t.rpc.getBlock(hash, 2);
    const block = checkBlockWithBitcoinjs(await t.rpc.getBlock(hash, 0), info.height);
    expect(block.hasWitnessCommit()).to.equal(true);
    expect(info.tx.map((x) => x.txid)).to.deep.equal([block.transactions?.[0].getId(), tx.getId()]);
    expect(info.tx[1].fee).to.equal(0.00005);
    const subsidy = 50e8 / 2 ** Math.floor(info.height / 150);
    expect(Number(block.transactions?.[0].outs[0].value)).to.equal(subsidy + 5000);
  });

  it("halves the subsidy every 150 blocks as regtest does", async () => {
    const height = await t.rpc.getBlockCount();
    if (height < 150) await t.rpc.generateToAddress(150 - height, t.minerAddress);
    const cb = async (h: number): Promise<bigint> => {
      const b = Block.fromHex(await t.rpc.getBlock(await t.rpc.getBlockHash(h), 0));
      return (b.transactions ?? [])[0].outs[0].value;
    };
    expect(await cb(149)).to.equal(5_000_000_000n);
    expect(await cb(150)).to.equal(2_500_000_000n);
  });

  it("enforces coinbase maturity of 100 blocks", async () => {
    const key = randomKey();
    const out = keyOutput(key, "p2wpkh");
    const [hash] = await t.rpc.generateToAddress(1, out.address);
    const block = await t.rpc.getBlock(hash, 2);
    const cbTxid = block.tx[0].txid;
    const spend = (): Transaction =>
      buildSignedTx({
        inputs: [
          {
            txid: cbTxid,
            vout: 0,
            value: BigInt(Math.round(block.tx[0].vout[0].value * 1e8)),
            script: out.script,
            key,
          },
        ],
        outputs: [{ address: t.minerAddress, value: 100_000_000n }],
      });
    await t.rpc.generateToAddress(98, t.minerAddress); // depth 99 at the next block
    const err = await t.rpc.sendRawTransaction(spend().toHex()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BitcoinRpcError);
    expect(err).to.include({ code: -26 });
    expect((err as BitcoinRpcError).rpcMessage).to.equal(
      "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 99",
    );
    await t.rpc.generateToAddress(1, t.minerAddress);
    const txid = await t.rpc.sendRawTransaction(spend().toHex(), 0);
    expect(await t.rpc.getRawMempool()).to.include(txid);
    await t.rpc.generateToAddress(1, t.minerAddress);
  });

  it("generateblock mines exactly the given transactions", async () => {
    const utxo = await fundKey(t, "p2pkh", 1);
    const tx = buildSignedTx({
      inputs: [utxo],
      outputs: [{ opReturn: "68656d69" }, { address: t.minerAddress, value: utxo.value - 10_000n }],
    });
    const res = await t.rpc.generateBlock(t.minerAddress, [tx.toHex()]);
    const b = await t.rpc.getBlock(res.hash, 1);
    expect(b.tx).to.deep.equal([b.tx[0], tx.getId()]);
    checkBlockWithBitcoinjs(await t.rpc.getBlock(res.hash, 0), b.height);
    const bad = await t.rpc.generateBlock(t.minerAddress, [tx.toHex()]).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(BitcoinRpcError);
    expect((bad as BitcoinRpcError).rpcMessage).to.match(/bad-txns-inputs-missingorspent/);
  });
});
