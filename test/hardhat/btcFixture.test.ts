import { expect } from "chai";
import { btcFixture, type BtcFixture } from "../../relayer/src/hardhat";
import { rejection } from "../relayer/helpers/rejects";

/** The README's fixture example, run as is, plus the fixture's guards. */
describe("hemi-fabric/hardhat btcFixture", function () {
  this.timeout(120_000);
  let btc: BtcFixture;
  before(async () => (btc = await btcFixture({ lag: 0 })));
  after(() => btc.close());

  it("sees a payment through BitcoinKit after sync(), and loses it in a reorg (the README example)", async () => {
    const payee = btc.newAddress();
    const { txid } = await btc.sendBtc(payee, 50_000n);
    await btc.mine(6);
    await btc.sync();
    expect(await btc.bitcoinKit.getTxConfirmations("0x" + txid)).to.equal(6n);
    expect(await btc.bitcoinKit.getBitcoinAddressBalance(payee)).to.equal(50_000n);
    const tip = await btc.height();
    const { orphaned, newBlocks } = await btc.reorg(6);
    expect(orphaned).to.have.length(6);
    expect(newBlocks).to.have.length(7);
    await btc.sync();
    expect(await btc.height()).to.equal(tip + 1);
    const [bestHash] = (await btc.lightClient.bestBlock()) as [string, bigint];
    expect(bestHash.slice(2)).to.equal(Buffer.from(newBlocks[6], "hex").reverse().toString("hex"));
    expect(await btc.bitcoinKit.getBitcoinAddressBalance(payee)).to.equal(0n);
    expect(await btc.bitcoinKit.transactionExists("0x" + txid)).to.equal(false);
  });

  it("keeps the orphaned transactions in the mempool when asked, so the next block confirms them again", async () => {
    const payee = btc.newAddress();
    const { txid } = await btc.sendBtc(payee, 20_000n);
    await btc.mine(1);
    await btc.reorg(1, { keepTransactions: true });
    expect(await btc.rpc.getRawMempool()).to.include(txid);
    await btc.mine(1);
    await btc.sync();
    expect(await btc.bitcoinKit.getBitcoinAddressBalance(payee)).to.equal(20_000n);
  });

  it("refuses bad input and changes nothing", async () => {
    const h = await btc.height();
    expect(String(await rejection(btc.sendBtc(btc.newAddress(), 0n)))).to.match(/amount must be positive/);
    expect(String(await rejection(btc.reorg(0)))).to.match(/depth must be 1\.\./);
    expect(String(await rejection(btc.reorg(10_000)))).to.match(/depth must be 1\.\./);
    expect(await btc.height()).to.equal(h);
  });
});
