import { expect } from "chai";
import { ethers } from "hardhat";
import { randomBytes } from "node:crypto";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, hash256, hex0x, internal, smallRawTx } from "../helpers/bitcoinData";
import { HeaderTree, deployRegtestClient } from "../helpers/headerTree";

describe("BitcoinLightClient reorganisations (regtest headers mined in the test)", function () {
  const genesisHash = internal(REGTEST_GENESIS.hash);
  let tree: HeaderTree;
  let client: BitcoinLightClient;

  beforeEach(async function () {
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    tree = new HeaderTree(genesis);
    client = await deployRegtestClient();
  });

  async function expectCanonical(hashes: string[], firstHeight: number): Promise<void> {
    for (let i = 0; i < hashes.length; i++) expect(await client.blockHashAt(firstHeight + i)).to.equal(hashes[i]);
    expect(await client.bestBlock()).to.deep.equal([
      hashes[hashes.length - 1],
      BigInt(firstHeight + hashes.length - 1),
    ]);
  }

  it("follows the heaviest branch through A -> F -> S -> F, where S was stored on a block F displaced", async function () {
    // A: the canonical chain, heights 1..8.
    const a = tree.extend(genesisHash, 8);
    await (await client.submitHeaders(tree.calldata(a))).wait();
    // S: a lighter fork on a[5] (height 6), stored with a canonical parent.
    const s = tree.extend(a[5], 1);
    await (await client.submitHeaders(tree.calldata(s))).wait();
    // F: a heavier branch from a[3] (height 4) displaces a[4..7], among them S's parent.
    const f = tree.extend(a[3], 6);
    await expect(client.submitHeaders(tree.calldata(f)))
      .to.emit(client, "Reorg")
      .withArgs(a[7], f[5], 4);
    await expectCanonical(f, 5);

    // S grows heavier than F. Built on the stored S block alone, its ancestry reaches a displaced block that the
    // client no longer holds: a clear error (before the fix: an arithmetic panic), nothing changes.
    const s2 = tree.extend(s[0], 4); // heights 8..11
    await expect(client.submitHeaders(tree.calldata(s2)))
      .to.be.revertedWithCustomError(client, "ForkBaseDisplaced")
      .withArgs(s[0], 6);
    await expectCanonical(f, 5);
    // Submitted from the last common block (as the relayer does), with S's stored block in the middle, it wins.
    const sBranch = [a[4], a[5], s[0], ...s2];
    await expect(client.submitHeaders(tree.calldata(sBranch)))
      .to.emit(client, "Reorg")
      .withArgs(f[5], s2[3], 4);
    await expectCanonical(sBranch, 5);

    // F comes back heavier: its blocks were displaced too, so it is submitted again from the common block.
    const f2 = tree.extend(f[5], 2); // heights 11..12
    await expect(client.submitHeaders(tree.calldata(f2))).to.be.revertedWithCustomError(client, "UnknownParent");
    await expect(client.submitHeaders(tree.calldata([...f, ...f2])))
      .to.emit(client, "Reorg")
      .withArgs(s2[3], f2[1], 4);
    await expectCanonical([...f, ...f2], 5);
    // And back to S once more, through the stored S blocks, in two calls (the first one lighter).
    const s3 = tree.extend(s2[3], 2); // heights 12..13
    // The stored s[0] still names a[5] as its base, displaced: not usable as a parent until resubmitted.
    expect(await client.isKnown(s[0], 7)).to.equal(false);
    await (await client.submitHeaders(tree.calldata(sBranch))).wait();
    expect(await client.isKnown(s[0], 7)).to.equal(true);
    expect(await client.isKnown(s2[3], 11)).to.equal(true);
    // Resubmitting what is already stored, unchanged, adds nothing and is refused.
    await expect(client.submitHeaders(tree.calldata(sBranch)))
      .to.be.revertedWithCustomError(client, "HeaderAlreadyKnown")
      .withArgs(a[4], 5);
    await expect(client.submitHeaders(tree.calldata(s3)))
      .to.emit(client, "Reorg")
      .withArgs(f2[1], s3[1], 4);
    await expectCanonical([...sBranch, ...s3], 5);
  });

  it("applies a reorganisation deeper than one call in steps, and answers only for the common chain meanwhile", async function () {
    this.timeout(120_000);
    // Transactions in single-transaction blocks (merkle root = txid, empty proof): one deep in the common chain,
    // one on the old branch, one on the new branch.
    const [txCommon, txOld, txNew] = [smallRawTx(), smallRawTx(), smallRawTx()];
    const proof = (raw: Buffer, hash: string, height: number) => ({
      rawTx: hex0x(raw),
      blockHeight: height,
      blockHeader: hex0x(tree.headers.get(hash)!.raw),
      txIndex: 0,
      merkleProof: "0x",
    });
    const a = tree.extend(genesisHash, 320, (i) =>
      i === 4 ? hash256(txCommon) : i === 99 ? hash256(txOld) : randomBytes(32),
    );
    for (let i = 0; i < 320; i += 160) await (await client.submitHeaders(tree.calldata(a.slice(i, i + 160)))).wait();
    const perBlockWork = (await client.bestChainWork()) / 321n;
    // A 312-block branch from a[9] (height 10): two lighter calls store 300 fork blocks, the third makes it heavier.
    const b = tree.extend(a[9], 312, (i) => (i === 5 ? hash256(txNew) : randomBytes(32)));
    await (await client.submitHeaders(tree.calldata(b.slice(0, 150)))).wait();
    await (await client.submitHeaders(tree.calldata(b.slice(150, 300)))).wait();
    expect(await client.bestBlock()).to.deep.equal([a[319], 320n]);
    const inline = Number(await client.INLINE_REORG_BLOCKS());
    const top = b[311];
    const tx = client.submitHeaders(tree.calldata(b.slice(300)));
    const cursor = 310 - inline; // the batch's 12 blocks and `inline` stored blocks below them are written
    await expect(tx).to.emit(client, "ReorgStarted").withArgs(a[319], top, 10, cursor);
    await expect(tx)
      .to.emit(client, "ReorgProgress")
      .withArgs(top, cursor, 12 + inline);
    await expect(tx).not.to.emit(client, "Reorg");
    expect(await client.pendingReorg()).to.deep.equal([true, top, 322n, BigInt(cursor), 10n, BigInt(12 + inline)]);

    // Mid-reorg, every view answers for the chain both branches share (up to height 10), and nothing above it.
    expect(await client.bestBlock()).to.deep.equal([a[9], 10n]);
    expect(await client.bestChainWork()).to.equal(perBlockWork * 11n);
    expect(await client.blockHashAt(10)).to.equal(a[9]);
    for (const h of [11, cursor, cursor + 1, 320, 322]) expect(await client.blockHashAt(h)).to.equal(ethers.ZeroHash);
    expect(await client.confirmations(a[4], 5)).to.equal(6n);
    expect(await client.confirmations(a[99], 100)).to.equal(0n);
    expect(await client.confirmations(b[300], 311)).to.equal(0n);
    expect(await client.isCanonical(b[0], 11)).to.equal(false);
    expect(await client.verifyTx(proof(txCommon, a[4], 5), 6)).to.equal(hex0x(hash256(txCommon)));
    await expect(client.verifyTx(proof(txCommon, a[4], 5), 7))
      .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
      .withArgs(6, 7);
    await expect(client.verifyTx(proof(txOld, a[99], 100), 1))
      .to.be.revertedWithCustomError(client, "BlockNotCanonical")
      .withArgs(a[99], 100);
    await expect(client.verifyTx(proof(txNew, b[5], 16), 1))
      .to.be.revertedWithCustomError(client, "BlockNotCanonical")
      .withArgs(b[5], 16);
    // No header goes in until the reorganisation is done; bad calls change nothing.
    const next = tree.extend(top, 1);
    await expect(client.submitHeaders(tree.calldata(next)))
      .to.be.revertedWithCustomError(client, "ReorgInProgress")
      .withArgs(cursor, 10);
    await expect(client.continueReorg(0)).to.be.revertedWithCustomError(client, "ZeroReorgSteps");

    // Anyone continues it, in steps of their choosing.
    const [, stranger] = await ethers.getSigners();
    await expect(client.connect(stranger).continueReorg(20))
      .to.emit(client, "ReorgProgress")
      .withArgs(top, cursor - 20, 12 + inline + 20);
    expect(await client.bestBlock()).to.deep.equal([a[9], 10n]);
    const done = client.continueReorg(1000);
    await expect(done).to.emit(client, "Reorg").withArgs(a[319], top, 10);
    await expect(done).to.emit(client, "NewBestBlock").withArgs(top, 322);
    expect((await client.pendingReorg())[0]).to.equal(false);
    await expectCanonical([...a.slice(0, 10), ...b], 1);
    expect(await client.bestChainWork()).to.equal(perBlockWork * 323n);
    expect(await client.verifyTx(proof(txNew, b[5], 16), 307)).to.equal(hex0x(hash256(txNew)));
    await expect(client.verifyTx(proof(txOld, a[99], 100), 1)).to.be.revertedWithCustomError(
      client,
      "BlockNotCanonical",
    );
    await expect(client.continueReorg(1)).to.be.revertedWithCustomError(client, "NoReorgPending");
    // The chain grows on as before.
    await (await client.submitHeaders(tree.calldata(next))).wait();
    expect(await client.bestBlock()).to.deep.equal([next[0], 323n]);
  });
});
