import { expect } from "chai";
import { ethers } from "hardhat";
import { SigningKey } from "ethers";
import type { Secp256k1Harness } from "../../typechain-types";

describe("PoP: on-chain secp256k1 decompression", () => {
  let h: Secp256k1Harness;
  before(async () => {
    h = (await (await ethers.getContractFactory("Secp256k1Harness")).deploy()) as unknown as Secp256k1Harness;
  });

  it("recovers y and the EVM address of 40 random keys of both parities, as ethers does", async () => {
    const parities = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const key = new SigningKey(ethers.hexlify(ethers.randomBytes(32)));
      const compressed = key.compressedPublicKey;
      parities.add(compressed.slice(0, 4));
      const [x, y] = await h.decompress(compressed);
      const full = key.publicKey; // 0x04 || x || y
      expect(ethers.toBeHex(x, 32)).to.equal("0x" + full.slice(4, 68));
      expect(ethers.toBeHex(y, 32)).to.equal("0x" + full.slice(68));
      expect(await h.toAddress(compressed)).to.equal(ethers.computeAddress(key.publicKey));
    }
    expect([...parities].sort()).to.deep.equal(["0x02", "0x03"]);
  });

  it("refuses a key off the curve, x >= p, a wrong prefix or length", async () => {
    // x = 5: 5^3 + 7 = 132 is not a square modulo p.
    const offCurve = "0x02" + "00".repeat(31) + "05";
    await expect(h.decompress(offCurve)).to.be.revertedWithCustomError(h, "InvalidCompressedKey").withArgs(offCurve);
    const big = "0x03" + "ff".repeat(32);
    await expect(h.decompress(big)).to.be.revertedWithCustomError(h, "InvalidCompressedKey").withArgs(big);
    const key = new SigningKey(ethers.hexlify(ethers.randomBytes(32)));
    const wrongPrefix = "0x04" + key.compressedPublicKey.slice(4);
    await expect(h.decompress(wrongPrefix)).to.be.revertedWithCustomError(h, "InvalidCompressedKey");
    await expect(h.decompress(key.publicKey)).to.be.revertedWithCustomError(h, "InvalidCompressedKey");
  });
});
