import { expect } from "chai";
import { ethers } from "hardhat";
import type { Signer } from "ethers";
import { buildTxProof } from "../../relayer/src/bitcoin/txProof";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { NotADepositError, TunnelClient, type DepositStatus } from "../../relayer/src/sdk";
import { rejection } from "../relayer/helpers/rejects";
import { rejectsWith, startTunnelStack, until, type TunnelStack } from "./helpers";

/** Deposit tracking against a vault that is paused and resumed, then closed (BitcoinTunnel's deposit rule). */
describe("SDK TunnelClient: deposits to Paused and Closing vaults", function () {
  this.timeout(180_000);
  let stack: TunnelStack;
  let admin: Signer;
  let user: Signer;
  let client: TunnelClient;

  before(async () => {
    [admin, user] = await ethers.getSigners();
    stack = await startTunnelStack(admin);
    client = new TunnelClient({
      provider: ethers.provider,
      signer: admin,
      bitcoin: stack.rpc,
      tunnel: await stack.tunnel.getAddress(),
      network: "regtest",
      fromBlock: stack.deployBlock,
      pollIntervalMs: 50,
    });
  });

  after(async () => {
    await stack?.close();
  });

  /** A deposit to the vault's custody script built by hand (depositInstructions refuses vaults that are not Live). */
  async function rawDeposit(sats: bigint): Promise<string> {
    const key = randomKey();
    const own = keyOutput(key, "p2wpkh");
    const fundTxid = await stack.rpc.sendToAddress(own.address, 0.01);
    const funding = await stack.rpc.getRawTransaction(fundTxid, true);
    const out = funding.vout.find((o) => o.scriptPubKey.hex === own.script.toString("hex"));
    if (out === undefined) throw new Error("funding output not found");
    const tx = buildSignedTx({
      inputs: [{ txid: fundTxid, vout: out.n, value: 1_000_000n, script: own.script, key }],
      outputs: [
        { script: stack.custodyScript, value: sats },
        { opReturn: (await user.getAddress()).slice(2), value: 0n },
      ],
    });
    return stack.rpc.sendRawTransaction(tx.toHex());
  }

  it("holds a deposit to a Paused vault at `mined` (not an error) and mints it once the vault is resumed", async () => {
    const sent = await client.sendDepositFromNodeWallet({ amountSats: 200_000n, recipient: await user.getAddress() });
    await (await stack.tunnel.setVaultPaused(1, true)).wait();
    expect((await client.depositStatus(sent.txid)).stage).to.equal("mempool");
    await stack.mine(6);
    const paused = await client.depositStatus(sent.txid);
    expect(paused.stage).to.equal("mined");
    expect(paused.vaultStatus).to.equal("Paused");
    expect(paused.lightClientConfirmations).to.equal(6);
    await rejectsWith(client.proveDeposit(sent.txid), /not provable yet: mined, light client confirmations 6\/6/);

    const seen: DepositStatus[] = [];
    const tracking = client.trackDeposit(sent.txid, { onUpdate: (s) => seen.push(s), timeoutMs: 60_000 });
    await until("tracking the paused deposit", async () => seen.length > 0);
    expect(seen[0].stage).to.equal("mined");
    await (await stack.tunnel.setVaultPaused(1, false)).wait();
    await until("ready", async () => seen.some((s) => s.stage === "ready"));
    expect(seen.find((s) => s.stage === "ready")?.vaultStatus).to.equal("Live");
    const proven = await client.proveDeposit(sent.txid);
    const final = await tracking;
    expect(final.stage).to.equal("minted");
    expect(final.sequence).to.equal(proven.sequence);
  });

  it("for a Closing vault, mints deposits up to depositsUntilHeight and rejects later ones, as the tunnel does", async () => {
    const early = await rawDeposit(100_000n);
    await stack.mine(1);
    const earlyHeight = (await client.depositStatus(early)).blockHeight;
    // One block of grace: a deposit sent before the close can still be mined in the next block.
    await (await stack.tunnel.setDepositGracePeriod(1)).wait();
    await (await stack.tunnel.closeVault(1)).wait();
    const v = await client.vault(1);
    expect(v.status).to.equal("Closing");
    expect(v.depositsUntilHeight).to.equal((earlyHeight ?? 0) + 1);
    expect(v.depositsUntilHeight).to.equal((await stack.rpc.getBlockCount()) + 1);
    await stack.mine(1);

    const earlyStatus = await client.depositStatus(early);
    expect(earlyStatus.stage).to.equal("mined");
    expect(earlyStatus.vaultStatus).to.equal("Closing");

    // Unconfirmed while the tip is at the cutoff: it can only land above it.
    const late = await rawDeposit(100_000n);
    let err = await rejection(client.depositStatus(late));
    expect(err).to.be.instanceOf(NotADepositError);
    expect((err as Error).message).to.match(
      new RegExp(
        `up to height ${v.depositsUntilHeight}; this one is unconfirmed and can be mined at ${v.depositsUntilHeight + 1}`,
      ),
    );
    await stack.mine(5);
    err = await rejection(client.depositStatus(late));
    expect(err).to.be.instanceOf(NotADepositError);
    expect((err as Error).message).to.match(new RegExp(`this one is in block ${v.depositsUntilHeight + 1}`));
    // The tunnel agrees: it refuses the late deposit once its block has the confirmations.
    await stack.mine(1);
    const proof = await buildTxProof(stack.rpc, late);
    const revert = (await rejection(stack.tunnel.confirmDeposit.staticCall(proof, 0))) as Error & { data?: string };
    const decoded = stack.tunnel.interface.parseError(revert.data ?? "0x");
    expect(decoded?.name, revert.message).to.equal("VaultNotAcceptingDeposits");
    expect(decoded?.args.map(String)).to.deep.equal(["1", "3", String(v.depositsUntilHeight + 1)]);

    expect((await client.depositStatus(early)).stage).to.equal("ready");
    await client.proveDeposit(early);
    expect((await client.depositStatus(early)).stage).to.equal("minted");
  });
});
