import { expect } from "chai";
import { quoteFee, replacementRate, type FeeSource } from "../../relayer/src/roles/pop/feePolicy";
import type { EstimateSmartFeeResult } from "../../relayer/src/bitcoin/rpcClient";

/** A node answering estimatesmartfee with a fixed answer (or an RPC failure). */
function node(answer: EstimateSmartFeeResult | Error): FeeSource & { targets: number[] } {
  const targets: number[] = [];
  return {
    targets,
    estimateSmartFee: async (t: number) => {
      targets.push(t);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const opts = { target: 6, fallbackRate: 3, maxRate: 100, bumpPercent: 25 };

describe("PoP miner fee policy (estimatesmartfee, fallback, cap, BIP125 bump)", () => {
  it("prices from estimatesmartfee at POP_FEE_TARGET, converting BTC/kvB to sat/vB", async () => {
    const n = node({ feerate: 0.0002, blocks: 6 });
    expect(await quoteFee(n, opts)).to.deep.equal({ rate: 20, source: "estimate", allowed: true });
    expect(n.targets).to.deep.equal([6]);
  });

  it("uses the fallback when the node has no estimate (errors, or the call fails)", async () => {
    const none = { errors: ["Insufficient data or no feerate found"], blocks: 0 };
    expect(await quoteFee(node(none), opts)).to.deep.equal({ rate: 3, source: "fallback", allowed: true });
    expect(await quoteFee(node(new Error("down")), opts)).to.deep.equal({ rate: 3, source: "fallback", allowed: true });
  });

  it("refuses a rate above POP_MAX_FEE_RATE, accepts one exactly at it", async () => {
    expect(await quoteFee(node({ feerate: 0.00100001, blocks: 6 }), opts)).to.include({ allowed: false });
    expect(await quoteFee(node({ feerate: 0.001, blocks: 6 }), opts)).to.deep.equal({
      rate: 100,
      source: "estimate",
      allowed: true,
    });
    expect(await quoteFee(node(new Error("down")), { ...opts, fallbackRate: 150 })).to.include({ allowed: false });
  });

  it("a replacement pays the higher of +25 %, +1 sat/vB and the current estimate, under the cap", () => {
    const q = (rate: number) => ({ rate, source: "estimate" as const, allowed: true });
    expect(replacementRate(1, q(1), opts).rate).to.equal(2); // +1 sat/vB beats +25 %
    expect(replacementRate(10, q(1), opts).rate).to.equal(12.5);
    expect(replacementRate(10, q(40), opts).rate).to.equal(40);
    expect(replacementRate(90, q(1), opts)).to.include({ rate: 112.5, allowed: false });
  });
});
