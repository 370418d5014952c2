import { expect } from "chai";
import { artifacts, ethers } from "hardhat";
import { PRECOMPILES } from "../../relayer/src/hvm";
import { keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { payments, networks } from "bitcoinjs-lib";
import type { HvmGasProbe } from "../../typechain-types";
import { hvmChain, type HvmChain } from "./fixture";
import { be } from "./reference";

const hex = (s: string) => "0x" + Buffer.from(s, "ascii").toString("hex");
const FORWARD = 400_000n;

describe("hVM precompiles: every failure mode of HEMI-FACTS §1.3", function () {
  let c: HvmChain;
  let probe: HvmGasProbe;
  let P: HvmChain["current"]["precompiles"];
  let top: number;
  let aboveTopCoinbase: string;
  let topCoinbase: string;

  before(async () => {
    c = await hvmChain();
    P = c.current.precompiles;
    probe = (await (await ethers.getContractFactory("HvmGasProbe")).deploy()) as unknown as HvmGasProbe;
    top = Number((await c.index.tipView())[2]);
    const cb = async (h: number) =>
      ((await c.t.rpc.getBlock(await c.t.rpc.getBlockHash(h), 1)) as { tx: string[] }).tx[0];
    aboveTopCoinbase = await cb(top + 1);
    topCoinbase = await cb(top);
  });

  /** Runs the probe as a transaction; returns the outcome and the receipt's gasUsed. */
  async function run(to: string, input: string) {
    const [ok, size, spent] = await probe.probe.staticCall(to, input, FORWARD);
    const receipt = await (await probe.probe(to, input, FORWARD)).wait();
    return { ok, size: Number(size), spent, gasUsed: (receipt as { gasUsed: bigint }).gasUsed };
  }

  async function expectEmpty(to: string, input: string, what: string) {
    const r = await run(to, input);
    expect(r.ok, what).to.equal(true);
    expect(r.size, what).to.equal(0);
    expect(r.spent < FORWARD / 2n, `${what}: spent ${r.spent}`).to.equal(true);
  }

  async function expectBurn(to: string, input: string, what: string) {
    const r = await run(to, input);
    expect(r.ok, what).to.equal(false);
    expect(r.size, what).to.equal(0);
    // All gas forwarded to the call is gone (plus the call's own cost); the caller's tx pays it.
    expect(r.spent >= FORWARD, `${what}: spent ${r.spent}`).to.equal(true);
    expect(r.gasUsed > FORWARD, `${what}: gasUsed ${r.gasUsed}`).to.equal(true);
  }

  it("0x40: an input under 24 bytes, an undecodable address, another network's address: empty success", async () => {
    await expectEmpty(P["0x40"], hex("bcrt1qshort"), "short");
    await expectEmpty(P["0x40"], hex("bcrt1q" + "q".repeat(38)), "bad checksum");
    const mainnet = payments.p2wpkh({ pubkey: randomKey().publicKey, network: networks.bitcoin }).address as string;
    await expectEmpty(P["0x40"], hex(mainnet), "mainnet address on regtest");
  });

  it("0x41: an input under 28 bytes or an undecodable address: empty success", async () => {
    await expectEmpty(P["0x41"], hex(c.addresses.w.slice(0, 23)) + "00000a", "27 bytes");
    await expectEmpty(P["0x41"], hex("x".repeat(30)) + "00000a", "undecodable");
  });

  it("0x42: a length other than 36, an unknown txid, a tx above the lagged tip: empty success", async () => {
    const id = c.txids.fan;
    await expectEmpty(P["0x42"], "0x" + id + "7fbc2d", "35 bytes");
    await expectEmpty(P["0x42"], "0x" + id + "7fbc2d0a00", "37 bytes");
    await expectEmpty(P["0x42"], "0x" + "ab".repeat(32) + "7fbc2d0a", "unknown txid");
    await expectEmpty(P["0x42"], "0x" + aboveTopCoinbase + "20000000", "above best - lag");
    expect(await ethers.provider.call({ to: P["0x42"], data: "0x" + topCoinbase + "20000000" })).to.equal("0x00000002");
  });

  it("0x43: a length other than 32 is empty; an unknown txid or one above the lagged tip burns the forwarded gas", async () => {
    for (const input of ["0x", "0x" + c.txids.fan.slice(0, 62), "0x" + c.txids.fan + "00"])
      await expectEmpty(P["0x43"], input, `length ${(input.length - 2) / 2}`);
    await expectBurn(P["0x43"], "0x" + "ab".repeat(32), "unknown txid");
    await expectBurn(P["0x43"], "0x" + aboveTopCoinbase, "above best - lag");
    expect(await ethers.provider.call({ to: P["0x43"], data: "0x" + topCoinbase })).to.equal("0x" + be(3, 4));
  });

  it("0x45: a length other than 4, a height above best - lag or below the index: empty success", async () => {
    for (const input of ["0x", "0x000065", "0x0000006500"]) await expectEmpty(P["0x45"], input, `input ${input}`);
    await expectEmpty(P["0x45"], "0x" + be(top + 1, 4), "top + 1");
    await expectEmpty(P["0x45"], "0x" + be(100, 4), "below the anchor");
    expect((await ethers.provider.call({ to: P["0x45"], data: "0x" + be(top, 4) })).length).to.equal(2 + 232);
  });

  it("0x46: under 24 bytes is empty; an undecodable address burns the forwarded gas", async () => {
    await expectEmpty(P["0x46"], hex("mipcBbFg9gMiCh81Kj8tqqd"), "23 bytes");
    const good = keyOutput(randomKey(), "p2pkh").address;
    const badChecksum = good.slice(0, -1) + (good.endsWith("1") ? "2" : "1");
    await expectBurn(P["0x46"], hex(badChecksum), "base58 checksum");
    await expectBurn(P["0x46"], hex("x".repeat(40)), "garbage");
    const mainnet = payments.p2pkh({ pubkey: randomKey().publicKey, network: networks.bitcoin }).address as string;
    await expectBurn(P["0x46"], hex(mainnet), "mainnet P2PKH on regtest");
  });

  it("0x47/0x48: a length other than 36, an unknown txid, an index out of range, a coinbase input: empty", async () => {
    for (const key of ["0x47", "0x48"] as const) {
      await expectEmpty(P[key], "0x" + c.txids.fan + "0000", `${key} 34 bytes`);
      await expectEmpty(P[key], "0x" + "ab".repeat(32) + "00000040", `${key} unknown`);
    }
    await expectEmpty(P["0x47"], "0x" + c.txids.fan + "00010040", "input 1 of a 1-input tx");
    await expectEmpty(P["0x48"], "0x" + c.txids.fan + "002b0040", "output 43 of 43");
    await expectEmpty(P["0x47"], "0x" + c.txids.coinbaseB2 + "00000040", "coinbase input (no source)");
  });

  it("0x49: a length other than 38, an input or item out of range, an input without witness: empty", async () => {
    await expectEmpty(P["0x49"], "0x" + c.txids.many + "0000000040", "37 bytes");
    await expectEmpty(P["0x49"], "0x" + c.txids.many + "002800000040", "input 40 of 40");
    await expectEmpty(P["0x49"], "0x" + c.txids.many + "000000020040", "item 2 of 2");
    await expectEmpty(P["0x49"], "0x" + c.txids.pkh + "000000000040", "P2PKH input has no witness");
  });

  it("no 4-byte or 32-byte input reaches a function: 0x45 and 0x43 answer raw bytes for selector-shaped input", async () => {
    // 0x45's input is exactly selector-sized; 0x43's starts with 4 bytes too. Both answer as precompiles.
    expect(await ethers.provider.call({ to: P["0x45"], data: "0x00000065" })).to.have.length(2 + 232);
    for (const p of PRECOMPILES) {
      const abi = (await artifacts.readArtifact(p.emulator)).abi as { type: string }[];
      expect(
        abi.filter((e) => e.type === "function" || e.type === "receive"),
        p.emulator,
      ).to.deep.equal([]);
      expect(
        abi.some((e) => e.type === "fallback"),
        p.emulator,
      ).to.equal(true);
    }
  });
});
