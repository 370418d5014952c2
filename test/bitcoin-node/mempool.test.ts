import { expect } from "chai";
import { Transaction } from "bitcoinjs-lib";
import { buildSignedTx, keyOutput, randomKey, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";
import { fundKey, rejection, startTestNode, type TestNode } from "./helpers";

describe("embedded regtest node: mempool validation", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t.running.close();
  });

  for (const type of ["p2wpkh", "p2pkh", "p2tr"] as const) {
    it(`accepts a valid ${type} spend built with bitcoinjs-lib and mines it`, async () => {
      const utxo = await fundKey(t, type, 1);
      const dest = keyOutput(randomKey(), "p2wpkh");
      const tx = buildSignedTx({
        inputs: [utxo],
        outputs: [{ address: dest.address, value: utxo.value - 2_000n }, { opReturn: "deadbeef" }],
      });
      const txid = await t.rpc.sendRawTransaction(tx.toHex());
      expect(txid).to.equal(tx.getId());
      expect(await t.rpc.getRawMempool()).to.deep.equal([txid]);
      const out = await t.rpc.getTxOut(txid, 0);
      expect(out).to.include({ confirmations: 0, value: Number(utxo.value - 2_000n) / 1e8 });
      expect(await t.rpc.getTxOut(utxo.txid, utxo.vout)).to.equal(null); // spent in the mempool
      expect(await t.rpc.getTxOut(utxo.txid, utxo.vout, false)).to.not.equal(null); // still unspent in the chain
      await t.rpc.generateToAddress(1, t.minerAddress);
      expect(await t.rpc.getRawMempool()).to.deep.equal([]);
      const mined = await t.rpc.getRawTransaction(txid, true);
      expect(mined.confirmations).to.equal(1);
      // Bitcoin Core shows pushes of up to 4 bytes as CScriptNum: de ad be ef = -0x6fbeadde
      expect(mined.vout[1].scriptPubKey).to.include({ type: "nulldata", asm: "OP_RETURN -1874767326" });
    });
  }

  it("rejects a bad signature for each spend type with bitcoind's script error, and keeps working", async () => {
    for (const type of ["p2wpkh", "p2pkh", "p2tr"] as const) {
      const utxo = await fundKey(t, type, 1);
      const tx = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
      // Re-sign with another key's signature bytes: same shapes, signature does not verify.
      const other = buildSignedTx({
        inputs: [{ ...utxo, key: randomKey() }],
        outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }],
      });
      const forged = tx.clone();
      if (type === "p2pkh") {
        const sigFromOther = other.ins[0].script;
        // keep the right public key (hash check passes), swap in the wrong signature
        const { script } = await import("bitcoinjs-lib");
        const otherChunks = script.decompile(sigFromOther) as Uint8Array[];
        const ownChunks = script.decompile(tx.ins[0].script) as Uint8Array[];
        forged.setInputScript(0, script.compile([otherChunks[0], ownChunks[1]]));
      } else if (type === "p2wpkh") {
        forged.setWitness(0, [other.ins[0].witness[0], tx.ins[0].witness[1]]);
      } else {
        const sig = Buffer.from(tx.ins[0].witness[0]);
        sig[10] ^= 0x01;
        forged.setWitness(0, [sig]);
      }
      const err = await rejection(t.rpc.sendRawTransaction(forged.toHex()));
      expect(err.code).to.equal(-26);
      expect(err.rpcMessage).to.match(/^mandatory-script-verify-flag-failed \(/);
      if (type === "p2tr") expect(err.rpcMessage).to.include("Invalid Schnorr signature");
      else
        expect(err.rpcMessage).to.include(
          "Script evaluated without error but finished with a false/empty top stack element",
        );
      expect(await t.rpc.sendRawTransaction(tx.toHex())).to.equal(tx.getId());
    }
    await t.rpc.generateToAddress(1, t.minerAddress);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
  });

  it("rejects double spends in the mempool and in the chain", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const a = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    // b pays less than a: full RBF considers it and refuses it (a higher fee would replace a; see rbf.test.ts).
    const b = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 1_500n }] });
    await t.rpc.sendRawTransaction(a.toHex());
    const conflict = await rejection(t.rpc.sendRawTransaction(b.toHex()));
    expect(conflict).to.include({ code: -26 });
    expect(conflict.rpcMessage).to.match(
      new RegExp(`^insufficient fee, rejecting replacement ${b.getId()}; new feerate`),
    );
    await t.rpc.generateToAddress(1, t.minerAddress);
    const spent = await rejection(t.rpc.sendRawTransaction(b.toHex()));
    expect(spent).to.include({ code: -25, rpcMessage: "bad-txns-inputs-missingorspent" });
    const again = await rejection(t.rpc.sendRawTransaction(a.toHex()));
    expect(again).to.include({ code: -27, rpcMessage: "Transaction outputs already in utxo set" });
  });

  it("rejects overspends, missing inputs, dust, low fees and malformed hex with bitcoind's errors", async () => {
    const utxo: UtxoToSpend = await fundKey(t, "p2wpkh", 1);
    const over = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value + 1n }] });
    expect(await rejection(t.rpc.sendRawTransaction(over.toHex()))).to.include({
      code: -26,
      rpcMessage: "bad-txns-in-belowout, value in (1.00) < value out (1.00000001)",
    });
    const missing = buildSignedTx({
      inputs: [{ ...utxo, txid: "11".repeat(32) }],
      outputs: [{ address: t.minerAddress, value: 1000n }],
    });
    expect(await rejection(t.rpc.sendRawTransaction(missing.toHex()))).to.include({
      code: -25,
      rpcMessage: "bad-txns-inputs-missingorspent",
    });
    const dust = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: 100n }] });
    expect(await rejection(t.rpc.sendRawTransaction(dust.toHex()))).to.include({ code: -26, rpcMessage: "dust" });
    const noFee = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 10n }] });
    expect((await rejection(t.rpc.sendRawTransaction(noFee.toHex()))).rpcMessage).to.match(
      /^min relay fee not met, 10 < \d+$/,
    );
    const hugeFee = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: 10_000n }] });
    expect(await rejection(t.rpc.sendRawTransaction(hugeFee.toHex()))).to.include({ code: -25 });
    for (const bad of ["zz", "00", "0100000000", over.toHex() + "00", over.toHex().slice(0, -2)]) {
      expect(await rejection(t.rpc.sendRawTransaction(bad))).to.include({
        code: -22,
        rpcMessage: "TX decode failed. Make sure the tx has at least one input.",
      });
    }
    // still healthy: the honest spend goes through and is mined
    const ok = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    await t.rpc.sendRawTransaction(ok.toHex());
    const [hash] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlock(hash, 1)).tx).to.include(ok.getId());
  });

  it("accepts chains of unconfirmed transactions and mines parents before children", async () => {
    const utxo = await fundKey(t, "p2tr", 1);
    const k2 = randomKey();
    const o2 = keyOutput(k2, "p2wpkh");
    const parent = buildSignedTx({ inputs: [utxo], outputs: [{ script: o2.script, value: utxo.value - 2_000n }] });
    const child = buildSignedTx({
      inputs: [{ txid: parent.getId(), vout: 0, value: utxo.value - 2_000n, script: o2.script, key: k2 }],
      outputs: [{ address: t.minerAddress, value: utxo.value - 4_000n }],
    });
    await t.rpc.sendRawTransaction(parent.toHex());
    await t.rpc.sendRawTransaction(child.toHex());
    const entry = await t.rpc.getMempoolEntry(child.getId());
    expect(entry.depends).to.deep.equal([parent.getId()]);
    const [hash] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlock(hash, 1)).tx.slice(1)).to.deep.equal([parent.getId(), child.getId()]);
  });

  it("wallet: getnewaddress, sendtoaddress, listunspent, getbalance", async () => {
    const before = await t.rpc.getBalance();
    const addr = await t.rpc.getNewAddress("faucet", "bech32m");
    expect(addr).to.match(/^bcrt1p/);
    const txid = await t.rpc.sendToAddress(addr, 0.25);
    const mined = await t.rpc.generateToAddress(1, t.minerAddress);
    const tx = Transaction.fromHex(await t.rpc.getRawTransaction(txid, false));
    expect(tx.outs.some((o) => o.value === 25_000_000n)).to.equal(true);
    const mine = await t.rpc.listUnspent(1, 9_999_999, [addr]);
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ txid, amount: 0.25, confirmations: 1, address: addr, label: "faucet" });
    const after = await t.rpc.getBalance();
    const cbHeight = (await t.rpc.getBlockHeader(mined[0])).height - 100; // the coinbase that matured with this block
    expect(after).to.be.closeTo(before + 50 / 2 ** Math.floor(cbHeight / 150) - 0.00002, 0.0001);
    const scan = await t.rpc.scanTxOutSet([`addr(${addr})`]);
    expect(scan.total_amount).to.equal(0.25);
    expect(scan.unspents[0]).to.include({ txid, amount: 0.25 });
    const poor = await rejection(t.rpc.sendToAddress(addr, 1_000_000));
    expect(poor).to.include({ code: -6, rpcMessage: "Insufficient funds" });
  });

  it("sendtoaddress takes any 8-decimal amount, also above 8,192 BTC (9357.99756019), and rejects finer ones", async () => {
    const amount = 9357.99756019;
    while ((await t.rpc.getBalance()) < amount + 1) await t.rpc.generateToAddress(25, t.minerAddress);
    const addr = await t.rpc.getNewAddress();
    const txid = await t.rpc.sendToAddress(addr, amount);
    const tx = Transaction.fromHex(await t.rpc.getRawTransaction(txid, false));
    expect(tx.outs.some((o) => o.value === 935_799_756_019n)).to.equal(true);
    expect(
      await t.rpc.getTxOut(
        txid,
        tx.outs.findIndex((o) => o.value === 935_799_756_019n),
      ),
    ).to.include({ value: amount });
    for (const bad of [1e-9, 0.123456789, 9357.997560191])
      expect(await rejection(t.rpc.sendToAddress(addr, bad))).to.include({ code: -3, rpcMessage: "Invalid amount" });
  });
});
