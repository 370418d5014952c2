import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { Transaction } from "bitcoinjs-lib";
import { keyOutput, randomKey, type OutputSpec } from "../../relayer/src/bitcoin/txBuilder";
import { ConfigError, loadConfig } from "../../relayer/src/config/load";
import { VaultStatus, type VaultInfo } from "../../relayer/src/evm/tunnel";
import { deployTunnel } from "../../relayer/src/evm/tunnelDeploy";
import { extractRevertData } from "../../relayer/src/evm/revertDecoder";
import {
  checkDepositShape,
  checkDepositTerms,
  isPayout,
  orderKey,
} from "../../relayer/src/roles/deposits/depositRules";
import { custodyScriptOf, parseCustodyKey } from "../../relayer/src/roles/withdrawals/custodyKey";
import {
  buildPayout,
  InsufficientCustodyFundsError,
  payoutOpReturnHex,
} from "../../relayer/src/roles/withdrawals/payoutBuilder";
import { startRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { PayoutFinder } from "../../relayer/src/roles/withdrawals/payoutFinder";
import { TunnelBitcoinChain, opReturn, signedTx } from "../helpers/tunnelChain";
import { fundFromCoinbase } from "./helpers/tunnelBitcoin";

describe("relayer tunnel roles: deposit rules, custody key, payout builder", function () {
  describe("deposit shape check agrees with BitcoinTunnel.confirmDeposit", function () {
    const RECIPIENT = "0x" + "ab".repeat(20);
    const cases: { name: string; outputs: (custody: Buffer) => OutputSpec[]; vout: number }[] = [
      {
        name: "well formed",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: opReturn(Buffer.from(RECIPIENT.slice(2), "hex")), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "OP_RETURN first, custody second",
        outputs: (c) => [
          { script: opReturn(Buffer.from(RECIPIENT.slice(2), "hex")), value: 0n },
          { script: c, value: 50_000n },
        ],
        vout: 1,
      },
      { name: "no OP_RETURN", outputs: (c) => [{ script: c, value: 50_000n }], vout: 0 },
      {
        name: "two OP_RETURNs",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: opReturn(Buffer.from(RECIPIENT.slice(2), "hex")), value: 0n },
          { script: opReturn(Buffer.from(RECIPIENT.slice(2), "hex")), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "19-byte recipient",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: opReturn(Buffer.alloc(19, 1)), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "zero recipient",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: opReturn(Buffer.alloc(20)), value: 0n },
        ],
        vout: 0,
      },
      // 22 bytes like the canonical script, with another push byte: only the push-byte check refuses them.
      {
        name: "22-byte OP_RETURN OP_PUSHDATA1 19 <19 bytes>",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: Buffer.concat([Buffer.from("6a4c13", "hex"), Buffer.alloc(19, 0xab)]), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "22-byte OP_RETURN PUSH21 <20 bytes>",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: Buffer.concat([Buffer.from("6a15", "hex"), Buffer.from(RECIPIENT.slice(2), "hex")]), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "bare OP_RETURN",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: Buffer.from([0x6a]), value: 0n },
        ],
        vout: 0,
      },
      {
        name: "output index out of range",
        outputs: (c) => [
          { script: c, value: 50_000n },
          { script: opReturn(Buffer.from(RECIPIENT.slice(2), "hex")), value: 0n },
        ],
        vout: 5,
      },
    ];

    it("gives the contract's error (or success) for each kind of deposit", async function () {
      const [admin] = await ethers.getSigners();
      const btc = await TunnelBitcoinChain.deploy();
      const { tunnel } = await deployTunnel({
        signer: admin,
        lightClient: await btc.client.getAddress(),
        admin: admin.address,
      });
      await tunnel.grantRole(await tunnel.VAULT_MANAGER_ROLE(), admin.address);
      await tunnel.grantRole(await tunnel.OPERATOR_ROLE(), admin.address);
      const custody = keyOutput(randomKey(), "p2wpkh").script;
      await tunnel.createVault(custody, {
        depositFeeBps: 0,
        depositFlatFee: 0,
        withdrawalFeeBps: 0,
        withdrawalFlatFee: 0,
        minDeposit: 1_000,
      });
      const txs = cases.map((c) => signedTx(c.outputs(custody)));
      const block = await btc.mineConfirmed(txs, 6);
      for (const [i, c] of cases.entries()) {
        const shape = checkDepositShape(Transaction.fromBuffer(txs[i].toBuffer()), c.vout);
        let contractError = "ok";
        try {
          await tunnel.confirmDeposit.staticCall(btc.proof(block, txs[i]), c.vout);
        } catch (err) {
          const data = extractRevertData(err);
          contractError = data === undefined ? "no data" : (tunnel.interface.parseError(data)?.name ?? "unknown");
        }
        expect(shape.ok ? "ok" : shape.error, c.name).to.equal(contractError);
        if (c.name.startsWith("22-byte")) {
          expect(txs[i].outs[1].script.length, c.name).to.equal(22);
          expect(contractError, c.name).to.equal("MalformedOpReturn");
        }
        if (shape.ok) expect(shape.recipient, c.name).to.equal(RECIPIENT);
      }
    });
  });

  it("tells a withdrawal payout (custody change) from a deposit", function () {
    const custody = keyOutput(randomKey(), "p2wpkh").script;
    const payout = signedTx([
      { script: keyOutput(randomKey(), "p2tr").script, value: 60_000n },
      { script: Buffer.from("6a080000000000000007", "hex"), value: 0n },
      { script: custody, value: 10_000n },
    ]);
    const deposit = signedTx([
      { script: custody, value: 10_000n },
      { script: opReturn(Buffer.alloc(20, 7)), value: 0n },
    ]);
    expect(isPayout(payout)).to.equal(true);
    expect(isPayout(deposit)).to.equal(false);
  });

  it("vault terms: status, closing height and minimum as the contract checks them", function () {
    const vault: VaultInfo = {
      id: 1,
      script: "",
      operator: "",
      status: VaultStatus.Live,
      confirmations: 6,
      minDeposit: 10_000n,
      depositFeeBps: 0,
      depositFlatFee: 0n,
      depositsUntilHeight: 0,
      custody: 0n,
      pending: 0n,
      collateral: 0n,
    };
    expect(checkDepositTerms(vault, 10_000n, 5)).to.equal(undefined);
    expect(checkDepositTerms(vault, 9_999n, 5)).to.include({ error: "DepositBelowMinimum", park: false });
    // Paused is resumable: the contract refuses the deposit now, but it is parked (kept), not failed.
    expect(checkDepositTerms({ ...vault, status: VaultStatus.Paused }, 20_000n, 5)).to.include({
      error: "VaultNotAcceptingDeposits",
      park: true,
    });
    // Live but short of collateral: blocks up to its window mint; later ones are held until collateral is added.
    const short = { ...vault, depositsUntilHeight: 100 };
    expect(checkDepositTerms(short, 20_000n, 100)).to.equal(undefined);
    expect(checkDepositTerms(short, 20_000n, 101)).to.include({ error: "VaultNotAcceptingDeposits", park: true });
    const closing = { ...vault, status: VaultStatus.Closing, depositsUntilHeight: 100 };
    expect(checkDepositTerms(closing, 20_000n, 100)).to.equal(undefined);
    expect(checkDepositTerms(closing, 20_000n, 101)).to.include({ error: "VaultNotAcceptingDeposits", park: false });
    expect(checkDepositTerms({ ...vault, status: VaultStatus.Slashed }, 20_000n, 1)).to.include({
      error: "VaultNotAcceptingDeposits",
      park: false,
    });
  });

  it("order keys sort like Bitcoin order (height, position in block, output index)", function () {
    const pos = fc.record({
      h: fc.integer({ min: 0, max: 4_000_000 }),
      i: fc.integer({ min: 0, max: 100_000 }),
      v: fc.integer({ min: 0, max: 100_000 }),
    });
    fc.assert(
      fc.property(fc.array(pos, { minLength: 2, maxLength: 30 }), (xs) => {
        const byKey = [...xs].sort((a, b) => {
          const ka = orderKey(a.h, a.i, a.v, "00");
          const kb = orderKey(b.h, b.i, b.v, "00");
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
        const byNumber = [...xs].sort((a, b) => a.h - b.h || a.i - b.i || a.v - b.v);
        expect(byKey).to.deep.equal(byNumber);
      }),
    );
  });

  describe("custody key", function () {
    const hex = "11".repeat(32);
    it("reads hex (with or without 0x) and WIF of any network to the same P2WPKH script", function () {
      const a = parseCustodyKey(hex);
      const b = parseCustodyKey("0x" + hex);
      const regtestWif = a.toWIF();
      const mainnetWif = parseCustodyKey(regtestWif).toWIF();
      expect(custodyScriptOf(b)).to.equal(custodyScriptOf(a));
      expect(custodyScriptOf(parseCustodyKey(regtestWif))).to.equal(custodyScriptOf(a));
      expect(custodyScriptOf(parseCustodyKey(mainnetWif))).to.equal(custodyScriptOf(a));
      expect(custodyScriptOf(a)).to.match(/^0014[0-9a-f]{40}$/);
    });

    it("rejects bad keys at configuration time, naming the setting and never echoing the key", function () {
      for (const bad of ["00".repeat(32), "zz", "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"]) {
        let err: unknown;
        try {
          loadConfig({ env: { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1", VAULT_CUSTODY_KEY: bad } });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).fields).to.include("VAULT_CUSTODY_KEY");
        expect((err as Error).message).to.not.include(bad);
      }
      const ok = loadConfig({ env: { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1", VAULT_CUSTODY_KEY: hex } });
      expect(ok.VAULT_CUSTODY_KEY).to.equal(hex);
      expect(ok.VAULT_CONFIRMATIONS).to.equal(6);
    });
  });

  describe("payout builder", function () {
    const key = randomKey();
    const custody = custodyScriptOf(key);
    const userScript = keyOutput(randomKey(), "p2tr").script.toString("hex");
    const utxo = (n: number, value: bigint) => ({ txid: n.toString(16).padStart(64, "0"), vout: n, value });

    it("pays exactly the amount, carries OP_RETURN <id> and sends the change to custody, from the largest UTXOs", function () {
      const { tx, inputs, minerFee } = buildPayout({
        id: 258n,
        btcScript: userScript,
        amount: 70_000n,
        utxos: [utxo(1, 20_000n), utxo(2, 100_000n), utxo(3, 30_000n)],
        key,
        custodyScript: custody,
        feeRate: 5,
      });
      expect(inputs.map((u) => u.vout)).to.deep.equal([2]);
      expect(tx.outs.length).to.equal(3);
      expect(Buffer.from(tx.outs[0].script).toString("hex")).to.equal(userScript);
      expect(tx.outs[0].value).to.equal(70_000n);
      expect(Buffer.from(tx.outs[1].script).toString("hex")).to.equal(payoutOpReturnHex(258n));
      expect(payoutOpReturnHex(258n)).to.equal("6a080000000000000102");
      expect(Buffer.from(tx.outs[2].script).toString("hex")).to.equal(custody);
      expect(tx.outs[2].value + 70_000n + minerFee).to.equal(100_000n);
      // About 5 sat/vB on the signed size.
      expect(Number(minerFee) / tx.virtualSize()).to.be.within(4.5, 6);
    });

    it("adds inputs until the payout is covered, and says so when custody cannot fund it", function () {
      const built = buildPayout({
        id: 1n,
        btcScript: userScript,
        amount: 45_000n,
        utxos: [utxo(1, 20_000n), utxo(2, 30_000n), utxo(3, 25_000n)],
        key,
        custodyScript: custody,
        feeRate: 2,
      });
      expect(built.inputs.map((u) => u.vout)).to.deep.equal([2, 3]);
      expect(() =>
        buildPayout({
          id: 1n,
          btcScript: userScript,
          amount: 80_000n,
          utxos: [utxo(1, 20_000n), utxo(2, 30_000n), utxo(3, 25_000n)],
          key,
          custodyScript: custody,
          feeRate: 2,
        }),
      ).to.throw(InsufficientCustodyFundsError);
    });
  });

  it("finds an existing payout of a withdrawal on the node, in the mempool and once mined, and nothing for other ids", async function () {
    const node = await startRegtestNode();
    try {
      const btc = new BitcoinRpcClient({ url: node.url });
      const key = randomKey();
      const custody = custodyScriptOf(key);
      const [coin] = await fundFromCoinbase(btc, key, 1);
      const userScript = keyOutput(randomKey(), "p2wpkh").script.toString("hex");
      const { tx } = buildPayout({
        id: 42n,
        btcScript: userScript,
        amount: 1_000_000n,
        utxos: [coin],
        key,
        custodyScript: custody,
        feeRate: 2,
      });
      const finder = new PayoutFinder(btc, 10);
      expect(await finder.find(42n, userScript)).to.equal(undefined);
      await btc.sendRawTransaction(tx.toHex());
      expect((await finder.find(42n, userScript))?.txid).to.equal(tx.getId());
      expect(await finder.find(43n, userScript)).to.equal(undefined);
      expect(await finder.find(42n, keyOutput(randomKey(), "p2wpkh").script.toString("hex"))).to.equal(undefined);
      await btc.generateToAddress(1, await btc.getNewAddress());
      const found = await new PayoutFinder(btc, 10).find(42n, userScript);
      expect(found?.txid).to.equal(tx.getId());
      expect(Transaction.fromHex(found?.hex ?? "").getId()).to.equal(tx.getId());
      // Out of the search depth: not found.
      await btc.generateToAddress(10, await btc.getNewAddress());
      expect(await new PayoutFinder(btc, 10).find(42n, userScript)).to.equal(undefined);
    } finally {
      await node.close();
    }
  });
});
