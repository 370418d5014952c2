import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { depositTx, randomP2wpkh } from "../helpers/tunnelChain";
import {
  BONUS_BPS,
  COLLATERAL,
  PRICE,
  TERMS,
  UNIT,
  VaultStatus,
  deposit,
  loadTunnel,
  request,
  unitsFor,
  type TunnelFixture,
} from "../helpers/tunnelFixture";

describe("TunnelLiquidation", function () {
  let f: TunnelFixture;
  const userScript = randomP2wpkh();

  beforeEach(async function () {
    f = await loadTunnel();
  });

  it("holders of a vault whose operator vanished are made whole from its collateral (issue 11, item 7)", async function () {
    const { tunnel, token, collateral, user, stranger, operator, custody } = f;
    // The audit's scenario: 11 BTC of hemiBTC backed by a vault whose operator leaves. Here vault 1 holds 2 BTC
    // (backed at 150%) and then stops paying: its first unpaid withdrawal is challenged.
    await tunnel.connect(operator).addCollateral(1, COLLATERAL);
    await deposit(f, depositTx(custody, 200_000_000n, user.address));
    await deposit(f, depositTx(custody, 100_000_000n, stranger.address));
    const id = await request(f, userScript, 10_000_000n);
    await time.increaseTo((await tunnel.withdrawal(id)).deadline + 1n);
    await tunnel.challengeWithdrawal(id);
    expect((await tunnel.vault(1)).status).to.equal(VaultStatus.Slashed);
    // Every other holder burns its hemiBTC for collateral worth it plus the bonus.
    for (const holder of [user, stranger]) {
      const sats = await token.balanceOf(holder.address);
      const before = await collateral.balanceOf(holder.address);
      const units = unitsFor(sats, BONUS_BPS);
      await expect(tunnel.connect(holder).liquidate(1, sats))
        .to.emit(tunnel, "VaultLiquidated")
        .withArgs(1, holder.address, sats, units);
      const got = (await collateral.balanceOf(holder.address)) - before;
      expect(got).to.equal(units);
      expect((got * PRICE) / UNIT).to.be.greaterThanOrEqual(sats);
      expect(await token.balanceOf(holder.address)).to.equal(0n);
    }
    // Nothing the vault backs is left in circulation; its forfeited fees are all that custody still counts.
    const v = await tunnel.vault(1);
    expect(v.custody - v.pending).to.equal(v.accruedFees);
    expect(await token.totalSupply()).to.equal(0n);
    expect(v.collateral).to.be.greaterThan(0n);
  });

  it("a vault below the liquidation threshold can be liquidated; a healthy one cannot", async function () {
    const { tunnel, token, user, admin, custody } = f;
    await deposit(f, depositTx(custody, 100_000_000n, user.address));
    const sats = 10_000_000n;
    await expect(tunnel.connect(user).liquidate(1, sats))
      .to.be.revertedWithCustomError(tunnel, "NotLiquidatable")
      .withArgs(1, VaultStatus.Live, 30_000n);
    // The price falls: 300 tCOL worth 1.1 BTC, 110% of the custody, below the 120% threshold.
    const price = 366_667n;
    expect((COLLATERAL * price) / UNIT).to.equal(110_000_100n);
    await tunnel.connect(admin).setCollateralPrice(price);
    const b = await tunnel.vaultBacking(1);
    expect([b.backed, b.liquidatable, b.ratioBps]).to.deep.equal([false, true, 11_000n]);
    const supply = await token.totalSupply();
    await expect(tunnel.connect(user).liquidate(1, sats)).to.emit(tunnel, "VaultLiquidated");
    expect(await token.totalSupply()).to.equal(supply - sats);
    expect((await tunnel.vault(1)).custody).to.equal(100_000_000n - sats);
    expect((await tunnel.vault(1)).collateral).to.equal(COLLATERAL - unitsFor(sats, BONUS_BPS, price));
    // Liquidation raises the ratio; once back above the threshold it stops.
    await tunnel.connect(user).liquidate(1, 60_000_000n);
    expect((await tunnel.vaultBacking(1)).liquidatable).to.equal(false);
    await expect(tunnel.connect(user).liquidate(1, 1_000n)).to.be.revertedWithCustomError(tunnel, "NotLiquidatable");
  });

  it("takes no more than the hemiBTC the vault backs, leaves what pending withdrawals may claim, and refuses 0", async function () {
    const { tunnel, user, operator, custody } = f;
    await deposit(f, depositTx(custody, 100_000_000n, user.address));
    const id = await request(f, userScript, 20_000_000n);
    await time.increaseTo((await tunnel.withdrawal(id)).deadline + 1n);
    // Vault 2, empty and healthy, is not liquidatable.
    const c2 = randomP2wpkh();
    await tunnel.connect(operator).createVault(c2, TERMS);
    await tunnel.challengeWithdrawal(id);
    const v = await tunnel.vault(1);
    const outstanding = v.custody - v.pending - v.accruedFees;
    await expect(tunnel.connect(user).liquidate(1, 0)).to.be.revertedWithCustomError(tunnel, "ZeroAmount");
    await expect(tunnel.connect(user).liquidate(1, outstanding + 1n))
      .to.be.revertedWithCustomError(tunnel, "LiquidationTooLarge")
      .withArgs(1, outstanding + 1n, outstanding);
    await expect(tunnel.connect(user).liquidate(2, 1_000n))
      .to.be.revertedWithCustomError(tunnel, "NotLiquidatable")
      .withArgs(2, VaultStatus.Live, 2n ** 256n - 1n);
  });

  it("pays at most the collateral beyond what pending withdrawals may claim", async function () {
    const { tunnel, token, user, admin, custody } = f;
    await deposit(f, depositTx(custody, 100_000_000n, user.address));
    await request(f, userScript, 50_000_000n);
    // The price crashes: the collateral is worth 0.6 BTC, the pending withdrawal 0.5 BTC.
    const price = (60_000_000n * UNIT) / COLLATERAL;
    await tunnel.connect(admin).setCollateralPrice(price);
    const reserved = unitsFor(50_000_000n, 0n, price);
    const sats = await token.balanceOf(user.address);
    await expect(tunnel.connect(user).liquidate(1, sats))
      .to.emit(tunnel, "VaultLiquidated")
      .withArgs(1, user.address, sats, COLLATERAL - reserved);
    expect((await tunnel.vault(1)).collateral).to.equal(reserved);
  });
});
