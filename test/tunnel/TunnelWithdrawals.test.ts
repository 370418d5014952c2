import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Transaction } from "bitcoinjs-lib";
import { depositTx, opReturn, randomP2wpkh, signedTx, txidOf, withdrawalIdScript } from "../helpers/tunnelChain";
import { hex0x } from "../helpers/bitcoinData";
import {
  COLLATERAL,
  PRICE,
  TERMS,
  UNIT,
  VaultStatus,
  WithdrawalStatus,
  ZERO_TERMS,
  deposit,
  expectBacked,
  loadTunnel,
  payoutTx,
  request,
  unitsFor,
  withdrawalFee,
  type TunnelFixture,
} from "../helpers/tunnelFixture";

describe("TunnelWithdrawals", function () {
  let f: TunnelFixture;
  const userScript = randomP2wpkh();

  /** The user gets 1 BTC minus the fee (vault 1: 1 BTC of custody, 300 tCOL worth 3 BTC). */
  beforeEach(async function () {
    f = await loadTunnel();
    await deposit(f, depositTx(f.custody, 100_000_000n, f.user.address));
  });

  it("burns and queues with an id, a deadline and the terms in force; a proven payout finalizes it", async function () {
    const { btc, tunnel, token, user, stranger } = f;
    const sats = 200_000n;
    const fee = withdrawalFee(sats);
    const balance = await token.balanceOf(user.address);
    const window = await tunnel.withdrawalWindow();
    const tx = await tunnel.connect(user)["requestWithdrawal(bytes,uint64)"](userScript, sats);
    await tx.wait();
    const deadline = BigInt(await time.latest()) + window;
    await expect(tx)
      .to.emit(tunnel, "WithdrawalRequested")
      .withArgs(1, 1, user.address, hex0x(userScript), sats, fee, deadline);
    expect(await token.balanceOf(user.address)).to.equal(balance - sats);
    const w = await tunnel.withdrawal(1);
    expect([w.requester, w.vaultId, w.status, w.sats, w.fee, w.deadline, w.confirmations]).to.deep.equal([
      user.address,
      1n,
      WithdrawalStatus.Pending,
      sats,
      fee,
      deadline,
      6n,
    ]);
    await expectBacked(f);
    const before = await tunnel.vault(1);
    const payout = payoutTx(f, 1n, sats - fee, userScript);
    const block = await btc.mineConfirmed([payout]);
    await expect(tunnel.connect(stranger).finalizeWithdrawal(1, btc.proof(block, payout)))
      .to.emit(tunnel, "WithdrawalFinalized")
      .withArgs(1, 1, txidOf(payout), sats - fee);
    const after = await tunnel.vault(1);
    expect([after.custody, after.pending, after.accruedFees]).to.deep.equal([
      before.custody - (sats - fee),
      0n,
      before.accruedFees + fee,
    ]);
    await expectBacked(f);
    await expect(tunnel.finalizeWithdrawal(1, btc.proof(block, payout)))
      .to.be.revertedWithCustomError(tunnel, "WithdrawalNotPending")
      .withArgs(1, WithdrawalStatus.Finalized);
  });

  it("rejects payouts with the wrong amount, script, id, OP_RETURN, change, or too few confirmations", async function () {
    const { btc, tunnel, client, custody } = f;
    const sats = 200_000n;
    const id = await request(f, userScript, sats);
    const net = sats - withdrawalFee(sats);
    const other = randomP2wpkh();
    const cases: { tx: Transaction; error: string; args: unknown[] }[] = [
      { tx: payoutTx(f, id, net - 1n, userScript), error: "PayoutAmountMismatch", args: [id, net, net - 1n] },
      { tx: payoutTx(f, id, net, other), error: "UnexpectedPayoutOutput", args: [id, 0] },
      {
        tx: payoutTx(f, id, net, userScript, { idScript: withdrawalIdScript(id + 1n) }),
        error: "PayoutIdMismatch",
        args: [id, id + 1n],
      },
      {
        tx: payoutTx(f, id, net, userScript, { idScript: opReturn(Buffer.alloc(32)) }),
        error: "MalformedOpReturn",
        args: [1],
      },
      { tx: payoutTx(f, id, net, userScript, { idScript: null }), error: "MissingOpReturn", args: [] },
      { tx: payoutTx(f, id, net, userScript, { change: other }), error: "UnexpectedPayoutOutput", args: [id, 2] },
      {
        tx: signedTx([
          { script: withdrawalIdScript(id), value: 0n },
          { script: custody, value: 5_000n },
        ]),
        error: "PayoutNotFound",
        args: [id],
      },
      {
        tx: signedTx([
          { script: userScript, value: net },
          { script: userScript, value: net },
          { script: withdrawalIdScript(id), value: 0n },
        ]),
        error: "PayoutOutputRepeated",
        args: [id, 1],
      },
    ];
    const block = await btc.mineConfirmed(cases.map((c) => c.tx));
    for (const c of cases) {
      await expect(tunnel.finalizeWithdrawal(id, btc.proof(block, c.tx)))
        .to.be.revertedWithCustomError(tunnel, c.error)
        .withArgs(...c.args);
    }
    const good = payoutTx(f, id, net, userScript);
    const b2 = await btc.mineConfirmed([good], 5);
    await expect(tunnel.finalizeWithdrawal(id, btc.proof(b2, good)))
      .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
      .withArgs(5, 6);
    await btc.extend(1);
    await expect(tunnel.finalizeWithdrawal(id, btc.proof(b2, good))).to.emit(tunnel, "WithdrawalFinalized");
  });

  it("an unpaid withdrawal is challenged after its deadline: the user gets collateral worth it, the vault is slashed", async function () {
    const { btc, tunnel, collateral, user, operator, stranger, custody } = f;
    const sats = 300_000n;
    const id = await request(f, userScript, sats);
    const w = await tunnel.withdrawal(id);
    await time.setNextBlockTimestamp(w.deadline);
    await expect(tunnel.challengeWithdrawal(id))
      .to.be.revertedWithCustomError(tunnel, "DeadlineNotPassed")
      .withArgs(id, w.deadline, w.deadline);
    const before = await collateral.balanceOf(user.address);
    const v0 = await tunnel.vault(1);
    await time.setNextBlockTimestamp(w.deadline + 1n);
    const tx = tunnel.connect(stranger).challengeWithdrawal(id);
    const paid = unitsFor(sats);
    await expect(tx).to.emit(tunnel, "WithdrawalChallenged").withArgs(id, 1, user.address, sats, paid);
    await expect(tx).to.emit(tunnel, "VaultStatusChanged").withArgs(1, VaultStatus.Slashed);
    expect(await collateral.balanceOf(user.address)).to.equal(before + paid);
    expect((paid * PRICE) / UNIT).to.be.greaterThanOrEqual(sats);
    const v = await tunnel.vault(1);
    expect([v.collateral, v.pending, v.custody, v.status]).to.deep.equal([
      COLLATERAL - paid,
      0n,
      v0.custody - sats,
      VaultStatus.Slashed,
    ]);
    // A late payout no longer finalizes; the slashed vault takes no deposits, withdrawals, fee claims or collateral.
    const late = payoutTx(f, id, sats - withdrawalFee(sats), userScript);
    const dep = depositTx(custody, 50_000n, user.address);
    const block = await btc.mineConfirmed([late, dep]);
    await expect(tunnel.finalizeWithdrawal(id, btc.proof(block, late))).to.be.revertedWithCustomError(
      tunnel,
      "WithdrawalNotPending",
    );
    await expect(tunnel.confirmDeposit(btc.proof(block, dep), 0))
      .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
      .withArgs(1, VaultStatus.Slashed, block.height);
    await expect(tunnel.connect(user)["requestWithdrawal(bytes,uint64)"](userScript, 10_000n))
      .to.be.revertedWithCustomError(tunnel, "NoVaultCanServe")
      .withArgs(10_000n);
    await expect(tunnel.connect(operator).claimFees(1, operator.address))
      .to.be.revertedWithCustomError(tunnel, "BadVaultStatus")
      .withArgs(1, VaultStatus.Slashed);
    await expect(tunnel.connect(operator).withdrawCollateral(1, 1n, operator.address))
      .to.be.revertedWithCustomError(tunnel, "BadVaultStatus")
      .withArgs(1, VaultStatus.Slashed);
    await expect(tunnel.connect(operator).addCollateral(1, 1n)).to.be.revertedWithCustomError(tunnel, "BadVaultStatus");
  });

  it("gives at least 20 minutes per required confirmation before the deadline, else the withdrawal window", async function () {
    const { tunnel, manager } = f;
    const window = await tunnel.withdrawalWindow();
    const deadlineOf = async (id: bigint) => (await tunnel.withdrawal(id)).deadline;
    const id1 = await request(f, userScript, 10_000n);
    expect(await deadlineOf(id1)).to.equal(BigInt(await time.latest()) + window);
    await tunnel.connect(manager).setVaultConfirmations(1, 100);
    const id2 = await request(f, userScript, 10_000n);
    expect(await deadlineOf(id2)).to.equal(BigInt(await time.latest()) + 100n * 20n * 60n);
  });

  it("a payout proven after the deadline but before a challenge still finalizes", async function () {
    const { btc, tunnel } = f;
    const sats = 100_000n;
    const id = await request(f, userScript, sats);
    await time.increaseTo((await tunnel.withdrawal(id)).deadline + 10n);
    const payout = payoutTx(f, id, sats - withdrawalFee(sats), userScript);
    const block = await btc.mineConfirmed([payout]);
    await expect(tunnel.finalizeWithdrawal(id, btc.proof(block, payout))).to.emit(tunnel, "WithdrawalFinalized");
    await expect(tunnel.challengeWithdrawal(id)).to.be.revertedWithCustomError(tunnel, "WithdrawalNotPending");
  });

  it("takes a withdrawal only within custody and collateral, to a payable script, above dust", async function () {
    const { tunnel, token, user, stranger, pauser, custody } = f;
    const u = tunnel.connect(user);
    const custodyNow = (await tunnel.vault(1)).custody;
    await expect(u["requestWithdrawalFrom(uint32,bytes,uint64)"](1, userScript, custodyNow + 1n))
      .to.be.revertedWithCustomError(tunnel, "InsufficientCustody")
      .withArgs(1, custodyNow, custodyNow + 1n);
    const bad = [opReturn(Buffer.alloc(8)), Buffer.from("0014", "hex"), custody, Buffer.alloc(0)];
    for (const s of bad) {
      await expect(u["requestWithdrawal(bytes,uint64)"](s, 800n))
        .to.be.revertedWithCustomError(tunnel, "UnsupportedWithdrawalScript")
        .withArgs(hex0x(s));
    }
    await expect(u["requestWithdrawal(bytes,uint64)"](userScript, 745n))
      .to.be.revertedWithCustomError(tunnel, "WithdrawalTooSmall")
      .withArgs(745n, 201n, 546n);
    await expect(
      tunnel.connect(stranger)["requestWithdrawal(bytes,uint64)"](userScript, 800n),
    ).to.be.revertedWithCustomError(token, "ERC20InsufficientBalance");
    await tunnel.connect(pauser).pause();
    await expect(u["requestWithdrawal(bytes,uint64)"](userScript, 800n)).to.be.revertedWithCustomError(
      tunnel,
      "EnforcedPause",
    );
  });

  it("takes a withdrawal only while the collateral covers every pending one with it", async function () {
    const { tunnel, user, operator, admin } = f;
    // The price falls to a third: 300 tCOL are worth 1 BTC, exactly the vault's custody.
    await tunnel.connect(admin).setCollateralPrice(PRICE / 3n);
    const worth = (COLLATERAL * (PRICE / 3n)) / UNIT;
    await request(f, userScript, 60_000_000n);
    const rest = worth - 60_000_000n;
    await expect(tunnel.connect(user)["requestWithdrawalFrom(uint32,bytes,uint64)"](1, userScript, rest + 1n))
      .to.be.revertedWithCustomError(tunnel, "InsufficientCollateral")
      .withArgs(1, worth, 60_000_000n + rest + 1n);
    expect(await tunnel.selectVault(rest + 1n)).to.deep.equal([false, 0n]);
    await tunnel.connect(operator).addCollateral(1, UNIT * 10n);
    expect(await tunnel.selectVault(rest + 1n)).to.deep.equal([true, 1n]);
  });

  describe("vault selection (issue 11, item 7)", function () {
    it("prefers a Closing vault, then an under-collateralised one, over a healthy lower id", async function () {
      const { tunnel, user, operator, admin } = f;
      // Vault 2 and 3: each 1 BTC of custody, vault 3 with collateral for just 100%.
      const c2 = randomP2wpkh();
      const c3 = randomP2wpkh();
      await tunnel.connect(operator).createVault(c2, TERMS);
      await tunnel.connect(operator).createVault(c3, TERMS);
      await tunnel.connect(operator).addCollateral(2, COLLATERAL);
      await tunnel.connect(operator).addCollateral(3, 100n * UNIT);
      await tunnel.connect(admin).setDepositGracePeriod(1);
      await deposit(f, depositTx(c2, 100_000_000n, user.address));
      await deposit(f, depositTx(c3, 100_000_000n, user.address));
      expect((await tunnel.vaultBacking(3)).backed).to.equal(false);
      // Vault 3 is short: it goes first although vault 1 has the lowest id.
      expect(await tunnel.selectVault(1_000_000n)).to.deep.equal([true, 3n]);
      // Once vault 3 is backed again, the lowest-id closing vault goes first.
      await tunnel.connect(operator).addCollateral(3, 100n * UNIT);
      expect(await tunnel.selectVault(1_000_000n)).to.deep.equal([true, 1n]);
      await tunnel.connect(operator).closeVault(2);
      expect(await tunnel.selectVault(1_000_000n)).to.deep.equal([true, 2n]);
      const id = await request(f, userScript, 1_000_000n);
      expect((await tunnel.withdrawal(id)).vaultId).to.equal(2n);
    });
  });

  describe("terms of the request (issue 11, items 5 and 6)", function () {
    it("a fee raise does not reach a request in the same block, nor before the raise delay", async function () {
      const { tunnel, operator } = f;
      // Measured by the audit: quoted 20,200 sats for 10,000,000, charged 600,000 after a raise in between.
      const sats = 10_000_000n;
      expect(await tunnel.withdrawalFee(1, sats)).to.equal(20_200n);
      const raised = { ...TERMS, withdrawalFeeBps: 500, withdrawalFlatFee: 100_000n };
      const delay = (await tunnel.config()).feeRaiseDelay;
      await expect(tunnel.connect(operator).setVaultTerms(1, raised)).to.emit(tunnel, "WithdrawalFeeRaiseScheduled");
      const at = BigInt(await time.latest()) + delay;
      const id = await request(f, userScript, sats);
      expect((await tunnel.withdrawal(id)).fee).to.equal(20_200n);
      // The operator lowers it back: the cut applies at once and cancels the raise.
      await tunnel.connect(operator).setVaultTerms(1, TERMS);
      await time.increaseTo(at + 1n);
      expect(await tunnel.withdrawalFee(1, sats)).to.equal(20_200n);
      // A raise left in place applies once the delay has passed.
      await tunnel.connect(operator).setVaultTerms(1, raised);
      await time.increase(delay - 10n);
      expect(await tunnel.withdrawalFee(1, sats)).to.equal(20_200n);
      await time.increase(10n);
      expect(await tunnel.withdrawalFee(1, sats)).to.equal(600_000n);
      const id2 = await request(f, userScript, sats);
      expect((await tunnel.withdrawal(id2)).fee).to.equal(600_000n);
      expect((await tunnel.vault(1)).withdrawalFeeBps).to.equal(BigInt(TERMS.withdrawalFeeBps));
    });

    it("a request carrying the most fee it accepts is refused above it", async function () {
      const { tunnel, user, operator } = f;
      const sats = 10_000_000n;
      const u = tunnel.connect(user);
      await expect(u["requestWithdrawal(bytes,uint64,uint64)"](userScript, sats, 20_199n))
        .to.be.revertedWithCustomError(tunnel, "FeeAboveMax")
        .withArgs(1, 20_200n, 20_199n);
      await expect(u["requestWithdrawalFrom(uint32,bytes,uint64,uint64)"](1, userScript, sats, 20_199n))
        .to.be.revertedWithCustomError(tunnel, "FeeAboveMax")
        .withArgs(1, 20_200n, 20_199n);
      await expect(u["requestWithdrawal(bytes,uint64,uint64)"](userScript, sats, 20_200n)).to.emit(
        tunnel,
        "WithdrawalRequested",
      );
      await tunnel.connect(operator).setVaultTerms(1, { ...TERMS, withdrawalFlatFee: 0n });
      expect(await tunnel.withdrawalFee(1, sats)).to.equal(20_000n);
    });

    it("raising the vault's confirmations after a request does not change what its payout needs", async function () {
      const { btc, tunnel, manager, stranger } = f;
      const sats = 500_000n;
      const id = await request(f, userScript, sats);
      const w = await tunnel.withdrawal(id);
      await tunnel.connect(manager).setVaultConfirmations(1, 50);
      // Paid promptly with the 6 confirmations in force at the request: it finalizes (before the fix the vault's
      // current 50 were required, so the operator could not prove it and was slashed).
      const payout = payoutTx(f, id, sats - w.fee, userScript);
      const block = await btc.mineConfirmed([payout], 6);
      await expect(tunnel.connect(stranger).finalizeWithdrawal(id, btc.proof(block, payout))).to.emit(
        tunnel,
        "WithdrawalFinalized",
      );
      // New requests take the new count.
      const id2 = await request(f, userScript, sats);
      expect((await tunnel.withdrawal(id2)).confirmations).to.equal(50n);
    });
  });

  it("a fee-free vault with a dust remainder still serves every withdrawal above dust", async function () {
    const { btc, tunnel, user, operator } = f;
    const c2 = randomP2wpkh();
    await tunnel.connect(operator).createVault(c2, ZERO_TERMS);
    await tunnel.connect(operator).addCollateral(2, COLLATERAL);
    await deposit(f, depositTx(c2, 50_000n, user.address));
    await tunnel.connect(operator).closeVault(2);
    await tunnel.connect(user)["requestWithdrawalFrom(uint32,bytes,uint64)"](2, userScript, 49_800n);
    const id = await tunnel.withdrawalCount();
    const payout = signedTx([
      { script: userScript, value: 49_800n },
      { script: withdrawalIdScript(id), value: 0n },
      { script: c2, value: 3_000n },
    ]);
    const block = await btc.mineConfirmed([payout]);
    await tunnel.finalizeWithdrawal(id, btc.proof(block, payout));
    expect((await tunnel.vault(2)).custody).to.equal(200n);
    await expect(tunnel.connect(user)["requestWithdrawalFrom(uint32,bytes,uint64)"](2, userScript, 200n))
      .to.be.revertedWithCustomError(tunnel, "WithdrawalTooSmall")
      .withArgs(200n, 0n, 546n);
    // Only the collateral for those 200 sats stays locked.
    const b = await tunnel.vaultBacking(2);
    expect(b.requiredCollateral).to.equal(unitsFor(200n, 5_000n));
    expect(b.freeCollateral).to.equal(COLLATERAL - unitsFor(200n, 5_000n));
  });
});
