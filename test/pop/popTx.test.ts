import { expect } from "chai";
import { Transaction } from "bitcoinjs-lib";
import { computeAddress } from "ethers";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { encodeKeystone } from "../../relayer/src/pop/keystone";
import {
  buildPopTx,
  estimatePopVsize,
  feeFor,
  parsePopTx,
  popScript,
  POP_INPUT_SEQUENCE,
} from "../../relayer/src/pop/popTx";
import { fundKey, startTestNode, type TestNode } from "../bitcoin-node/helpers";

function abbrev(seed: number): Buffer {
  return encodeKeystone({
    version: 1,
    btcHeight: 1000 + seed,
    l2BlockNumber: 25 * seed,
    parentEPHash: Buffer.alloc(11, seed),
    prevKeystoneEPHash: Buffer.alloc(12, seed + 1),
    stateRoot: Buffer.alloc(32, seed + 2),
    epHash: Buffer.alloc(12, seed + 3),
  });
}

const utxo = { txid: "11".repeat(32), vout: 3, value: 100_000n };

describe("PoP: the Bitcoin transaction (HEMI-FACTS §3.3)", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode({}, 101);
  });
  after(async () => {
    await t.running.close();
  });

  it("has popm's bytes: version 2, one P2PKH input, change then `6a 4c 50 48454d49 <76>` (value 0), locktime = tip", () => {
    const key = randomKey();
    const a = abbrev(7);
    const pop = buildPopTx({ abbrev: a, utxo, key, tipHeight: 123_456, feeRate: 10 });
    const raw = Buffer.from(pop.hex, "hex");
    expect(raw.readUInt32LE(0)).to.equal(2); // version
    expect(raw[4]).to.equal(1); // one input, no segwit marker
    expect(raw.subarray(5, 37).equals(Buffer.from(utxo.txid, "hex").reverse())).to.equal(true);
    expect(raw.readUInt32LE(37)).to.equal(3);
    const sigScriptLen = raw[41];
    const sigLen = raw[42];
    expect(sigLen).to.be.within(71, 73);
    expect(raw[43]).to.equal(0x30); // DER
    expect(raw[42 + sigLen]).to.equal(0x01); // SIGHASH_ALL
    expect(raw[43 + sigLen]).to.equal(33);
    expect(raw.subarray(44 + sigLen, 77 + sigLen).equals(Buffer.from(key.publicKey))).to.equal(true);
    expect(sigScriptLen).to.equal(sigLen + 35);
    let o = 42 + sigScriptLen;
    expect(raw.readUInt32LE(o)).to.equal(POP_INPUT_SEQUENCE);
    o += 4;
    expect(raw[o]).to.equal(2); // two outputs
    o += 1;
    // Output 0: change to the miner's own P2PKH script.
    expect(raw.readBigUInt64LE(o)).to.equal(utxo.value - pop.fee);
    expect(raw[o + 8]).to.equal(25);
    expect(raw.subarray(o + 9, o + 34).equals(keyOutput(key, "p2pkh").script)).to.equal(true);
    o += 34;
    // Output 1: the 83-byte PoP script, value 0.
    expect(raw.readBigUInt64LE(o)).to.equal(0n);
    expect(raw[o + 8]).to.equal(83);
    const script = raw.subarray(o + 9, o + 92);
    expect(script.subarray(0, 7).toString("hex")).to.equal("6a4c5048454d49");
    expect(script.subarray(7).equals(a)).to.equal(true);
    expect(script.equals(popScript(a))).to.equal(true);
    o += 92;
    expect(raw.readUInt32LE(o)).to.equal(123_456); // locktime
    expect(raw.length).to.equal(o + 4);
    // Fee: priced on the largest signature, so the real rate is at least the asked one.
    expect(pop.vsize).to.equal(raw.length).and.be.at.most(estimatePopVsize(true));
    expect(pop.fee).to.equal(feeFor(estimatePopVsize(true), 10));
    expect(Number(pop.fee) / pop.vsize).to.be.at.least(10);
    expect(pop.popVout).to.equal(1);
  });

  it("leaves no change output when the change would be dust (the whole coin pays the fee)", () => {
    const key = randomKey();
    const fee = feeFor(estimatePopVsize(false), 5);
    const pop = buildPopTx({ abbrev: abbrev(1), utxo: { ...utxo, value: fee + 100n }, key, tipHeight: 9, feeRate: 5 });
    expect(pop.tx.outs).to.have.length(1);
    expect(Buffer.from(pop.tx.outs[0].script).toString("hex")).to.equal(popScript(abbrev(1)).toString("hex"));
    expect(pop.fee).to.equal(fee + 100n);
    expect(pop.change).to.equal(0n);
    expect(pop.popVout).to.equal(0);
    expect(() =>
      buildPopTx({ abbrev: abbrev(1), utxo: { ...utxo, value: fee - 1n }, key, tipHeight: 9, feeRate: 5 }),
    ).to.throw(/does not cover the PoP fee/);
    expect(() => buildPopTx({ abbrev: abbrev(1).subarray(1), utxo, key, tipHeight: 9, feeRate: 5 })).to.throw(
      /76 bytes/,
    );
  });

  it("is accepted by the embedded node, mined, and decodes with bitcoinjs-lib to the keystone and the miner", async () => {
    const key = randomKey();
    const funded = await fundKey(t, "p2pkh", 0.5, key);
    const tip = await t.rpc.getBlockCount();
    const a = abbrev(3);
    const pop = buildPopTx({
      abbrev: a,
      utxo: { txid: funded.txid, vout: funded.vout, value: funded.value },
      key,
      tipHeight: tip,
      feeRate: 3,
    });
    expect(await t.rpc.sendRawTransaction(pop.hex)).to.equal(pop.txid);
    const [blockHash] = await t.rpc.generateToAddress(1, t.minerAddress);
    const info = await t.rpc.getRawTransaction(pop.txid, true);
    expect(info.blockhash).to.equal(blockHash);
    expect(info.confirmations).to.equal(1);
    expect(info.version).to.equal(2);
    expect(info.locktime).to.equal(tip);
    expect(info.vout.map((v) => v.scriptPubKey.type)).to.deep.equal(["pubkeyhash", "nulldata"]);
    expect(info.vout[1].scriptPubKey.hex).to.equal("6a4c5048454d49" + a.toString("hex"));
    expect(info.vout[1].value).to.equal(0);

    const decoded = Transaction.fromHex(await t.rpc.getRawTransaction(pop.txid, false));
    const parsed = parsePopTx(decoded);
    expect(parsed.abbrev.equals(a)).to.equal(true);
    expect(parsed.keystone.l2BlockNumber).to.equal(75);
    expect(parsed.pubkey.equals(Buffer.from(key.publicKey))).to.equal(true);
    expect(parsed.minerAddress).to.equal(computeAddress("0x" + Buffer.from(key.publicKey).toString("hex")));
    expect(parsed.minerScript.equals(keyOutput(key, "p2pkh").script)).to.equal(true);
    expect(parsed.version).to.equal(2);
    expect(parsed.locktime).to.equal(tip);
    expect(parsed.popVout).to.equal(1);
  });

  it("parsePopTx refuses what PopVerifier refuses: two HEMI outputs, a non-P2PKH input, two inputs, no HEMI output", () => {
    const key = randomKey();
    const p2pkh = { txid: "22".repeat(32), vout: 0, value: 50_000n, script: keyOutput(key, "p2pkh").script, key };
    const two = buildSignedTx({
      inputs: [p2pkh],
      outputs: [
        { script: popScript(abbrev(1)), value: 0n },
        { script: popScript(abbrev(2)), value: 0n },
      ],
    });
    expect(() => parsePopTx(two)).to.throw(/two HEMI outputs \(0 and 1\)/);
    const segwit = buildSignedTx({
      inputs: [{ ...p2pkh, script: keyOutput(key, "p2wpkh").script }],
      outputs: [{ script: popScript(abbrev(1)), value: 0n }],
    });
    expect(() => parsePopTx(segwit)).to.throw(/not a P2PKH spend/);
    const twoInputs = buildSignedTx({
      inputs: [p2pkh, { ...p2pkh, vout: 1 }],
      outputs: [{ script: popScript(abbrev(1)), value: 0n }],
    });
    expect(() => parsePopTx(twoInputs)).to.throw(/exactly one input, this one has 2/);
    const none = buildSignedTx({ inputs: [p2pkh], outputs: [{ opReturn: Buffer.from("HEMI") }] });
    expect(() => parsePopTx(none)).to.throw(/no HEMI output/);
  });
});
