import { expect } from "chai";
import type { Transaction } from "bitcoinjs-lib";
import { buildSignedTx, keyOutput, randomKey, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";
import { fundKey, rejection, startTestNode, type TestNode } from "./helpers";

/** CFeeRate(fee, vsize).ToString() as Bitcoin Core prints it. */
function rateText(fee: bigint, vsize: number): string {
  const perKvB = (fee * 1000n) / BigInt(vsize);
  return `${perKvB / 100_000_000n}.${(perKvB % 100_000_000n).toString().padStart(8, "0")} BTC/kvB`;
}

const vsizeOf = (tx: Transaction): number => Math.ceil(tx.weight() / 4);

/** Bitcoin Core's FormatMoney of a small amount: 8 decimals with trailing zeros cut down to 2. */
const money = (sats: bigint): string => `0.${sats.toString().padStart(8, "0").replace(/0+$/, "").padEnd(2, "0")}`;

/** Spends `utxo` whole to a fresh P2WPKH key, paying `fee`; the output is returned ready to spend. */
function spendTo(utxo: UtxoToSpend, fee: bigint, sequence?: number): { tx: Transaction; out: UtxoToSpend } {
  const key = randomKey();
  const { script } = keyOutput(key, "p2wpkh");
  const tx = buildSignedTx({ inputs: [{ ...utxo, sequence }], outputs: [{ script, value: utxo.value - fee }] });
  return { tx, out: { txid: tx.getId(), vout: 0, value: utxo.value - fee, script, key } };
}

describe("embedded regtest node: BIP125 replacement as Bitcoin Core 28 (full RBF)", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t.running.close();
  });

  it("says so in getmempoolinfo: full RBF, incremental relay fee 1 sat/vB", async () => {
    expect(await t.rpc.getMempoolInfo()).to.include({ fullrbf: true, incrementalrelayfee: 0.00001 });
  });

  it("replaces a non-signalling transaction paying more, evicts its descendants, and says so in gettxspendingprevout", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    // sequence 0xffffffff: no BIP125 signal; Core 28's mempoolfullrbf=1 replaces it anyway.
    const a = spendTo(utxo, 1_000n, 0xffffffff);
    const child = spendTo(a.out, 1_000n);
    await t.rpc.sendRawTransaction(a.tx.toHex());
    await t.rpc.sendRawTransaction(child.tx.toHex());
    expect(await t.rpc.getTxSpendingPrevout([{ txid: utxo.txid, vout: utxo.vout }])).to.deep.equal([
      { txid: utxo.txid, vout: utxo.vout, spendingtxid: a.tx.getId() },
    ]);
    // Must pay a + child (2,000) plus its own vsize at 1 sat/vB, at a higher rate than a.
    const b = spendTo(utxo, 2_000n + BigInt(vsizeOf(a.tx)) + 2n); // +2: its signature may be a byte longer
    expect(await t.rpc.sendRawTransaction(b.tx.toHex())).to.equal(b.tx.getId());
    expect(await t.rpc.getRawMempool()).to.deep.equal([b.tx.getId()]);
    expect(await t.rpc.getTxSpendingPrevout([{ txid: utxo.txid, vout: utxo.vout }])).to.deep.equal([
      { txid: utxo.txid, vout: utxo.vout, spendingtxid: b.tx.getId() },
    ]);
    await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getRawTransaction(b.tx.getId(), true)).confirmations).to.equal(1);
  });

  it("refuses a replacement at the same fee rate, with fewer fees, or without paying its own relay", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const a = spendTo(utxo, 2_000n);
    const child = spendTo(a.out, 5_000n);
    await t.rpc.sendRawTransaction(a.tx.toHex());
    await t.rpc.sendRawTransaction(child.tx.toHex());
    const v = vsizeOf(a.tx);

    // A slightly lower fee keeps the rate at or below a's even when its signature is a byte shorter.
    const same = spendTo(utxo, 1_900n);
    const e1 = await rejection(t.rpc.sendRawTransaction(same.tx.toHex()));
    expect(e1).to.include({
      code: -26,
      rpcMessage: `insufficient fee, rejecting replacement ${same.tx.getId()}; new feerate ${rateText(1_900n, vsizeOf(same.tx))} <= old feerate ${rateText(2_000n, v)}`,
    });

    const fewer = spendTo(utxo, 6_000n); // higher rate than a, but less than a + child (7,000)
    const e2 = await rejection(t.rpc.sendRawTransaction(fewer.tx.toHex()));
    expect(e2).to.include({
      code: -26,
      rpcMessage: `insufficient fee, rejecting replacement ${fewer.tx.getId()}, less fees than conflicting txs; 0.00006 < 0.00007`,
    });

    // One sat short of paying its own vsize at 1 sat/vB (rebuilt until its size is the one its fee assumed).
    let stingy = spendTo(utxo, 7_000n + BigInt(v) - 1n);
    for (let size = vsizeOf(stingy.tx); ; size = vsizeOf(stingy.tx)) {
      stingy = spendTo(utxo, 7_000n + BigInt(size) - 1n);
      if (vsizeOf(stingy.tx) === size) break;
    }
    const vs = BigInt(vsizeOf(stingy.tx));
    const e3 = await rejection(t.rpc.sendRawTransaction(stingy.tx.toHex()));
    expect(e3).to.include({
      code: -26,
      rpcMessage:
        `insufficient fee, rejecting replacement ${stingy.tx.getId()}, not enough additional fees to relay; ` +
        `${money(vs - 1n)} < ${money(vs)}`,
    });
    expect((await t.rpc.getRawMempool()).sort()).to.deep.equal([a.tx.getId(), child.tx.getId()].sort());
    await t.rpc.generateToAddress(1, t.minerAddress);
  });

  it("refuses a replacement that adds an unconfirmed input, or spends the transaction it replaces", async () => {
    const u1 = await fundKey(t, "p2wpkh", 1);
    const u2 = await fundKey(t, "p2wpkh", 1);
    const a = spendTo(u1, 1_000n);
    const other = spendTo(u2, 1_000n);
    await t.rpc.sendRawTransaction(a.tx.toHex());
    await t.rpc.sendRawTransaction(other.tx.toHex());
    const key = randomKey();
    const r = buildSignedTx({
      inputs: [u1, other.out],
      outputs: [{ script: keyOutput(key, "p2wpkh").script, value: u1.value + other.out.value - 50_000n }],
    });
    const e1 = await rejection(t.rpc.sendRawTransaction(r.toHex()));
    expect(e1).to.include({
      code: -26,
      rpcMessage: `replacement-adds-unconfirmed, replacement ${r.getId()} adds unconfirmed input, idx 1`,
    });
    const r2 = buildSignedTx({
      inputs: [u1, a.out],
      outputs: [{ script: keyOutput(key, "p2wpkh").script, value: u1.value + a.out.value - 50_000n }],
    });
    const e2 = await rejection(t.rpc.sendRawTransaction(r2.toHex()));
    expect(e2).to.include({
      code: -26,
      rpcMessage: `bad-txns-spends-conflicting-tx, ${r2.getId()} spends conflicting transaction ${a.tx.getId()}`,
    });
    await t.rpc.generateToAddress(1, t.minerAddress);
  });

  it("refuses to evict more than 100 transactions (5 conflicts with 20 descendants each)", async function () {
    this.timeout(60_000);
    const funding = await fundKey(t, "p2wpkh", 5);
    const key = randomKey();
    const { script } = keyOutput(key, "p2wpkh");
    const fan = buildSignedTx({
      inputs: [funding],
      outputs: Array.from({ length: 5 }, () => ({ script, value: 99_999_000n })),
    });
    await t.rpc.sendRawTransaction(fan.toHex());
    await t.rpc.generateToAddress(1, t.minerAddress);
    const coins: UtxoToSpend[] = fan.outs.map((o, vout) => ({ txid: fan.getId(), vout, value: o.value, script, key }));
    for (const coin of coins) {
      const parent = buildSignedTx({
        inputs: [coin],
        outputs: Array.from({ length: 20 }, () => ({ script, value: 4_999_000n })),
      });
      await t.rpc.sendRawTransaction(parent.toHex());
      for (let vout = 0; vout < 20; vout++) {
        const c = spendTo({ txid: parent.getId(), vout, value: 4_999_000n, script, key }, 1_000n);
        await t.rpc.sendRawTransaction(c.tx.toHex());
      }
    }
    expect(await t.rpc.getRawMempool()).to.have.length(105);
    const r = buildSignedTx({ inputs: coins, outputs: [{ script, value: 5n * 99_999_000n - 1_000_000n }] });
    const err = await rejection(t.rpc.sendRawTransaction(r.toHex()));
    expect(err).to.include({
      code: -26,
      rpcMessage: `too many potential replacements, rejecting replacement ${r.getId()}; too many potential replacements (105 > 100)`,
    });
    // Four conflicts (84 transactions) are within the limit.
    const r4 = buildSignedTx({
      inputs: coins.slice(0, 4),
      outputs: [{ script, value: 4n * 99_999_000n - 1_000_000n }],
    });
    await t.rpc.sendRawTransaction(r4.toHex());
    expect(await t.rpc.getRawMempool()).to.have.length(22);
    await t.rpc.generateToAddress(1, t.minerAddress);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
  });
});
