import { expect } from "chai";
import { ethers } from "hardhat";
import { btcFixture, type BtcFixture } from "hemi-fabric/hardhat";

const ONE_ETH = ethers.parseEther("1");

describe("PaymentRelease (BTC-aware, through hemi-fabric's Hardhat fixture)", () => {
  let btc: BtcFixture;

  before(async () => {
    btc = await btcFixture();
  });
  after(() => btc.close());

  /** A fresh PaymentRelease holding 1 ETH for a new beneficiary, waiting for `sats` with `confirmations`. */
  async function deployRelease(sats: bigint, confirmations: number) {
    const payee = btc.newAddress();
    const beneficiary = ethers.Wallet.createRandom().address;
    const release = await ethers.deployContract(
      "PaymentRelease",
      [btc.addresses.BitcoinKit, payee, sats, confirmations, beneficiary],
      { value: ONE_ETH },
    );
    return { release, payee, beneficiary };
  }

  it("refuses to release before anything is paid", async () => {
    const { release } = await deployRelease(50_000n, 1);
    await btc.sync();
    await expect(release.release()).to.be.revertedWithCustomError(release, "NotPaid").withArgs(0n, 50_000n);
  });

  it("releases once the payment has the confirmations, not before", async () => {
    const { release, payee, beneficiary } = await deployRelease(70_000n, 6);
    const paid = await btc.sendBtc(payee, 80_000n);
    await btc.mine(3);
    await btc.sync();
    // Mined but too shallow: Hemi's view lags the tip by 2 blocks, so the payment appears with 3 confirmations;
    // the precompile counts it, the contract does not release yet.
    expect(await release.confirmationsOf("0x" + paid.txid)).to.equal(3n);
    await expect(release.release()).to.be.revertedWithCustomError(release, "NotPaid").withArgs(0n, 70_000n);

    await btc.mine(3);
    await btc.sync();
    expect(await release.confirmedSats()).to.equal(80_000n);
    await expect(release.release()).to.emit(release, "Released").withArgs(beneficiary, ONE_ETH, 80_000n);
    expect(await ethers.provider.getBalance(beneficiary)).to.equal(ONE_ETH);
    await expect(release.release()).to.be.revertedWithCustomError(release, "AlreadyReleased");
  });

  it("a Bitcoin reorg that removes the payment takes the release back out of reach", async () => {
    const { release, payee } = await deployRelease(30_000n, 3);
    await btc.sendBtc(payee, 30_000n);
    await btc.mine(4);
    await btc.sync();
    expect(await release.confirmedSats()).to.equal(30_000n);

    // The four blocks (the payment's included) are replaced by a heavier branch without it.
    await btc.reorg(4);
    await btc.sync();
    expect(await release.confirmedSats()).to.equal(0n);
    await expect(release.release()).to.be.revertedWithCustomError(release, "NotPaid").withArgs(0n, 30_000n);
  });
});
