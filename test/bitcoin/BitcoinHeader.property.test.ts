import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import * as bitcoin from "bitcoinjs-lib";
import type { BitcoinHeaderHarness } from "../../typechain-types";
import { hex0x } from "../helpers/bitcoinData";

/** Bitcoin Core's SetCompact, written independently in BigInt as the oracle. */
function setCompact(bits: number): { target: bigint; negative: boolean; overflow: boolean } {
  const size = bits >>> 24;
  let word = BigInt(bits & 0x007fffff);
  let target: bigint;
  if (size <= 3) {
    word >>= BigInt(8 * (3 - size));
    target = word;
  } else {
    target = (word << BigInt(8 * (size - 3))) & ((1n << 256n) - 1n);
  }
  const w = bits & 0x007fffff;
  return {
    target,
    negative: w !== 0 && (bits & 0x00800000) !== 0,
    overflow: w !== 0 && (size > 34 || (w > 0xff && size > 33) || (w > 0xffff && size > 32)),
  };
}

/** Bitcoin Core's GetCompact (non-negative), the oracle for encoding. */
function getCompact(target: bigint): number {
  let size = Math.ceil(target.toString(2).length / 8);
  if (target === 0n) size = 0;
  let compact: bigint;
  if (size <= 3) compact = (target & 0xffffffffffffffffn) << BigInt(8 * (3 - size));
  else compact = (target >> BigInt(8 * (size - 3))) & 0xffffffffn;
  if (compact & 0x00800000n) {
    compact >>= 8n;
    size += 1;
  }
  return Number(compact | (BigInt(size) << 24n));
}

describe("BitcoinHeader properties", function () {
  let harness: BitcoinHeaderHarness;
  before(async function () {
    harness = (await (
      await ethers.getContractFactory("BitcoinHeaderHarness")
    ).deploy()) as unknown as BitcoinHeaderHarness;
  });

  it("headers built by bitcoinjs-lib parse to the same fields and hash", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        async (version, prev, root, time, bits, nonce) => {
          const block = new bitcoin.Block();
          block.version = version | 0; // bitcoinjs stores a signed int32
          block.prevHash = prev;
          block.merkleRoot = root;
          block.timestamp = time;
          block.bits = bits;
          block.nonce = nonce;
          const raw = block.toBuffer(true);
          const h = await harness.parse(hex0x(raw));
          expect(h.version).to.equal(BigInt(version >>> 0));
          expect(h.prevHash).to.equal(hex0x(prev));
          expect(h.merkleRoot).to.equal(hex0x(root));
          expect(h.timestamp).to.equal(BigInt(time));
          expect(h.bits).to.equal(BigInt(bits));
          expect(h.nonce).to.equal(BigInt(nonce));
          expect(h.hash).to.equal(hex0x(block.getHash()));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("nBits decodes exactly as Bitcoin Core (and bitcoinjs-lib) do, flags included", async function () {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 0xffffffff }), async (bits) => {
        const [target, negative, overflow] = await harness.decodeBits(bits);
        const o = setCompact(bits);
        expect(negative).to.equal(o.negative);
        expect(overflow).to.equal(o.overflow);
        if (!o.overflow) expect(target).to.equal(o.target);
        if (!o.negative && !o.overflow && bits >>> 24 >= 3 && bits >>> 24 <= 32) {
          const js = BigInt("0x" + Buffer.from(bitcoin.Block.calculateTarget(bits)).toString("hex"));
          expect(target).to.equal(js);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("targets encode exactly as Bitcoin Core's GetCompact, and round-trip through the truncation", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: (1n << 255n) - 1n }),
        fc.integer({ min: 0, max: 255 }),
        async (t, shift) => {
          const target = t >> BigInt(shift);
          const bits = Number(await harness.encodeBits(target));
          expect(bits).to.equal(getCompact(target));
          const [decoded, negative] = await harness.decodeBits(bits);
          expect(negative).to.equal(false);
          expect(await harness.encodeBits(decoded)).to.equal(BigInt(bits));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects targets that are negative, zero, overflowing or above the limit", async function () {
    const limit = (1n << 224n) - 1n;
    await expect(harness.targetFromBits(0x1d80ffff, limit)).to.be.revertedWithCustomError(harness, "NegativeTarget");
    await expect(harness.targetFromBits(0x1d000000, limit)).to.be.revertedWithCustomError(harness, "ZeroTarget");
    await expect(harness.targetFromBits(0xff123456, limit)).to.be.revertedWithCustomError(harness, "TargetOverflow");
    await expect(harness.targetFromBits(0x1e00ffff, limit)).to.be.revertedWithCustomError(harness, "TargetAboveLimit");
    expect(await harness.targetFromBits(0x1d00ffff, limit)).to.equal(0xffffn << 208n);
  });

  it("chain work is 2^256 / (target + 1)", async function () {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: (1n << 256n) - 2n }), async (target) => {
        expect(await harness.workFromTarget(target)).to.equal((1n << 256n) / (target + 1n));
      }),
      { numRuns: 60 },
    );
  });

  it("the retarget clamps the timespan at a quarter and four times two weeks, and caps at the limit", async function () {
    const twoWeeks = 14 * 24 * 3600;
    const bits = 0x1b0404cb;
    const t = setCompact(bits).target;
    expect(await harness.retarget(bits, 0, twoWeeks)).to.equal(BigInt(getCompact(t)));
    expect(await harness.retarget(bits, 0, 1)).to.equal(
      BigInt(getCompact((t * BigInt(twoWeeks / 4)) / BigInt(twoWeeks))),
    );
    expect(await harness.retarget(bits, 0, twoWeeks * 10)).to.equal(
      BigInt(getCompact((t * BigInt(twoWeeks * 4)) / BigInt(twoWeeks))),
    );
    expect(await harness.retarget(bits, 100, 50)).to.equal(
      BigInt(getCompact((t * BigInt(twoWeeks / 4)) / BigInt(twoWeeks))),
    );
    expect(await harness.retarget(0x1d00ffff, 0, twoWeeks * 4)).to.equal(0x1d00ffffn);
  });
});

describe("BitcoinLightClient never fails without a custom error", function () {
  it("random bytes and random mutations of valid headers revert with the client's own errors or are accepted", async function () {
    const { REGTEST_GENESIS, hash256, mineRegtestHeader } = await import("../helpers/bitcoinData");
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    const client = await (
      await ethers.getContractFactory("BitcoinLightClient")
    ).deploy(hex0x(genesis), 0, genesis.readUInt32LE(68), 2);
    const chain: Buffer[] = [];
    let prev = hash256(genesis);
    for (let i = 0; i < 4; i++) {
      const h = mineRegtestHeader(prev, hash256(Buffer.from([i])), genesis.readUInt32LE(68) + i + 1);
      chain.push(h);
      prev = hash256(h);
    }
    await (await client.submitHeaders(hex0x(Buffer.concat(chain.slice(0, 2))))).wait();
    const known = new Set(
      client.interface.fragments
        .filter((f) => f.type === "error")
        .map((f) => (f as unknown as { selector: string }).selector),
    );
    const check = async (data: Uint8Array) => {
      try {
        await client.submitHeaders.staticCall(hex0x(data));
      } catch (err) {
        const revert = (err as { data?: string }).data;
        expect(revert, `no revert data for ${hex0x(data)}`).to.be.a("string");
        expect(known.has(revert!.slice(0, 10)), `unknown revert ${revert}`).to.equal(true);
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 400 }), async (bytes) => check(bytes)),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (start, flips) => {
          const data = Buffer.concat(chain.slice(start));
          for (const [pos, mask] of flips) data[pos % data.length] ^= mask;
          await check(data);
        },
      ),
      { numRuns: 60 },
    );
  });
});
