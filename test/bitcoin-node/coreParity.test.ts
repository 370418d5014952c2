import { expect } from "chai";
import { Transaction } from "bitcoinjs-lib";
import { chooseFeeRate } from "../../relayer/src/bitcoin/feeRate";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { fundKey, rejection, startTestNode, type TestNode } from "./helpers";

/** Where the embedded node must answer as Bitcoin Core 28 does, including where Core is unkind. */
describe("embedded regtest node: Bitcoin Core's answers, codes and messages", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(async () => {
    await t.running.close();
  });

  it("estimatesmartfee: no estimate on a chain without transactions, then the median rate of recent blocks", async () => {
    const fresh = await startTestNode({}, 101);
    try {
      expect(await fresh.rpc.estimateSmartFee(6)).to.deep.equal({
        errors: ["Insufficient data or no feerate found"],
        blocks: 0,
      });
      // The callers' shared choice (withdrawals role, SDK) then takes the fallback and says why.
      expect(await chooseFeeRate(fresh.rpc, 6, 7)).to.deep.equal({
        satPerVb: 7,
        source: "fallback",
        reason: "Insufficient data or no feerate found",
      });
      // Our four transactions at about 20, 30, 40 and 50 sat/vB and fundKey's four wallet sends (about 10 sat/vB)
      // are mined: the median (index 4 of 8, sorted) is our 20 sat/vB one, in sat/kvB exactly as it was paid.
      const rates: number[] = [];
      for (const satPerVb of [20, 30, 40, 50]) {
        const utxo = await fundKey(fresh, "p2wpkh", 1);
        const probe = buildSignedTx({
          inputs: [utxo],
          outputs: [{ address: fresh.minerAddress, value: utxo.value - 1n }],
        });
        const fee = BigInt(Math.ceil(probe.weight() / 4) * satPerVb);
        const tx = buildSignedTx({
          inputs: [utxo],
          outputs: [{ address: fresh.minerAddress, value: utxo.value - fee }],
        });
        await fresh.rpc.sendRawTransaction(tx.toHex());
        rates.push(Math.floor(Number((fee * 1000n) / BigInt(Math.ceil(tx.weight() / 4)))));
      }
      await fresh.rpc.generateToAddress(1, fresh.minerAddress);
      // fundKey mined 4 blocks (one wallet send each), then this one: the last 6 blocks hold 4 + 4 transactions.
      const est = await fresh.rpc.estimateSmartFee(6);
      expect(est).to.deep.equal({ feerate: rates[0] / 1e8, blocks: 6 });
      expect(await chooseFeeRate(fresh.rpc, 6, 7)).to.deep.equal({
        satPerVb: Math.ceil((est.feerate as number) * 100_000),
        source: "estimate",
      });
      expect((await rejection(fresh.rpc.estimateSmartFee(0))).code).to.equal(-8);
    } finally {
      await fresh.running.close();
    }
  });

  it("sendtoaddress: amount 0, dust and a bad address as Core refuses them", async () => {
    const to = await t.rpc.getNewAddress();
    expect(await rejection(t.rpc.sendToAddress(to, 0))).to.include({ code: -3, rpcMessage: "Invalid amount for send" });
    expect(await rejection(t.rpc.sendToAddress(to, 0.000001))).to.include({
      code: -6,
      rpcMessage: "Transaction amount too small",
    });
    expect(await rejection(t.rpc.sendToAddress("bcrt1qnotanaddress", 1))).to.include({
      code: -5,
      rpcMessage: "Invalid Bitcoin address: bcrt1qnotanaddress",
    });
    expect(await rejection(t.rpc.call("sendtoaddress", [to, -1]))).to.include({
      code: -3,
      rpcMessage: "Amount out of range",
    });
    // An explicit fee rate (sat/vB), as commands pass it on regtest where Core has no estimate.
    const txid = await t.rpc.sendToAddress(to, 0.1, 3);
    const entry = await t.rpc.getMempoolEntry(txid);
    expect(Math.round((entry.fees.base * 1e8) / entry.vsize)).to.equal(3);
  });

  it("zero fee, and argument type errors in Core 28's wrapped form", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const free = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value }] });
    const vsize = Math.ceil(free.weight() / 4);
    expect(await rejection(t.rpc.sendRawTransaction(free.toHex()))).to.include({
      code: -26,
      rpcMessage: `min relay fee not met, 0 < ${vsize}`,
    });
    expect(await rejection(t.rpc.call("getblockhash", ["1"]))).to.include({
      code: -3,
      rpcMessage:
        'Wrong type passed:\n{\n    "Position 1 (height)": "JSON value of type string is not of expected type number"\n}',
    });
    expect(await rejection(t.rpc.call("generatetoaddress", [1, 5]))).to.include({
      code: -3,
      rpcMessage:
        'Wrong type passed:\n{\n    "Position 2 (address)": "JSON value of type number is not of expected type string"\n}',
    });
    // A number where Core declares a bool is refused; getrawtransaction's verbosity takes either.
    const tip = await t.rpc.getBestBlockHash();
    expect(await rejection(t.rpc.call("getblockheader", [tip, 1]))).to.include({
      code: -3,
      rpcMessage:
        'Wrong type passed:\n{\n    "Position 2 (verbose)": "JSON value of type number is not of expected type bool"\n}',
    });
    const cb = (await t.rpc.getBlock(tip)).tx[0];
    expect(await t.rpc.call("getrawtransaction", [cb, 1])).to.deep.equal(await t.rpc.getRawTransaction(cb, true));
    expect(await rejection(t.rpc.getRawTransaction("abc"))).to.include({
      code: -8,
      rpcMessage: "parameter 1 must be of length 64 (not 3, for 'abc')",
    });
    expect(await rejection(t.rpc.getTxOut("g".repeat(64), 0))).to.include({
      code: -8,
      rpcMessage: `txid must be hexadecimal string (not '${"g".repeat(64)}')`,
    });
  });

  it("listunspent refuses a bad or repeated address; getnewaddress makes p2sh-segwit addresses the wallet spends", async () => {
    expect(await rejection(t.rpc.listUnspent(1, 9_999_999, ["nope"]))).to.include({
      code: -5,
      rpcMessage: "Invalid Bitcoin address: nope",
    });
    // A wallet of its own whose only coin is a p2sh-segwit output: spending from it needs a real P2SH-P2WPKH signature.
    await t.rpc.createWallet("nested");
    const nestedWallet = new BitcoinRpcClient({ url: `${t.running.url}/wallet/nested`, retries: 0 });
    const main = new BitcoinRpcClient({ url: `${t.running.url}/wallet/`, retries: 0 });
    const nested = await nestedWallet.getNewAddress("", "p2sh-segwit");
    expect(nested).to.match(/^2/);
    expect(await rejection(nestedWallet.listUnspent(1, 9_999_999, [nested, nested]))).to.include({
      code: -8,
      rpcMessage: `Invalid parameter, duplicated address: ${nested}`,
    });
    await main.sendToAddress(nested, 2);
    await t.rpc.generateToAddress(1, t.minerAddress);
    const [coin] = await nestedWallet.listUnspent(1, 9_999_999, [nested]);
    expect(coin).to.include({ address: nested, amount: 2 });
    expect(coin.desc).to.match(/^sh\(wpkh\(/);
    const spend = await nestedWallet.sendToAddress(t.minerAddress, 1);
    const tx = Transaction.fromHex(await t.rpc.getRawTransaction(spend));
    expect(Buffer.from(tx.ins[0].hash).reverse().toString("hex")).to.equal(coin.txid);
    expect(tx.ins[0].script.length).to.equal(23); // the pushed redeem script 0014<20 bytes>
    await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getRawTransaction(spend, true)).confirmations).to.equal(1);
    await nestedWallet.call("unloadwallet");
  });

  it("getblock verbosity 3 shows each input's prevout", async () => {
    const utxo = await fundKey(t, "p2wpkh", 1);
    const tx = buildSignedTx({ inputs: [utxo], outputs: [{ address: t.minerAddress, value: utxo.value - 2_000n }] });
    await t.rpc.sendRawTransaction(tx.toHex());
    const [hash] = await t.rpc.generateToAddress(1, t.minerAddress);
    const block = await t.rpc.getBlock(hash, 3);
    const mined = block.tx.find((x) => x.txid === tx.getId());
    expect(mined?.vin[0].prevout).to.deep.include({ generated: false, value: 1 });
    expect(mined?.vin[0].prevout?.scriptPubKey.hex).to.equal(Buffer.from(utxo.script).toString("hex"));
    expect(mined?.vin[0].prevout?.height).to.equal(block.height - 1);
    expect((await t.rpc.getBlock(hash, 2)).tx[1].vin[0].prevout).to.equal(undefined);
    expect(block.tx[0].vin[0].prevout).to.equal(undefined); // the coinbase spends nothing
  });

  it("after invalidateblock, only what Core returns to the mempool: not immature coinbase spends, not spends of dropped coinbases", async () => {
    const key = randomKey();
    const { address, script } = keyOutput(key, "p2wpkh");
    const [cbHash] = await t.rpc.generateToAddress(1, address);
    const cbHeight = (await t.rpc.getBlockHeader(cbHash)).height;
    const cbTxid = (await t.rpc.getBlock(cbHash)).tx[0];
    await t.rpc.generateToAddress(98, t.minerAddress);
    const ordinary = await fundKey(t, "p2wpkh", 1); // mines block cbHeight + 99
    const fundingBlock = await t.rpc.getBestBlockHash();
    // The coinbase can be spent in block cbHeight + 100 (depth 100), and no lower.
    const value = 5_000_000_000n >> BigInt(Math.floor(cbHeight / 150));
    const cbSpend = buildSignedTx({
      inputs: [{ txid: cbTxid, vout: 0, value, script, key }],
      outputs: [{ address: t.minerAddress, value: value - 2_000n }],
    });
    const plain = buildSignedTx({
      inputs: [ordinary],
      outputs: [{ address: t.minerAddress, value: ordinary.value - 2_000n }],
    });
    await t.rpc.sendRawTransaction(cbSpend.toHex());
    await t.rpc.sendRawTransaction(plain.toHex());
    const [x] = await t.rpc.generateToAddress(1, t.minerAddress);
    expect((await t.rpc.getBlockHeader(x)).height).to.equal(cbHeight + 100);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);

    // Tip back to cbHeight + 98: cbSpend would be in block cbHeight + 99, at depth 99: immature, so not returned.
    await t.rpc.invalidateBlock(fundingBlock);
    expect((await t.rpc.getRawMempool()).sort()).to.deep.equal([ordinary.txid, plain.getId()].sort());
    await t.rpc.reconsiderBlock(fundingBlock);
    expect(await t.rpc.getBestBlockHash()).to.equal(x);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);

    // Disconnect the coinbase's own block: the coinbase is gone, so its spend cannot come back either.
    await t.rpc.invalidateBlock(cbHash);
    expect(await t.rpc.getRawMempool()).to.not.include(cbSpend.getId());
    await t.rpc.reconsiderBlock(cbHash);
    expect(await t.rpc.getBestBlockHash()).to.equal(x);
  });

  it("invalidateblock returns the transactions of the 10 blocks nearest the tip only, as Core does", async () => {
    const deep = await fundKey(t, "p2wpkh", 1); // its block will be the 12th disconnected
    const deepBlock = await t.rpc.getBestBlockHash();
    const child = buildSignedTx({ inputs: [deep], outputs: [{ address: t.minerAddress, value: deep.value - 2_000n }] });
    await t.rpc.sendRawTransaction(child.toHex());
    await t.rpc.generateToAddress(1, t.minerAddress); // 11th
    await t.rpc.generateToAddress(9, t.minerAddress); // 10th .. 2nd
    const near = await fundKey(t, "p2wpkh", 1); // the tip: 1st
    await t.rpc.invalidateBlock(deepBlock);
    // `near` comes back; `deep` (12th) does not, and neither does `child` (11th, and it spends `deep`).
    expect(await t.rpc.getRawMempool()).to.deep.equal([near.txid]);
    await t.rpc.reconsiderBlock(deepBlock);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
  });

  it("limits unconfirmed chains as Core: 25 ancestors, 25 descendants plus the CPFP carve-out", async () => {
    const key = randomKey();
    const { script } = keyOutput(key, "p2wpkh");
    const chainCoin = await fundKey(t, "p2wpkh", 1, key);
    let prev = chainCoin;
    const chain: string[] = [];
    for (let i = 0; i < 25; i++) {
      const tx = buildSignedTx({ inputs: [prev], outputs: [{ script, value: prev.value - 1_000n }] });
      chain.push(await t.rpc.sendRawTransaction(tx.toHex()));
      prev = { txid: tx.getId(), vout: 0, value: prev.value - 1_000n, script, key };
    }
    const tooLong = buildSignedTx({ inputs: [prev], outputs: [{ script, value: prev.value - 1_000n }] });
    expect(await rejection(t.rpc.sendRawTransaction(tooLong.toHex()))).to.include({
      code: -26,
      rpcMessage: "too-long-mempool-chain, too many unconfirmed ancestors [limit: 25]",
    });

    const fanCoin = await fundKey(t, "p2wpkh", 1, key); // mines the chain above too
    const fan = buildSignedTx({
      inputs: [fanCoin],
      outputs: Array.from({ length: 26 }, () => ({ script, value: 3_800_000n })),
    });
    await t.rpc.sendRawTransaction(fan.toHex());
    const child = (vout: number) =>
      buildSignedTx({
        inputs: [{ txid: fan.getId(), vout, value: 3_800_000n, script, key }],
        outputs: [{ script, value: 3_799_000n }],
      });
    for (let vout = 0; vout < 24; vout++) await t.rpc.sendRawTransaction(child(vout).toHex());
    await t.rpc.sendRawTransaction(child(24).toHex()); // the 25th descendant: Core's carve-out admits one more
    expect(await rejection(t.rpc.sendRawTransaction(child(25).toHex()))).to.include({
      code: -26,
      rpcMessage: `too-long-mempool-chain, too many descendants for tx ${fan.getId()} [limit: 25]`,
    });
    await t.rpc.generateToAddress(1, t.minerAddress);
    expect(await t.rpc.getRawMempool()).to.deep.equal([]);
  });

  it("wallets: createwallet, loadwallet, listwallets and /wallet/<name> URLs as Core routes them", async () => {
    const base = t.running.url;
    expect(await t.rpc.listWallets()).to.deep.equal([""]);
    await t.rpc.createWallet("alice");
    expect((await rejection(t.rpc.createWallet("alice"))).code).to.equal(-36);
    expect((await rejection(t.rpc.loadWallet("alice"))).code).to.equal(-35);
    expect((await rejection(t.rpc.loadWallet("nobody"))).code).to.equal(-18);
    expect((await t.rpc.listWallets()).sort()).to.deep.equal(["", "alice"]);
    // Two wallets loaded: a wallet call without a /wallet/ path is refused, as Core refuses it.
    expect(await rejection(t.rpc.getNewAddress())).to.include({
      code: -19,
      rpcMessage: "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
    });
    const alice = new BitcoinRpcClient({ url: `${base}/wallet/alice`, retries: 0 });
    const main = new BitcoinRpcClient({ url: `${base}/wallet/`, retries: 0 });
    const aliceAddr = await alice.getNewAddress();
    expect(await alice.getBalance()).to.equal(0);
    await main.sendToAddress(aliceAddr, 1.5);
    await alice.generateToAddress(1, aliceAddr); // non-wallet methods work on a wallet URL too
    expect(await alice.getBalance()).to.equal(1.5);
    expect((await alice.listUnspent()).map((u) => u.address)).to.deep.equal([aliceAddr]);
    expect(
      (await rejection(new BitcoinRpcClient({ url: `${base}/wallet/bob`, retries: 0 }).getBalance())).code,
    ).to.equal(-18);
    await alice.call("unloadwallet");
    expect(await t.rpc.listWallets()).to.deep.equal([""]);
    expect(await t.rpc.getNewAddress()).to.be.a("string"); // one wallet loaded again: no path needed
    await t.rpc.loadWallet("alice");
    expect(await alice.getBalance()).to.equal(1.5);
    await alice.call("unloadwallet");
  });
});
