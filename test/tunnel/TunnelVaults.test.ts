import { expect } from "chai";
import { ethers } from "hardhat";
import { depositTx, opReturn, randomP2wpkh, txidOf } from "../helpers/tunnelChain";
import { hex0x } from "../helpers/bitcoinData";
import {
  COLLATERAL,
  PRICE,
  TERMS,
  UNIT,
  VaultStatus,
  ZERO_TERMS,
  deposit,
  expectBacked,
  loadTunnel,
  payAndFinalize,
  request,
  unitsFor,
  type TunnelFixture,
} from "../helpers/tunnelFixture";

describe("TunnelVaults", function () {
  let f: TunnelFixture;
  beforeEach(async function () {
    f = await loadTunnel();
  });

  describe("registry", function () {
    it("validates custody scripts: standard kinds only, one vault per script", async function () {
      const { tunnel, operator, custody } = f;
      const op = tunnel.connect(operator);
      await expect(op.createVault(custody, TERMS))
        .to.be.revertedWithCustomError(tunnel, "CustodyScriptTaken")
        .withArgs(ethers.keccak256(custody), 1);
      for (const bad of [opReturn(Buffer.alloc(20)), Buffer.from("0015" + "11".repeat(20), "hex"), Buffer.alloc(0)]) {
        await expect(op.createVault(bad, TERMS)).to.be.revertedWithCustomError(tunnel, "UnsupportedCustodyScript");
      }
      const p2tr = Buffer.concat([Buffer.from("5120", "hex"), Buffer.alloc(32, 7)]);
      await expect(op.createVault(p2tr, TERMS))
        .to.emit(tunnel, "VaultCreated")
        .withArgs(2, operator.address, hex0x(p2tr));
      expect(await tunnel.vaultOfScript(p2tr)).to.equal(2n);
      const v = await tunnel.vault(2);
      expect([v.confirmations, v.custodyScriptHash, v.collateral]).to.deep.equal([6n, ethers.keccak256(p2tr), 0n]);
    });

    it("restricts each vault's own functions to its operator (pausing also to PAUSER_ROLE)", async function () {
      const { tunnel, operator, stranger, pauser, manager } = f;
      const s = tunnel.connect(stranger);
      await expect(s.setVaultTerms(1, TERMS))
        .to.be.revertedWithCustomError(tunnel, "NotVaultOperator")
        .withArgs(1, stranger.address);
      await expect(s.closeVault(1)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.withdrawCollateral(1, 1n, stranger.address)).to.be.revertedWithCustomError(
        tunnel,
        "NotVaultOperator",
      );
      await expect(s.claimFees(1, stranger.address)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.setVaultPaused(1, true))
        .to.be.revertedWithCustomError(tunnel, "NotOperatorOrPauser")
        .withArgs(1, stranger.address);
      await tunnel.connect(manager).grantRole(await tunnel.OPERATOR_ROLE(), stranger.address);
      await s.createVault(randomP2wpkh(), TERMS);
      await expect(s.setVaultTerms(1, TERMS)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.setVaultTerms(9, TERMS)).to.be.revertedWithCustomError(tunnel, "UnknownVault").withArgs(9);
      await expect(tunnel.connect(operator).createVault(randomP2wpkh(), { ...TERMS, depositFeeBps: 501 }))
        .to.be.revertedWithCustomError(tunnel, "FeeAboveLimit")
        .withArgs(501, TERMS.depositFlatFee, 500, 100_000);
      // A vault paused by PAUSER_ROLE can only be resumed by PAUSER_ROLE.
      await tunnel.connect(pauser).setVaultPaused(1, true);
      expect((await tunnel.vault(1)).pausedByGovernance).to.equal(true);
      await expect(tunnel.connect(operator).setVaultPaused(1, false))
        .to.be.revertedWithCustomError(tunnel, "PausedByGovernance")
        .withArgs(1);
      await expect(tunnel.connect(operator).closeVault(1)).to.be.revertedWithCustomError(tunnel, "PausedByGovernance");
      await expect(tunnel.connect(pauser).setVaultPaused(1, false))
        .to.emit(tunnel, "VaultStatusChanged")
        .withArgs(1, VaultStatus.Live);
      await expect(tunnel.connect(pauser).setVaultPaused(1, false))
        .to.be.revertedWithCustomError(tunnel, "BadVaultStatus")
        .withArgs(1, VaultStatus.Live);
    });

    it("never lets the operator raise deposit fees or the minimum over deposits already sent; lowering works", async function () {
      const { btc, tunnel, user, operator, custody } = f;
      const tx = depositTx(custody, TERMS.minDeposit, user.address);
      const block = await btc.mineConfirmed([tx]);
      const op = tunnel.connect(operator);
      for (const t of [
        { ...TERMS, minDeposit: TERMS.minDeposit + 1n },
        { ...TERMS, depositFeeBps: TERMS.depositFeeBps + 1 },
        { ...TERMS, depositFlatFee: TERMS.depositFlatFee + 1n },
      ]) {
        await expect(op.setVaultTerms(1, t)).to.be.revertedWithCustomError(tunnel, "DepositTermsRaised").withArgs(1);
      }
      await expect(op.setVaultTerms(1, { ...TERMS, depositFeeBps: 0, depositFlatFee: 0n, minDeposit: 1_000n })).to.emit(
        tunnel,
        "VaultTermsSet",
      );
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.emit(tunnel, "DepositConfirmed")
        .withArgs(txidOf(tx), 0, user.address, TERMS.minDeposit, TERMS.minDeposit, 1);
    });
  });

  describe("closing (issue 11, item 4)", function () {
    it("mints a deposit broadcast before the close and mined after it, within the grace period", async function () {
      const { btc, tunnel, user, operator, custody, admin } = f;
      // The default grace is a day of Bitcoin blocks.
      expect((await tunnel.config()).depositGraceBlocks).to.equal(144n);
      await tunnel.connect(admin).setDepositGracePeriod(3);
      await btc.extend(1);
      const best = BigInt(btc.tip.height);
      await expect(tunnel.connect(operator).closeVault(1))
        .to.emit(tunnel, "VaultDepositWindowSet")
        .withArgs(1, best + 3n);
      expect((await tunnel.vault(1)).depositsUntilHeight).to.equal(best + 3n);
      // Sent before the close, mined in the next block: the old rule (until = best) refused it.
      const sent = depositTx(custody, 50_000n, user.address);
      const b1 = await btc.mineConfirmed([sent]);
      expect(BigInt(b1.height)).to.equal(best + 1n);
      await expect(tunnel.confirmDeposit(btc.proof(b1, sent), 0)).to.emit(tunnel, "DepositConfirmed");
      // Mined past the grace period: not minted.
      const tooLate = depositTx(custody, 50_000n, user.address);
      const b2 = await btc.mineConfirmed([tooLate]);
      expect(BigInt(b2.height)).to.be.greaterThan(best + 3n);
      await expect(tunnel.confirmDeposit(btc.proof(b2, tooLate), 0))
        .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
        .withArgs(1, VaultStatus.Closing, b2.height);
    });

    it("the grace period is set by governance within bounds", async function () {
      const { tunnel, admin, stranger } = f;
      await expect(tunnel.connect(stranger).setDepositGracePeriod(10)).to.be.revertedWithCustomError(
        tunnel,
        "AccessControlUnauthorizedAccount",
      );
      await expect(tunnel.connect(admin).setDepositGracePeriod(0))
        .to.be.revertedWithCustomError(tunnel, "InvalidGracePeriod")
        .withArgs(0);
      await expect(tunnel.connect(admin).setDepositGracePeriod(2017)).to.be.revertedWithCustomError(
        tunnel,
        "InvalidGracePeriod",
      );
      await expect(tunnel.connect(admin).setDepositGracePeriod(288))
        .to.emit(tunnel, "DepositGracePeriodSet")
        .withArgs(288);
    });
  });

  describe("collateral (issue 11, item 7)", function () {
    const userScript = randomP2wpkh();

    it("an operator with nothing pending cannot close and leave with the collateral while custody remains", async function () {
      const { tunnel, collateral, user, operator, custody } = f;
      await deposit(f, depositTx(custody, 100_000_000n, user.address));
      await tunnel.connect(operator).closeVault(1);
      const v = await tunnel.vault(1);
      expect(v.pending).to.equal(0n);
      // 1 BTC of custody keeps 150 tCOL (1.5 BTC at 1,000,000 sat per tCOL); the rest is free.
      const need = unitsFor(v.custody, 5_000n);
      const b = await tunnel.vaultBacking(1);
      expect(b.requiredCollateral).to.equal(need);
      expect(b.freeCollateral).to.equal(COLLATERAL - need);
      await expect(tunnel.connect(operator).withdrawCollateral(1, COLLATERAL, operator.address))
        .to.be.revertedWithCustomError(tunnel, "CollateralLocked")
        .withArgs(1, COLLATERAL, COLLATERAL - need);
      const before = await collateral.balanceOf(operator.address);
      await expect(tunnel.connect(operator).withdrawCollateral(1, COLLATERAL - need, operator.address))
        .to.emit(tunnel, "CollateralWithdrawn")
        .withArgs(1, operator.address, COLLATERAL - need, need);
      expect(await collateral.balanceOf(operator.address)).to.equal(before + COLLATERAL - need);
      await expect(tunnel.connect(operator).withdrawCollateral(1, 1n, operator.address)).to.be.revertedWithCustomError(
        tunnel,
        "CollateralLocked",
      );
    });

    it("releases collateral only as custody drains through paid withdrawals", async function () {
      const { tunnel, token, user, operator, custody } = f;
      await deposit(f, depositTx(custody, 100_000_000n, user.address));
      await tunnel
        .connect(operator)
        .withdrawCollateral(1, (await tunnel.vaultBacking(1)).freeCollateral, operator.address);
      await tunnel.connect(operator).closeVault(1);
      const held0 = (await tunnel.vault(1)).collateral;
      const id = await request(f, userScript, 60_000_000n);
      // Pending does not free anything: the custody is still there.
      expect((await tunnel.vaultBacking(1)).freeCollateral).to.equal(0n);
      await payAndFinalize(f, id, userScript);
      const custodyLeft = (await tunnel.vault(1)).custody;
      const free = (await tunnel.vaultBacking(1)).freeCollateral;
      expect(free).to.equal(held0 - unitsFor(custodyLeft, 5_000n));
      expect(free).to.be.greaterThan(0n);
      await tunnel.connect(operator).withdrawCollateral(1, free, operator.address);
      // Everything the users still hold is still backed at 150%.
      expect((await tunnel.vaultBacking(1)).backed).to.equal(true);
      // The operator claims its fees and the last holder withdraws: the custody left is the dust of rounding.
      await tunnel.connect(operator).claimFees(1, operator.address);
      const rest = await token.balanceOf(user.address);
      await request(f, userScript, rest);
      await payAndFinalize(f, await tunnel.withdrawalCount(), userScript);
      const opBalance = await token.balanceOf(operator.address);
      await token.connect(operator).transfer(user.address, opBalance);
      await request(f, userScript, opBalance);
      await payAndFinalize(f, await tunnel.withdrawalCount(), userScript);
      const v = await tunnel.vault(1);
      expect(v.custody).to.equal((await tunnel.vault(1)).accruedFees);
      const last = (await tunnel.vaultBacking(1)).freeCollateral;
      await tunnel.connect(operator).withdrawCollateral(1, last, operator.address);
      expect((await tunnel.vault(1)).collateral).to.equal(unitsFor(v.custody, 5_000n));
      await expectBacked(f);
    });

    it("anyone may add collateral; a zero amount or an unknown vault is refused", async function () {
      const { tunnel, stranger } = f;
      await expect(tunnel.connect(stranger).addCollateral(1, 5n * UNIT))
        .to.emit(tunnel, "CollateralAdded")
        .withArgs(1, stranger.address, 5n * UNIT, COLLATERAL + 5n * UNIT);
      await expect(tunnel.connect(stranger).addCollateral(1, 0)).to.be.revertedWithCustomError(tunnel, "ZeroAmount");
      await expect(tunnel.connect(stranger).addCollateral(7, 1)).to.be.revertedWithCustomError(tunnel, "UnknownVault");
      const b = await tunnel.vaultBacking(1);
      expect(b.collateralSats).to.equal(((COLLATERAL + 5n * UNIT) * PRICE) / UNIT);
      expect(b.ratioBps).to.equal(ethers.MaxUint256);
    });
  });

  describe("fees", function () {
    it("the operator claims accrued fees; not to address 0, not twice", async function () {
      const { tunnel, user, operator, stranger, custody } = f;
      await deposit(f, depositTx(custody, 1_000_000n, user.address));
      const accrued = (await tunnel.vault(1)).accruedFees;
      await expect(tunnel.connect(stranger).claimFees(1, stranger.address))
        .to.be.revertedWithCustomError(tunnel, "NotVaultOperator")
        .withArgs(1, stranger.address);
      await expect(tunnel.connect(operator).claimFees(1, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        tunnel,
        "ZeroAddress",
      );
      await expect(tunnel.connect(operator).claimFees(1, operator.address))
        .to.emit(tunnel, "FeesClaimed")
        .withArgs(1, operator.address, accrued);
      await expect(tunnel.connect(operator).claimFees(1, operator.address)).to.be.revertedWithCustomError(
        tunnel,
        "ZeroAmount",
      );
      await expectBacked(f);
    });

    it("creates a fee-free vault without collateral that takes no deposit until collateral is posted", async function () {
      const { btc, tunnel, user, operator, admin } = f;
      await tunnel.connect(admin).setDepositGracePeriod(1);
      const c2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(c2, ZERO_TERMS);
      // The first deposit mints (the BTC is locked) and closes the window past the grace period.
      const first = depositTx(c2, 20_000n, user.address);
      await expect(tunnel.confirmDeposit(btc.proof(await btc.mineConfirmed([first]), first), 0)).to.emit(
        tunnel,
        "VaultDepositWindowSet",
      );
      await btc.extend(2);
      const second = depositTx(c2, 20_000n, user.address);
      const b2 = await btc.mineConfirmed([second]);
      await expect(tunnel.confirmDeposit(btc.proof(b2, second), 0)).to.be.revertedWithCustomError(
        tunnel,
        "VaultNotAcceptingDeposits",
      );
    });
  });
});
