import { expect } from "chai";
import { ethers } from "hardhat";
import { Block } from "bitcoinjs-lib";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import {
  buildTxProof,
  buildTxProofFromBlock,
  merkleBranch,
  merkleRootFromBranch,
} from "../../relayer/src/bitcoin/txProof";
import { buildSignedTx, keyOutput, randomKey, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import type { BitcoinLightClient } from "../../typechain-types";
import { fundKey, startTestNode, type TestNode } from "./helpers";

const REGTEST = 2;

type LightClient = BitcoinLightClient;

async function deployAtGenesis(rpc: BitcoinRpcClient): Promise<LightClient> {
  const genesisHash = await rpc.getBlockHash(0);
  const genesisHeader = await rpc.getBlockHeaderHex(genesisHash);
  const time = (await rpc.getBlockHeader(genesisHash)).time;
  const factory = await ethers.getContractFactory("BitcoinLightClient");
  const lc = await factory.deploy("0x" + genesisHeader, 0, time, REGTEST);
  await lc.waitForDeployment();
  return lc;
}

/** Submits every header of the node's active chain after `from` (exclusive), in chunks. */
async function syncHeaders(rpc: BitcoinRpcClient, lc: LightClient, fromHeight: number): Promise<void> {
  const tip = await rpc.getBlockCount();
  for (let h = fromHeight + 1; h <= tip; h += 60) {
    const headers = await rpc.getRawHeaders(h, 60);
    await (await lc.submitHeaders("0x" + headers.map((x) => x.header).join(""))).wait();
  }
}

describe("embedded regtest node + BitcoinLightClient (Hardhat network)", () => {
  let t: TestNode;
  let lc: LightClient;
  before(async () => {
    t = await startTestNode({}, 101);
    lc = await deployAtGenesis(t.rpc);
  });
  after(async () => {
    await t.running.close();
  });

  it("accepts every header the node mines and agrees on the best block", async () => {
    await syncHeaders(t.rpc, lc, 0);
    const [hash, height] = await lc.bestBlock();
    expect(Number(height)).to.equal(await t.rpc.getBlockCount());
    expect(hash).to.equal(displayToInternal(await t.rpc.getBestBlockHash()));
    for (const h of [1, 17, 100])
      expect(await lc.blockHashAt(h)).to.equal(displayToInternal(await t.rpc.getBlockHash(h)));
  });

  it("verifies SPV proofs of every transaction of a block with segwit, legacy and taproot spends", async () => {
    const utxos: UtxoToSpend[] = [];
    for (const type of ["p2wpkh", "p2pkh", "p2tr", "p2wpkh", "p2tr", "p2pkh"] as const)
      utxos.push(await fundKey(t, type, 1));
    const txs = utxos.map((u, i) =>
      buildSignedTx({
        inputs: [u],
        outputs: [
          { address: keyOutput(randomKey(), "p2wpkh").address, value: u.value - 3_000n },
          { opReturn: Buffer.from([i]) },
        ],
      }),
    );
    for (const tx of txs) await t.rpc.sendRawTransaction(tx.toHex());
    const [blockHash] = await t.rpc.generateToAddress(1, t.minerAddress);
    await t.rpc.generateToAddress(2, t.minerAddress);
    const before = Number((await lc.bestBlock())[1]);
    await syncHeaders(t.rpc, lc, before);

    const block = await t.rpc.getBlock(blockHash, 1);
    expect(block.tx).to.have.length(7); // coinbase + 6: odd levels exercise the duplicated last node
    for (const txid of block.tx) {
      const proof = await buildTxProof(t.rpc, txid);
      expect(proof.blockHeight).to.equal(block.height);
      const verified = await lc.verifyTx(proof, 3);
      expect(verified).to.equal(displayToInternal(txid));
    }
    const proof = await buildTxProof(t.rpc, txs[2].getId(), blockHash);
    await expect(lc.verifyTx(proof, 4)).to.be.revertedWithCustomError(lc, "InsufficientConfirmations");
    const wrongIndex = { ...proof, txIndex: proof.txIndex ^ 1 };
    await expect(lc.verifyTx(wrongIndex, 1)).to.be.revertedWithCustomError(lc, "MerkleRootMismatch");
  });

  it("follows a reorg made with invalidateblock: old proofs stop verifying, new ones verify", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const tx = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    await t.rpc.sendRawTransaction(tx.toHex());
    const [a] = await t.rpc.generateToAddress(1, t.minerAddress);
    await syncHeaders(t.rpc, lc, Number((await lc.bestBlock())[1]));
    const oldProof = await buildTxProof(t.rpc, tx.getId());
    expect(await lc.verifyTx(oldProof, 1)).to.equal(displayToInternal(tx.getId()));

    const forkHeight = (await t.rpc.getBlockHeader(a)).height - 1;
    await t.rpc.invalidateBlock(a);
    expect(await t.rpc.getRawMempool()).to.deep.equal([tx.getId()]);
    await t.rpc.generateBlock(t.minerAddress, []); // the new branch: an empty block, then the tx one block later
    const [c] = await t.rpc.generateToAddress(1, t.minerAddress);
    await syncHeaders(t.rpc, lc, forkHeight);
    expect((await lc.bestBlock())[0]).to.equal(displayToInternal(c));
    await expect(lc.verifyTx(oldProof, 1)).to.be.revertedWithCustomError(lc, "BlockNotCanonical");
    const newProof = await buildTxProof(t.rpc, tx.getId());
    expect(newProof.blockHeight).to.equal(forkHeight + 2);
    expect(await lc.verifyTx(newProof, 1)).to.equal(displayToInternal(tx.getId()));
  });
});

describe("TxProof builder", () => {
  it("builds branches that lead to bitcoinjs-lib's merkle root for every index of trees of 1..33 leaves", () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => Buffer.alloc(32, i + 1));
      const fake = leaves.map((l) => ({ getHash: () => l }));
      const root = Buffer.from(Block.calculateMerkleRoot(fake as never));
      for (let i = 0; i < n; i++) {
        const branch = merkleBranch(leaves, i);
        expect(branch.length).to.equal(n === 1 ? 0 : Math.ceil(Math.log2(n)));
        expect(merkleRootFromBranch(leaves[i], i, branch).equals(root), `n=${n} i=${i}`).to.equal(true);
      }
    }
  });

  it("refuses a transaction that is not at the given index or a header it does not belong to", async () => {
    const t = await startTestNode({}, 3);
    try {
      const hash = await t.rpc.getBestBlockHash();
      const block = await t.rpc.getBlock(hash, 2);
      const header = await t.rpc.getBlockHeaderHex(hash);
      const ok = buildTxProofFromBlock({
        txids: [block.tx[0].txid],
        txIndex: 0,
        rawTx: block.tx[0].hex,
        blockHeader: header,
        blockHeight: block.height,
      });
      expect(ok.merkleProof).to.equal("0x");
      expect(ok.rawTx.length).to.be.lessThan(block.tx[0].hex.length + 2); // witness stripped
      expect(() =>
        buildTxProofFromBlock({
          txids: ["00".repeat(32)],
          txIndex: 0,
          rawTx: block.tx[0].hex,
          blockHeader: header,
          blockHeight: 1,
        }),
      ).to.throw(/is not at index 0/);
      const otherHeader = await t.rpc.getBlockHeaderHex(await t.rpc.getBlockHash(1));
      expect(() =>
        buildTxProofFromBlock({
          txids: [block.tx[0].txid],
          txIndex: 0,
          rawTx: block.tx[0].hex,
          blockHeader: otherHeader,
          blockHeight: 1,
        }),
      ).to.throw(/merkle root/);
    } finally {
      await t.running.close();
    }
  });
});
