import { expect } from "chai";
import { ethers } from "hardhat";
import { Result } from "ethers";
import type { RawTransactionInfo } from "../../relayer/src/bitcoin/rpcTypes";
import { hvmChain, type HvmChain } from "./fixture";
import { isUnspendable, readNodeTx, sats, type NodeTx } from "./reference";

const ANCHOR = 101;

describe("BitcoinKit: Hemi's interface over the emulators, struct field by field against the node", function () {
  let c: HvmChain;
  let top: number;
  let best: number;

  before(async () => {
    c = await hvmChain();
    const [, b, t] = await c.index.tipView();
    best = Number(b);
    top = Number(t);
  });

  /** The Transaction struct Hemi's BitcoinKit builds, from node data (HEMI-FACTS §2.2, §2.4). */
  function expectedStruct(n: NodeTx) {
    const info: RawTransactionInfo = n.info;
    const inputs = info.vin.slice(0, 32).map((vin, i) => {
      const sig = Buffer.from(vin.scriptSig?.hex ?? "", "hex");
      return {
        inValue: n.inValues[i] as bigint,
        inputTxId: "0x" + vin.txid,
        sourceIndex: BigInt(vin.vout as number),
        scriptSig: "0x" + sig.subarray(0, 64).toString("hex"),
        sequence: BigInt(vin.sequence),
        fullScriptSigLength: BigInt(sig.length),
        containsFullScriptSig: sig.length <= 64,
      };
    });
    const outputs = info.vout.slice(0, 32).map((o, v) => {
      const script = Buffer.from(o.scriptPubKey.hex, "hex");
      return {
        outValue: sats(o.value),
        script: "0x" + script.subarray(0, 64).toString("hex"),
        outputAddress: "",
        isOpReturn: false,
        opReturnData: "0x",
        isSpent: n.unspent[v] && !isUnspendable(script), // Hemi's inverted byte
        fullScriptLength: BigInt(script.length),
        containsFullScript: script.length <= 64,
        spentDetail: { spendingTxId: "0x" + "00".repeat(32), inputIndex: 0n },
      };
    });
    return {
      containingBlockHash: "0x" + info.blockhash,
      transactionVersion: BigInt(info.version),
      size: BigInt(info.size),
      vSize: BigInt((info.weight - info.size) / 3),
      lockTime: BigInt(info.locktime),
      inputs,
      outputs,
      totalInputs: BigInt(info.vin.length),
      totalOutputs: BigInt(info.vout.length),
      containsAllInputs: info.vin.length <= 32,
      containsAllOutputs: info.vout.length <= 32,
    };
  }

  /** ethers Result -> plain values: structs as objects with their field names, arrays as arrays, bigints as "Nn". */
  function plain(r: unknown): unknown {
    if (r instanceof Result) {
      let o: Record<string, unknown>;
      try {
        o = r.toObject(false);
      } catch {
        return Array.from(r).map(plain); // an array: its items have no names
      }
      const keys = Object.keys(o);
      if (keys.length === 0 || keys.every((k) => k === "_")) return Array.from(r).map(plain);
      return Object.fromEntries(keys.map((k) => [k, plain(o[k])]));
    }
    return typeof r === "bigint" ? `${r}n` : r;
  }
  const norm = (x: unknown) => JSON.parse(JSON.stringify(x, (_, v) => (typeof v === "bigint" ? `${v}n` : v)));

  for (const layout of ["current", "bitcoinkit-2024"] as const) {
    it(`${layout}: getTransactionByTxId of FAN, PKH, TR and MANY equals the struct built from node data`, async () => {
      const kit = layout === "current" ? c.kitCurrent : c.kitLegacy;
      for (const id of [c.txids.fan, c.txids.pkh, c.txids.tr, c.txids.many]) {
        const n = await readNodeTx(c.t.rpc, id, (h) => h >= ANCHOR && h <= top);
        const got = plain(await kit.getTransactionByTxId("0x" + id)) as Record<string, unknown>;
        const want = norm(expectedStruct(n)) as Record<string, unknown>;
        for (const field of Object.keys(want)) expect(got[field], `${id} ${field}`).to.deep.equal(want[field]);
        if (id === c.txids.many) continue; // the per-part functions re-read the same answer: checked on the others
        expect(await kit.getTxInputCount("0x" + id)).to.equal(BigInt(n.info.vin.length));
        expect(await kit.getTxOutputCount("0x" + id)).to.equal(BigInt(n.info.vout.length));
        expect(plain(await kit.getSpecificTxInput("0x" + id, 0))).to.deep.equal((want.inputs as unknown[])[0]);
        expect(plain(await kit.getSpecificTxOutput("0x" + id, 0))).to.deep.equal((want.outputs as unknown[])[0]);
        expect(plain(await kit.getTransactionInputsByTxId("0x" + id))).to.deep.equal(want.inputs);
        expect(plain(await kit.getTransactionOutputsByTxId("0x" + id))).to.deep.equal(want.outputs);
      }
    });
  }

  it("out-of-range input/output indexes and unknown transactions revert with custom errors", async () => {
    await expect(c.kitCurrent.getSpecificTxInput("0x" + c.txids.pkh, 1))
      .to.be.revertedWithCustomError(c.kitCurrent, "InputIndexOutOfRange")
      .withArgs(1, 1);
    await expect(c.kitCurrent.getSpecificTxOutput("0x" + c.txids.fan, 32))
      .to.be.revertedWithCustomError(c.kitCurrent, "OutputIndexOutOfRange")
      .withArgs(32, 32);
    await expect(c.kitCurrent.getTransactionByTxId("0x" + "ab".repeat(32))).to.be.revertedWithCustomError(
      c.kitCurrent,
      "EmptyAnswer",
    );
    await expect(c.kitCurrent.getTxConfirmations("0x" + "ab".repeat(32))).to.be.revertedWithCustomError(
      c.kitCurrent,
      "PrecompileCallFailed",
    );
  });

  it("transactionExists: true for indexed transactions, false for a coinbase (Hemi's quirk) and unknown ones", async () => {
    for (const kit of [c.kitCurrent, c.kitLegacy]) {
      expect(await kit.transactionExists("0x" + c.txids.fan)).to.equal(true);
      expect(await kit.transactionExists("0x" + c.txids.coinbaseB2)).to.equal(false);
      expect(await kit.transactionExists("0x" + "cd".repeat(32))).to.equal(false);
    }
  });

  it("getTxConfirmations, getLastHeader, getHeaderN field by field", async () => {
    const n = await readNodeTx(c.t.rpc, c.txids.many, () => true);
    expect(await c.kitCurrent.getTxConfirmations("0x" + c.txids.many)).to.equal(BigInt(best - n.height + 1));
    for (const [h, got] of [
      [top, await c.kitCurrent.getLastHeader()],
      [ANCHOR, await c.kitLegacy.getHeaderN(ANCHOR)],
      [top - 1, await c.kitCurrent.getHeaderN(top - 1)],
    ] as const) {
      const hash = await c.t.rpc.getBlockHash(h as number);
      const hd = await c.t.rpc.getBlockHeader(hash);
      expect(plain(got)).to.deep.equal(
        norm({
          height: BigInt(h as number),
          blockHash: "0x" + hash,
          version: BigInt(hd.version),
          previousBlockHash: "0x" + hd.previousblockhash,
          merkleRoot: "0x" + hd.merkleroot,
          timestamp: BigInt(hd.time),
          bits: BigInt(parseInt(hd.bits, 16)),
          nonce: BigInt(hd.nonce),
        }),
      );
    }
    await expect(c.kitCurrent.getHeaderN(top + 1)).to.be.revertedWithCustomError(c.kitCurrent, "EmptyAnswer");
  });

  it("balance, script, address validity and both getUTXOsForBitcoinAddress selectors", async () => {
    const addr = c.addresses.w;
    const scan = await c.t.rpc.scanTxOutSet([`addr(${addr})`]);
    const visible = scan.unspents.filter((u) => u.height >= ANCHOR && u.height <= top);
    expect(await c.kitCurrent.getBitcoinAddressBalance(addr)).to.equal(
      visible.reduce((s, u) => s + sats(u.amount), 0n),
    );
    expect(await c.kitCurrent.getBitcoinAddressBalance("tooShort")).to.equal(0n);
    expect(await c.kitCurrent.getScriptForAddress(addr)).to.equal(
      "0x0014" + (await c.t.rpc.scanTxOutSet([`addr(${addr})`])).unspents[0].scriptPubKey.slice(4),
    );
    expect(await c.kitCurrent.isAddressValid(addr)).to.equal(true);
    expect(await c.kitCurrent.isAddressValid("short")).to.equal(false);
    await expect(c.kitCurrent.isAddressValid("x".repeat(30))).to.be.revertedWithCustomError(
      c.kitCurrent,
      "PrecompileCallFailed",
    );
    const wide = c.kitCurrent.getFunction("getUTXOsForBitcoinAddress(string,uint256,uint256)");
    const narrow = c.kitCurrent.getFunction("getUTXOsForBitcoinAddress(string,uint32,uint32)");
    expect(wide.fragment.selector).to.equal("0x17055683");
    expect(narrow.fragment.selector).to.equal("0xd12c1974");
    const a = (await wide.staticCall(addr, 0, 0)).map((u: unknown) => plain(u));
    const b = (await narrow.staticCall(addr, 0, 0)).map((u: unknown) => plain(u));
    expect(a).to.deep.equal(b);
    expect(a).to.have.length(Math.min(10, visible.length));
    const byKey = new Map(visible.map((u) => [`${u.txid}:${u.vout}`, u]));
    for (const u of a as { txId: string; index: string; value: string; scriptPubKey: string }[]) {
      const v = byKey.get(`${u.txId.slice(2)}:${BigInt(u.index.slice(0, -1))}`);
      expect(v, u.txId).to.not.equal(undefined);
      expect(u.value).to.equal(`${sats((v as { amount: number }).amount)}n`);
      expect(u.scriptPubKey).to.equal("0x");
    }
    const page = (await wide.staticCall(addr, 1, 1)).map((u: unknown) => plain(u));
    expect(page).to.deep.equal(a.slice(1, 2));
    void ethers;
  });
});
