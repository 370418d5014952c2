import { expect } from "chai";
import { ethers } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { encodeKeystone, keystoneIdHex, decodeKeystone } from "../../relayer/src/pop/keystone";
import { keystoneOf, mineBtc, mineEvmTo, recordNext, startPopChain, type PopChain } from "./popChain";

const hex = (b: Uint8Array): string => "0x" + Buffer.from(b).toString("hex");

describe("PoP: KeystoneLedger", () => {
  let c: PopChain;
  before(async () => {
    c = await startPopChain({ interval: 25 });
  });
  after(async () => {
    await c.t.running.close();
  });

  it("starts at the first keystone height after deployment and records keystones of real blocks", async () => {
    const first = Number(await c.ledger.firstKeystoneNumber());
    expect(first % 25).to.equal(0);
    expect(first).to.equal(c.dep.firstKeystone);
    const abbrev = await keystoneOf(c, first);
    // Deployed in one of the 25 blocks before the first keystone height.
    const address = await c.ledger.getAddress();
    expect(await ethers.provider.getCode(address, first - 1)).to.not.equal("0x");
    if (first >= 26) expect(await ethers.provider.getCode(address, first - 26)).to.equal("0x");

    const best = Number((await c.lc.bestBlock())[1]);
    await expect(c.ledger.recordKeystone(abbrev))
      .to.emit(c.ledger, "KeystoneRecorded")
      .withArgs(keystoneIdHex(abbrev), first, best, true, hex(abbrev));
    const k = await c.ledger.keystoneAt(first);
    expect(k.id).to.equal(keystoneIdHex(abbrev));
    expect(k.l2BlockNumber).to.equal(first);
    expect(k.btcHeight).to.equal(best);
    expect(k.hashesChecked).to.equal(true);
    const block = await ethers.provider.getBlock(first);
    expect(k.epHashPrefix).to.equal(block!.hash!.slice(0, 26));
    expect((await c.ledger.keystoneById(keystoneIdHex(abbrev))).l2BlockNumber).to.equal(first);
    expect(await c.ledger.numberOf(keystoneIdHex(abbrev))).to.equal(first);
    expect(await c.ledger.isRecorded(keystoneIdHex(abbrev))).to.equal(true);
    expect(await c.ledger.lastKeystoneNumber()).to.equal(first);

    // The next one links to it and may carry a higher Bitcoin height.
    await mineBtc(c, 2);
    const { n, abbrev: next } = await recordNext(c);
    expect(n).to.equal(first + 25);
    expect(decodeKeystone(next).prevKeystoneEPHash.toString("hex")).to.equal(block!.hash!.slice(2, 26));
    expect((await c.ledger.keystoneAt(n)).btcHeight).to.equal(best + 2);
    await expect(c.ledger.keystoneById(ethers.ZeroHash))
      .to.be.revertedWithCustomError(c.ledger, "UnknownKeystone")
      .withArgs(ethers.ZeroHash);
  });

  it("refuses a wrong EP hash prefix, a wrong parent hash prefix and a wrong previous-keystone link", async () => {
    const n = Number(await c.ledger.lastKeystoneNumber()) + 25;
    const good = await keystoneOf(c, n);
    const block = await ethers.provider.getBlock(n);
    const parent = await ethers.provider.getBlock(n - 1);
    const prev = (await c.ledger.keystoneAt(n - 25)).epHashPrefix;

    const badEp = await keystoneOf(c, n, (k) => (k.epHash = Buffer.alloc(12, 0xee)));
    await expect(c.ledger.recordKeystone(badEp))
      .to.be.revertedWithCustomError(c.ledger, "EPHashMismatch")
      .withArgs(n, block!.hash!.slice(0, 26), "0x" + "ee".repeat(12));
    const badParent = await keystoneOf(c, n, (k) => (k.parentEPHash = Buffer.alloc(11, 0xdd)));
    await expect(c.ledger.recordKeystone(badParent))
      .to.be.revertedWithCustomError(c.ledger, "ParentHashMismatch")
      .withArgs(n, parent!.hash!.slice(0, 24), "0x" + "dd".repeat(11));
    const badPrev = await keystoneOf(c, n, (k) => (k.prevKeystoneEPHash = Buffer.alloc(12, 0xcc)));
    await expect(c.ledger.recordKeystone(badPrev))
      .to.be.revertedWithCustomError(c.ledger, "PrevKeystoneMismatch")
      .withArgs(n, prev, "0x" + "cc".repeat(12));
    // The block hash of another block (a real one, just not this block's) is refused too.
    const shifted = await keystoneOf(c, n, (k) => (k.epHash = Buffer.from(parent!.hash!.slice(2, 26), "hex")));
    await expect(c.ledger.recordKeystone(shifted)).to.be.revertedWithCustomError(c.ledger, "EPHashMismatch");
    expect(await c.ledger.lastKeystoneNumber()).to.equal(n - 25); // nothing changed
    await (await c.ledger.recordKeystone(good)).wait();
  });

  it("refuses a skipped height, a repeated height, a height that is not a keystone, and a future block", async () => {
    const last = Number(await c.ledger.lastKeystoneNumber());
    const n = last + 25;
    // The keystone block is the block the transaction runs in: not in the past.
    const current = await ethers.provider.getBlockNumber();
    expect(current).to.be.below(n);
    await mineEvmTo(n - 1);
    const future = encodeKeystone({
      ...(await keystoneOfWithout(c, n - 25)),
      l2BlockNumber: n,
    });
    await expect(c.ledger.recordKeystone(future))
      .to.be.revertedWithCustomError(c.ledger, "KeystoneBlockInFuture")
      .withArgs(n, n);
    const skipped = await keystoneOf(c, last + 50);
    await expect(c.ledger.recordKeystone(skipped))
      .to.be.revertedWithCustomError(c.ledger, "UnexpectedKeystoneNumber")
      .withArgs(last + 50, last + 25);
    const again = await keystoneOf(c, last);
    await expect(c.ledger.recordKeystone(again))
      .to.be.revertedWithCustomError(c.ledger, "UnexpectedKeystoneNumber")
      .withArgs(last, last + 25);
    const odd = await keystoneOf(c, last + 24);
    await expect(c.ledger.recordKeystone(odd))
      .to.be.revertedWithCustomError(c.ledger, "UnexpectedKeystoneNumber")
      .withArgs(last + 24, last + 25);
  });

  it("refuses a wrong length or version, and a Bitcoin height above the light client's or below the previous", async () => {
    const n = Number(await c.ledger.lastKeystoneNumber()) + 25;
    const good = await keystoneOf(c, n);
    await expect(c.ledger.recordKeystone(good.subarray(0, 75)))
      .to.be.revertedWithCustomError(c.ledger, "InvalidAbbrevLength")
      .withArgs(75);
    await expect(c.ledger.recordKeystone(Buffer.concat([good, Buffer.alloc(1)])))
      .to.be.revertedWithCustomError(c.ledger, "InvalidAbbrevLength")
      .withArgs(77);
    const v2 = Buffer.from(good);
    v2[0] = 2;
    await expect(c.ledger.recordKeystone(v2))
      .to.be.revertedWithCustomError(c.ledger, "InvalidAbbrevVersion")
      .withArgs(2);
    const best = Number((await c.lc.bestBlock())[1]);
    const prevBtc = Number((await c.ledger.keystoneAt(n - 25)).btcHeight);
    const high = await keystoneOf(c, n, (k) => (k.btcHeight = best + 1));
    await expect(c.ledger.recordKeystone(high))
      .to.be.revertedWithCustomError(c.ledger, "BtcHeightOutOfRange")
      .withArgs(best + 1, prevBtc, best);
    const low = await keystoneOf(c, n, (k) => (k.btcHeight = prevBtc - 1));
    await expect(c.ledger.recordKeystone(low))
      .to.be.revertedWithCustomError(c.ledger, "BtcHeightOutOfRange")
      .withArgs(prevBtc - 1, prevBtc, best);
    await (await c.ledger.recordKeystone(good)).wait();
  });

  it("lets only SEQUENCER_ROLE record, and only the admin grant it", async () => {
    const [, other] = await ethers.getSigners();
    const n = Number(await c.ledger.lastKeystoneNumber()) + 25;
    const good = await keystoneOf(c, n);
    const role = await c.ledger.SEQUENCER_ROLE();
    await expect(c.ledger.connect(other).recordKeystone(good))
      .to.be.revertedWithCustomError(c.ledger, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, role);
    await expect(c.ledger.connect(other).grantRole(role, other.address)).to.be.revertedWithCustomError(
      c.ledger,
      "AccessControlUnauthorizedAccount",
    );
    await (await c.ledger.grantRole(role, other.address)).wait();
    await expect(c.ledger.connect(other).recordKeystone(good)).to.emit(c.ledger, "KeystoneRecorded");
    await (await c.ledger.revokeRole(role, other.address)).wait();
  });

  it("accepts a keystone recorded after its block hash left the 256-block window, flagged hashesChecked = false", async () => {
    const n = Number(await c.ledger.lastKeystoneNumber()) + 25;
    await mineEvmTo(n + 300);
    const late = await keystoneOf(c, n);
    await expect(c.ledger.recordKeystone(late))
      .to.emit(c.ledger, "KeystoneRecorded")
      .withArgs(keystoneIdHex(late), n, decodeKeystone(late).btcHeight, false, hex(late));
    expect((await c.ledger.keystoneAt(n)).hashesChecked).to.equal(false);
    // The link to the previous recorded keystone is still checked from storage.
    const next = await keystoneOf(c, n + 25, (k) => (k.prevKeystoneEPHash = Buffer.alloc(12, 1)));
    await expect(c.ledger.recordKeystone(next)).to.be.revertedWithCustomError(c.ledger, "PrevKeystoneMismatch");
  });

  it("checks the first keystone's previous-keystone prefix against blockhash(n - interval)", async () => {
    const [admin] = await ethers.getSigners();
    const f = await ethers.getContractFactory("KeystoneLedger");
    const ledger = await f.deploy(await c.lc.getAddress(), 10, admin.address);
    await (await ledger.grantRole(await ledger.SEQUENCER_ROLE(), admin.address)).wait();
    const first = Number(await ledger.firstKeystoneNumber());
    const other = { ...c, ledger, interval: 10 };
    const wrong = await keystoneOf(other, first, (k) => (k.prevKeystoneEPHash = Buffer.alloc(12, 0xab)));
    const prevBlock = await ethers.provider.getBlock(first - 10);
    await expect(ledger.recordKeystone(wrong))
      .to.be.revertedWithCustomError(ledger, "PrevKeystoneMismatch")
      .withArgs(first, prevBlock!.hash!.slice(0, 26), "0x" + "ab".repeat(12));
    await expect(ledger.recordKeystone(await keystoneOf(other, first)))
      .to.emit(ledger, "KeystoneRecorded")
      .withArgs(anyValue, first, anyValue, true, anyValue);
  });

  it("refuses an interval of zero at deployment", async () => {
    const f = await ethers.getContractFactory("KeystoneLedger");
    await expect(f.deploy(await c.lc.getAddress(), 0, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(f, "InvalidInterval")
      .withArgs(0);
  });
});

/** The keystone of block `n` (already mined) as a struct, to edit its number. */
async function keystoneOfWithout(c: PopChain, n: number) {
  return decodeKeystone(await keystoneOf(c, n));
}
