import { expect } from "chai";
import { ethers } from "hardhat";
import { Block, Transaction } from "bitcoinjs-lib";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { buildTxProof } from "../../relayer/src/bitcoin/txProof";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { deployHvm, indexBlock, indexTxWithProof, readBlockForIndex, syncIndex } from "../../relayer/src/hvm";
import { BitcoinTxIndex__factory } from "../../typechain-types";
import { fundedKey, startMiniChain, syncHeaders, type MiniChain } from "./fixture";
import { be } from "./reference";

describe("BitcoinTxIndex: what it accepts, what it refuses, and reorgs", function () {
  let m: MiniChain;
  const call = (key: "0x42" | "0x43" | "0x44" | "0x40" | "0x48", data: string) =>
    ethers.provider.call({ to: m.hvm.precompiles[key], data });
  const hex = (s: string) => "0x" + Buffer.from(s, "ascii").toString("hex");

  /** Mines a block of the coinbase and two spends of fresh keys (then 2 blocks), headers into the light client. */
  async function blockOfTwoSpends(a: "p2wpkh" | "p2pkh", b: "p2wpkh" | "p2pkh") {
    const txs: Transaction[] = [];
    for (const type of [a, b]) {
      const u = await fundedKey(m.t, type, 1);
      const to = keyOutput(randomKey(), type).address;
      txs.push(buildSignedTx({ inputs: [u], outputs: [{ address: to, value: u.value - 9_000n }] }));
    }
    const { hash } = await m.t.rpc.generateBlock(
      m.t.minerAddress,
      txs.map((t) => t.toHex()),
    );
    await m.t.rpc.generateToAddress(2, m.t.minerAddress);
    await syncHeaders(m.t.rpc, m.lc);
    return { hash, txs };
  }

  before(async () => {
    m = await startMiniChain(2);
  });
  after(async () => {
    await m.t.running.close();
  });

  it("answers nothing while it is behind: 0x44 empty until the block at best - lag is indexed", async () => {
    await m.t.rpc.generateToAddress(3, m.t.minerAddress);
    await syncHeaders(m.t.rpc, m.lc, 102);
    expect(await call("0x44", "0x")).to.equal("0x");
    const r = await syncIndex(m.index, m.t.rpc);
    expect(r.indexed.map((b) => b.height)).to.deep.equal([101, 102, 103, 104]);
    expect((await call("0x44", "0x")).slice(0, 10)).to.equal("0x" + be(102, 4));
    expect((await syncIndex(m.index, m.t.rpc)).indexed).to.deep.equal([]);
  });

  describe("refusals (state unchanged after each)", () => {
    let segwitBlock: { hash: string; header: string; height: number; txs: string[] };
    let spendId: string;

    before(async () => {
      const u = await fundedKey(m.t, "p2wpkh", 2);
      const spend = buildSignedTx({
        inputs: [u],
        outputs: [{ address: keyOutput(randomKey(), "p2wpkh").address, value: u.value - 5_000n }],
      });
      await m.t.rpc.sendRawTransaction(spend.toHex());
      spendId = spend.getId();
      const [h] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      await m.t.rpc.generateToAddress(2, m.t.minerAddress);
      await syncHeaders(m.t.rpc, m.lc);
      segwitBlock = await readBlockForIndex(m.t.rpc, h);
    });

    it("a transaction without a valid proof (wrong sibling, wrong index) never enters", async () => {
      const proof = await buildTxProof(m.t.rpc, spendId);
      const bad = {
        ...proof,
        merkleProof: proof.merkleProof.slice(0, -2) + (proof.merkleProof.endsWith("00") ? "01" : "00"),
      };
      await expect(m.index.indexTx(bad)).to.be.revertedWithCustomError(m.lc, "MerkleRootMismatch");
      await expect(m.index.indexTx({ ...proof, txIndex: 0 })).to.be.revertedWithCustomError(m.lc, "MerkleRootMismatch");
      expect((await m.index.getTx(displayToInternal(spendId))).found).to.equal(false);
    });

    it("a block that is not in the light client (mined, header not submitted) is refused, whole or one tx", async () => {
      const { hex } = (await m.t.rpc.generateBlock(m.t.minerAddress, [])) as { hash: string; hex?: string };
      void hex;
      const hash = await m.t.rpc.getBestBlockHash();
      const b = await readBlockForIndex(m.t.rpc, hash);
      await expect(m.index.indexBlock(b.header, b.height, b.txs)).to.be.revertedWithCustomError(
        m.index,
        "BlockNotInLightClient",
      );
      const proof = await buildTxProof(
        m.t.rpc,
        Block.fromHex((await m.t.rpc.getBlock(hash, 0)) as string).transactions![0].getId(),
      );
      await expect(m.index.indexTx(proof)).to.be.revertedWithCustomError(m.lc, "BlockNotCanonical");
      await syncHeaders(m.t.rpc, m.lc);
    });

    it("an incomplete block (a tx missing, reordered, or a wrong header) is refused", async () => {
      const b = segwitBlock;
      await expect(m.index.indexBlock(b.header, b.height, b.txs.slice(0, 1))).to.be.revertedWithCustomError(
        m.index,
        "BlockIncomplete",
      );
      await expect(m.index.indexBlock(b.header, b.height, [...b.txs].reverse())).to.be.revertedWithCustomError(
        m.index,
        "BlockIncomplete",
      );
      await expect(m.index.indexBlock(b.header, b.height + 1, b.txs)).to.be.revertedWithCustomError(
        m.index,
        "BlockNotInLightClient",
      );
      await expect(m.index.indexBlock(b.header.slice(0, -2), b.height, b.txs)).to.be.revertedWithCustomError(
        m.index,
        "BadHeaderLength",
      );
      await expect(m.index.indexBlock(b.header, b.height, [])).to.be.revertedWithCustomError(m.index, "EmptyBlock");
    });

    it("witness data not matching the coinbase commitment is refused (stripped, or one byte changed)", async () => {
      const b = segwitBlock;
      const strip = (h: string) => {
        const t = Transaction.fromHex(h.slice(2));
        const s = t.clone();
        s.stripWitnesses();
        return "0x" + s.toHex();
      };
      const spendOnly = [b.txs[0], strip(b.txs[1])];
      await expect(m.index.indexBlock(b.header, b.height, spendOnly)).to.be.revertedWithCustomError(
        m.index,
        "WitnessCommitmentMismatch",
      );
      const tampered = Transaction.fromHex(b.txs[1].slice(2));
      const w = tampered.ins[0].witness;
      w[0] = Buffer.from(w[0]);
      w[0][10] ^= 1;
      await expect(
        m.index.indexBlock(b.header, b.height, [b.txs[0], "0x" + tampered.toHex()]),
      ).to.be.revertedWithCustomError(m.index, "WitnessCommitmentMismatch");
      await expect(m.index.indexBlock(b.header, b.height, [strip(b.txs[0]), b.txs[1]])).to.be.revertedWithCustomError(
        m.index,
        "BadWitnessReservedValue",
      );
      expect((await m.index.blockRecord(displayToInternal(b.hash))).complete).to.equal(false);
    });

    it("a duplicated transaction list (CVE-2012-2459) and a 64-byte transaction are refused", async () => {
      const { hash } = await blockOfTwoSpends("p2pkh", "p2pkh");
      const b = await readBlockForIndex(m.t.rpc, hash);
      expect(b.txs).to.have.length(3);
      await expect(m.index.indexBlock(b.header, b.height, [...b.txs, b.txs[2]])).to.be.revertedWithCustomError(
        m.index,
        "BlockMutated",
      );
      const t64 = new Transaction();
      t64.addInput(Buffer.alloc(32, 7), 0);
      t64.addOutput(Buffer.from("51515151", "hex"), 0n);
      expect(t64.byteLength()).to.equal(64);
      await expect(m.index.indexBlock(b.header, b.height, [b.txs[0], "0x" + t64.toHex()]))
        .to.be.revertedWithCustomError(m.index, "TxIs64Bytes")
        .withArgs(1);
      await indexBlock(m.index, m.t.rpc, hash);
      await expect(m.index.indexBlock(b.header, b.height, b.txs)).to.be.revertedWithCustomError(
        m.index,
        "BlockAlreadyIndexed",
      );
    });

    it("a block above the whole-block size enters tx by tx with SPV proofs, idempotently, not marked complete", async () => {
      const { hash, txs } = await blockOfTwoSpends("p2wpkh", "p2pkh");
      const [t1, t2] = txs;
      await syncIndex(m.index, m.t.rpc, { fromHeight: (await m.t.rpc.getBlockHeader(hash)).height + 1 });
      const first = await indexBlock(m.index, m.t.rpc, hash, 2);
      expect(first.mode).to.equal("per-tx");
      expect(first.indexed).to.equal(true);
      for (const t of [t1, t2]) expect((await m.index.getTx(displayToInternal(t.getId()))).found).to.equal(true);
      expect(await call("0x42", "0x" + t1.getId() + "20000000")).to.equal("0x00000002");
      expect(await call("0x42", "0x" + t1.getId() + "10000000")).to.equal("0x"); // witness not proven this way
      expect((await m.index.blockRecord(displayToInternal(hash))).complete).to.equal(false);
      const again = await indexBlock(m.index, m.t.rpc, hash, 2);
      expect(again).to.deep.include({ mode: "per-tx", indexed: false, gasUsed: 0n });
      const whole = await indexBlock(m.index, m.t.rpc, hash);
      expect(whole.mode).to.equal("whole");
      expect(await call("0x42", "0x" + t1.getId() + "10000000")).to.have.length(2 + 16);
    });

    it("a block too heavy for one EVM transaction (80 spends to fresh addresses) falls back to SPV entries instead of failing", async () => {
      const src = await fundedKey(m.t, "p2wpkh", 5);
      const key = randomKey();
      const own = keyOutput(key, "p2wpkh");
      const fan = buildSignedTx({
        inputs: [src],
        outputs: [
          ...Array.from({ length: 80 }, () => ({ script: own.script, value: 1_000_000n })),
          { script: own.script, value: src.value - 80_000_000n - 50_000n },
        ],
      });
      await m.t.rpc.sendRawTransaction(fan.toHex());
      await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      for (let i = 0; i < 80; i++) {
        const spend = buildSignedTx({
          inputs: [{ txid: fan.getId(), vout: i, value: 1_000_000n, script: own.script, key }],
          outputs: [
            { address: keyOutput(randomKey(), "p2wpkh").address, value: 490_000n },
            { address: keyOutput(randomKey(), "p2wpkh").address, value: 490_000n },
          ],
        });
        await m.t.rpc.sendRawTransaction(spend.toHex());
      }
      const [big] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      await syncHeaders(m.t.rpc, m.lc);
      await syncIndex(m.index, m.t.rpc, { fromHeight: (await m.t.rpc.getBlockHeader(big)).height + 1 });
      const r = await indexBlock(m.index, m.t.rpc, big, 1_000);
      expect(r.txCount).to.equal(81);
      expect(r.mode).to.equal("per-tx");
      expect((await m.index.blockRecord(displayToInternal(big))).complete).to.equal(false);
    });

    it("a block of 30 spends (about 8M gas) estimates on the local chain and enters whole with its estimate as limit", async () => {
      // Above a third of EIP-7825's cap: the local chain's estimator must search up to the cap (hardhat.config.ts).
      const src = await fundedKey(m.t, "p2wpkh", 1);
      const key = randomKey();
      const own = keyOutput(key, "p2wpkh");
      const fan = buildSignedTx({
        inputs: [src],
        outputs: [
          ...Array.from({ length: 30 }, () => ({ script: own.script, value: 1_000_000n })),
          { script: own.script, value: src.value - 30_000_000n - 50_000n },
        ],
      });
      await m.t.rpc.sendRawTransaction(fan.toHex());
      await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      for (let i = 0; i < 30; i++) {
        const spend = buildSignedTx({
          inputs: [{ txid: fan.getId(), vout: i, value: 1_000_000n, script: own.script, key }],
          outputs: [{ address: keyOutput(randomKey(), "p2wpkh").address, value: 990_000n }],
        });
        await m.t.rpc.sendRawTransaction(spend.toHex());
      }
      const [hash] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      await syncHeaders(m.t.rpc, m.lc);
      await syncIndex(m.index, m.t.rpc, { fromHeight: (await m.t.rpc.getBlockHeader(hash)).height + 1 });
      const b = await readBlockForIndex(m.t.rpc, hash);
      expect(b.txs).to.have.length(31);
      const estimate = await m.index.indexBlock.estimateGas(b.header, b.height, b.txs);
      expect(estimate > 16_777_216n / 3n && estimate <= 16_777_216n, `estimate ${estimate}`).to.equal(true);
      const receipt = await (await m.index.indexBlock(b.header, b.height, b.txs, { gasLimit: estimate })).wait();
      expect(receipt!.status).to.equal(1);
      expect((await m.index.blockRecord(displayToInternal(hash))).complete).to.equal(true);
    });

    it("a single transaction enters with its SPV proof; witness-dependent answers wait for its whole block", async () => {
      await indexTxWithProof(m.index, m.t.rpc, spendId);
      await expect(indexTxWithProof(m.index, m.t.rpc, spendId)).to.be.revertedWithCustomError(
        m.index,
        "TxAlreadyIndexed",
      );
      expect(await call("0x42", "0x" + spendId + "20000000")).to.equal("0x00000002"); // version
      expect(await call("0x42", "0x" + spendId + "10000000")).to.equal("0x"); // sizes: witness not proven yet
      const r = await syncIndex(m.index, m.t.rpc);
      expect(r.indexed.map((x) => x.hash)).to.include(segwitBlock.hash);
      const info = await m.t.rpc.getRawTransaction(spendId, true);
      const sizes = await call("0x42", "0x" + spendId + "10000000");
      expect(sizes).to.equal(
        "0x" +
          be((info as { size: number }).size, 4) +
          be(((info as { weight: number }).weight - (info as { size: number }).size) / 3, 4),
      );
    });
  });

  describe("reorgs: answers follow the light client's canonical chain at query time", () => {
    let spendId: string;
    let fundTxid: string;
    let sink: string;
    let owner: string;
    let oldBlock: string;

    it("a spend seen through 0x42/0x43/BitcoinKit, with the coin spent and the balance moved", async () => {
      const u = await fundedKey(m.t, "p2wpkh", 3);
      fundTxid = u.txid;
      owner = keyOutput(u.key, "p2wpkh").address;
      sink = keyOutput(randomKey(), "p2wpkh").address;
      const spend = buildSignedTx({ inputs: [u], outputs: [{ address: sink, value: u.value - 7_000n }] });
      spendId = spend.getId();
      await m.t.rpc.sendRawTransaction(spend.toHex());
      [oldBlock] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      await m.t.rpc.generateToAddress(2, m.t.minerAddress);
      await syncHeaders(m.t.rpc, m.lc);
      await syncIndex(m.index, m.t.rpc);
      expect(await call("0x42", "0x" + spendId + "40000000")).to.equal("0x" + oldBlock);
      expect(await call("0x43", "0x" + spendId)).to.equal("0x" + be(3, 4));
      expect(await m.kit.transactionExists("0x" + spendId)).to.equal(true);
      expect(await call("0x48", "0x" + fundTxid + be(u.vout, 2) + "0000")).to.match(/00$/);
      expect(BigInt(await call("0x40", hex(sink)))).to.equal(u.value - 7_000n);
      expect(BigInt(await call("0x40", hex(owner)))).to.equal(0n);
    });

    it("its block reorganised away: not found, the coin unspent again, the balances back", async () => {
      await m.t.rpc.invalidateBlock(oldBlock);
      for (let i = 0; i < 4; i++) await m.t.rpc.generateBlock(m.t.minerAddress, []);
      const before = await m.lc.bestBlock();
      await syncHeaders(m.t.rpc, m.lc, Number((await m.t.rpc.getBlockHeader(oldBlock)).height));
      expect((await m.lc.bestBlock())[0]).to.not.equal(before[0]);
      await syncIndex(m.index, m.t.rpc);
      expect(await call("0x42", "0x" + spendId + "40000000")).to.equal("0x");
      await expect(m.kit.getTxConfirmations("0x" + spendId)).to.be.revertedWithCustomError(
        m.kit,
        "PrecompileCallFailed",
      );
      expect(await m.kit.transactionExists("0x" + spendId)).to.equal(false);
      const vout = (
        (await m.t.rpc.getRawTransaction(fundTxid, true)) as { vout: { scriptPubKey: { address?: string } }[] }
      ).vout.findIndex((o) => o.scriptPubKey.address === owner);
      expect(await call("0x48", "0x" + fundTxid + be(vout, 2) + "0000")).to.match(/01$/);
      expect(BigInt(await call("0x40", hex(sink)))).to.equal(0n);
      expect(BigInt(await call("0x40", hex(owner)))).to.equal(300_000_000n);
    });

    it("mined again in another block: found at its new place, the coin spent again, the balance moved again", async () => {
      const [newBlock] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      const b = await m.t.rpc.getBlock(newBlock, 1);
      if (!(b as { tx: string[] }).tx.includes(spendId))
        await m.t.rpc.sendRawTransaction((await m.t.rpc.getRawTransaction(spendId, false)) as string);
      const [blockWithSpend] = (b as { tx: string[] }).tx.includes(spendId)
        ? [newBlock]
        : await m.t.rpc.generateToAddress(1, m.t.minerAddress);
      await m.t.rpc.generateToAddress(2, m.t.minerAddress);
      await syncHeaders(m.t.rpc, m.lc);
      await syncIndex(m.index, m.t.rpc);
      expect(blockWithSpend).to.not.equal(oldBlock);
      expect(await call("0x42", "0x" + spendId + "40000000")).to.equal("0x" + blockWithSpend);
      expect(await call("0x43", "0x" + spendId)).to.equal("0x" + be(3, 4));
      expect((await m.kit.getTransactionByTxId("0x" + spendId)).containingBlockHash).to.equal("0x" + blockWithSpend);
      expect(BigInt(await call("0x40", hex(owner)))).to.equal(0n);
      expect(BigInt(await call("0x40", hex(sink)))).to.equal(300_000_000n - 7_000n);
    });
  });
  it("the lag is per deployment: with lag 0 the tip is visible (0x44 = tip, a tip transaction has 1 confirmation)", async () => {
    const [signer] = await ethers.getSigners();
    const zero = await deployHvm(signer, {
      lightClient: await m.lc.getAddress(),
      network: "regtest",
      install: "never",
      lag: 0,
    });
    await syncIndex(BitcoinTxIndex__factory.connect(zero.index, signer), m.t.rpc);
    const tip = await m.t.rpc.getBestBlockHash();
    const height = (await m.t.rpc.getBlockHeader(tip)).height;
    const coinbase = ((await m.t.rpc.getBlock(tip, 1)) as { tx: string[] }).tx[0];
    const zeroCall = (key: "0x43" | "0x44", data: string) => ethers.provider.call({ to: zero.precompiles[key], data });
    expect((await zeroCall("0x44", "0x")).slice(0, 74)).to.equal("0x" + be(height, 4) + tip);
    expect(await zeroCall("0x43", "0x" + coinbase)).to.equal("0x" + be(1, 4));
    expect((await call("0x44", "0x")).slice(0, 10)).to.equal("0x" + be(height - 2, 4));
    const lagged = await call("0x43", "0x" + coinbase).then(
      () => "answered",
      () => "call failed",
    );
    expect(lagged).to.equal("call failed"); // with lag 2 the tip transaction is not found
  });
});
