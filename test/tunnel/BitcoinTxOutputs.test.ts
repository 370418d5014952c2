import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import type { BitcoinTxOutputsHarness } from "../../typechain-types";
import { arbTx, to0x } from "../helpers/btcTxGen";

/** The tunnel's calldata output walker against transactions serialized by bitcoinjs-lib. */
describe("BitcoinTxOutputs (tunnel output walker)", function () {
  let h: BitcoinTxOutputsHarness;

  before(async function () {
    h = await (await ethers.getContractFactory("BitcoinTxOutputsHarness")).deploy();
  });

  it("reads every output's value and script exactly as bitcoinjs-lib wrote them", async function () {
    await fc.assert(
      fc.asyncProperty(arbTx({ maxInputs: 3, maxOutputs: 5 }), async (g) => {
        const [values, scripts, end] = await h.outputs(to0x(g.raw));
        expect(values).to.deep.equal(g.outputs.map((o) => o.value));
        expect(scripts).to.deep.equal(g.outputs.map((o) => to0x(o.script)));
        expect(end).to.equal(BigInt(g.raw.length - 4));
      }),
      { numRuns: 150 },
    );
  });

  it("never reads past the end of a truncated transaction", async function () {
    await fc.assert(
      fc.asyncProperty(arbTx({ maxInputs: 2, maxOutputs: 3 }), fc.nat(), async (g, cut) => {
        // Cut inside the inputs or outputs (the locktime is not read by the walker).
        const len = cut % (g.raw.length - 4);
        const raw = g.raw.subarray(0, len);
        try {
          const [, , end] = await h.outputs(to0x(raw));
          expect(end <= BigInt(len)).to.equal(true);
        } catch (e) {
          expect(String(e)).to.match(/TxMalformed/);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("rejects a transaction without inputs with TxMalformed(4)", async function () {
    await expect(h.outputs("0x0200000000")).to.be.revertedWithCustomError(h, "TxMalformed").withArgs(4);
  });
});
