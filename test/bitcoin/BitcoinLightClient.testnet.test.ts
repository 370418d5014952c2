import { expect } from "chai";
import { ethers } from "hardhat";
import type { BitcoinLightClient } from "../../typechain-types";
import { loadVector, type HeaderRangeVector } from "../helpers/vectors";
import { concatHeaders, headerBits, headerTime, internal } from "../helpers/bitcoinData";

const TESTNET = 1;
const MIN_DIFFICULTY_BITS = 0x1d00ffff;

async function deployTestnet(anchorHex: string, height: number, epochStart: number): Promise<BitcoinLightClient> {
  const factory = await ethers.getContractFactory("BitcoinLightClient");
  return (await factory.deploy("0x" + anchorHex, height, epochStart, TESTNET)) as unknown as BitcoinLightClient;
}

/**
 * Testnet rules checked with real mainnet headers (same proof-of-work limit and retarget): a header more than
 * 20 minutes after its parent must carry the minimum difficulty, so a real mainnet header after such a gap is
 * rejected under Testnet rules and accepted under Mainnet rules. (Mining a real minimum-difficulty header takes
 * about 2^32 hashes, too slow for a test, so the acceptance side of the rule is not shown here.)
 */
describe("BitcoinLightClient under Testnet rules (real headers)", function () {
  const range = loadVector<HeaderRangeVector>("mainnet-741793-741990-retarget.json");
  const reorg = loadVector<HeaderRangeVector>("mainnet-437466-437479-reorg-retarget.json");
  const epochStart = headerTime(range.epochStart!.header);

  it("demands the minimum difficulty after a 20-minute gap, and the epoch's difficulty otherwise", async function () {
    const anchor = range.headers[0];
    const client = await deployTestnet(anchor.header, anchor.height, epochStart);
    const gap = range.headers.findIndex(
      (h, i) => i > 0 && headerTime(h.header) > headerTime(range.headers[i - 1].header) + 1200,
    );
    expect(gap).to.be.greaterThan(1);
    // Everything before the gap follows the normal rule: accepted (per-height Testnet records written).
    await (await client.submitHeaders(concatHeaders(range.headers.slice(1, gap).map((h) => h.header)))).wait();
    expect((await client.bestBlock())[1]).to.equal(BigInt(range.headers[gap - 1].height));
    const g = range.headers[gap];
    await expect(client.submitHeaders("0x" + g.header))
      .to.be.revertedWithCustomError(client, "UnexpectedBits")
      .withArgs(g.height, MIN_DIFFICULTY_BITS, headerBits(g.header));
    // The same header is fine under Mainnet rules.
    const mainnet = await (
      await ethers.getContractFactory("BitcoinLightClient")
    ).deploy("0x" + range.headers[gap - 1].header, range.headers[gap - 1].height, epochStart, 0);
    await (await mainnet.submitHeaders("0x" + g.header)).wait();
  });

  it("applies the retarget at the epoch boundary", async function () {
    const last = range.headers.find((h) => h.height === 741887)!;
    const first = range.headers.find((h) => h.height === 741888)!;
    expect(headerTime(first.header)).to.be.at.most(headerTime(last.header) + 1200);
    const client = await deployTestnet(last.header, last.height, epochStart);
    await (await client.submitHeaders("0x" + first.header)).wait();
    expect((await client.bestBlock())[0]).to.equal(internal(first.hash));
    const wrong = await deployTestnet(last.header, last.height, epochStart + 3600);
    await expect(wrong.submitHeaders("0x" + first.header)).to.be.revertedWithCustomError(wrong, "UnexpectedBits");
  });

  it("stores the real orphan as a fork and reorganises to the heavier real branch", async function () {
    // Anchor after the file's one 20-minute gap (437469), so every later header follows the normal rule.
    const anchor = reorg.headers.find((h) => h.height === 437469)!;
    const o = reorg.orphans[0];
    const client = await deployTestnet(anchor.header, anchor.height, headerTime(reorg.epochStart!.header));
    const before = reorg.headers.filter((h) => h.height > anchor.height && h.height < o.height);
    const after = reorg.headers.filter((h) => h.height >= o.height);
    await (await client.submitHeaders(concatHeaders(before.map((h) => h.header)))).wait(); // crosses 437472
    await (await client.submitHeaders("0x" + o.header)).wait();
    expect(await client.blockHashAt(o.height)).to.equal(internal(o.hash));
    await (await client.submitHeaders("0x" + after[0].header)).wait(); // parent found via the Testnet records
    await expect(client.submitHeaders("0x" + after[1].header))
      .to.emit(client, "Reorg")
      .withArgs(internal(o.hash), internal(after[1].hash), o.height - 1);
    for (const h of reorg.headers.filter((x) => x.height >= anchor.height)) {
      expect(await client.blockHashAt(h.height)).to.equal(internal(h.hash));
    }
  });

  it("refuses a mid-epoch anchor at the minimum difficulty (its epoch's difficulty is unknown)", async function () {
    const factory = await ethers.getContractFactory("BitcoinLightClient");
    const b = Buffer.from(range.headers[0].header, "hex");
    b.writeUInt32LE(MIN_DIFFICULTY_BITS, 72);
    await expect(factory.deploy("0x" + b.toString("hex"), range.headers[0].height, epochStart, TESTNET))
      .to.be.revertedWithCustomError(factory, "AmbiguousTestnetAnchor")
      .withArgs(MIN_DIFFICULTY_BITS);
  });
});
