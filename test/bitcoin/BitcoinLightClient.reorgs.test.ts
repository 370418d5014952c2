import { expect } from "chai";
import { ethers } from "hardhat";
import { randomBytes } from "node:crypto";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, hash256, hex0x, internal, mineRegtestHeader } from "../helpers/bitcoinData";

const REGTEST = 2;

/** Regtest headers mined here with real proof of work, kept by internal-order hash. */
class Tree {
  readonly raw = new Map<string, { raw: Buffer; height: number; time: number }>();
  constructor(genesis: Buffer) {
    this.raw.set(hex0x(hash256(genesis)), { raw: genesis, height: 0, time: genesis.readUInt32LE(68) });
  }
  /** Mines `n` headers on `parent`; returns their hashes. */
  extend(parent: string, n: number): string[] {
    const out: string[] = [];
    let prev = parent;
    for (let i = 0; i < n; i++) {
      const p = this.raw.get(prev)!;
      const raw = mineRegtestHeader(Buffer.from(prev.slice(2), "hex"), randomBytes(32), p.time + 1);
      const h = hex0x(hash256(raw));
      this.raw.set(h, { raw, height: p.height + 1, time: p.time + 1 });
      out.push(h);
      prev = h;
    }
    return out;
  }
  calldata(hashes: string[]): string {
    return hex0x(Buffer.concat(hashes.map((h) => this.raw.get(h)!.raw)));
  }
}

describe("BitcoinLightClient reorganisations (regtest headers mined in the test)", function () {
  const genesisHash = internal(REGTEST_GENESIS.hash);
  let tree: Tree;
  let client: BitcoinLightClient;

  beforeEach(async function () {
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    tree = new Tree(genesis);
    const factory = await ethers.getContractFactory("BitcoinLightClient");
    client = (await factory.deploy(hex0x(genesis), 0, genesis.readUInt32LE(68), REGTEST)) as unknown as BitcoinLightClient;
  });

  async function expectCanonical(hashes: string[], firstHeight: number): Promise<void> {
    for (let i = 0; i < hashes.length; i++) expect(await client.blockHashAt(firstHeight + i)).to.equal(hashes[i]);
    expect(await client.bestBlock()).to.deep.equal([hashes[hashes.length - 1], BigInt(firstHeight + hashes.length - 1)]);
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
    await (await client.submitHeaders(tree.calldata(sBranch))).wait();
    await expect(client.submitHeaders(tree.calldata(s3)))
      .to.emit(client, "Reorg")
      .withArgs(f2[1], s3[1], 4);
    await expectCanonical([...sBranch, ...s3], 5);
  });
});
