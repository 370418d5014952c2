import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Transaction } from "bitcoinjs-lib";
import type { BitcoinLightClient, BitcoinTunnel, HemiBTC } from "../../typechain-types";
import {
  TunnelBitcoinChain,
  depositTx,
  opReturn,
  randomP2wpkh,
  signedTx,
  txidOf,
  withdrawalIdScript,
  type MinedBlock,
} from "../helpers/tunnelChain";
import { hex0x } from "../helpers/bitcoinData";

const TERMS = {
  depositFeeBps: 10, // 0.1%
  depositFlatFee: 100n,
  withdrawalFeeBps: 20, // 0.2%
  withdrawalFlatFee: 200n,
  minDeposit: 10_000n,
};
const VaultStatus = { None: 0n, Live: 1n, Paused: 2n, Closing: 3n, Slashed: 4n };
const WithdrawalStatus = { None: 0n, Pending: 1n, Finalized: 2n, Challenged: 3n };

function depositFee(sats: bigint): bigint {
  return TERMS.depositFlatFee + (sats * BigInt(TERMS.depositFeeBps)) / 10_000n;
}
function withdrawalFee(sats: bigint): bigint {
  return TERMS.withdrawalFlatFee + (sats * BigInt(TERMS.withdrawalFeeBps)) / 10_000n;
}

describe("BitcoinTunnel", function () {
  let btc: TunnelBitcoinChain;
  let client: BitcoinLightClient;
  let tunnel: BitcoinTunnel;
  let token: HemiBTC;
  let admin: HardhatEthersSigner;
  let manager: HardhatEthersSigner;
  let pauser: HardhatEthersSigner;
  let operator: HardhatEthersSigner;
  let user: HardhatEthersSigner;
  let stranger: HardhatEthersSigner;
  let custody: Buffer;

  beforeEach(async function () {
    [admin, manager, pauser, operator, user, stranger] = await ethers.getSigners();
    btc = await TunnelBitcoinChain.deploy();
    client = btc.client;
    tunnel = await (await ethers.getContractFactory("BitcoinTunnel")).deploy(await client.getAddress(), admin.address);
    token = await ethers.getContractAt("HemiBTC", await tunnel.token());
    await tunnel.grantRole(await tunnel.VAULT_MANAGER_ROLE(), manager.address);
    await tunnel.grantRole(await tunnel.PAUSER_ROLE(), pauser.address);
    await tunnel.connect(manager).grantRole(await tunnel.OPERATOR_ROLE(), operator.address);
    custody = randomP2wpkh();
    await tunnel.connect(operator).createVault(custody, TERMS);
  });

  /** Mines `tx` with 6 confirmations and confirms output `vout` (from `stranger`: anyone may). */
  async function deposit(tx: Transaction, vout = 0, confirmations = 6): Promise<MinedBlock> {
    const block = await btc.mineConfirmed([tx], confirmations);
    await (await tunnel.connect(stranger).confirmDeposit(btc.proof(block, tx), vout)).wait();
    return block;
  }

  /** Checks the accounting invariant of vaults never challenged: supply + accrued fees = custody - pending. */
  async function expectBacked(vaultIds: number[] = [1]) {
    let backing = 0n;
    let accrued = 0n;
    for (const id of vaultIds) {
      const v = await tunnel.vault(id);
      backing += v.custody - v.pending;
      accrued += v.accruedFees;
    }
    expect((await token.totalSupply()) + accrued).to.equal(backing);
  }

  describe("HemiBTC", function () {
    it("has 8 decimals, is deployed by the tunnel, and only the tunnel mints and burns", async function () {
      expect(await token.decimals()).to.equal(8n);
      expect(await token.symbol()).to.equal("hemiBTC");
      expect(await token.tunnel()).to.equal(await tunnel.getAddress());
      await expect(token.connect(admin).mint(user.address, 1))
        .to.be.revertedWithCustomError(token, "NotTunnel")
        .withArgs(admin.address);
      await expect(token.connect(admin).burn(user.address, 1)).to.be.revertedWithCustomError(token, "NotTunnel");
    });

    it("supports ERC-2612 permit", async function () {
      await deposit(depositTx(custody, 100_000n, user.address));
      const deadline = (await time.latest()) + 3600;
      const domain = {
        name: "Hemi Bitcoin",
        version: "1",
        chainId: (await ethers.provider.getNetwork()).chainId,
        verifyingContract: await token.getAddress(),
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const value = { owner: user.address, spender: stranger.address, value: 5_000n, nonce: 0n, deadline };
      const sig = ethers.Signature.from(await user.signTypedData(domain, types, value));
      await token.connect(stranger).permit(user.address, stranger.address, 5_000n, deadline, sig.v, sig.r, sig.s);
      expect(await token.allowance(user.address, stranger.address)).to.equal(5_000n);
    });
  });

  describe("deposits", function () {
    it("mints amount minus fee to the OP_RETURN recipient, on a proof anyone submits, with sequence and position", async function () {
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
      await expectBacked();
    });

    it("mints a (txid, vout) exactly once; another custody output of the same tx is its own deposit", async function () {
      const tx = depositTx(custody, 50_000n, user.address, { extra: [{ script: custody, value: 20_000n }] });
      const block = await deposit(tx, 0);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.be.revertedWithCustomError(tunnel, "DepositAlreadyConfirmed")
        .withArgs(txidOf(tx), 0, 1);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 2))
        .to.emit(tunnel, "DepositConfirmed")
        .withArgs(txidOf(tx), 2, user.address, 20_000n, 20_000n - depositFee(20_000n), 2);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 2)).to.be.revertedWithCustomError(
        tunnel,
        "DepositAlreadyConfirmed",
      );
      expect(await token.balanceOf(user.address)).to.equal(70_000n - depositFee(50_000n) - depositFee(20_000n));
    });

    it("rejects an output that pays no custody script, and an output index past the end", async function () {
      const other = randomP2wpkh();
      const tx = depositTx(other, 50_000n, user.address);
      const block = await btc.mineConfirmed([tx]);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.be.revertedWithCustomError(tunnel, "NotACustodyScript")
        .withArgs(ethers.keccak256(other));
      // The OP_RETURN output itself is not a custody output either.
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 1)).to.be.revertedWithCustomError(
        tunnel,
        "NotACustodyScript",
      );
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 2))
        .to.be.revertedWithCustomError(tunnel, "OutputIndexOutOfRange")
        .withArgs(2, 2);
    });

    it("needs the vault's confirmations (default 6, settable by the vault manager)", async function () {
      const tx = depositTx(custody, 50_000n, user.address);
      const block = await btc.mineConfirmed([tx], 5);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(5, 6);
      await btc.extend(1);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.emit(tunnel, "DepositConfirmed");

      await expect(tunnel.connect(manager).setVaultConfirmations(1, 2))
        .to.emit(tunnel, "VaultConfirmationsSet")
        .withArgs(1, 2);
      const tx2 = depositTx(custody, 50_000n, user.address);
      const b2 = await btc.mineConfirmed([tx2], 1);
      await expect(tunnel.confirmDeposit(btc.proof(b2, tx2), 0))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(1, 2);
      await expect(tunnel.connect(manager).setVaultConfirmations(1, 0))
        .to.be.revertedWithCustomError(tunnel, "InvalidConfirmations")
        .withArgs(0);
    });

    it("rejects a deposit whose block was reorganised away", async function () {
      const tx = depositTx(custody, 50_000n, user.address);
      const fork = btc.tip;
      const block = await btc.mineConfirmed([tx], 6);
      // A heavier branch from the deposit block's parent, without the deposit.
      const branch: MinedBlock[] = [];
      for (let i = 0; i < 7; i++) branch.push(btc.mine([], branch[i - 1] ?? fork));
      await expect(client.submitHeaders(hex0x(Buffer.concat(branch.map((b) => b.header))))).to.emit(client, "Reorg");
      btc.tip = branch[6];
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.be.revertedWithCustomError(client, "BlockNotCanonical")
        .withArgs(block.hash, block.height);
      // Mined again on the new chain, the same transaction mints (once).
      const again = await btc.mineConfirmed([tx], 6);
      await expect(tunnel.confirmDeposit(btc.proof(again, tx), 0)).to.emit(tunnel, "DepositConfirmed");
      expect((await tunnel.depositRecord(txidOf(tx), 0)).blockHeight).to.equal(BigInt(again.height));
    });

    it("requires exactly one OP_RETURN that is exactly PUSH20 <recipient>", async function () {
      const cases: { script: Buffer | null; extra?: Buffer; error: string; args?: unknown[] }[] = [
        { script: null, error: "MissingOpReturn", args: [] },
        { script: opReturn(Buffer.alloc(19, 1)), error: "MalformedOpReturn", args: [1] },
        { script: opReturn(Buffer.alloc(32, 1)), error: "MalformedOpReturn", args: [1] },
        // Same 20 bytes through OP_PUSHDATA1: not the canonical form.
        {
          script: Buffer.concat([Buffer.from([0x6a, 0x4c, 20]), Buffer.from(user.address.slice(2), "hex")]),
          error: "MalformedOpReturn",
          args: [1],
        },
        // OP_RETURN <20 bytes> followed by another push.
        {
          script: Buffer.concat([opReturn(Buffer.from(user.address.slice(2), "hex")), Buffer.from([0x51])]),
          error: "MalformedOpReturn",
          args: [1],
        },
        {
          script: opReturn(Buffer.from(user.address.slice(2), "hex")),
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
        await expect(tunnel.confirmDeposit(btc.proof(block, txs[i]), 0))
          .to.be.revertedWithCustomError(tunnel, cases[i].error)
          .withArgs(...(cases[i].args ?? []));
      }
      expect(await token.totalSupply()).to.equal(0n);
    });

    it("never lets the operator raise deposit fees or the minimum over deposits already sent; lowering works", async function () {
      // A deposit of exactly the minimum is on Bitcoin but not yet confirmed here.
      const tx = depositTx(custody, TERMS.minDeposit, user.address);
      const block = await btc.mineConfirmed([tx]);
      const op = tunnel.connect(operator);
      const raised = [
        { ...TERMS, minDeposit: TERMS.minDeposit + 1n },
        { ...TERMS, depositFeeBps: TERMS.depositFeeBps + 1 },
        { ...TERMS, depositFlatFee: TERMS.depositFlatFee + 1n },
      ];
      for (const t of raised) {
        await expect(op.setVaultTerms(1, t)).to.be.revertedWithCustomError(tunnel, "DepositTermsRaised").withArgs(1);
      }
      await op.setVaultPaused(1, true);
      await expect(op.setVaultTerms(1, raised[0]))
        .to.be.revertedWithCustomError(tunnel, "DepositTermsRaised")
        .withArgs(1);
      await op.setVaultPaused(1, false);
      // Lower deposit terms and higher withdrawal terms are fine.
      const lower = {
        depositFeeBps: 0,
        depositFlatFee: 0n,
        withdrawalFeeBps: TERMS.withdrawalFeeBps + 10,
        withdrawalFlatFee: TERMS.withdrawalFlatFee + 100n,
        minDeposit: 1_000n,
      };
      await expect(op.setVaultTerms(1, lower)).to.emit(tunnel, "VaultTermsSet");
      const v = await tunnel.vault(1);
      expect([v.depositFeeBps, v.depositFlatFee, v.withdrawalFeeBps, v.withdrawalFlatFee, v.minDeposit]).to.deep.equal([
        0n,
        0n,
        BigInt(lower.withdrawalFeeBps),
        lower.withdrawalFlatFee,
        lower.minDeposit,
      ]);
      // The deposit sent under the old terms mints under the lower ones.
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.emit(tunnel, "DepositConfirmed")
        .withArgs(txidOf(tx), 0, user.address, TERMS.minDeposit, TERMS.minDeposit, 1);
      // A closing vault still mints deposits up to its closing height: no raise there either.
      await op.closeVault(1);
      await expect(op.setVaultTerms(1, { ...lower, minDeposit: 1_001n }))
        .to.be.revertedWithCustomError(tunnel, "DepositTermsRaised")
        .withArgs(1);
      await expect(op.setVaultTerms(1, { ...lower, withdrawalFlatFee: 0n })).to.emit(tunnel, "VaultTermsSet");
    });

    it("rejects an amount under the vault's minimum and accepts exactly the minimum", async function () {
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
      const tx = depositTx(custody, 50_000n, user.address);
      const block = await btc.mineConfirmed([tx]);
      await expect(tunnel.connect(operator).setVaultPaused(1, true))
        .to.emit(tunnel, "VaultStatusChanged")
        .withArgs(1, VaultStatus.Paused);
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0))
        .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
        .withArgs(1, VaultStatus.Paused, block.height);
      await tunnel.connect(operator).setVaultPaused(1, false);
      await tunnel.connect(pauser).pause();
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.be.revertedWithCustomError(
        tunnel,
        "EnforcedPause",
      );
      await tunnel.connect(pauser).unpause();
      await expect(tunnel.confirmDeposit(btc.proof(block, tx), 0)).to.emit(tunnel, "DepositConfirmed");
    });

    it("a closing vault mints deposits from blocks up to its closing height only", async function () {
      const before = depositTx(custody, 50_000n, user.address);
      const b1 = await btc.mineConfirmed([before], 1);
      await expect(tunnel.connect(operator).closeVault(1))
        .to.emit(tunnel, "VaultStatusChanged")
        .withArgs(1, VaultStatus.Closing);
      expect((await tunnel.vault(1)).depositsUntilHeight).to.equal(BigInt(b1.height));
      const after = depositTx(custody, 50_000n, user.address);
      const b2 = await btc.mineConfirmed([after], 6);
      await expect(tunnel.confirmDeposit(btc.proof(b1, before), 0)).to.emit(tunnel, "DepositConfirmed");
      await expect(tunnel.confirmDeposit(btc.proof(b2, after), 0))
        .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
        .withArgs(1, VaultStatus.Closing, b2.height);
    });

    it("sequences deposits in confirmation order and flags one confirmed out of Bitcoin order", async function () {
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
      // The cursor keeps the furthest position (b, txIndex 2), not the last confirmed (a).
      const cur = await tunnel.orderCursor();
      expect([cur.count, cur.height, cur.txIndex, cur.vout]).to.deep.equal([2n, BigInt(block.height), 2n, 0n]);
    });

    it("flags order against the furthest deposit confirmed so far (heights 3, 1, 2: only the first in order)", async function () {
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
      // A later deposit past the furthest one is in order again.
      const next = depositTx(custody, 20_000n, user.address);
      const nb = await btc.mineConfirmed([next]);
      await tunnel.confirmDeposit(btc.proof(nb, next), 0);
      expect((await tunnel.depositRecord(txidOf(next), 0)).inBitcoinOrder).to.equal(true);
      expect((await tunnel.orderCursor()).height).to.equal(BigInt(nb.height));
    });

    it("rejects a malformed transaction and a bad merkle proof (through the light client)", async function () {
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
  });

  describe("batched deposits", function () {
    it("confirms many deposits of one block in block order, and skips ones already minted", async function () {
      const recipients = (await ethers.getSigners()).slice(6, 11);
      const txs = recipients.map((r, i) => depositTx(custody, 20_000n + BigInt(i), r.address));
      const block = await btc.mineConfirmed(txs);
      await tunnel.confirmDeposit(btc.proof(block, txs[2]), 0); // someone confirmed one already
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
      expect((await tunnel.depositRecord(txidOf(txs[4]), 0)).inBitcoinOrder).to.equal(true);
      await expectBacked();
    });

    it("needs the largest confirmation count among the batch's vaults, wherever that vault's item is", async function () {
      const custody2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(custody2, TERMS);
      await tunnel.connect(manager).setVaultConfirmations(2, 2);
      const batch = (block: MinedBlock, txs: Transaction[]) =>
        tunnel.confirmDepositsInBlock(
          hex0x(block.header),
          block.height,
          txs.map((t) => btc.inBlock(block, t)),
          txs.map(() => 0),
        );
      // The 2-confirmation vault's item first, then the 6-confirmation vault's; and the other way round.
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
      // A batch of the 2-confirmation vault alone needs only 2.
      const only2 = [depositTx(custody2, 20_000n, user.address)];
      const b2 = await btc.mineConfirmed(only2, 2);
      await expect(batch(b2, only2)).to.emit(tunnel, "DepositConfirmed");
      expect((await tunnel.orderCursor()).count).to.equal(5n);
    });

    it("rejects a batch out of block order, of mismatched lengths, or under-confirmed", async function () {
      const txs = [0, 1].map(() => depositTx(custody, 20_000n, user.address));
      const block = await btc.mineConfirmed(txs, 5);
      const items = txs.map((t) => btc.inBlock(block, t));
      const h = hex0x(block.header);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, [items[1], items[0]], [0, 0]))
        .to.be.revertedWithCustomError(tunnel, "BatchNotInBlockOrder")
        .withArgs(1);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, [items[0], items[0]], [0, 0]))
        .to.be.revertedWithCustomError(tunnel, "BatchNotInBlockOrder")
        .withArgs(1);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, items, [0]))
        .to.be.revertedWithCustomError(tunnel, "BadBatch")
        .withArgs(2, 1);
      await expect(tunnel.confirmDepositsInBlock(h, block.height, items, [0, 0]))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(5, 6);
      await expect(tunnel.confirmDepositsInBlock(h, block.height + 1, items, [0, 0])).to.be.revertedWithCustomError(
        client,
        "BlockNotCanonical",
      );
    });
  });

  describe("withdrawals", function () {
    const BOND = 500_000n;
    const userScript = randomP2wpkh();

    /** User gets 1 BTC minus fee; the operator bonds BOND sats (minted from its own deposit). */
    beforeEach(async function () {
      const a = depositTx(custody, 100_000_000n, user.address);
      const b = depositTx(custody, BOND + depositFee(BOND) + 10n, operator.address);
      const block = await btc.mineConfirmed([a, b]);
      await tunnel.confirmDeposit(btc.proof(block, a), 0);
      await tunnel.confirmDeposit(btc.proof(block, b), 0);
      await token.connect(operator).approve(await tunnel.getAddress(), BOND);
      await expect(tunnel.connect(operator).addBond(1, BOND))
        .to.emit(tunnel, "BondAdded")
        .withArgs(1, operator.address, BOND, BOND);
    });

    async function request(sats: bigint): Promise<bigint> {
      await (await tunnel.connect(user).requestWithdrawal(userScript, sats)).wait();
      return await tunnel.withdrawalCount();
    }

    function payoutTx(
      id: bigint,
      amount: bigint,
      opts: { script?: Buffer; idScript?: Buffer | null; change?: Buffer } = {},
    ) {
      const outputs: { script: Buffer; value: bigint }[] = [{ script: opts.script ?? userScript, value: amount }];
      if (opts.idScript !== null) outputs.push({ script: opts.idScript ?? withdrawalIdScript(id), value: 0n });
      outputs.push({ script: opts.change ?? custody, value: 1_000_000n });
      return signedTx(outputs);
    }

    it("burns and queues with an id and a deadline; a proven payout finalizes it", async function () {
      const sats = 200_000n;
      const fee = withdrawalFee(sats);
      const balance = await token.balanceOf(user.address);
      const window = await tunnel.withdrawalWindow();
      const tx = await tunnel.connect(user).requestWithdrawal(userScript, sats);
      await tx.wait();
      const deadline = BigInt(await time.latest()) + window;
      await expect(tx)
        .to.emit(tunnel, "WithdrawalRequested")
        .withArgs(1, 1, user.address, hex0x(userScript), sats, fee, deadline);
      expect(await token.balanceOf(user.address)).to.equal(balance - sats);
      const w = await tunnel.withdrawal(1);
      expect([w.requester, w.vaultId, w.status, w.sats, w.fee, w.deadline]).to.deep.equal([
        user.address,
        1n,
        WithdrawalStatus.Pending,
        sats,
        fee,
        deadline,
      ]);
      expect((await tunnel.vault(1)).pending).to.equal(sats);
      await expectBacked();

      const before = await tunnel.vault(1);
      const payout = payoutTx(1n, sats - fee);
      const block = await btc.mineConfirmed([payout]);
      await expect(tunnel.connect(stranger).finalizeWithdrawal(1, btc.proof(block, payout)))
        .to.emit(tunnel, "WithdrawalFinalized")
        .withArgs(1, 1, txidOf(payout), sats - fee);
      const after = await tunnel.vault(1);
      expect(after.custody).to.equal(before.custody - (sats - fee));
      expect(after.pending).to.equal(0n);
      expect(after.accruedFees).to.equal(before.accruedFees + fee);
      expect((await tunnel.withdrawal(1)).status).to.equal(WithdrawalStatus.Finalized);
      await expectBacked();
      await expect(tunnel.finalizeWithdrawal(1, btc.proof(block, payout)))
        .to.be.revertedWithCustomError(tunnel, "WithdrawalNotPending")
        .withArgs(1, WithdrawalStatus.Finalized);
    });

    it("rejects payouts with the wrong amount, script, id, OP_RETURN, change, or too few confirmations", async function () {
      const sats = 200_000n;
      const id = await request(sats);
      const net = sats - withdrawalFee(sats);
      const other = randomP2wpkh();
      const cases: { tx: Transaction; error: string; args: unknown[] }[] = [
        { tx: payoutTx(id, net - 1n), error: "PayoutAmountMismatch", args: [id, net, net - 1n] },
        { tx: payoutTx(id, net + 1n), error: "PayoutAmountMismatch", args: [id, net, net + 1n] },
        { tx: payoutTx(id, net, { script: other }), error: "UnexpectedPayoutOutput", args: [id, 0] },
        {
          tx: payoutTx(id, net, { idScript: withdrawalIdScript(id + 1n) }),
          error: "PayoutIdMismatch",
          args: [id, id + 1n],
        },
        { tx: payoutTx(id, net, { idScript: opReturn(Buffer.alloc(32)) }), error: "MalformedOpReturn", args: [1] },
        { tx: payoutTx(id, net, { idScript: null }), error: "MissingOpReturn", args: [] },
        { tx: payoutTx(id, net, { change: other }), error: "UnexpectedPayoutOutput", args: [id, 2] },
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
      const good = payoutTx(id, net);
      const b2 = await btc.mineConfirmed([good], 5);
      await expect(tunnel.finalizeWithdrawal(id, btc.proof(b2, good)))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(5, 6);
      await btc.extend(1);
      await expect(tunnel.finalizeWithdrawal(id, btc.proof(b2, good))).to.emit(tunnel, "WithdrawalFinalized");
    });

    it("an unpaid withdrawal is challenged after its deadline: the user is paid from the bond, the vault slashed", async function () {
      const sats = 300_000n;
      const id = await request(sats);
      await expect(tunnel.connect(stranger).challengeWithdrawal(id)).to.be.revertedWithCustomError(
        tunnel,
        "DeadlineNotPassed",
      );
      const w = await tunnel.withdrawal(id);
      // At exactly the deadline it is still too early; one second later it is not.
      await time.setNextBlockTimestamp(w.deadline);
      await expect(tunnel.challengeWithdrawal(id))
        .to.be.revertedWithCustomError(tunnel, "DeadlineNotPassed")
        .withArgs(id, w.deadline, w.deadline);
      const balance = await token.balanceOf(user.address);
      await time.setNextBlockTimestamp(w.deadline + 1n);
      const tx = tunnel.connect(stranger).challengeWithdrawal(id);
      await expect(tx).to.emit(tunnel, "WithdrawalChallenged").withArgs(id, 1, user.address, sats);
      await expect(tx).to.emit(tunnel, "VaultStatusChanged").withArgs(1, VaultStatus.Slashed);
      expect(await token.balanceOf(user.address)).to.equal(balance + sats);
      const v = await tunnel.vault(1);
      expect(v.bond).to.equal(BOND - sats);
      expect(v.pending).to.equal(0n);
      expect(v.status).to.equal(VaultStatus.Slashed);
      expect((await tunnel.withdrawal(id)).status).to.equal(WithdrawalStatus.Challenged);
      await expect(tunnel.challengeWithdrawal(id))
        .to.be.revertedWithCustomError(tunnel, "WithdrawalNotPending")
        .withArgs(id, WithdrawalStatus.Challenged);
      // A late payout no longer finalizes; the slashed vault takes no deposits and no withdrawals.
      const late = payoutTx(id, sats - withdrawalFee(sats));
      const dep = depositTx(custody, 50_000n, user.address);
      const block = await btc.mineConfirmed([late, dep]);
      await expect(tunnel.finalizeWithdrawal(id, btc.proof(block, late))).to.be.revertedWithCustomError(
        tunnel,
        "WithdrawalNotPending",
      );
      await expect(tunnel.confirmDeposit(btc.proof(block, dep), 0))
        .to.be.revertedWithCustomError(tunnel, "VaultNotAcceptingDeposits")
        .withArgs(1, VaultStatus.Slashed, block.height);
      await expect(tunnel.connect(user).requestWithdrawal(userScript, 10_000n))
        .to.be.revertedWithCustomError(tunnel, "NoVaultCanServe")
        .withArgs(10_000n);
      // The operator of a slashed vault cannot mint its accrued fees.
      expect(v.accruedFees).to.be.greaterThan(0n);
      await expect(tunnel.connect(operator).claimFees(1, operator.address))
        .to.be.revertedWithCustomError(tunnel, "BadVaultStatus")
        .withArgs(1, VaultStatus.Slashed);
    });

    it("gives at least 20 minutes per required confirmation before the deadline, else the withdrawal window", async function () {
      const window = await tunnel.withdrawalWindow(); // 1 day: more than 6 confirmations * 20 minutes
      const deadlineOf = async (id: bigint) => (await tunnel.withdrawal(id)).deadline;
      const id1 = await request(10_000n);
      expect(await deadlineOf(id1)).to.equal(BigInt(await time.latest()) + window);
      // 100 confirmations: 2000 minutes, more than the 1-day window.
      await tunnel.connect(manager).setVaultConfirmations(1, 100);
      const id2 = await request(10_000n);
      expect(await deadlineOf(id2)).to.equal(BigInt(await time.latest()) + 100n * 20n * 60n);
      // 72 confirmations: exactly the window.
      await tunnel.connect(manager).setVaultConfirmations(1, 72);
      const id3 = await request(10_000n);
      expect(await deadlineOf(id3)).to.equal(BigInt(await time.latest()) + window);
    });

    it("a payout proven after the deadline but before a challenge still finalizes", async function () {
      const sats = 100_000n;
      const id = await request(sats);
      await time.increaseTo((await tunnel.withdrawal(id)).deadline + 10n);
      const payout = payoutTx(id, sats - withdrawalFee(sats));
      const block = await btc.mineConfirmed([payout]);
      await expect(tunnel.finalizeWithdrawal(id, btc.proof(block, payout))).to.emit(tunnel, "WithdrawalFinalized");
      await expect(tunnel.challengeWithdrawal(id)).to.be.revertedWithCustomError(tunnel, "WithdrawalNotPending");
    });

    it("takes a withdrawal only within custody and free bond, to a payable script, above dust", async function () {
      await expect(tunnel.connect(user).requestWithdrawal(userScript, BOND + 1n))
        .to.be.revertedWithCustomError(tunnel, "NoVaultCanServe")
        .withArgs(BOND + 1n);
      await expect(tunnel.connect(user).requestWithdrawalFrom(1, userScript, BOND + 1n))
        .to.be.revertedWithCustomError(tunnel, "InsufficientBond")
        .withArgs(1, BOND, BOND + 1n);
      await request(BOND - 1000n);
      await expect(tunnel.connect(user).requestWithdrawalFrom(1, userScript, 1001n))
        .to.be.revertedWithCustomError(tunnel, "InsufficientBond")
        .withArgs(1, 1000n, 1001n);
      const bad = [opReturn(Buffer.alloc(8)), Buffer.from("0014", "hex"), custody, Buffer.alloc(0)];
      for (const s of bad) {
        await expect(tunnel.connect(user).requestWithdrawal(s, 800n)).to.be.revertedWithCustomError(
          tunnel,
          "UnsupportedWithdrawalScript",
        );
      }
      // 745 sats: fee 201, payout 544 < 546.
      await expect(tunnel.connect(user).requestWithdrawal(userScript, 745n))
        .to.be.revertedWithCustomError(tunnel, "WithdrawalTooSmall")
        .withArgs(745n, 201n, 546n);
      await expect(tunnel.connect(stranger).requestWithdrawal(userScript, 800n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientBalance",
      );
      await tunnel.connect(pauser).pause();
      await expect(tunnel.connect(user).requestWithdrawal(userScript, 800n)).to.be.revertedWithCustomError(
        tunnel,
        "EnforcedPause",
      );
    });

    it("takes a withdrawal only within custody - pending, even when the bond is larger", async function () {
      // Vault 2: fee-free, 600_000 sats of custody, bonded 2_000_000 (more than its custody) by the user.
      const zero = { depositFeeBps: 0, depositFlatFee: 0n, withdrawalFeeBps: 0, withdrawalFlatFee: 0n, minDeposit: 1n };
      const custody2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(custody2, zero);
      await token.connect(user).approve(await tunnel.getAddress(), 2_000_000n);
      await tunnel.connect(user).addBond(2, 2_000_000n);
      await deposit(depositTx(custody2, 600_000n, user.address));
      await expect(tunnel.connect(user).requestWithdrawalFrom(2, userScript, 600_001n))
        .to.be.revertedWithCustomError(tunnel, "InsufficientCustody")
        .withArgs(2, 600_000n, 600_001n);
      // Vault 1 lacks the bond (BOND < 600_001), vault 2 the custody: nobody serves it.
      expect(await tunnel.selectVault(600_001n)).to.deep.equal([false, 0n]);
      await expect(tunnel.connect(user).requestWithdrawal(userScript, 600_001n))
        .to.be.revertedWithCustomError(tunnel, "NoVaultCanServe")
        .withArgs(600_001n);
      expect(await tunnel.selectVault(600_000n)).to.deep.equal([true, 2n]);
      // Pending withdrawals count against custody.
      await tunnel.connect(user).requestWithdrawalFrom(2, userScript, 100_000n);
      await expect(tunnel.connect(user).requestWithdrawalFrom(2, userScript, 500_001n))
        .to.be.revertedWithCustomError(tunnel, "InsufficientCustody")
        .withArgs(2, 500_000n, 500_001n);
      await expect(tunnel.connect(user).requestWithdrawal(userScript, 500_001n))
        .to.be.revertedWithCustomError(tunnel, "NoVaultCanServe")
        .withArgs(500_001n);
      await expect(tunnel.connect(user).requestWithdrawalFrom(2, userScript, 500_000n)).to.emit(
        tunnel,
        "WithdrawalRequested",
      );
      await expectBacked([1, 2]);
    });

    it("selects the lowest-id vault with custody and free bond, deterministically", async function () {
      // Vault 2 has custody and bond; vault 1's free bond is used up by a pending withdrawal.
      const custody2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(custody2, TERMS);
      const d = depositTx(custody2, 2_000_000n, operator.address);
      await deposit(d);
      await token.connect(operator).approve(await tunnel.getAddress(), 1_000_000n);
      await tunnel.connect(operator).addBond(2, 1_000_000n);
      expect(await tunnel.selectVault(BOND)).to.deep.equal([true, 1n]);
      await request(BOND);
      expect(await tunnel.selectVault(1n)).to.deep.equal([true, 2n]);
      const tx = await tunnel.connect(user).requestWithdrawal(userScript, 100_000n);
      await tx.wait();
      const deadline = BigInt(await time.latest()) + (await tunnel.withdrawalWindow());
      await expect(tx)
        .to.emit(tunnel, "WithdrawalRequested")
        .withArgs(2, 2, user.address, hex0x(userScript), 100_000n, withdrawalFee(100_000n), deadline);
      expect(await tunnel.selectVault(2_000_001n)).to.deep.equal([false, 0n]);
      await expectBacked([1, 2]);
    });

    it("the operator claims accrued fees, and gets the bond back once the closed vault has no pending withdrawal", async function () {
      const accrued = (await tunnel.vault(1)).accruedFees;
      await expect(tunnel.connect(stranger).claimFees(1, stranger.address))
        .to.be.revertedWithCustomError(tunnel, "NotVaultOperator")
        .withArgs(1, stranger.address);
      await expect(tunnel.connect(operator).claimFees(1, operator.address))
        .to.emit(tunnel, "FeesClaimed")
        .withArgs(1, operator.address, accrued);
      await expect(tunnel.connect(operator).claimFees(1, operator.address)).to.be.revertedWithCustomError(
        tunnel,
        "ZeroAmount",
      );
      await expectBacked();
      await expect(tunnel.connect(operator).withdrawBond(1, operator.address))
        .to.be.revertedWithCustomError(tunnel, "BadVaultStatus")
        .withArgs(1, VaultStatus.Live);
      await tunnel.connect(operator).closeVault(1);
      // A closing vault still serves withdrawals; while one is pending the bond stays.
      const sats = 100_000n;
      const id = await request(sats);
      await expect(tunnel.connect(operator).withdrawBond(1, operator.address))
        .to.be.revertedWithCustomError(tunnel, "WithdrawalsPending")
        .withArgs(1, sats);
      const payout = payoutTx(id, sats - withdrawalFee(sats));
      const block = await btc.mineConfirmed([payout]);
      await tunnel.finalizeWithdrawal(id, btc.proof(block, payout));
      // Custody remains (the user's hemiBTC and the bond's own hemiBTC are backed by it), but nothing is pending.
      expect((await tunnel.vault(1)).custody).to.be.greaterThan(0n);
      const before = await token.balanceOf(operator.address);
      await expect(tunnel.connect(operator).withdrawBond(1, operator.address))
        .to.emit(tunnel, "BondWithdrawn")
        .withArgs(1, operator.address, BOND);
      expect(await token.balanceOf(operator.address)).to.equal(before + BOND);
      expect((await tunnel.vault(1)).bond).to.equal(0n);
      expect(await tunnel.selectVault(1_000n)).to.deep.equal([false, 0n]);
      await expect(tunnel.connect(operator).withdrawBond(1, operator.address)).to.be.revertedWithCustomError(
        tunnel,
        "ZeroAmount",
      );
      await expectBacked();
    });

    it("a closed vault left with a dust remainder of custody still returns its bond", async function () {
      const zero = { depositFeeBps: 0, depositFlatFee: 0n, withdrawalFeeBps: 0, withdrawalFlatFee: 0n, minDeposit: 1n };
      const custody2 = randomP2wpkh();
      await tunnel.connect(operator).createVault(custody2, zero);
      const bond2 = 60_000n;
      // Anyone may bond a vault; here the user does.
      await token.connect(user).approve(await tunnel.getAddress(), bond2);
      await tunnel.connect(user).addBond(2, bond2);
      await deposit(depositTx(custody2, 50_000n, user.address));
      await tunnel.connect(operator).closeVault(2);
      await tunnel.connect(user).requestWithdrawalFrom(2, userScript, 49_800n);
      const id = await tunnel.withdrawalCount();
      const payout = signedTx([
        { script: userScript, value: 49_800n },
        { script: withdrawalIdScript(id), value: 0n },
        { script: custody2, value: 3_000n },
      ]);
      const block = await btc.mineConfirmed([payout]);
      await tunnel.finalizeWithdrawal(id, btc.proof(block, payout));
      // 200 sats stay in custody: under the dust limit, no withdrawal can ever take them out.
      expect((await tunnel.vault(2)).custody).to.equal(200n);
      await expect(tunnel.connect(user).requestWithdrawalFrom(2, userScript, 200n))
        .to.be.revertedWithCustomError(tunnel, "WithdrawalTooSmall")
        .withArgs(200n, 0n, 546n);
      const before = await token.balanceOf(operator.address);
      await expect(tunnel.connect(operator).withdrawBond(2, operator.address))
        .to.emit(tunnel, "BondWithdrawn")
        .withArgs(2, operator.address, bond2);
      expect(await token.balanceOf(operator.address)).to.equal(before + bond2);
      expect((await tunnel.vault(2)).bond).to.equal(0n);
      await expectBacked([1, 2]);
    });
  });

  describe("access control", function () {
    it("guards every governance function with its role", async function () {
      const adminRole = await tunnel.DEFAULT_ADMIN_ROLE();
      const pauserRole = await tunnel.PAUSER_ROLE();
      const managerRole = await tunnel.VAULT_MANAGER_ROLE();
      const operatorRole = await tunnel.OPERATOR_ROLE();
      const s = tunnel.connect(stranger);
      const denied = "AccessControlUnauthorizedAccount";
      await expect(s.setFeeLimits(1, 1))
        .to.be.revertedWithCustomError(tunnel, denied)
        .withArgs(stranger.address, adminRole);
      await expect(s.setWithdrawalWindow(7200))
        .to.be.revertedWithCustomError(tunnel, denied)
        .withArgs(stranger.address, adminRole);
      await expect(s.pause()).to.be.revertedWithCustomError(tunnel, denied).withArgs(stranger.address, pauserRole);
      await expect(tunnel.connect(operator).pause()).to.be.revertedWithCustomError(tunnel, denied);
      await expect(tunnel.connect(pauser).pause()).to.emit(tunnel, "Paused").withArgs(pauser.address);
      expect(await tunnel.paused()).to.equal(true);
      await expect(tunnel.connect(pauser).pause()).to.be.revertedWithCustomError(tunnel, "EnforcedPause");
      await expect(s.unpause()).to.be.revertedWithCustomError(tunnel, denied).withArgs(stranger.address, pauserRole);
      await expect(tunnel.connect(pauser).unpause()).to.emit(tunnel, "Unpaused").withArgs(pauser.address);
      expect(await tunnel.paused()).to.equal(false);
      await expect(tunnel.connect(pauser).unpause()).to.be.revertedWithCustomError(tunnel, "ExpectedPause");
      await expect(s.setVaultConfirmations(1, 3))
        .to.be.revertedWithCustomError(tunnel, denied)
        .withArgs(stranger.address, managerRole);
      await expect(tunnel.connect(operator).setVaultConfirmations(1, 3)).to.be.revertedWithCustomError(tunnel, denied);
      // OPERATOR_ROLE is administered by the vault manager, not by the admin directly.
      expect(await tunnel.getRoleAdmin(operatorRole)).to.equal(managerRole);
      await expect(tunnel.connect(admin).grantRole(operatorRole, stranger.address))
        .to.be.revertedWithCustomError(tunnel, denied)
        .withArgs(admin.address, managerRole);
      await expect(s.createVault(randomP2wpkh(), TERMS))
        .to.be.revertedWithCustomError(tunnel, denied)
        .withArgs(stranger.address, operatorRole);

      await expect(tunnel.setFeeLimits(100, 50)).to.emit(tunnel, "FeeLimitsSet").withArgs(100, 50);
      await expect(tunnel.setFeeLimits(5001, 50))
        .to.be.revertedWithCustomError(tunnel, "FeeLimitTooHigh")
        .withArgs(5001, 50);
      // The flat fee limit is capped at 21 million BTC in satoshis, so no fee can overflow uint64.
      const flatCap = 2_100_000_000_000_000n;
      await expect(tunnel.setFeeLimits(5000, flatCap + 1n))
        .to.be.revertedWithCustomError(tunnel, "FeeLimitTooHigh")
        .withArgs(5000, flatCap + 1n);
      await expect(tunnel.setFeeLimits(5000, flatCap)).to.emit(tunnel, "FeeLimitsSet").withArgs(5000, flatCap);
      await expect(tunnel.setWithdrawalWindow(7200)).to.emit(tunnel, "WithdrawalWindowSet").withArgs(7200);
      await expect(tunnel.setWithdrawalWindow(60)).to.be.revertedWithCustomError(tunnel, "InvalidWithdrawalWindow");
    });

    it("restricts each vault's own functions to its operator (pausing also to PAUSER_ROLE)", async function () {
      const s = tunnel.connect(stranger);
      await expect(s.setVaultTerms(1, TERMS))
        .to.be.revertedWithCustomError(tunnel, "NotVaultOperator")
        .withArgs(1, stranger.address);
      await expect(s.closeVault(1)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.withdrawBond(1, stranger.address)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.claimFees(1, stranger.address)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.setVaultPaused(1, true))
        .to.be.revertedWithCustomError(tunnel, "NotOperatorOrPauser")
        .withArgs(1, stranger.address);
      // Another operator cannot touch this vault.
      await tunnel.connect(manager).grantRole(await tunnel.OPERATOR_ROLE(), stranger.address);
      await s.createVault(randomP2wpkh(), TERMS);
      await expect(s.setVaultTerms(1, TERMS)).to.be.revertedWithCustomError(tunnel, "NotVaultOperator");
      await expect(s.setVaultTerms(9, TERMS)).to.be.revertedWithCustomError(tunnel, "UnknownVault").withArgs(9);

      // The operator sets terms within the governance limits.
      await expect(tunnel.connect(operator).createVault(randomP2wpkh(), { ...TERMS, depositFeeBps: 501 }))
        .to.be.revertedWithCustomError(tunnel, "FeeAboveLimit")
        .withArgs(501, TERMS.depositFlatFee, 500, 100_000);
      await expect(tunnel.connect(operator).setVaultTerms(1, { ...TERMS, withdrawalFlatFee: 100_001n }))
        .to.be.revertedWithCustomError(tunnel, "FeeAboveLimit")
        .withArgs(TERMS.withdrawalFeeBps, 100_001n, 500, 100_000);
      await expect(tunnel.connect(operator).setVaultTerms(1, { ...TERMS, minDeposit: 1n })).to.emit(
        tunnel,
        "VaultTermsSet",
      );

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

    it("validates custody scripts: standard kinds only, one vault per script", async function () {
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
      expect((await tunnel.vault(2)).confirmations).to.equal(6n);
      expect((await tunnel.vault(2)).custodyScriptHash).to.equal(ethers.keccak256(p2tr));
    });
  });
});
