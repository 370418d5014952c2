import { expect } from "chai";
import { ethers } from "hardhat";
import type { Transaction } from "bitcoinjs-lib";
import { depositTx, opReturn, randomP2wpkh, txidOf, type MinedBlock } from "../helpers/tunnelChain";
import { hex0x } from "../helpers/bitcoinData";
import {
  COLLATERAL,
  TERMS,
  UNIT,
  VaultStatus,
  deposit,
  depositFee,
  expectBacked,
  loadTunnel,
  type TunnelFixture,
} from "../helpers/tunnelFixture";

describe("TunnelDeposits", function () {
  let f: TunnelFixture;
  beforeEach(async function () {
    f = await loadTunnel();
  });

  it("mints amount minus fee to the OP_RETURN recipient, on a proof anyone submits, with sequence and position", async function () {
    const { btc, tunnel, token, user, stranger, custody } = f;
    const sats = 1_000_000n;
    const tx = depositTx(custody, sats, user.address);
    const block = await btc.mineConfirmed([tx], 6);
    const fee = depositFee(sats);
    await expect(tunnel.connect(stranger).confirmDeposit(btc.proof(block, tx), 0))
      .to.emit(tunnel, "DepositConfirmed")
      .withArgs(txidOf(tx), 0, user.address, sats, sats - fee, 1);
    expect(await token.balanceOf(user.address)).to.equal(sats - fee);
    const rec = await tunnel.depositRecord(txidOf(tx), 0);
    expect([rec.sequence, rec.blockHeight, rec.txIndex, rec.vaultId, rec.inBitcoinOrder]).to.deep.equal([
      1n,
      BigInt(block.height),
      1n,
      1n,
      true,
    ]);
    const v = await tunnel.vault(1);
    expect(v.custody).to.equal(sats);
    expect(v.accruedFees).to.equal(fee);
    expect((await tunnel.orderCursor()).count).to.equal(1n);
    await expectBacked(f);
  });

  it("mints a (txid, vout) exactly once; another custody output of the same tx is its own deposit", async function () {
    const { tunnel, token, user, custody } = f;
    const tx = depositTx(custody, 50_000n, user.address, { extra: [{ script: custody, value: 20_000n }] });
    const block = await deposit(f, tx, 0);
    await expect(tunnel.confirmDeposit(f.btc.proof(block, tx), 0))
      .to.be.revertedWithCustomError(tunnel, "DepositAlreadyConfirmed")
      .withArgs(txidOf(tx), 0, 1);
    await expect(tunnel.confirmDeposit(f.btc.proof(block, tx), 2))
      .to.emit(tunnel, "DepositConfirmed")
      .withArgs(txidOf(tx), 2, user.address, 20_000n, 20_000n - depositFee(20_000n), 2);
    await expect(tunnel.confirmDeposit(f.btc.proof(block, tx), 2)).to.be.revertedWithCustomError(
      tunnel,
      "DepositAlreadyConfirmed",
    );
    expect(await token.balanceOf(user.address)).to.equal(70_000n - depositFee(50_000n) - depositFee(20_000n));
  });

  it("rejects an output that pays no custody script, and an output index past the end", async function () {
    const { btc, tunnel, user } = f;
    const other = randomP2wpkh();
    const tx = depositTx(other, 50_000n, user.address);
    const block = await btc.mineConfirmed([tx]);
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
      .to.be.revertedWithCustomError(tunnel, "NotACustodyScript")
      .withArgs(ethers.keccak256(other));
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 1)).to.be.revertedWithCustomError(
      tunnel,
      "NotACustodyScript",
    );
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 2))
      .to.be.revertedWithCustomError(tunnel, "OutputIndexOutOfRange")
      .withArgs(2, 2);
  });

  it("needs the vault's confirmations (default 6, settable by the vault manager)", async function () {
    const { btc, tunnel, client, user, manager, custody } = f;
    const tx = depositTx(custody, 50_000n, user.address);
    const block = await btc.mineConfirmed([tx], 5);
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
      .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
      .withArgs(5, 6);
    await btc.extend(1);
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.emit(tunnel, "DepositConfirmed");
    await tunnel.connect(manager).setVaultConfirmations(1, 2);
    const tx2 = depositTx(custody, 50_000n, user.address);
    const b2 = await btc.mineConfirmed([tx2], 1);
    await expect(tunnel.confirmDeposit(btc.proof(b2, tx2), 0))
      .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
      .withArgs(1, 2);
  });

  it("rejects a deposit whose block was reorganised away", async function () {
    const { btc, tunnel, client, user, custody } = f;
    const tx = depositTx(custody, 50_000n, user.address);
    const fork = btc.tip;
    const block = await btc.mineConfirmed([tx], 6);
    const branch: MinedBlock[] = [];
    for (let i = 0; i < 7; i++) branch.push(btc.mine([], branch[i - 1] ?? fork));
    await expect(client.submitHeaders(hex0x(Buffer.concat(branch.map((b) => b.header))))).to.emit(client, "Reorg");
    btc.tip = branch[6];
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
      .to.be.revertedWithCustomError(client, "BlockNotCanonical")
      .withArgs(block.hash, block.height);
    const again = await btc.mineConfirmed([tx], 6);
    await expect(tunnel.confirmDeposit(btc.proof(again, tx), 0)).to.emit(tunnel, "DepositConfirmed");
    expect((await tunnel.depositRecord(txidOf(tx), 0)).blockHeight).to.equal(BigInt(again.height));
  });

  it("requires exactly one OP_RETURN that is exactly PUSH20 <recipient>", async function () {
    const { btc, tunnel, token, user, stranger, custody } = f;
    const addr = Buffer.from(user.address.slice(2), "hex");
    const cases: { script: Buffer | null; extra?: Buffer; error: string; args?: unknown[] }[] = [
      { script: null, error: "MissingOpReturn", args: [] },
      { script: opReturn(Buffer.alloc(19, 1)), error: "MalformedOpReturn", args: [1] },
      { script: opReturn(Buffer.alloc(32, 1)), error: "MalformedOpReturn", args: [1] },
      // Same 20 bytes through OP_PUSHDATA1: not the canonical form.
      { script: Buffer.concat([Buffer.from([0x6a, 0x4c, 20]), addr]), error: "MalformedOpReturn", args: [1] },
      // 22 bytes, the length of the canonical form, with another push byte: only the push-byte check refuses them.
      {
        script: Buffer.concat([Buffer.from([0x6a, 0x4c, 0x13]), addr.subarray(0, 19)]),
        error: "MalformedOpReturn",
        args: [1],
      },
      { script: Buffer.concat([Buffer.from([0x6a, 0x15]), addr]), error: "MalformedOpReturn", args: [1] },
      { script: Buffer.concat([Buffer.from([0x6a, 0x13]), addr]), error: "MalformedOpReturn", args: [1] },
      // OP_RETURN <20 bytes> followed by another push.
      { script: Buffer.concat([opReturn(addr), Buffer.from([0x51])]), error: "MalformedOpReturn", args: [1] },
      {
        script: opReturn(addr),
        extra: opReturn(Buffer.from(stranger.address.slice(2), "hex")),
        error: "MultipleOpReturns",
        args: [1, 2],
      },
      { script: opReturn(Buffer.alloc(20)), error: "ZeroRecipient", args: [] },
    ];
    const txs = cases.map((c) =>
      depositTx(custody, 50_000n, user.address, {
        opReturnScript: c.script,
        extra: c.extra ? [{ script: c.extra, value: 0n }] : [],
      }),
    );
    const block = await btc.mineConfirmed(txs);
    for (let i = 0; i < cases.length; i++) {
      expect(cases[i].script === null || cases[i].script!.length > 0).to.equal(true);
      await expect(tunnel.confirmDeposit(btc.proof(block, txs[i]), 0))
        .to.be.revertedWithCustomError(tunnel, cases[i].error)
        .withArgs(...(cases[i].args ?? []));
    }
    expect(await token.totalSupply()).to.equal(0n);
  });

  it("rejects an amount under the vault's minimum and accepts exactly the minimum", async function () {
    const { btc, tunnel, user, custody } = f;
    const small = depositTx(custody, TERMS.minDeposit - 1n, user.address);
    const exact = depositTx(custody, TERMS.minDeposit, user.address);
    const block = await btc.mineConfirmed([small, exact]);
    await expect(tunnel.confirmDeposit(btc.proof(block, small), 0))
      .to.be.revertedWithCustomError(tunnel, "DepositBelowMinimum")
      .withArgs(1, TERMS.minDeposit - 1n, TERMS.minDeposit);
    await expect(tunnel.confirmDeposit(btc.proof(block, exact), 0))
      .to.emit(tunnel, "DepositConfirmed")
      .withArgs(txidOf(exact), 0, user.address, TERMS.minDeposit, TERMS.minDeposit - depositFee(TERMS.minDeposit), 1);
  });

  it("refuses deposits to a paused vault and while the tunnel is paused, and takes them after resuming", async function () {
    const { btc, tunnel, user, operator, pauser, custody } = f;
    const tx = depositTx(custody, 50_000n, user.address);
    const block = await btc.mineConfirmed([tx]);
    await tunnel.connect(operator).setVaultPaused(1, true);
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
      .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
      .withArgs(1, VaultStatus.Paused, block.height);
    await tunnel.connect(operator).setVaultPaused(1, false);
    await tunnel.connect(pauser).pause();
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.be.revertedWithCustomError(tunnel, "EnforcedPause");
    await tunnel.connect(pauser).unpause();
    await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.emit(tunnel, "DepositConfirmed");
  });

  it("sequences deposits in confirmation order and flags one confirmed out of Bitcoin order", async function () {
    const { btc, tunnel, user, stranger, custody } = f;
    const a = depositTx(custody, 30_000n, user.address);
    const b = depositTx(custody, 40_000n, stranger.address);
    const block = await btc.mineConfirmed([a, b]);
    await expect(tunnel.confirmDeposit(btc.proof(block, b), 0))
      .to.emit(tunnel, "DepositConfirmed")
      .withArgs(txidOf(b), 0, stranger.address, 40_000n, 40_000n - depositFee(40_000n), 1);
    await expect(tunnel.confirmDeposit(btc.proof(block, a), 0))
      .to.emit(tunnel, "DepositConfirmed")
      .withArgs(txidOf(a), 0, user.address, 30_000n, 30_000n - depositFee(30_000n), 2);
    expect((await tunnel.depositRecord(txidOf(b), 0)).inBitcoinOrder).to.equal(true);
    expect((await tunnel.depositRecord(txidOf(a), 0)).inBitcoinOrder).to.equal(false);
    const cur = await tunnel.orderCursor();
    expect([cur.count, cur.height, cur.txIndex, cur.vout]).to.deep.equal([2n, BigInt(block.height), 2n, 0n]);
  });

  it("flags order against the furthest deposit confirmed so far (heights 3, 1, 2: only the first in order)", async function () {
    const { btc, tunnel, user, custody } = f;
    const txs = [0, 1, 2].map((i) => depositTx(custody, 20_000n + BigInt(i), user.address));
    const blocks: MinedBlock[] = [];
    for (const tx of txs) blocks.push(await btc.mineConfirmed([tx], 1));
    await btc.extend(5);
    for (const i of [2, 0, 1]) await tunnel.confirmDeposit(btc.proof(blocks[i], txs[i]), 0);
    const flags = [];
    for (const i of [2, 0, 1]) flags.push((await tunnel.depositRecord(txidOf(txs[i]), 0)).inBitcoinOrder);
    expect(flags).to.deep.equal([true, false, false]);
    const cur = await tunnel.orderCursor();
    expect([cur.count, cur.height, cur.txIndex, cur.vout]).to.deep.equal([3n, BigInt(blocks[2].height), 1n, 0n]);
  });

  it("rejects a malformed transaction and a bad merkle proof (through the light client)", async function () {
    const { btc, tunnel, client, user, custody } = f;
    const tx = depositTx(custody, 50_000n, user.address);
    const block = await btc.mineConfirmed([tx]);
    const p = btc.proof(block, tx);
    await expect(tunnel.confirmDeposit({ ...p, rawTx: p.rawTx + "00" }, 0)).to.be.revertedWithCustomError(
      client,
      "TxTrailingBytes",
    );
    await expect(tunnel.confirmDeposit({ ...p, rawTx: p.rawTx.slice(0, 40) }, 0)).to.be.revertedWithCustomError(
      tunnel,
      "TxMalformed",
    );
    const badPath = "0x" + "00".repeat(32) + p.merkleProof.slice(66);
    await expect(tunnel.confirmDeposit({ ...p, merkleProof: badPath }, 0)).to.be.revertedWithCustomError(
      client,
      "MerkleRootMismatch",
    );
  });

  describe("collateral (issue 11, item 7)", function () {
    it("a deposit that leaves the vault short still mints, but stops the vault taking deposits sent later", async function () {
      const { btc, tunnel, token, user, operator, admin, custody } = f;
      await tunnel.connect(admin).setDepositGracePeriod(2);
      // 300 tCOL at 1,000,000 sat each back 2 BTC at 150%; deposit 2.5 BTC in one go.
      expect((await tunnel.vaultBacking(1)).depositCapacity).to.equal(200_000_000n);
      const big = depositTx(custody, 250_000_000n, user.address);
      const inFlight = depositTx(custody, 1_000_000n, user.address);
      const block = await btc.mineConfirmed([big, inFlight]);
      const best = (await btc.client.bestBlock())[1];
      await expect(tunnel.confirmDeposit(btc.proof(block, big), 0))
        .to.emit(tunnel, "VaultDepositWindowSet")
        .withArgs(1, best + 2n);
      expect(await token.balanceOf(user.address)).to.equal(250_000_000n - depositFee(250_000_000n));
      const b = await tunnel.vaultBacking(1);
      expect([b.backed, b.depositCapacity, b.liquidatable]).to.deep.equal([false, 0n, false]);
      expect((await tunnel.vault(1)).status).to.equal(VaultStatus.Live);
      // A deposit already sent (in a block up to the window) still mints.
      await expect(tunnel.confirmDeposit(btc.proof(block, inFlight), 0)).to.emit(tunnel, "DepositConfirmed");
      // One mined past the window does not.
      await btc.extend(2);
      const late = depositTx(custody, 1_000_000n, user.address);
      const lateBlock = await btc.mineConfirmed([late]);
      expect(BigInt(lateBlock.height)).to.be.greaterThan(best + 2n);
      await expect(tunnel.confirmDeposit(btc.proof(lateBlock, late), 0))
        .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
        .withArgs(1, VaultStatus.Live, lateBlock.height);
      // Collateral that backs the custody again lifts the window: the late deposit mints.
      await expect(tunnel.connect(operator).addCollateral(1, 100n * UNIT))
        .to.emit(tunnel, "VaultDepositWindowSet")
        .withArgs(1, 0);
      expect((await tunnel.vaultBacking(1)).backed).to.equal(true);
      await expect(tunnel.confirmDeposit(btc.proof(lateBlock, late), 0)).to.emit(tunnel, "DepositConfirmed");
      await expectBacked(f);
    });

    it("caps a vault left short by a batch too, whichever item makes it short", async function () {
      const { btc, tunnel, user, custody } = f;
      const txs = [150_000_000n, 60_000_000n].map((s) => depositTx(custody, s, user.address));
      const block = await btc.mineConfirmed(txs);
      await expect(
        tunnel.confirmDepositsInBlock(
          hex0x(block.header),
          block.height,
          txs.map((t) => btc.inBlock(block, t)),
          [0, 0],
        ),
      ).to.emit(tunnel, "VaultDepositWindowSet");
      expect((await tunnel.vault(1)).depositsUntilHeight).to.be.greaterThan(0n);
      expect((await tunnel.vaultBacking(1)).backed).to.equal(false);
    });

    it("takes collateral in the collateral token only, never in hemiBTC", async function () {
      const { tunnel, token, collateral, user, custody } = f;
      expect(await tunnel.collateralToken()).to.equal(await collateral.getAddress());
      expect(await tunnel.collateralToken()).to.not.equal(await token.getAddress());
      await deposit(f, depositTx(custody, 1_000_000n, user.address));
      // hemiBTC approved, no collateral allowance: addCollateral pulls the collateral token and fails.
      await token.connect(user).approve(await tunnel.getAddress(), ethers.MaxUint256);
      await collateral.connect(user).approve(await tunnel.getAddress(), 0);
      await expect(tunnel.connect(user).addCollateral(1, 1000n)).to.be.revertedWithCustomError(
        collateral,
        "ERC20InsufficientAllowance",
      );
      expect((await tunnel.vault(1)).collateral).to.equal(COLLATERAL);
    });
  });

  describe("batched", function () {
    it("confirms many deposits of one block in block order, and skips ones already minted", async function () {
      const { btc, tunnel, token, stranger, custody } = f;
      const recipients = (await ethers.getSigners()).slice(6, 11);
      const txs = recipients.map((r, i) => depositTx(custody, 20_000n + BigInt(i), r.address));
      const block = await btc.mineConfirmed(txs);
      await tunnel.confirmDeposit(btc.proof(block, txs[2]), 0);
      const items = txs.map((t) => btc.inBlock(block, t));
      const args = [hex0x(block.header), block.height, items, txs.map(() => 0)] as const;
      expect(await tunnel.confirmDepositsInBlock.staticCall(...args)).to.equal(4n);
      const tx = tunnel.connect(stranger).confirmDepositsInBlock(...args);
      let seq = 2;
      for (let i = 0; i < txs.length; i++) {
        if (i === 2) continue;
        const sats = 20_000n + BigInt(i);
        await expect(tx)
          .to.emit(tunnel, "DepositConfirmed")
          .withArgs(txidOf(txs[i]), 0, recipients[i].address, sats, sats - depositFee(sats), seq++);
      }
      for (let i = 0; i < txs.length; i++) {
        const sats = 20_000n + BigInt(i);
        expect(await token.balanceOf(recipients[i].address)).to.equal(sats - depositFee(sats));
      }
      await expectBacked(f);
    });

    it("needs the largest confirmation count among the batch's vaults, wherever that vault's item is", async function () {
      const { btc, tunnel, client, user, operator, manager, custody } = f;
      const custody2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(custody2, TERMS);
      await tunnel.connect(operator).addCollateral(2, COLLATERAL);
      await tunnel.connect(manager).setVaultConfirmations(2, 2);
      const batch = (block: MinedBlock, txs: Transaction[]) =>
        tunnel.confirmDepositsInBlock(
          hex0x(block.header),
          block.height,
          txs.map((t) => btc.inBlock(block, t)),
          txs.map(() => 0),
        );
      for (const scripts of [
        [custody2, custody],
        [custody, custody2],
      ]) {
        const txs = scripts.map((sc) => depositTx(sc, 20_000n, user.address));
        const block = await btc.mineConfirmed(txs, 5);
        await expect(batch(block, txs))
          .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
          .withArgs(5, 6);
        await btc.extend(1);
        await expect(batch(block, txs)).to.emit(tunnel, "DepositConfirmed");
      }
      expect((await tunnel.orderCursor()).count).to.equal(4n);
    });

    it("rejects a batch out of block order, of mismatched lengths, or under-confirmed", async function () {
      const { btc, tunnel, client, user, custody } = f;
      const txs = [0, 1].map(() => depositTx(custody, 20_000n, user.address));
      const block = await btc.mineConfirmed(txs, 5);
      const items = txs.map((t) => btc.inBlock(block, t));
      const h = hex0x(block.header);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, [items[1], items[0]], [0, 0]))
        .to.be.revertedWithCustomError(tunnel, "BatchNotInBlockOrder")
        .withArgs(1);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, items, [0]))
        .to.be.revertedWithCustomError(tunnel, "BadBatch")
        .withArgs(2, 1);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, items, [0, 0]))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(5, 6);
    });
  });
});
