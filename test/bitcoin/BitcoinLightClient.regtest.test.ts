import { expect } from "chai";
import { ethers } from "hardhat";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, hash256, hex0x, internal, mineRegtestHeader } from "../helpers/bitcoinData";
import { HeaderTree, deployRegtestClient } from "../helpers/headerTree";
import { randomBytes } from "node:crypto";

describe("BitcoinLightClient on a regtest chain mined in the test", function () {
  let tree: HeaderTree;
  let client: BitcoinLightClient;
  const genesisHash = internal(REGTEST_GENESIS.hash);

  beforeEach(async function () {
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    expect(hex0x(hash256(genesis))).to.equal(genesisHash);
    tree = new HeaderTree(genesis);
    client = await deployRegtestClient();
  });

  it("a fork that overtakes by work reorganises, and confirmations follow it", async function () {
    const main = tree.extend(genesisHash, 10);
    await (await client.submitHeaders(tree.calldata(main))).wait();
    expect(await client.bestBlock()).to.deep.equal([main[9], 10n]);
    expect(await client.confirmations(main[5], 6)).to.equal(5n);

    // A branch from height 5 with 5 blocks: equal work (height 10), stays a fork.
    const side = tree.extend(main[4], 5);
    await expect(client.submitHeaders(tree.calldata(side))).not.to.emit(client, "Reorg");
    expect(await client.blockHashAt(6)).to.equal(main[5]);
    expect(await client.confirmations(side[0], 6)).to.equal(0n);

    // Two more blocks on the branch: now heavier, reorganise at fork height 5.
    const more = tree.extend(side[4], 2);
    const tx = client.submitHeaders(tree.calldata(more));
    await expect(tx).to.emit(client, "Reorg").withArgs(main[9], more[1], 5);
    await expect(tx).to.emit(client, "NewBestBlock").withArgs(more[1], 12);
    expect(await client.bestBlock()).to.deep.equal([more[1], 12n]);
    for (let h = 6; h <= 10; h++) expect(await client.blockHashAt(h)).to.equal(side[h - 6]);
    expect(await client.blockHashAt(11)).to.equal(more[0]);
    expect(await client.confirmations(main[5], 6)).to.equal(0n);
    expect(await client.confirmations(side[0], 6)).to.equal(7n);
    expect(await client.confirmations(main[4], 5)).to.equal(8n);

    // The old branch can come back by growing heavier again, from its last block (a block displaced by the
    // reorg is no longer stored, so the branch is resubmitted from the fork point).
    const back = tree.extend(main[9], 3);
    await expect(client.submitHeaders(tree.calldata([...main.slice(5), ...back])))
      .to.emit(client, "Reorg")
      .withArgs(more[1], back[2], 5);
    expect(await client.bestBlock()).to.deep.equal([back[2], 13n]);
    expect(await client.confirmations(side[0], 6)).to.equal(0n);
  });

  it("a lighter fork is stored but never canonical, and heights above the tip read as unknown", async function () {
    const main = tree.extend(genesisHash, 6);
    await (await client.submitHeaders(tree.calldata(main))).wait();
    const light = tree.extend(main[1], 2);
    await (await client.submitHeaders(tree.calldata(light))).wait();
    expect((await client.forkBlock(light[1])).height).to.equal(4n);
    expect(await client.isCanonical(light[1], 4)).to.equal(false);
    expect(await client.blockHashAt(7)).to.equal(ethers.ZeroHash);
  });

  it("a fork submitted in several calls reorganises through its stored blocks", async function () {
    const main = tree.extend(genesisHash, 8);
    await (await client.submitHeaders(tree.calldata(main))).wait();
    const side = tree.extend(main[2], 9); // heights 4..12
    await (await client.submitHeaders(tree.calldata(side.slice(0, 3)))).wait();
    await (await client.submitHeaders(tree.calldata(side.slice(3, 5)))).wait();
    expect((await client.bestBlock())[0]).to.equal(main[7]);
    await expect(client.submitHeaders(tree.calldata(side.slice(5))))
      .to.emit(client, "Reorg")
      .withArgs(main[7], side[8], 3);
    for (let i = 0; i < side.length; i++) expect(await client.blockHashAt(4 + i)).to.equal(side[i]);
    // A fork block can be extended later like any stored block.
    const tail = tree.extend(side[8], 1);
    await (await client.submitHeaders(tree.calldata(tail))).wait();
    expect(await client.bestBlock()).to.deep.equal([tail[0], 13n]);
  });

  it("rejects regtest headers that are not at the regtest difficulty or lack proof of work", async function () {
    const genesis = tree.headers.get(genesisHash)!;
    const easier = mineRegtestHeader(
      Buffer.from(genesisHash.slice(2), "hex"),
      randomBytes(32),
      genesis.time + 1,
      0x207ffffe,
    );
    await expect(client.submitHeaders(hex0x(easier)))
      .to.be.revertedWithCustomError(client, "UnexpectedBits")
      .withArgs(1, 0x207fffff, 0x207ffffe);
    // Find a nonce whose hash misses the target.
    const raw = Buffer.from(
      mineRegtestHeader(Buffer.from(genesisHash.slice(2), "hex"), randomBytes(32), genesis.time + 1),
    );
    for (let nonce = 0; ; nonce++) {
      raw.writeUInt32LE(nonce, 76);
      if (Buffer.from(hash256(raw)).reverse()[0] >= 0x80) break;
    }
    await expect(client.submitHeaders(hex0x(raw))).to.be.revertedWithCustomError(client, "InsufficientProofOfWork");
    expect(await client.bestBlock()).to.deep.equal([genesisHash, 0n]);
  });
});
