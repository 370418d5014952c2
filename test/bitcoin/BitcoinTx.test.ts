import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import * as bitcoin from "bitcoinjs-lib";
import type { BitcoinTxHarness } from "../../typechain-types";
import { loadVector, type SpvVectors } from "../helpers/vectors";
import {
  arbTx,
  buildTx,
  compactSizeOffsets,
  concatBytes,
  fromHex,
  to0x,
  toHex,
  type GenInput,
  type GenTx,
} from "../helpers/btcTxGen";

/** Order of BitcoinTxHarness.Fn. */
const Fn = { Validate: 0, Parse: 1, InputCount: 2, OutputCount: 3, Input: 4, Output: 5 } as const;
const ALL_FNS = Object.values(Fn);

const TX_ERRORS = [
  "TxTruncated",
  "TxHasWitnessMarker",
  "TxNoInputs",
  "TxNoOutputs",
  "TxTrailingBytes",
  "CompactSizeNotCanonical",
  "OutputIndexOutOfRange",
  "InputIndexOutOfRange",
] as const;
type TxErrorName = (typeof TX_ERRORS)[number];

/** The fields a parsed transaction must reproduce. */
interface TxShape {
  version: number;
  locktime: number;
  inputs: GenInput[];
  outputs: { script: Uint8Array; value: bigint }[];
}

interface Outcome {
  ok: boolean;
  data: string;
}

function reverseHex(h: string): string {
  return toHex(fromHex(h).reverse());
}

describe("BitcoinTx", function () {
  let h: BitcoinTxHarness;
  let selectors: Map<string, TxErrorName>;

  before(async function () {
    h = (await (await ethers.getContractFactory("BitcoinTxHarness")).deploy()) as unknown as BitcoinTxHarness;
    await h.waitForDeployment();
    selectors = new Map(TX_ERRORS.map((n) => [h.interface.getError(n)!.selector, n]));
  });

  /** Decodes a revert and insists it is one of the library's custom errors (never a panic or empty data). */
  function libraryError(data: string, context: string): { name: TxErrorName; args: bigint[] } {
    expect(data.length, `${context}: empty revert data`).to.be.greaterThanOrEqual(10);
    const name = selectors.get(data.slice(0, 10));
    expect(name, `${context}: revert ${data.slice(0, 74)} is not a BitcoinTx error`).to.not.equal(undefined);
    const parsed = h.interface.parseError(data);
    expect(parsed, `${context}: undecodable ${data}`).to.not.equal(null);
    return { name: name!, args: parsed!.args.map((a) => BigInt(a as bigint)) };
  }

  async function expectError(raw: Uint8Array, name: TxErrorName, args: bigint[]): Promise<void> {
    for (const fn of [Fn.Validate, Fn.Parse]) {
      const [r] = await probe([raw], fn);
      expect(r.ok).to.equal(false);
      const e = libraryError(r.data, name);
      expect(e.name).to.equal(name);
      expect(e.args).to.deep.equal(args);
    }
  }

  async function probe(raws: Uint8Array[], fn: number, index = 0): Promise<Outcome[]> {
    const res = await h.probe(raws.map(to0x), fn, index);
    return res.map((r) => ({ ok: r.ok, data: r.data }));
  }

  /** Expects the parsed struct to equal what bitcoinjs-lib built. */
  function expectSameTx(parsed: Awaited<ReturnType<BitcoinTxHarness["parse"]>>, g: TxShape): void {
    expect(parsed.version).to.equal(BigInt(g.version));
    expect(parsed.locktime).to.equal(BigInt(g.locktime));
    expect(parsed.inputs.length).to.equal(g.inputs.length);
    g.inputs.forEach((i, k) => {
      const p = parsed.inputs[k];
      expect(p.prevTxid).to.equal(to0x(i.hash));
      expect(p.prevVout).to.equal(BigInt(i.index));
      expect(p.scriptSig).to.equal(to0x(i.scriptSig));
      expect(p.sequence).to.equal(BigInt(i.sequence));
    });
    expect(parsed.outputs.length).to.equal(g.outputs.length);
    g.outputs.forEach((o, k) => {
      expect(parsed.outputs[k].value).to.equal(o.value);
      expect(parsed.outputs[k].script).to.equal(to0x(o.script));
    });
  }

  describe("random transactions built with bitcoinjs-lib", function () {
    it("parse, txid, validate, counts, input(i) and output(i) agree with bitcoinjs-lib", async function () {
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(arbTx(), { minLength: 1, maxLength: 4 }), async (gs) => {
          const raws = gs.map((g) => to0x(g.raw));
          const [parsed, ids] = await h.parseMany(raws);
          for (let t = 0; t < gs.length; t++) {
            const g = gs[t];
            cases++;
            expectSameTx(parsed[t], g);
            expect(ids[t]).to.equal(to0x(g.tx.getHash()));
            // Cross-check the bitcoinjs side too: its parser reads back what it wrote.
            expect(bitcoin.Transaction.fromBuffer(g.raw).getId()).to.equal(reverseHex(ids[t]));
            const [nIn, nOut] = await h.validate(raws[t]);
            expect([nIn, nOut]).to.deep.equal([BigInt(g.inputs.length), BigInt(g.outputs.length)]);
            expect(await h.inputCount(raws[t])).to.equal(BigInt(g.inputs.length));
            expect(await h.outputCount(raws[t])).to.equal(BigInt(g.outputs.length));
            const k = t % g.outputs.length;
            const [value, script] = await h.output(raws[t], k);
            expect(value).to.equal(g.outputs[k].value);
            expect(script).to.equal(to0x(g.outputs[k].script));
            const last = g.outputs.length - 1;
            expect((await h.output(raws[t], last))[1]).to.equal(to0x(g.outputs[last].script));
            const j = g.inputs.length - 1;
            const inp = await h.input(raws[t], j);
            expect(inp.prevTxid).to.equal(to0x(g.inputs[j].hash));
            expect(inp.prevVout).to.equal(BigInt(g.inputs[j].index));
            expect(inp.scriptSig).to.equal(to0x(g.inputs[j].scriptSig));
            expect(inp.sequence).to.equal(BigInt(g.inputs[j].sequence));
          }
        }),
        { numRuns: 40 },
      );
      expect(cases).to.be.greaterThanOrEqual(40);
    });

    it("an index past the end reverts with InputIndexOutOfRange / OutputIndexOutOfRange", async function () {
      await fc.assert(
        fc.asyncProperty(arbTx(), fc.nat(3), async (g, extra) => {
          const [outRes] = await probe([g.raw], Fn.Output, g.outputs.length + extra);
          expect(outRes.ok).to.equal(false);
          const e1 = libraryError(outRes.data, "output");
          expect(e1.name).to.equal("OutputIndexOutOfRange");
          expect(e1.args).to.deep.equal([BigInt(g.outputs.length + extra), BigInt(g.outputs.length)]);
          const [inRes] = await probe([g.raw], Fn.Input, g.inputs.length + extra);
          const e2 = libraryError(inRes.data, "input");
          expect(e2.name).to.equal("InputIndexOutOfRange");
          expect(e2.args).to.deep.equal([BigInt(g.inputs.length + extra), BigInt(g.inputs.length)]);
        }),
        { numRuns: 10 },
      );
    });

    it("handles CompactSize counts and lengths of the 0xfd form (253 outputs, 300-byte scriptSig)", async function () {
      const inputs = [
        { hash: new Uint8Array(32).fill(7), index: 1, scriptSig: new Uint8Array(300).fill(0xab), sequence: 5 },
      ];
      const outputs = Array.from({ length: 253 }, (_, i) => ({
        script: Uint8Array.of(0x6a, 1, i & 0xff),
        value: BigInt(i) * 1000n,
      }));
      const { tx, raw } = buildTx(2, inputs, outputs, 99);
      // The scriptSig length and the output count really use the 3-byte form.
      expect(raw[41]).to.equal(0xfd);
      expect(raw[41 + 3 + 300 + 4]).to.equal(0xfd);
      expectSameTx(await h.parse(to0x(raw)), { version: 2, locktime: 99, inputs, outputs });
      expect(await h.txid(to0x(raw))).to.equal(to0x(tx.getHash()));
      const [v, s] = await h.output(to0x(raw), 252);
      expect(v).to.equal(252_000n);
      expect(s).to.equal(to0x(outputs[252].script));
    });

    it("parses a 64-byte transaction as a transaction (the 64-byte SPV ambiguity is the light client's job)", async function () {
      const inputs = [
        { hash: new Uint8Array(32).fill(1), index: 0, scriptSig: Uint8Array.of(1, 2, 3, 4), sequence: 0xffffffff },
      ];
      const { tx, raw } = buildTx(1, inputs, [{ script: new Uint8Array(0), value: 5000n }], 0);
      expect(raw.length).to.equal(64);
      const p = await h.parse(to0x(raw));
      expect(p.inputs[0].scriptSig).to.equal("0x01020304");
      expect(p.outputs[0].value).to.equal(5000n);
      expect(p.outputs[0].script).to.equal("0x");
      expect(await h.txid(to0x(raw))).to.equal(to0x(tx.getHash()));
    });
  });

  describe("malformed input never reads out of bounds", function () {
    /** Every outcome is a success or one of the library's custom errors; parse and validate agree exactly. */
    async function expectSafe(raws: Uint8Array[], context: string): Promise<Outcome[][]> {
      const byFn: Outcome[][] = [];
      for (const fn of ALL_FNS) byFn.push(await probe(raws, fn, fn === Fn.Input || fn === Fn.Output ? 1 : 0));
      raws.forEach((raw, i) => {
        for (const fn of ALL_FNS) {
          const r = byFn[fn][i];
          if (!r.ok) libraryError(r.data, `${context} fn ${fn} on ${toHex(raw)}`);
        }
        const [v, p] = [byFn[Fn.Validate][i], byFn[Fn.Parse][i]];
        expect(p.ok, `${context}: parse and validate disagree on ${toHex(raw)}`).to.equal(v.ok);
        if (!v.ok) expect(p.data, `${context}: parse and validate revert differently`).to.equal(v.data);
        if (v.ok) {
          // Whatever we accept, bitcoinjs-lib parses to the same bytes and counts.
          const t = bitcoin.Transaction.fromBuffer(raw);
          expect(toHex(t.toBuffer())).to.equal(toHex(raw));
          const [nIn, nOut] = h.interface.decodeFunctionResult("validate", v.data);
          expect([Number(nIn), Number(nOut)]).to.deep.equal([t.ins.length, t.outs.length]);
        }
      });
      return byFn;
    }

    it("random bytes: success or a BitcoinTx error, never a panic", async function () {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.uint8Array({ minLength: 0, maxLength: 120 }),
              // A plausible prefix (version, one input) followed by random bytes.
              fc
                .uint8Array({ minLength: 0, maxLength: 120 })
                .map((r) => concatBytes([Uint8Array.of(1, 0, 0, 0, 1), r])),
            ),
            { minLength: 10, maxLength: 10 },
          ),
          async (raws) => {
            n += raws.length;
            await expectSafe(raws, "random bytes");
          },
        ),
        { numRuns: 10 },
      );
      expect(n).to.equal(100);
    });

    it("every truncation of a valid transaction reverts with TxTruncated from parse and validate", async function () {
      // Four random transactions of at most 400 bytes (every prefix is probed with all six functions).
      const samples = fc
        .sample(arbTx({ maxInputs: 2, maxOutputs: 3 }), { numRuns: 40, seed: 42 })
        .filter((g) => g.raw.length <= 400)
        .slice(0, 4);
      expect(samples.length).to.equal(4);
      const real = fromHex(loadVector<SpvVectors>("mainnet-spv-proofs.json").valid[0].rawTx);
      for (const raw of [...samples.map((s) => s.raw), real]) {
        const prefixes = Array.from({ length: raw.length }, (_, n) => raw.slice(0, n));
        const byFn = await expectSafe(prefixes, "truncation");
        prefixes.forEach((p, n) => {
          for (const fn of [Fn.Validate, Fn.Parse]) {
            const r = byFn[fn][n];
            expect(r.ok, `prefix of ${n} bytes accepted`).to.equal(false);
            const e = libraryError(r.data, `prefix ${n}`);
            expect(e.name, `prefix ${n}`).to.equal("TxTruncated");
            const [offset, needed, length] = e.args;
            expect(length).to.equal(BigInt(n));
            expect(offset + needed > length, `prefix ${n}: ${e.args}`).to.equal(true);
          }
        });
        const [full] = await probe([raw], Fn.Validate);
        expect(full.ok).to.equal(true);
      }
    });

    it("bit flips and 0xfd/0xfe/0xff prefixes in CompactSize fields give a BitcoinTx error or a consistent parse", async function () {
      const errorsSeen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          arbTx({ maxInputs: 3, maxOutputs: 3 }),
          fc.nat(),
          fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom(0xfd, 0xfe, 0xff)),
          async (g, pick, how) => {
            const offsets = compactSizeOffsets(g.raw);
            const raws = offsets.map((at, i) => {
              const m = g.raw.slice();
              if (i === pick % offsets.length || offsets.length < 4) {
                m[at] = how <= 7 ? m[at] ^ (1 << how) : how;
              } else {
                m[at] = m[at] ^ (1 << ((pick + i) % 8));
              }
              return m;
            });
            const byFn = await expectSafe(raws, "compactsize flip");
            for (const r of byFn[Fn.Validate]) if (!r.ok) errorsSeen.add(selectors.get(r.data.slice(0, 10))!);
          },
        ),
        { numRuns: 25 },
      );
      expect(errorsSeen.has("TxTruncated")).to.equal(true);
    });
  });

  describe("specific rejections", function () {
    const base = (): GenTx => fc.sample(arbTx({ maxInputs: 2, maxOutputs: 2 }), { numRuns: 1, seed: 7 })[0];

    it("segwit serialization: TxHasWitnessMarker; its non-witness form parses to the same txid", async function () {
      const g = base();
      const tx = g.tx.clone();
      tx.setWitness(0, [Uint8Array.of(1, 2, 3)]);
      const withWitness = tx.toBuffer();
      expect(withWitness[4]).to.equal(0);
      expect(withWitness[5]).to.equal(1);
      await expectError(withWitness, "TxHasWitnessMarker", []);
      const strippedTx = tx.clone();
      strippedTx.stripWitnesses();
      const stripped = strippedTx.toBuffer();
      expect(toHex(stripped)).to.equal(toHex(g.raw));
      expect(await h.txid(to0x(stripped))).to.equal(to0x(tx.getHash()));
    });

    it("zero inputs: TxNoInputs; zero outputs: TxNoOutputs", async function () {
      const g = base();
      const offs = compactSizeOffsets(g.raw);
      const outCountAt = offs[offs.length - g.outputs.length - 1];
      // version | 0 inputs | the original outputs and locktime (the output count is 2 here, so not a flag 0x01).
      expect(g.raw[outCountAt]).to.not.equal(1);
      const noInputs = concatBytes([g.raw.slice(0, 4), Uint8Array.of(0), g.raw.slice(outCountAt)]);
      await expectError(noInputs, "TxNoInputs", []);
      const noOutputs = concatBytes([g.raw.slice(0, outCountAt), Uint8Array.of(0), g.raw.slice(-4)]);
      await expectError(noOutputs, "TxNoOutputs", []);
    });

    it("trailing bytes: TxTrailingBytes(consumed, length)", async function () {
      const g = base();
      const raw = concatBytes([g.raw, Uint8Array.of(0, 0)]);
      await expectError(raw, "TxTrailingBytes", [BigInt(g.raw.length), BigInt(raw.length)]);
    });

    it("non-minimal CompactSize: CompactSizeNotCanonical(offset)", async function () {
      const g = base();
      const rest = g.raw.slice(5);
      const n = g.raw[4];
      await expectError(concatBytes([g.raw.slice(0, 4), Uint8Array.of(0xfd, n, 0), rest]), "CompactSizeNotCanonical", [
        4n,
      ]);
      await expectError(
        concatBytes([g.raw.slice(0, 4), Uint8Array.of(0xfe, 0xff, 0xff, 0, 0), rest]),
        "CompactSizeNotCanonical",
        [4n],
      );
      await expectError(
        concatBytes([g.raw.slice(0, 4), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), rest]),
        "CompactSizeNotCanonical",
        [4n],
      );
      // The scriptSig length of the first input (offset 41) written as fd xx 00.
      const len = g.raw[41];
      const raw = concatBytes([g.raw.slice(0, 41), Uint8Array.of(0xfd, len, 0), g.raw.slice(42)]);
      await expectError(raw, "CompactSizeNotCanonical", [41n]);
    });

    it("an input count larger than the bytes can hold is rejected before allocating", async function () {
      const g = base();
      const raw = concatBytes([g.raw.slice(0, 4), Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0, 1), g.raw.slice(5)]);
      await expectError(raw, "TxTruncated", [13n, 41n * 2n ** 56n, BigInt(raw.length)]);
    });
  });

  describe("real mainnet data (mainnet-spv-proofs.json)", function () {
    const spv = loadVector<SpvVectors>("mainnet-spv-proofs.json");

    it("the valid transaction parses like bitcoinjs-lib and its txid matches the file", async function () {
      for (const v of spv.valid) {
        const raw = fromHex(v.rawTx);
        const t = bitcoin.Transaction.fromBuffer(raw);
        const p = await h.parse(to0x(raw));
        expect(p.version).to.equal(BigInt(t.version));
        expect(p.locktime).to.equal(BigInt(t.locktime));
        expect(p.inputs.map((i) => [i.prevTxid, i.prevVout, i.scriptSig, i.sequence])).to.deep.equal(
          t.ins.map((i) => [to0x(i.hash), BigInt(i.index), to0x(i.script), BigInt(i.sequence)]),
        );
        expect(p.outputs.map((o) => [o.value, o.script])).to.deep.equal(t.outs.map((o) => [o.value, to0x(o.script)]));
        expect(await h.txid(to0x(raw))).to.equal("0x" + reverseHex(v.txid));
      }
    });

    it("'Bad Vin': a sequence one byte short misaligns the outputs, so validate reverts TxTruncated", async function () {
      const bad = spv.bad.find((b) => b.why === "Bad Vin")!;
      const raw = fromHex(bad.rawTx);
      // version | 1 input | outpoint (36) | scriptSig length 0 | a 3-byte sequence "ffffff": the output count
      // 03 is read as the sequence's last byte, so the first output's value byte 0x16 becomes the output count:
      // 22 outputs need at least 22 * 9 bytes from offset 47 but the transaction has only 147 bytes.
      expect(raw[4]).to.equal(1);
      expect(raw[41]).to.equal(0);
      expect(toHex(raw.slice(42, 46))).to.equal("ffffff03");
      expect(raw[46]).to.equal(0x16);
      await expectError(raw, "TxTruncated", [47n, 22n * 9n, BigInt(raw.length)]);
    });

    it("'Bad Vout': an output count of zero, so validate reverts TxNoOutputs", async function () {
      const bad = spv.bad.find((b) => b.why === "Bad Vout")!;
      const raw = fromHex(bad.rawTx);
      const valid = fromHex(spv.valid[0].rawTx);
      // Same version and input as the valid transaction (152 bytes), then an output count of 0x00.
      expect(toHex(raw.slice(0, 152))).to.equal(toHex(valid.slice(0, 152)));
      expect(raw[152]).to.equal(0);
      await expectError(raw, "TxNoOutputs", []);
    });

    it("'Bad TxID' parses but does not hash to the file's txid", async function () {
      const bad = spv.bad.find((b) => b.why === "Bad TxID")!;
      await h.validate("0x" + bad.rawTx);
      expect(await h.txid("0x" + bad.rawTx)).to.not.equal("0x" + reverseHex(bad.txid));
    });
  });

  describe("gas", function () {
    it("reports gas of validate, parse and txid (real tx and a typical 2-in/3-out tx)", async function () {
      const real = fromHex(loadVector<SpvVectors>("mainnet-spv-proofs.json").valid[0].rawTx);
      const sig = new Uint8Array(107).fill(0x30); // typical P2PKH scriptSig size (sig + compressed pubkey)
      const typical = buildTx(
        2,
        [
          { hash: new Uint8Array(32).fill(1), index: 0, scriptSig: sig, sequence: 0xfffffffd },
          { hash: new Uint8Array(32).fill(2), index: 3, scriptSig: sig, sequence: 0xfffffffd },
        ],
        [
          { script: bitcoin.payments.p2wpkh({ hash: new Uint8Array(20).fill(3) }).output!, value: 150_000n },
          { script: bitcoin.payments.p2pkh({ hash: new Uint8Array(20).fill(4) }).output!, value: 2_000_000n },
          { script: bitcoin.payments.embed({ data: [new Uint8Array(20).fill(5)] }).output!, value: 0n },
        ],
        0,
      ).raw;
      for (const [name, raw] of [
        ["mainnet 74d6d6dc… (1 in, 3 out, 254 B)", real],
        [`typical 2-in/3-out (${typical.length} B)`, typical],
      ] as const) {
        const [v, p, t] = await h.measure(to0x(raw));
        console.log(`      gas ${name}: validate ${v}, parse ${p}, txid ${t}`);
        expect(v > 0n && p > v && t > 0n).to.equal(true);
      }
    });
  });
});
