import { expect } from "chai";
import { randomP2wpkh } from "../helpers/tunnelChain";
import { PRICE, TERMS, loadTunnel, type TunnelFixture } from "../helpers/tunnelFixture";

describe("TunnelGovernance", function () {
  let f: TunnelFixture;
  beforeEach(async function () {
    f = await loadTunnel();
  });

  it("starts with the documented defaults", async function () {
    const c = await f.tunnel.config();
    expect([
      c.maxFeeBps,
      c.maxFlatFee,
      c.withdrawalWindow,
      c.depositGraceBlocks,
      c.feeRaiseDelay,
      c.collateralRatioBps,
      c.liquidationThresholdBps,
      c.liquidationBonusBps,
      c.collateralPrice,
    ]).to.deep.equal([500n, 100_000n, 86_400n, 144n, 86_400n, 15_000n, 12_000n, 500n, PRICE]);
    expect(await f.tunnel.maxFeeBps()).to.equal(500n);
    expect(await f.tunnel.maxFlatFee()).to.equal(100_000n);
  });

  it("guards every setting with its role", async function () {
    const { tunnel, stranger, operator, pauser, admin } = f;
    const adminRole = await tunnel.DEFAULT_ADMIN_ROLE();
    const pauserRole = await tunnel.PAUSER_ROLE();
    const managerRole = await tunnel.VAULT_MANAGER_ROLE();
    const operatorRole = await tunnel.OPERATOR_ROLE();
    const s = tunnel.connect(stranger);
    const denied = "AccessControlUnauthorizedAccount";
    const adminOnly = [
      () => s.setFeeLimits(1, 1),
      () => s.setWithdrawalWindow(7200),
      () => s.setDepositGracePeriod(6),
      () => s.setFeeRaiseDelay(7200),
      () => s.setCollateralPrice(1),
      () => s.setCollateralRatios(15_000, 12_000, 500),
    ];
    for (const call of adminOnly) {
      await expect(call()).to.be.revertedWithCustomError(tunnel, denied).withArgs(stranger.address, adminRole);
    }
    await expect(s.pause()).to.be.revertedWithCustomError(tunnel, denied).withArgs(stranger.address, pauserRole);
    await expect(s.setVaultConfirmations(1, 3))
      .to.be.revertedWithCustomError(tunnel, denied)
      .withArgs(stranger.address, managerRole);
    expect(await tunnel.getRoleAdmin(operatorRole)).to.equal(managerRole);
    await expect(tunnel.connect(admin).grantRole(operatorRole, stranger.address))
      .to.be.revertedWithCustomError(tunnel, denied)
      .withArgs(admin.address, managerRole);
    await expect(s.createVault(randomP2wpkh(), TERMS))
      .to.be.revertedWithCustomError(tunnel, denied)
      .withArgs(stranger.address, operatorRole);
    await expect(tunnel.connect(operator).pause()).to.be.revertedWithCustomError(tunnel, denied);
    await expect(tunnel.connect(pauser).pause()).to.emit(tunnel, "Paused").withArgs(pauser.address);
    expect(await tunnel.paused()).to.equal(true);
    await expect(tunnel.connect(pauser).pause()).to.be.revertedWithCustomError(tunnel, "EnforcedPause");
    await expect(tunnel.connect(pauser).unpause()).to.emit(tunnel, "Unpaused").withArgs(pauser.address);
    await expect(tunnel.connect(pauser).unpause()).to.be.revertedWithCustomError(tunnel, "ExpectedPause");
  });

  it("checks every setting's bounds and records it with an event", async function () {
    const { tunnel, manager } = f;
    await expect(tunnel.setFeeLimits(5001, 50))
      .to.be.revertedWithCustomError(tunnel, "FeeLimitTooHigh")
      .withArgs(5001, 50);
    const flatCap = 2_100_000_000_000_000n;
    await expect(tunnel.setFeeLimits(5000, flatCap + 1n)).to.be.revertedWithCustomError(tunnel, "FeeLimitTooHigh");
    await expect(tunnel.setFeeLimits(5000, flatCap)).to.emit(tunnel, "FeeLimitsSet").withArgs(5000, flatCap);
    await expect(tunnel.setWithdrawalWindow(60)).to.be.revertedWithCustomError(tunnel, "InvalidWithdrawalWindow");
    await expect(tunnel.setWithdrawalWindow(7200)).to.emit(tunnel, "WithdrawalWindowSet").withArgs(7200);
    await expect(tunnel.setFeeRaiseDelay(60))
      .to.be.revertedWithCustomError(tunnel, "InvalidFeeRaiseDelay")
      .withArgs(60);
    await expect(tunnel.setFeeRaiseDelay(3600)).to.emit(tunnel, "FeeRaiseDelaySet").withArgs(3600);
    await expect(tunnel.setCollateralPrice(0)).to.be.revertedWithCustomError(tunnel, "InvalidCollateralPrice");
    await expect(tunnel.setCollateralPrice(5)).to.emit(tunnel, "CollateralPriceSet").withArgs(5);
    for (const [r, t, b] of [
      [15_000, 9_999, 500],
      [11_000, 12_000, 500],
      [50_001, 12_000, 500],
      [15_000, 12_000, 2_001],
    ]) {
      await expect(tunnel.setCollateralRatios(r, t, b))
        .to.be.revertedWithCustomError(tunnel, "InvalidCollateralRatios")
        .withArgs(r, t, b);
    }
    await expect(tunnel.setCollateralRatios(20_000, 10_000, 0))
      .to.emit(tunnel, "CollateralRatiosSet")
      .withArgs(20_000, 10_000, 0);
    await expect(tunnel.connect(manager).setVaultConfirmations(1, 0))
      .to.be.revertedWithCustomError(tunnel, "InvalidConfirmations")
      .withArgs(0);
    await expect(tunnel.connect(manager).setVaultConfirmations(1, 1001)).to.be.revertedWithCustomError(
      tunnel,
      "InvalidConfirmations",
    );
    await expect(tunnel.connect(manager).setVaultConfirmations(9, 3))
      .to.be.revertedWithCustomError(tunnel, "UnknownVault")
      .withArgs(9);
    await expect(tunnel.connect(manager).setVaultConfirmations(1, 3))
      .to.emit(tunnel, "VaultConfirmationsSet")
      .withArgs(1, 3);
  });
});
