import { expect } from "chai";
import { Transaction } from "bitcoinjs-lib";
import { ethers } from "hardhat";
import type { Signer } from "ethers";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import {
  TunnelRevertError,
  AddressError,
  NotADepositError,
  TrackTimeoutError,
  TunnelClient,
  addressToScriptHex,
  btcNumberToSats,
  formatBtc,
  parseAmount,
  type DepositStatus,
  type WithdrawalStatus,
} from "../../relayer/src/sdk";
import { rejection } from "../relayer/helpers/rejects";
import { rejectsWith, startTunnelStack, until, type TunnelStack } from "./helpers";

describe("SDK TunnelClient (embedded regtest node + Hardhat network + BitcoinTunnel)", function () {
  this.timeout(180_000);
  let stack: TunnelStack;
  let admin: Signer;
  let user: Signer;
  let adminClient: TunnelClient;
  let userClient: TunnelClient;

  before(async () => {
    [admin, user] = await ethers.getSigners();
    stack = await startTunnelStack(admin);
    const common = {
      bitcoin: stack.rpc,
      tunnel: await stack.tunnel.getAddress(),
      network: "regtest" as const,
      fromBlock: stack.deployBlock,
      pollIntervalMs: 50,
    };
    adminClient = new TunnelClient({ ...common, provider: ethers.provider, signer: admin });
    userClient = new TunnelClient({ ...common, provider: ethers.provider, signer: user });
  });

  after(async () => {
    await stack?.close();
  });

  it("gives deposit instructions: the custody address, the OP_RETURN for the recipient, minimum, fees", async () => {
    const recipient = await user.getAddress();
    const ins = await userClient.depositInstructions(recipient.toLowerCase());
    expect(ins.vaultId).to.equal(1);
    expect(ins.custodyScript).to.equal(stack.custodyScript);
    expect(ins.address).to.match(/^bcrt1q/);
    expect(addressToScriptHex(ins.address, "regtest")).to.equal(stack.custodyScript);
    expect(ins.recipient).to.equal(recipient);
    expect(ins.opReturnScript).to.equal("6a14" + recipient.slice(2).toLowerCase());
    expect(ins.opReturnHex).to.equal(recipient.slice(2).toLowerCase());
    expect(ins.minDeposit).to.equal(10_000n);
    expect(ins.confirmations).to.equal(6);
    // 100 flat + 10 bps: 1 BTC -> 100 + 100,000 sat.
    expect(ins.tunnelFee(100_000_000n)).to.equal(100_100n);
    expect(ins.networkFee(2)).to.be.greaterThan(200n).and.lessThan(400n);
    await rejectsWith(userClient.depositInstructions("0x0000000000000000000000000000000000000000"), /zero address/);
    await rejectsWith(userClient.depositInstructions("0x1234"), /not a 0x-prefixed 20-byte EVM address/);
    await rejectsWith(userClient.depositInstructions(recipient, 7), /vault 7 does not exist/);
  });

  it("sends a deposit from the node's wallet and tracks it: mempool -> mined n/6 -> ready -> minted", async () => {
    const recipient = await user.getAddress();
    const amount = parseAmount("0.5");
    const sent = await userClient.sendDepositFromNodeWallet({ amountSats: amount, recipient });
    expect(sent.vout).to.equal(0);
    const tx = Transaction.fromHex(sent.hex);
    expect(tx.outs[0].value).to.equal(amount);
    expect(Buffer.from(tx.outs[0].script).toString("hex")).to.equal(stack.custodyScript);
    expect(Buffer.from(tx.outs[1].script).toString("hex")).to.equal("6a14" + recipient.slice(2).toLowerCase());
    expect(Buffer.from(tx.ins[0].hash).reverse().toString("hex")).to.equal(sent.fundingTxid);

    const seen: DepositStatus[] = [];
    const tracking = userClient.trackDeposit(sent.txid, { onUpdate: (s) => seen.push(s), timeoutMs: 60_000 });
    await until("mempool state", async () => seen.length > 0);
    expect(seen[0].stage).to.equal("mempool");
    expect(seen[0].sats).to.equal(amount);
    // Three blocks: mined with 3 confirmations, the light client behind until we relay.
    await stack.mine(3, false);
    await until("mined state", async () => seen.some((s) => s.stage === "mined" && s.confirmations === 3));
    await stack.relayHeaders();
    await until("light client 3/6", async () => seen.some((s) => s.lightClientConfirmations === 3));
    await stack.mine(3);
    await until("ready", async () => seen.some((s) => s.stage === "ready"));
    const proven = await adminClient.proveDeposit(sent.txid);
    const final = await tracking;
    expect(final.stage).to.equal("minted");
    expect(final.sequence).to.equal(proven.sequence);
    expect(final.minted).to.equal(amount - 100n - amount / 1000n);
    expect(final.evmTxHash).to.equal(proven.evmTxHash);
    expect(final.inBitcoinOrder).to.equal(true);
    const stages = seen.map((s) => s.stage);
    expect(stages.indexOf("mempool")).to.be.lessThan(stages.indexOf("mined"));
    expect(stages.indexOf("mined")).to.be.lessThan(stages.indexOf("ready"));
    expect(stages[stages.length - 1]).to.equal("minted");
    expect(await userClient.balanceOf(recipient)).to.equal(final.minted);
    // The tunnel's own record agrees.
    const rec = (await stack.tunnel.depositRecord(displayToInternal(sent.txid), 0)) as { sequence: bigint };
    expect(rec.sequence).to.equal(final.sequence);
    await rejectsWith(adminClient.proveDeposit(sent.txid), /already minted/);
  });

  it("builds a deposit from a key's own coins that confirmDeposit accepts; refuses amounts under the minimum", async () => {
    const key = randomKey();
    const own = keyOutput(key, "p2wpkh");
    const fundTxid = await stack.rpc.sendToAddress(own.address, 0.3);
    await stack.mine(1);
    const funding = await stack.rpc.getRawTransaction(fundTxid, true);
    const out = funding.vout.find((o) => o.scriptPubKey.hex === own.script.toString("hex"));
    if (out === undefined) throw new Error("funding output not found");
    const inputs = [{ txid: fundTxid, vout: out.n, value: 30_000_000n, script: own.script, key }];
    const recipient = await admin.getAddress();
    await rejectsWith(
      userClient.buildDeposit({ inputs, amountSats: 9_999n, recipient, changeScript: own.script.toString("hex") }),
      /below vault 1's minimum of 10000 sat/,
    );
    const built = await userClient.buildDeposit({
      inputs,
      amountSats: 20_000_000n,
      recipient,
      changeAddress: own.address,
      feeRate: 3,
    });
    expect(built.changeVout).to.equal(2);
    const tx = Transaction.fromHex(built.hex);
    expect(tx.outs[2].value).to.equal(30_000_000n - 20_000_000n - built.fee);
    expect(await userClient.broadcast(built.hex)).to.equal(built.txid);
    await stack.mine(6);
    expect((await userClient.depositStatus(built.txid)).stage).to.equal("ready");
    const before = await userClient.balanceOf(recipient);
    await adminClient.proveDeposit(built.txid);
    expect((await userClient.balanceOf(recipient)) - before).to.equal(20_000_000n - 100n - 20_000n);
  });

  it("says why a transaction is not a deposit, and reports unknown txids as not-found", async () => {
    const key = randomKey();
    const own = keyOutput(key, "p2wpkh");
    const fundTxid = await stack.rpc.sendToAddress(own.address, 0.01);
    const funding = await stack.rpc.getRawTransaction(fundTxid, true);
    const out = funding.vout.find((o) => o.scriptPubKey.hex === own.script.toString("hex"));
    if (out === undefined) throw new Error("funding output not found");
    const recipient = (await user.getAddress()).slice(2);
    const tx = buildSignedTx({
      inputs: [{ txid: fundTxid, vout: out.n, value: 1_000_000n, script: own.script, key }],
      outputs: [
        { script: stack.custodyScript, value: 900_000n },
        { opReturn: recipient, value: 0n },
        { opReturn: recipient, value: 0n },
      ],
    });
    // The embedded node relays it (as Bitcoin Core 30 does, which allows several OP_RETURN outputs); the SDK must
    // say why the tunnel never mints it.
    const txid = await stack.rpc.sendRawTransaction(tx.toHex());
    expect(txid).to.equal(tx.getId());
    const err = await rejection(userClient.depositStatus(txid));
    expect(err).to.be.instanceOf(NotADepositError);
    expect((err as Error).message).to.match(/MultipleOpReturns \(outputs 1 and 2\)/);
    const unknown = "ab".repeat(32);
    const s = await userClient.depositStatus(unknown);
    expect(s.stage).to.equal("not-found");
    const timeout = await rejection(userClient.trackDeposit(unknown, { timeoutMs: 200 }));
    expect(timeout).to.be.instanceOf(TrackTimeoutError);
    expect((timeout as TrackTimeoutError<DepositStatus>).last?.stage).to.equal("not-found");
  });

  it("validates withdrawal destinations and amounts before sending anything", async () => {
    const nonce = await ethers.provider.getTransactionCount(await user.getAddress());
    const mainnet = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
    let err = await rejection(userClient.requestWithdrawal({ to: mainnet, sats: 50_000n }));
    expect(err).to.be.instanceOf(AddressError);
    expect((err as Error).message).to.equal(`${mainnet} is a mainnet address, but this tunnel is on regtest`);
    err = await rejection(userClient.requestWithdrawal({ to: "bcrt1qnotanaddress", sats: 50_000n }));
    expect(err).to.be.instanceOf(AddressError);
    expect((err as Error).message).to.match(/is not a valid regtest Bitcoin address/);
    const to = await stack.rpc.getNewAddress();
    await rejectsWith(userClient.requestWithdrawal({ to, sats: 10n ** 15n }), /less than the/);
    // The collateral price collapses: the vault's collateral no longer covers a withdrawal, so no vault can serve.
    await (await stack.tunnel.setCollateralPrice(1)).wait();
    await rejectsWith(
      userClient.requestWithdrawal({ to, sats: 100_000n }),
      /no vault can serve a withdrawal of 100000 sat.*vault 1 Live/,
    );
    expect(await ethers.provider.getTransactionCount(await user.getAddress())).to.equal(nonce);
  });

  it("requests a withdrawal and tracks it: requested -> payout broadcast -> mined n/6 -> finalized", async () => {
    // The price is back (1 tCOL = 1,000,000 sat): the vault's collateral covers withdrawals again.
    await (await stack.tunnel.setCollateralPrice(1_000_000n)).wait();
    // A raw script the tunnel does not pay: the revert comes back decoded to its custom error (issue 11, item 12).
    const raw = await rejection(userClient.requestWithdrawal({ to: "0x6a0401020304", sats: 100_000n }));
    expect(raw).to.be.instanceOf(TunnelRevertError);
    expect((raw as Error).message).to.equal(
      "BitcoinTunnel.requestWithdrawal reverted: UnsupportedWithdrawalScript(0x6a0401020304)",
    );

    const to = await stack.rpc.getNewAddress();
    const toScript = addressToScriptHex(to, "regtest");
    const balance = await userClient.balanceOf(await user.getAddress());
    const req = await userClient.requestWithdrawal({ to, sats: 1_000_000n });
    expect(req.id).to.equal(1n);
    expect(req.vaultId).to.equal(1);
    expect(req.fee).to.equal(200n);
    expect(req.payout).to.equal(999_800n);
    expect(req.btcScript).to.equal(toScript);
    expect(await userClient.balanceOf(await user.getAddress())).to.equal(balance - 1_000_000n);

    const seen: WithdrawalStatus[] = [];
    const tracking = userClient.trackWithdrawal(req.id, { onUpdate: (s) => seen.push(s), timeoutMs: 60_000 });
    await until("requested", async () => seen.length > 0);
    expect(seen[0].stage).to.equal("requested");
    expect(seen[0].btcAddress).to.equal(to);
    // A decoy: OP_RETURN <id> paying the wrong amount is not taken for the payout.
    await stack.payOut(req.id, toScript, 999_000n, 0);
    const payoutTxid = await stack.payOut(req.id, toScript, 999_800n, 1);
    await until("payout-broadcast", async () => seen.some((s) => s.stage === "payout-broadcast"));
    expect(seen.find((s) => s.stage === "payout-broadcast")?.payoutTxid).to.equal(payoutTxid);
    await stack.mine(2);
    await until("payout 2/6", async () => seen.some((s) => s.stage === "payout-mined" && s.confirmations === 2));
    await stack.mine(4);
    await until("payout 6/6 in the light client", async () =>
      seen.some((s) => s.stage === "payout-mined" && s.lightClientConfirmations === 6),
    );
    const { buildTxProof } = await import("../../relayer/src/bitcoin/txProof");
    await (await stack.tunnel.finalizeWithdrawal(req.id, await buildTxProof(stack.rpc, payoutTxid))).wait();
    const final = await tracking;
    expect(final.stage).to.equal("finalized");
    expect(final.payoutTxid).to.equal(payoutTxid);
    expect(final.paid).to.equal(999_800n);
    expect(final.finalizeTxHash).to.match(/^0x[0-9a-f]{64}$/);
    const utxos = await stack.rpc.listUnspent(1, 9_999_999, [to]);
    expect(utxos.map((u) => u.txid)).to.include(payoutTxid);
  });

  it("signs the node-wallet deposit for what the funding output holds, not for what was asked of the wallet", async () => {
    // A wallet that pays 1,234 sat more than it is asked (rounding up, say): the real node, a real funding output.
    class GenerousWallet extends BitcoinRpcClient {
      override sendToAddress(address: string, btc: number): Promise<string> {
        return super.sendToAddress(address, Number(((Math.round(btc * 1e8) + 1_234) / 1e8).toFixed(8)));
      }
    }
    const generous = new TunnelClient({
      provider: ethers.provider,
      bitcoin: new GenerousWallet({ url: stack.node.url }),
      tunnel: await stack.tunnel.getAddress(),
      network: "regtest",
      fromBlock: stack.deployBlock,
    });
    const amount = 300_000n;
    const sent = await generous.sendDepositFromNodeWallet({ amountSats: amount, recipient: await user.getAddress() });
    const funding = await stack.rpc.getRawTransaction(sent.fundingTxid, true);
    const tx = Transaction.fromHex(sent.hex);
    const spent = funding.vout[tx.ins[0].index];
    const outs = tx.outs.reduce((sum, o) => sum + o.value, 0n);
    // Everything the funding output held is accounted for: outputs + fee. The node accepted the signature.
    expect(outs + sent.fee).to.equal(btcNumberToSats(spent.value));
    expect(tx.outs[0].value).to.equal(amount);
    expect((await stack.rpc.getRawMempool()).includes(sent.txid)).to.equal(true);
  });

  it("reports a withdrawal that was not paid by its deadline and was challenged", async () => {
    const to = await stack.rpc.getNewAddress();
    const req = await userClient.requestWithdrawal({ to, sats: 50_000n });
    expect((await userClient.withdrawalStatus(req.id)).stage).to.equal("requested");
    // The payout search asks the node for the block hashes in one batch and fetches a block (with its transactions)
    // only when the hash at its height is new: a poll with no new block fetches none.
    class CountingRpc extends BitcoinRpcClient {
      readonly methods: string[] = [];
      override call<T>(method: string, params: unknown[] = []): Promise<T> {
        this.methods.push(method);
        return super.call<T>(method, params);
      }
      override batch<T>(calls: { method: string; params?: unknown[] }[]): Promise<T[]> {
        this.methods.push(`batch:${calls.map((c) => c.method).join(",")}`);
        return super.batch<T>(calls);
      }
    }
    const rpc = new CountingRpc({ url: stack.node.url });
    const counted = new TunnelClient({
      provider: ethers.provider,
      bitcoin: rpc,
      tunnel: await stack.tunnel.getAddress(),
      network: "regtest",
      fromBlock: stack.deployBlock,
    });
    expect((await counted.withdrawalStatus(req.id)).stage).to.equal("requested");
    expect(rpc.methods.filter((m) => m === "getblock").length).to.be.greaterThan(0);
    rpc.methods.length = 0;
    expect((await counted.withdrawalStatus(req.id)).stage).to.equal("requested");
    expect(rpc.methods.filter((m) => m === "getblock")).to.deep.equal([]);
    expect(rpc.methods.filter((m) => m === "getblockhash")).to.deep.equal([]);
    expect(rpc.methods.filter((m) => m.startsWith("batch:getblockhash"))).to.have.length(1);
    await stack.mine(2);
    rpc.methods.length = 0;
    expect((await counted.withdrawalStatus(req.id)).stage).to.equal("requested");
    expect(rpc.methods.filter((m) => m === "getblock")).to.have.length(2);
    await ethers.provider.send("evm_increaseTime", [86_401]);
    await ethers.provider.send("evm_mine", []);
    const before = await stack.collateral.balanceOf(await user.getAddress());
    await (await stack.tunnel.challengeWithdrawal(req.id)).wait();
    const final = await userClient.trackWithdrawal(req.id, { timeoutMs: 5_000 });
    expect(final.stage).to.equal("challenged");
    expect(final.status).to.equal("Challenged");
    // Made whole in collateral: worth the 50,000 sat burned at 1,000,000 sat per 1e18 units.
    expect(await stack.collateral.balanceOf(await user.getAddress())).to.equal(
      before + (50_000n * 10n ** 18n) / 1_000_000n,
    );
    await rejectsWith(
      userClient.withdrawalStatus(99n),
      /withdrawal 99 does not exist \(the tunnel has 2 withdrawal\(s\)\)/,
    );
  });

  it("summarises the tunnel: vaults, supply, recent deposits and withdrawals", async () => {
    const s = await userClient.summary(10);
    expect(s.network).to.equal("regtest");
    expect(s.vaults).to.have.length(1);
    // Slashed by the challenge above; the requester got collateral worth the challenged 50,000 sat.
    expect(s.vaults[0].status).to.equal("Slashed");
    expect(s.vaults[0].collateral).to.equal(1_000n * 10n ** 18n - (50_000n * 10n ** 18n) / 1_000_000n);
    expect(s.vaults[0].address).to.match(/^bcrt1q/);
    expect(s.depositCount).to.equal(2n);
    expect(s.withdrawalCount).to.equal(2n);
    expect(s.recentDeposits.map((d) => d.sequence)).to.deep.equal([1n, 2n]);
    expect(s.recentWithdrawals.map((w) => w.status)).to.deep.equal(["Finalized", "Challenged"]);
    expect(s.totalSupply).to.equal((await stack.token.totalSupply()) as bigint);
    expect(s.lightClientBest.height).to.equal(s.bitcoinTip.height);
    expect(formatBtc(s.vaults[0].custody)).to.match(/^0\.\d{8}$/);
  });
});
