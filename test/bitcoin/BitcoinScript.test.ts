import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import * as bitcoin from "bitcoinjs-lib";
import type { BitcoinScriptHarness } from "../../typechain-types";
import { loadVector, type SpvVectors } from "../helpers/vectors";
import {
  SCRIPT_KINDS,
  arbAdversarialScript,
  arbOpReturnChunks,
  arbStandardScript,
  arbXOnlyKey,
  classifyWithBitcoinjs,
  concatBytes,
  fromHex,
  to0x,
  type ScriptKindName,
} from "../helpers/btcTxGen";

const OPS = bitcoin.script.OPS;

const kindName = (k: bigint): ScriptKindName => SCRIPT_KINDS[Number(k)];

describe("BitcoinScript", function () {
  let h: BitcoinScriptHarness;

  before(async function () {
    h = (await (await ethers.getContractFactory("BitcoinScriptHarness")).deploy()) as unknown as BitcoinScriptHarness;
    await h.waitForDeployment();
  });

  async function classifyAll(scripts: Uint8Array[]): Promise<{ kind: ScriptKindName; payload: string }[]> {
    const [kinds, payloads] = await h.classifyMany(scripts.map(to0x));
    return kinds.map((k, i) => ({ kind: kindName(k), payload: payloads[i] }));
  }

  describe("classify", function () {
    it("agrees with bitcoinjs-lib payments (p2pkh/p2sh/p2wpkh/p2wsh/p2tr/embed) for the scripts they build", async function () {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(fc.array(arbStandardScript, { minLength: 10, maxLength: 10 }), async (cases) => {
          const got = await classifyAll(cases.map((c) => c.script));
          cases.forEach((c, i) => {
            seen.add(c.kind);
            expect(got[i].kind, to0x(c.script)).to.equal(c.kind);
            expect(got[i].payload, to0x(c.script)).to.equal(to0x(c.payload));
            // The independent oracle agrees with how the script was built.
            const o = classifyWithBitcoinjs(c.script);
            expect([o.kind, to0x(o.payload)]).to.deep.equal([c.kind, to0x(c.payload)]);
          });
        }),
        { numRuns: 40 },
      );
      expect([...seen].sort()).to.deep.equal(["OpReturn", "P2PKH", "P2SH", "P2TR", "P2WPKH", "P2WSH"]);
    });

    it("matches the bitcoinjs-lib oracle on adversarial scripts and never reverts", async function () {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(arbAdversarialScript, { minLength: 20, maxLength: 20 }), async (scripts) => {
          // classifyMany reverts as a whole if any single classify reverted.
          const got = await classifyAll(scripts);
          scripts.forEach((s, i) => {
            const o = classifyWithBitcoinjs(s);
            seen.set(o.kind, (seen.get(o.kind) ?? 0) + 1);
            expect([got[i].kind, got[i].payload], to0x(s)).to.deep.equal([o.kind, to0x(o.payload)]);
          });
        }),
        { numRuns: 40 },
      );
      // The generator must really exercise both outcomes of the OP_RETURN walk.
      expect(seen.get("OpReturn") ?? 0).to.be.greaterThan(20);
      expect(seen.get("Unknown") ?? 0).to.be.greaterThan(20);
    });

    it("OP_RETURN details: empty, OP_0, OP_N, OP_1NEGATE, PUSHDATA1/2/4, several pushes, bad tails", async function () {
      const d = (n: number, fill = 0xaa): Uint8Array => new Uint8Array(n).fill(fill);
      const cases: [Uint8Array, ScriptKindName, Uint8Array][] = [
        [Uint8Array.of(0x6a), "OpReturn", d(0)],
        [Uint8Array.of(0x6a, 0x00), "OpReturn", d(0)],
        [Uint8Array.of(0x6a, 0x55, 0x4f, 0x60), "OpReturn", Uint8Array.of(5, 0x81, 16)],
        [concatBytes([Uint8Array.of(0x6a, 0x4c, 80), d(80)]), "OpReturn", d(80)],
        [concatBytes([Uint8Array.of(0x6a, 0x4d, 0x2c, 0x01), d(300)]), "OpReturn", d(300)],
        [concatBytes([Uint8Array.of(0x6a, 0x4e, 3, 0, 0, 0), d(3)]), "OpReturn", d(3)],
        [
          concatBytes([Uint8Array.of(0x6a, 4), d(4, 1), Uint8Array.of(0x4c, 2), d(2, 2)]),
          "OpReturn",
          concatBytes([d(4, 1), d(2, 2)]),
        ],
        [concatBytes([Uint8Array.of(0x6a, 20), d(20), Uint8Array.of(0x75)]), "Unknown", d(0)], // OP_DROP
        [Uint8Array.of(0x6a, 0x50), "Unknown", d(0)], // OP_RESERVED pushes nothing
        [Uint8Array.of(0x6a, 0x6a), "Unknown", d(0)],
        [concatBytes([Uint8Array.of(0x6a, 21), d(20)]), "Unknown", d(0)], // push runs past the end
        [Uint8Array.of(0x6a, 0x4c), "Unknown", d(0)], // PUSHDATA1 without its length
        [Uint8Array.of(0x6a, 0x4d, 0x01), "Unknown", d(0)], // PUSHDATA2 with half a length
        [Uint8Array.of(0x6a, 0x4e, 0xff, 0xff, 0xff, 0xff), "Unknown", d(0)], // 4 GB push
        [new Uint8Array(0), "Unknown", d(0)],
        [Uint8Array.of(0x00, 0x6a), "Unknown", d(0)],
      ];
      const got = await classifyAll(cases.map((c) => c[0]));
      cases.forEach(([s, kind, payload], i) => {
        expect([got[i].kind, got[i].payload], to0x(s)).to.deep.equal([kind, to0x(payload)]);
        const o = classifyWithBitcoinjs(s);
        expect([o.kind, to0x(o.payload)], `oracle on ${to0x(s)}`).to.deep.equal([kind, to0x(payload)]);
      });
      for (const [s, kind, payload] of cases) {
        const [ok, data] = await h.opReturnPayload(to0x(s));
        expect([ok, data]).to.deep.equal([kind === "OpReturn", to0x(payload)]);
      }
    });

    it("templates must match exactly: other witness versions and lengths are Unknown", async function () {
      const z = (n: number): Uint8Array => new Uint8Array(n).fill(0x11);
      const scripts = [
        concatBytes([Uint8Array.of(0x52, 0x20), z(32)]), // witness v2
        concatBytes([Uint8Array.of(0x51, 0x14), z(20)]), // v1 with a 20-byte program
        concatBytes([Uint8Array.of(0x00, 0x20), z(31)]), // v0 push of 32 with 31 bytes
        concatBytes([Uint8Array.of(0x76, 0xa9, 0x14), z(20), Uint8Array.of(0x88, 0xad)]),
        concatBytes([Uint8Array.of(0xa9, 0x14), z(20), Uint8Array.of(0x88)]),
        concatBytes([Uint8Array.of(0x21), z(33), Uint8Array.of(0xac)]), // P2PK is not one of our kinds
      ];
      for (const r of await classifyAll(scripts)) expect(r).to.deep.equal({ kind: "Unknown", payload: "0x" });
      for (const s of scripts) expect(classifyWithBitcoinjs(s).kind).to.equal("Unknown");
    });

    it("classifies the real mainnet outputs (P2PKH, P2SH, Omni OP_RETURN)", async function () {
      const raw = fromHex(loadVector<SpvVectors>("mainnet-spv-proofs.json").valid[0].rawTx);
      const tx = bitcoin.Transaction.fromBuffer(raw);
      const got = await classifyAll(tx.outs.map((o) => o.script));
      expect(got.map((g) => g.kind)).to.deep.equal(["P2PKH", "P2SH", "OpReturn"]);
      tx.outs.forEach((o, i) => {
        const oracle = classifyWithBitcoinjs(o.script);
        expect(got[i].payload).to.equal(to0x(oracle.payload));
      });
      // Omni Layer payloads start with the marker "omni".
      expect(Buffer.from(fromHex(got[2].payload).slice(0, 4)).toString("ascii")).to.equal("omni");
    });
  });

  describe("builders", function () {
    it("p2pkh/p2sh/p2wpkh/p2wsh/p2tr build the same bytes as bitcoinjs-lib", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 20, maxLength: 20 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          arbXOnlyKey,
          async (h20, h32, key) => {
            const p = bitcoin.payments;
            expect(await h.p2pkh(to0x(h20))).to.equal(to0x(p.p2pkh({ hash: h20 }).output!));
            expect(await h.p2sh(to0x(h20))).to.equal(to0x(p.p2sh({ hash: h20 }).output!));
            expect(await h.p2wpkh(to0x(h20))).to.equal(to0x(p.p2wpkh({ hash: h20 }).output!));
            expect(await h.p2wsh(to0x(h32))).to.equal(to0x(p.p2wsh({ hash: h32 }).output!));
            expect(await h.p2tr(to0x(key))).to.equal(to0x(p.p2tr({ pubkey: key }).output!));
          },
        ),
        { numRuns: 20 },
      );
    });

    it("opReturn encodes like Bitcoin Core and classify/opReturnPayload read the data back", async function () {
      const sizes = fc.oneof(
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 81, max: 300 }),
        fc.constantFrom(75, 76, 255, 256),
      );
      await fc.assert(
        fc.asyncProperty(
          sizes.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
          async (data) => {
            const script = fromHex(await h.opReturn(to0x(data)));
            // bitcoinjs compiles one data push the same way, except that it turns a 1-byte 0x01..0x10 / 0x81
            // into OP_1..OP_16 / OP_1NEGATE (BIP62 minimal push); Bitcoin Core's CScript << data does not.
            const minimalOp = data.length === 1 && ((data[0] >= 1 && data[0] <= 16) || data[0] === 0x81);
            const bjs = bitcoin.script.compile([OPS.OP_RETURN, data]);
            if (minimalOp) expect(to0x(script)).to.equal(to0x(Uint8Array.of(0x6a, 1, data[0])));
            else expect(to0x(script)).to.equal(to0x(bjs));
            const [kind, payload] = await h.classify(to0x(script));
            expect([kindName(kind), payload]).to.deep.equal(["OpReturn", to0x(data)]);
            expect(await h.opReturnPayload(to0x(script))).to.deep.equal([true, to0x(data)]);
          },
        ),
        { numRuns: 40 },
      );
    });

    it("80 bytes give the 83-byte OP_RETURN OP_PUSHDATA1 0x50 script; > 65535 bytes revert", async function () {
      const data = new Uint8Array(80).map((_, i) => i);
      const script = fromHex(await h.opReturn(to0x(data)));
      expect(script.length).to.equal(83);
      expect(Array.from(script.slice(0, 3))).to.deep.equal([0x6a, 0x4c, 0x50]);
      expect(to0x(script.slice(3))).to.equal(to0x(data));
      const max = fromHex(await h.opReturn(to0x(new Uint8Array(65535).fill(1))));
      expect(Array.from(max.slice(0, 4))).to.deep.equal([0x6a, 0x4d, 0xff, 0xff]);
      await expect(h.opReturn(to0x(new Uint8Array(65536))))
        .to.be.revertedWithCustomError(h, "OpReturnDataTooLong")
        .withArgs(65536, 65535);
    });

    it("embed outputs of random chunk lists round-trip through opReturnPayload", async function () {
      await fc.assert(
        fc.asyncProperty(arbOpReturnChunks, async (chunks) => {
          const script = bitcoin.payments.embed({ data: chunks }).output!;
          expect(await h.opReturnPayload(to0x(script))).to.deep.equal([true, to0x(concatBytes(chunks))]);
        }),
        { numRuns: 20 },
      );
    });
  });

  describe("gas", function () {
    it("reports gas of classify", async function () {
      const samples: [string, Uint8Array][] = [
        ["P2PKH", bitcoin.payments.p2pkh({ hash: new Uint8Array(20).fill(1) }).output!],
        ["P2WPKH", bitcoin.payments.p2wpkh({ hash: new Uint8Array(20).fill(1) }).output!],
        ["P2TR", concatBytes([Uint8Array.of(0x51, 0x20), new Uint8Array(32).fill(2)])],
        ["OP_RETURN 20 B", bitcoin.payments.embed({ data: [new Uint8Array(20).fill(3)] }).output!],
        ["OP_RETURN 80 B", fromHex(await h.opReturn(to0x(new Uint8Array(80).fill(4))))],
      ];
      for (const [name, s] of samples) {
        const g = await h.measureClassify(to0x(s));
        console.log(`      gas classify ${name}: ${g}`);
        expect(g > 0n).to.equal(true);
      }
    });
  });
});
