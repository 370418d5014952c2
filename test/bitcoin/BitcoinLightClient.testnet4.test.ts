import { expect } from "chai";
import { ethers } from "hardhat";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { BitcoinDifficultyHarness, BitcoinLightClient } from "../../typechain-types";
import { concatHeaders, hash256, headerBits, headerTime, internal } from "../helpers/bitcoinData";

const TESTNET = 1;
const TESTNET4 = 3;
const MIN_DIFFICULTY_BITS = 0x1d00ffff;
const POW_LIMIT = (1n << 224n) - 1n;

interface Testnet4Fixture {
  about: string;
  source: string;
  headers: { height: number; hash: string; header: string }[];
}

const fixture = JSON.parse(
  readFileSync(path.join(__dirname, "..", "fixtures", "testnet4-headers.json"), "utf8"),
) as Testnet4Fixture;
const at = (height: number) => {
  const h = fixture.headers.find((x) => x.height === height);
  if (h === undefined) throw new Error(`no testnet4 header ${height} in the fixture`);
  return h;
};
const range = (from: number, to: number) => fixture.headers.filter((h) => h.height >= from && h.height <= to);

async function deploy(anchorHeight: number, epochStart: number, network = TESTNET4): Promise<BitcoinLightClient> {
  const factory = await ethers.getContractFactory("BitcoinLightClient");
  return (await factory.deploy(
    "0x" + at(anchorHeight).header,
    anchorHeight,
    epochStart,
    network,
  )) as unknown as BitcoinLightClient;
}

/** Testnet4 (BIP94) rules on real testnet4 headers (test/fixtures/testnet4-headers.json names its source). */
describe("BitcoinLightClient under Testnet4 rules (real testnet4 headers)", function () {
  let rules: BitcoinDifficultyHarness;
  before(async function () {
    rules = (await (await ethers.getContractFactory("BitcoinDifficultyHarness")).deploy()) as BitcoinDifficultyHarness;
  });

  it("the fixture is real: each hash recomputed meets its target, heights link, height 0 is testnet4's genesis", function () {
    expect(at(0).hash).to.equal("00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043");
    for (const h of fixture.headers) {
      const raw = Buffer.from(h.header, "hex");
      const hash = Buffer.from(hash256(raw)).reverse();
      expect(hash.toString("hex")).to.equal(h.hash);
      const bits = raw.readUInt32LE(72);
      const target = BigInt(bits & 0x7fffff) << BigInt(8 * ((bits >>> 24) - 3));
      expect(BigInt("0x" + h.hash) <= target, `proof of work of ${h.height}`).to.equal(true);
      const parent = fixture.headers.find((x) => x.height === h.height - 1);
      if (parent !== undefined)
        expect(Buffer.from(raw.subarray(4, 36)).reverse().toString("hex")).to.equal(parent.hash);
    }
  });

  it("syncs from the genesis through the minimum-difficulty era", async function () {
    const client = await deploy(0, headerTime(at(0).header));
    expect(await client.network()).to.equal(BigInt(TESTNET4));
    await (await client.submitHeaders(concatHeaders(range(1, 10).map((h) => h.header)))).wait();
    expect(await client.bestBlock()).to.deep.equal([internal(at(10).hash), 10n]);
  });

  it("crosses the real retarget at 145152 (from the epoch's first block 143136), then the 20-minute rule both ways", async function () {
    const epochStart = headerTime(at(143136).header);
    const client = await deploy(145151, epochStart);
    // 145152: BIP94 retarget; 145153..145155: more than 20 minutes after the parent, minimum difficulty;
    // 145156: earlier than its parent, back at the epoch's difficulty; and so on to 145160.
    expect(headerBits(at(145153).header)).to.equal(MIN_DIFFICULTY_BITS);
    expect(headerBits(at(145156).header)).to.equal(headerBits(at(145152).header));
    expect(headerTime(at(145156).header)).to.be.lessThan(headerTime(at(145155).header));
    const tx = client.submitHeaders(concatHeaders(range(145152, 145160).map((h) => h.header)));
    await expect(tx)
      .to.emit(client, "NewBestBlock")
      .withArgs(internal(at(145160).hash), 145160);
    for (const h of range(145152, 145160)) expect(await client.blockHashAt(h.height)).to.equal(internal(h.hash));
    // With a wrong epoch start the retarget differs and the real 145152 is refused.
    const wrong = await deploy(145151, epochStart + 86_400);
    await expect(wrong.submitHeaders("0x" + at(145152).header)).to.be.revertedWithCustomError(wrong, "UnexpectedBits");
  });

  it("refuses a first block of an epoch more than 600 s older than its parent (time-warp rule), before its proof of work", async function () {
    const client = await deploy(145151, headerTime(at(143136).header));
    const parentTime = headerTime(at(145151).header);
    // The real 145152 with an earlier timestamp: its nBits is still the one required (the retarget does not read
    // the child's time), so the time-warp rule is what refuses it; 600 s earlier is allowed, and then only the
    // changed hash fails the proof of work.
    const withTime = (t: number) => {
      const raw = Buffer.from(at(145152).header, "hex");
      raw.writeUInt32LE(t, 68);
      return "0x" + raw.toString("hex");
    };
    await expect(client.submitHeaders(withTime(parentTime - 601)))
      .to.be.revertedWithCustomError(client, "TimeWarp")
      .withArgs(145152, parentTime - 601, parentTime);
    await expect(client.submitHeaders(withTime(parentTime - 600))).to.be.revertedWithCustomError(
      client,
      "InsufficientProofOfWork",
    );
    expect(await client.bestBlock()).to.deep.equal([internal(at(145151).hash), 145151n]);
  });

  it("syncs the real first epoch of difficulty 0x1c3fffc0 from its first block (2016)", async function () {
    const client = await deploy(2016, headerTime(at(2016).header));
    await (await client.submitHeaders(concatHeaders(range(2017, 2020).map((h) => h.header)))).wait();
    expect(await client.bestBlock()).to.deep.equal([internal(at(2020).hash), 2020n]);
  });

  describe("the rules (BitcoinDifficulty, as the light client applies them)", function () {
    const parentOf = (bits: number, time: number, epochBits: number, epochStartTime: number) => ({
      bits,
      time,
      epochBits,
      epochStartTime,
    });

    it("reproduces the real retargets at 2016 and 145152", async function () {
      // The nBits Testnet4 rules give the block after `last`, in the epoch that `first` starts.
      const retarget = (first: number, last: number) =>
        rules.expectedBits(
          TESTNET4,
          parentOf(
            headerBits(at(last).header),
            headerTime(at(last).header),
            headerBits(at(first).header),
            headerTime(at(first).header),
          ),
          last + 1,
          headerTime(at(last + 1).header),
          POW_LIMIT,
        );
      expect(await retarget(0, 2015)).to.equal(BigInt(headerBits(at(2016).header)));
      expect(await retarget(143136, 145151)).to.equal(0x190274dfn);
    });

    it("BIP94: an epoch that ends on a minimum-difficulty block retargets from its first block, not from the limit", async function () {
      // The real epoch 143136..145151, had its last block been a minimum-difficulty one (same time).
      const first = at(143136).header;
      const lastTime = headerTime(at(145151).header);
      const parent = parentOf(MIN_DIFFICULTY_BITS, lastTime, headerBits(first), headerTime(first));
      const childTime = headerTime(at(145152).header);
      // Testnet4 keeps the real difficulty (the real 145152 value); testnet3 rules restart from the limit, so the
      // real next header would be refused by a client applying testnet3's rule to testnet4.
      expect(await rules.expectedBits(TESTNET4, parent, 145152, childTime, POW_LIMIT)).to.equal(0x190274dfn);
      expect(await rules.expectedBits(TESTNET, parent, 145152, childTime, POW_LIMIT)).to.equal(
        BigInt(MIN_DIFFICULTY_BITS),
      );
    });

    it("BIP94 time-warp rule: the first block of an epoch may be at most 600 s older than its parent", async function () {
      const parentTime = headerTime(at(145151).header);
      await rules.checkTimeWarp(TESTNET4, 145152, headerTime(at(145152).header), parentTime);
      await rules.checkTimeWarp(TESTNET4, 145152, parentTime - 600, parentTime);
      await expect(rules.checkTimeWarp(TESTNET4, 145152, parentTime - 601, parentTime))
        .to.be.revertedWithCustomError(rules, "TimeWarp")
        .withArgs(145152, parentTime - 601, parentTime);
      // Only at an epoch's first block, and only on Testnet4.
      await rules.checkTimeWarp(TESTNET4, 145153, parentTime - 601, parentTime);
      await rules.checkTimeWarp(TESTNET, 145152, parentTime - 601, parentTime);
    });

    it("the 20-minute rule: strictly more than 1200 s after the parent means the limit", async function () {
      const p = at(145152).header;
      const parent = parentOf(headerBits(p), headerTime(p), headerBits(p), headerTime(p));
      for (const net of [TESTNET, TESTNET4]) {
        expect(await rules.expectedBits(net, parent, 145153, headerTime(p) + 1200, POW_LIMIT)).to.equal(
          BigInt(headerBits(p)),
        );
        expect(await rules.expectedBits(net, parent, 145153, headerTime(p) + 1201, POW_LIMIT)).to.equal(
          BigInt(MIN_DIFFICULTY_BITS),
        );
      }
    });
  });
});
