import { expect } from "chai";
import { createHash } from "node:crypto";
import { ethers } from "hardhat";
import {
  coveringKeystone,
  decodeKeystone,
  encodeKeystone,
  KEYSTONE_ABBREV_LENGTH,
  keystoneAtBlock,
  keystoneFromBlock,
  keystoneId,
  keystoneIdDisplay,
  keystoneIdHex,
  type Keystone,
} from "../../relayer/src/pop/keystone";
import { mineEvmTo } from "./popChain";

const sha256 = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest();

/** A keystone whose every field has distinct, recognisable bytes. */
function sample(): Keystone {
  return {
    version: 1,
    btcHeight: 0x01020304,
    l2BlockNumber: 0x0a0b0c0d,
    parentEPHash: Buffer.from("a1a2a3a4a5a6a7a8a9aaab", "hex"),
    prevKeystoneEPHash: Buffer.from("b1b2b3b4b5b6b7b8b9babbbc", "hex"),
    stateRoot: Buffer.from("c0".repeat(16) + "c1".repeat(16), "hex"),
    epHash: Buffer.from("d1d2d3d4d5d6d7d8d9dadbdc", "hex"),
  };
}

describe("PoP: keystone abbreviation (HEMI-FACTS §3.2)", () => {
  it("lays out every field at Hemi's offsets: 1 + 4 + 4 + 11 + 12 + 32 + 12 = 76 bytes, integers big-endian", () => {
    const b = encodeKeystone(sample());
    expect(b.length).to.equal(76).and.equal(KEYSTONE_ABBREV_LENGTH);
    expect(b.subarray(0, 1).toString("hex")).to.equal("01");
    expect(b.subarray(1, 5).toString("hex")).to.equal("01020304");
    expect(b.subarray(5, 9).toString("hex")).to.equal("0a0b0c0d");
    expect(b.subarray(9, 20).toString("hex")).to.equal("a1a2a3a4a5a6a7a8a9aaab");
    expect(b.subarray(20, 32).toString("hex")).to.equal("b1b2b3b4b5b6b7b8b9babbbc");
    expect(b.subarray(32, 64).toString("hex")).to.equal("c0".repeat(16) + "c1".repeat(16));
    expect(b.subarray(64, 76).toString("hex")).to.equal("d1d2d3d4d5d6d7d8d9dadbdc");
  });

  it("decodes what it encodes and rejects another length or version", () => {
    const b = encodeKeystone(sample());
    expect(decodeKeystone(b)).to.deep.equal(sample());
    expect(decodeKeystone("0x" + b.toString("hex"))).to.deep.equal(sample());
    expect(() => decodeKeystone(b.subarray(0, 75))).to.throw(/76 bytes, got 75/);
    expect(() => decodeKeystone(Buffer.concat([b, Buffer.alloc(1)]))).to.throw(/76 bytes, got 77/);
    const v2 = Buffer.from(b);
    v2[0] = 2;
    expect(() => decodeKeystone(v2)).to.throw(/version 2/);
    expect(() => encodeKeystone({ ...sample(), epHash: Buffer.alloc(32) })).to.throw(/epHash must be 12 bytes/);
    expect(() => encodeKeystone({ ...sample(), btcHeight: 2 ** 32 })).to.throw(/uint32/);
  });

  it("id = sha256(sha256(76 bytes)) in internal order; display order is its reverse", () => {
    const b = encodeKeystone(sample());
    const id = sha256(sha256(b));
    expect(keystoneId(b).equals(id)).to.equal(true);
    expect(keystoneIdHex(b)).to.equal("0x" + id.toString("hex"));
    expect(keystoneIdDisplay(b)).to.equal(Buffer.from(id).reverse().toString("hex"));
    expect(() => keystoneId(b.subarray(1))).to.throw(/76 bytes/);
  });

  it("builds a keystone from a real Hardhat block: prefixes of its hash and parent hash, its state root", async () => {
    await mineEvmTo(60);
    const k = await keystoneAtBlock(ethers.provider, 50, 25, 777);
    const block = await ethers.provider.send("eth_getBlockByNumber", ["0x32", false]);
    const prev = await ethers.provider.send("eth_getBlockByNumber", ["0x19", false]);
    const b = encodeKeystone(k);
    expect(b.readUInt32BE(1)).to.equal(777);
    expect(b.readUInt32BE(5)).to.equal(50);
    expect("0x" + b.subarray(9, 20).toString("hex")).to.equal(block.parentHash.slice(0, 2 + 22));
    expect("0x" + b.subarray(20, 32).toString("hex")).to.equal(prev.hash.slice(0, 2 + 24));
    expect("0x" + b.subarray(32, 64).toString("hex")).to.equal(block.stateRoot);
    expect("0x" + b.subarray(64, 76).toString("hex")).to.equal(block.hash.slice(0, 2 + 24));
    // No block `interval` before: zeros, as Hemi.
    const first = keystoneFromBlock({
      block: { number: 20, hash: block.hash, parentHash: block.parentHash, stateRoot: block.stateRoot },
      prevKeystoneHash: null,
      btcHeight: 0,
    });
    expect(first.prevKeystoneEPHash.equals(Buffer.alloc(12))).to.equal(true);
    let error: unknown;
    await keystoneAtBlock(ethers.provider, 10_000_000, 25, 0).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/EVM block 10000000 does not exist yet/);
  });

  it("maps a block to the keystone covering it (itself at a multiple, else the next; never below the first)", () => {
    expect(coveringKeystone(25, 25)).to.equal(25);
    expect(coveringKeystone(26, 25)).to.equal(50);
    expect(coveringKeystone(49, 25)).to.equal(50);
    expect(coveringKeystone(0, 25)).to.equal(25);
    expect(coveringKeystone(30, 25, 100)).to.equal(100);
    expect(coveringKeystone(101, 25, 100)).to.equal(125);
  });
});
