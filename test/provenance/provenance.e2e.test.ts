/**
 * Provenance end to end on real parts: the embedded Bitcoin node (real proof of work), a Hardhat node over HTTP,
 * Redis, `hemi-fabric deploy`, `bond --mint`, `deposit --wait`, and two relayer processes (headers, deposits,
 * keystones; pop). One deposit is followed through the whole path: pending before its keystone is published,
 * every link ✔ and superfinal after ten Bitcoin blocks; then each failure named: a publication reorganised away
 * on Bitcoin, a keystone that no longer matches the EVM chain, the deposit's Bitcoin block reorganised away.
 * A withdrawal of part of it (`withdraw` CLI, the relayer's withdrawals role pays and finalizes it) is followed in
 * the same run: pending before it is paid, every link ✔ and superfinal once paid, finalized and anchored (its
 * finalization is covered by the same keystone as the mint), then the same failures seen from it: the publication
 * reorganised away, the keystone mismatch, and its payout's Bitcoin block reorganised away.
 */
import { expect } from "chai";
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import type { PopVerifierClient } from "../../relayer/src/pop/popContracts";
import { tunnelAt } from "../../relayer/src/evm/tunnelAbi";
import { checkAnchors } from "../../relayer/src/pop/anchorCheck";
import { parseQuery } from "../../relayer/src/provenance/deposit";
import { provenanceDepsOf } from "../../relayer/src/provenance/deps";
import { checkKeystoneLink } from "../../relayer/src/provenance/keystoneLink";
import { checkPopLink } from "../../relayer/src/provenance/popLink";
import { payoutOpReturnHex } from "../../relayer/src/sdk/depositTx";
import { provenance, provenanceOf, withdrawalProvenance } from "../../relayer/src/provenance/provenance";
import type {
  ProvenanceDeps,
  ProvenanceLink,
  ProvenanceReport,
  WithdrawalProvenanceReport,
} from "../../relayer/src/provenance/types";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { spawnCli, waitFor, type CliProcess } from "../relayer/helpers/relayerProcess";
import { fundFromCoinbase } from "../relayer/helpers/tunnelBitcoin";
import { removeTestKeys } from "../relayer/helpers/redisKeys";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Long enough that the keystone covering the mint comes well after it (the pending check runs before it). */
const INTERVAL = 100;

describe("provenance end to end (Bitcoin node, Hardhat node, Redis, deploy, bond, deposit, relayers)", function () {
  this.timeout(240_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let file: string;
  let deployment: Deployment;
  let deps: ProvenanceDeps;
  let wallet: string;
  const prefix = `test:provenance:${randomBytes(4).toString("hex")}`;
  const children: CliProcess[] = [];
  const popMiner = randomKey();
  const sequencer = new Wallet(DEV_KEYS[1]);
  /** Receives the deposit's hemiBTC and withdraws part of it (its own key: the relayer's nonces stay its own). */
  const user = new Wallet(DEV_KEYS[2]);
  let env: Record<string, string>;

  const linkOf = (r: { links: ProvenanceLink[] }, name: string): ProvenanceLink => {
    const l = r.links.find((x) => x.name === name);
    if (l === undefined) throw new Error(`no link ${name}`);
    return l;
  };
  const errorKinds = (r: { links: ProvenanceLink[] }): string[] =>
    r.links.flatMap((l) => l.issues.filter((i) => i.severity === "error").map((i) => `${l.name}:${i.kind}`));

  async function lcSynced(): Promise<void> {
    await waitFor(
      "the light client to reach the node's tip",
      async () => (await deps.lc.bestBlock()).hash === displayToInternal(await btc.getBestBlockHash()),
      60_000,
    );
  }

  function relayer(roles: string): CliProcess {
    const cli = spawnCli(["relayer", "--roles", roles], {
      ...env,
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: DEV_KEYS[1],
      POP_MINER_KEY: Buffer.from(popMiner.privateKey as Uint8Array).toString("hex"),
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      KEYSTONES_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "200",
      LOG_LEVEL: "info",
    });
    children.push(cli);
    return cli;
  }

  async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const c = spawnCli(["provenance", ...args], { ...env, LOG_LEVEL: "warn" });
    const { code } = await c.exited;
    return { code, out: c.output() };
  }
  const jsonOf = <T = ProvenanceReport>(out: string): T =>
    JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as T;

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    wallet = await btc.getNewAddress();
    await btc.generateToAddress(101, wallet);
    // The PoP miner's coins (P2PKH), from a coinbase of a funding key.
    const funder = randomKey();
    const [coin] = await fundFromCoinbase(btc, funder, 1);
    const own = keyOutput(funder, "p2wpkh").script;
    const p2pkh = keyOutput(popMiner, "p2pkh").script;
    const outs = Array.from({ length: 6 }, () => ({ script: p2pkh, value: 200_000n }));
    const tx = buildSignedTx({
      inputs: [{ ...coin, script: own, key: funder }],
      outputs: [...outs, { script: own, value: coin.value - 1_200_000n - 20_000n }],
    });
    await btc.generateBlock(wallet, [await btc.sendRawTransaction(tx.toHex())]);

    evm = await startEvmNode();
    provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    dir = mkdtempSync(path.join(tmpdir(), "hf-provenance-"));
    env = {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      VAULT_CUSTODY_KEY: randomBytes(32).toString("hex"),
      VAULT_CONFIRMATIONS: "1",
      VAULT_MIN_DEPOSIT: "10000",
      POP_SEQUENCER_ADDRESS: sequencer.address,
      KEYSTONE_INTERVAL: String(INTERVAL),
      VAULT_WITHDRAWAL_FLAT_FEE: "500",
    };
    const deploy = spawnCli(["deploy", "--out-dir", dir, "--anchor-margin", "0"], env);
    expect((await deploy.exited).code, deploy.output()).to.equal(0);
    file = deploy.output().trim().split("\n").pop() ?? "";
    env.DEPLOYMENT_FILE = file;
    deployment = readDeployment(file);
    const bond = spawnCli(["bond", "--amount", "100", "--mint"], env);
    expect((await bond.exited).code, bond.output()).to.equal(0);
    deps = await provenanceDepsOf(provider, btc, deployment);
  });

  afterEach(function () {
    if (this.currentTest?.state !== "failed") return;
    children.forEach((c, i) =>
      console.log(`--- relayer ${i}:\n${c.output().trim().split("\n").slice(-30).join("\n")}`),
    );
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await removeTestKeys(prefix);
    provider?.destroy();
    await evm?.close();
    await btcNode?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("checks every link of a deposit, pending then superfinal, and names each failure", async () => {
    const started = Date.now();
    const main = relayer("headers,deposits,keystones,withdrawals");
    const popper = relayer("pop");
    await Promise.all([main, popper].map((r) => r.waitForLog((l) => l.msg === "relayer started", 120_000)));

    // The EVM head just past a keystone height, so the mint lands well before the keystone covering it.
    await lcSynced();
    while ((await provider.getBlockNumber()) % INTERVAL !== 1) await provider.send("evm_mine", []);

    // A deposit through the CLI, paid from the node's wallet; Bitcoin blocks keep coming until it is minted.
    const mining = setInterval(() => void btc.generateToAddress(1, wallet).catch(() => undefined), 700);
    let txid: string;
    try {
      const dep = spawnCli(
        [
          "deposit",
          "--amount",
          "0.25",
          "--recipient",
          user.address,
          "--fee-rate",
          "2",
          "--wait",
          "--timeout",
          "120",
          "--json",
        ],
        env,
      );
      const { code } = await dep.exited;
      expect(code, dep.output()).to.equal(0);
      txid = (JSON.parse(dep.output().slice(dep.output().indexOf("{"))) as { deposit: { txid: string } }).deposit.txid;
    } finally {
      clearInterval(mining);
    }

    // Pending first: minted, but no publication of its keystone yet.
    const pending = await provenance(deps, parseQuery(txid));
    expect(pending.status).to.equal("pending");
    expect(linkOf(pending, "bitcoin").status).to.equal("pass");
    expect(linkOf(pending, "bitcoin").evidence.spvVerified).to.equal(true);
    expect(linkOf(pending, "order").status).to.equal("pass");
    expect(linkOf(pending, "order").evidence.sequence).to.equal(1);
    expect(linkOf(pending, "pop").status).to.equal("pending");
    expect(errorKinds(pending)).to.deep.equal([]);
    const mintBlock = pending.deposit.evmBlock;

    // A withdrawal of part of it, checked before it is paid: the burn ✔, the rest pending (not failed).
    const payTo = await btc.getNewAddress();
    const wd = spawnCli(["withdraw", "--amount", "0.1", "--to", payTo, "--private-key", DEV_KEYS[2], "--json"], {
      ...env,
      LOG_LEVEL: "warn",
    });
    expect((await wd.exited).code, wd.output()).to.equal(0);
    const request = jsonOf<{ id: string; evmTxHash: string }>(wd.output());
    const wid = BigInt(request.id);
    const wPending = await withdrawalProvenance(deps, wid);
    expect(wPending.status).to.equal("pending");
    expect(errorKinds(wPending)).to.deep.equal([]);
    expect(wPending.links.map((l) => `${l.name}:${l.status}`)).to.deep.equal([
      "burn:pass",
      "payout:pending",
      "finalization:pending",
      "keystone:pending",
      "pop:pending",
    ]);
    expect(linkOf(wPending, "burn").evidence.burned).to.equal(`10000000 hemiBTC units from ${user.address}`);
    expect(linkOf(wPending, "burn").evidence.payoutOwed).to.equal("9999500");
    expect(linkOf(wPending, "burn").evidence.destination).to.equal(payTo);
    const idOf = async (q: string): Promise<string> => {
      const r = await provenanceOf(deps, parseQuery(q));
      return "subject" in r ? r.withdrawal.id : `deposit ${r.deposit.txid}`;
    };
    // Broadcast by the withdrawals role, not mined yet: still pending, and its txid already names the withdrawal.
    const opReturn = payoutOpReturnHex(wid);
    let mempoolPayout = "";
    await waitFor(
      "the payout in the mempool",
      async () => {
        for (const t of await btc.getRawMempool())
          if ((await btc.getRawTransaction(t, true)).vout.some((o) => o.scriptPubKey.hex === opReturn))
            mempoolPayout = t;
        return mempoolPayout !== "";
      },
      30_000,
    );
    const unconfirmed = await withdrawalProvenance(deps, wid);
    expect(unconfirmed.status).to.equal("pending");
    expect(errorKinds(unconfirmed)).to.deep.equal([]);
    expect(linkOf(unconfirmed, "payout").issues.map((i) => i.kind)).to.deep.equal(["payout-unconfirmed"]);
    expect(linkOf(unconfirmed, "payout").evidence.paid).to.equal("9999500");
    expect(await idOf(mempoolPayout)).to.equal(String(wid));
    // Paid and finalized by the withdrawals role while Bitcoin blocks come.
    const paying = setInterval(() => void btc.generateToAddress(1, wallet).catch(() => undefined), 700);
    try {
      await waitFor(
        `withdrawal ${wid} finalized`,
        async () => Number(((await deps.tunnel.withdrawal(wid)) as { status: bigint }).status) === 2,
        90_000,
      );
    } finally {
      clearInterval(paying);
    }
    // The snapshot after the finalization: rewinding to it rewrites the keystone covering the mint and the finalization.
    const snapshot = (await provider.send("evm_snapshot", [])) as string;

    // The keystone covering the mint: recorded, published, proven; then ten more Bitcoin blocks.
    const covering = Math.ceil(mintBlock / INTERVAL) * INTERVAL;
    expect(await provider.getBlockNumber(), "the snapshot comes before the keystone block").to.be.lessThan(covering);
    while ((await provider.getBlockNumber()) < covering) await provider.send("evm_mine", []);
    await waitFor(
      `keystone ${covering} recorded, published and proven`,
      async () => {
        if ((await btc.getRawMempool()).length > 0) await btc.generateToAddress(1, wallet);
        return (await deps.verifier.publications(covering)).length > 0;
      },
      90_000,
    );
    const [pub] = await deps.verifier.publications(covering);
    await btc.generateToAddress(10, wallet);
    await lcSynced();
    const tip = (await deps.lc.bestBlock()).height;

    const okJson = await cli([txid, "--json"]);
    expect(okJson.code, okJson.out).to.equal(0);
    const ok = jsonOf(okJson.out);
    expect(ok.status).to.equal("superfinal");
    expect(ok.links.map((l) => `${l.name}:${l.status}`)).to.deep.equal([
      "bitcoin:pass",
      "order:pass",
      "keystone:pass",
      "pop:pass",
    ]);
    expect(linkOf(ok, "keystone").evidence.keystone).to.equal(covering);
    expect(linkOf(ok, "keystone").evidence.recomputedId).to.equal(linkOf(ok, "keystone").evidence.ledgerId);
    expect(linkOf(ok, "pop").evidence.btcHeight).to.equal(pub.btcHeight);
    expect(linkOf(ok, "pop").evidence.effectiveConfirmations).to.equal(tip - pub.btcHeight);
    expect(tip - pub.btcHeight).to.be.at.least(10);
    expect(linkOf(ok, "pop").evidence.superfinal).to.equal(true);

    // A live chain moves during a check: here a Bitcoin block reaches the light client after the PoP link has read
    // the light client's tip and before it reads PopVerifier's view, so the two count different confirmations for a
    // moment. That is not a disagreement: the link reads again and passes (it reported finality-disagrees before).
    const mintTx = { evmTxHash: ok.deposit.evmTxHash, evmBlock: mintBlock };
    const { covering: coveringKs } = await checkKeystoneLink(deps, mintTx, await checkAnchors(deps));
    let moved = false;
    const racing: PopVerifierClient = Object.assign(Object.create(deps.verifier) as PopVerifierClient, {
      publications: async (n: number) => {
        const r = await deps.verifier.publications(n);
        if (!moved) {
          moved = true;
          await btc.generateToAddress(1, wallet);
          await lcSynced();
        }
        return r;
      },
    });
    const raced = await checkPopLink({ ...deps, verifier: racing }, mintTx, coveringKs);
    expect(moved, "the chain moved during the check").to.equal(true);
    expect(raced.issues, JSON.stringify(raced.issues)).to.deep.equal([]);
    expect(raced.status).to.equal("pass");
    const okText = await cli([txid]);
    expect(okText.code, okText.out).to.equal(0);
    for (const t of [
      "✔ Bitcoin lock",
      "✔ Tunnel order",
      "✔ EVM block and keystone",
      "✔ PoP anchoring",
      "provenance: OK, superfinal",
    ])
      expect(okText.out).to.include(t);
    console.log(
      okText.out
        .split("\n")
        .map((l) => `      ${l}`)
        .join("\n"),
    );
    // The same deposit by sequence and by the EVM transaction that minted it.
    expect((await provenance(deps, parseQuery("1"))).deposit.txid).to.equal(txid);
    expect((await provenance(deps, parseQuery(ok.deposit.evmTxHash))).deposit.txid).to.equal(txid);

    // The withdrawal: paid, finalized, anchored by the same keystone, superfinal.
    const wOkJson = await cli(["--withdrawal", String(wid), "--json"]);
    expect(wOkJson.code, wOkJson.out).to.equal(0);
    const wOk = jsonOf<WithdrawalProvenanceReport>(wOkJson.out);
    expect(wOk.subject).to.equal("withdrawal");
    expect(wOk.status).to.equal("superfinal");
    expect(wOk.links.map((l) => `${l.name}:${l.status}`)).to.deep.equal([
      "burn:pass",
      "payout:pass",
      "finalization:pass",
      "keystone:pass",
      "pop:pass",
    ]);
    const payoutTxid = String(linkOf(wOk, "payout").evidence.payoutTxid);
    expect(wOk.withdrawal.payoutTxid).to.equal(payoutTxid);
    expect(linkOf(wOk, "payout").evidence.paid).to.equal("9999500");
    expect(linkOf(wOk, "payout").evidence.vaultInputs).to.match(/^[1-9]\d* of \d+$/);
    expect(linkOf(wOk, "payout").evidence.spvVerified).to.equal(true);
    expect(Number(linkOf(wOk, "payout").evidence.confirmations)).to.be.at.least(wOk.withdrawal.confirmations);
    expect(linkOf(wOk, "finalization").evidence.provenTxid).to.equal(payoutTxid);
    expect(linkOf(wOk, "keystone").evidence.evmTx).to.equal(wOk.withdrawal.finalizeTxHash);
    expect(linkOf(wOk, "keystone").evidence.keystone).to.equal(covering);
    expect(linkOf(wOk, "pop").evidence.superfinal).to.equal(true);
    const wText = await cli(["--withdrawal", String(wid)]);
    expect(wText.code, wText.out).to.equal(0);
    for (const t of [
      "✔ Burn on the EVM chain",
      "✔ Payout on Bitcoin",
      "✔ Finalization",
      "✔ EVM block and keystone",
      "✔ PoP anchoring",
      "provenance: OK, superfinal",
    ])
      expect(wText.out).to.include(t);
    console.log(
      wText.out
        .split("\n")
        .map((l) => `      ${l}`)
        .join("\n"),
    );
    // The same withdrawal by its request and finalize transactions and by its payout txid; an unknown id exits 1.
    expect(mempoolPayout).to.equal(payoutTxid);
    expect(await idOf(request.evmTxHash)).to.equal(String(wid));
    expect(await idOf(String(wOk.withdrawal.finalizeTxHash))).to.equal(String(wid));
    expect(await idOf(payoutTxid)).to.equal(String(wid));
    // A node without a transaction index (bitcoind's default): the payout is found by a search of the blocks.
    btcNode.node.txindex = false;
    try {
      const noIndex = await withdrawalProvenance(deps, wid);
      expect(noIndex.status).to.equal("superfinal");
      expect(linkOf(noIndex, "payout").evidence.searchedFrom).to.be.a("number");
      expect(await idOf(payoutTxid)).to.equal(String(wid));
    } finally {
      btcNode.node.txindex = true;
    }
    const unknown = await cli(["--withdrawal", "99"]);
    expect(unknown.code, unknown.out).to.equal(1);
    expect(unknown.out).to.include("withdrawal 99 does not exist (the tunnel has 1 withdrawal(s))");

    // A publication reorganised away on Bitcoin: its block invalidated, a longer chain of empty blocks without it.
    const pubBlock = await btc.getBlockHash(pub.btcHeight);
    await btc.invalidateBlock(pubBlock);
    for (let i = 0; i < 13; i++) await btc.generateBlock(wallet, []); // heavier than the 11 blocks it replaces
    await lcSynced();
    const lost = await provenance(deps, parseQuery(txid));
    expect(lost.status).to.equal("failed");
    expect(errorKinds(lost)).to.deep.equal(["pop:publication-reorganised"]);
    expect(linkOf(lost, "bitcoin").status).to.equal("pass");
    expect(errorKinds(await withdrawalProvenance(deps, wid))).to.deep.equal(["pop:publication-reorganised"]);

    // A keystone that no longer matches the EVM chain: the publication mined again, then the EVM history rewritten
    // from before the keystone block (the ledger rewinds with it; Bitcoin keeps the publication).
    // Back to the chain with the publication (made the longer one), followed by the light client.
    await btc.invalidateBlock(await btc.getBlockHash(pub.btcHeight));
    await btc.reconsiderBlock(pubBlock);
    await btc.generateToAddress(3, wallet);
    await lcSynced();
    expect(await btc.getBlockHash(pub.btcHeight)).to.equal(pubBlock);
    expect((await provenance(deps, parseQuery(txid))).status).to.equal("superfinal");
    for (const r of [main, popper]) {
      r.proc.kill("SIGTERM");
      await r.exited;
    }
    expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
    await (
      await new Wallet(DEV_KEYS[0], provider).sendTransaction({ to: Wallet.createRandom().address, value: 1n })
    ).wait();
    while ((await provider.getBlockNumber()) < covering + 5) await provider.send("evm_mine", []);
    const rewritten = await provenance(deps, parseQuery(txid));
    expect(rewritten.status).to.equal("failed");
    expect(errorKinds(rewritten)).to.include("keystone:keystone-mismatch");
    expect(linkOf(rewritten, "bitcoin").status).to.equal("pass");
    const wRewritten = await withdrawalProvenance(deps, wid);
    expect(wRewritten.status).to.equal("failed");
    expect(errorKinds(wRewritten)).to.include("keystone:keystone-mismatch");
    expect(errorKinds(wRewritten).filter((k) => !k.startsWith("keystone:"))).to.deep.equal([]);

    // A withdrawal nobody pays (the relayers are gone), challenged after its deadline: named, not pending.
    const asUser = tunnelAt(deployment.contracts.BitcoinTunnel ?? "", new Wallet(DEV_KEYS[2], provider));
    await (
      await asUser["requestWithdrawal(bytes,uint64,uint64)"]("0x" + wOk.withdrawal.btcScript, 1_000_000n, 500n)
    ).wait();
    const unpaidId = wid + 1n;
    const unpaid = await withdrawalProvenance(deps, unpaidId);
    expect(unpaid.status).to.equal("pending");
    expect(linkOf(unpaid, "payout").issues.map((i) => i.kind)).to.deep.equal(["not-paid-yet"]);
    await provider.send("evm_increaseTime", [
      unpaid.withdrawal.deadline - (await provider.getBlock("latest"))!.timestamp + 1,
    ]);
    await provider.send("evm_mine", []);
    expect(linkOf(await withdrawalProvenance(deps, unpaidId), "burn").issues.map((i) => i.kind)).to.deep.equal([
      "deadline-passed",
    ]);
    await (
      await tunnelAt(deployment.contracts.BitcoinTunnel ?? "", new Wallet(DEV_KEYS[0], provider)).challengeWithdrawal(
        unpaidId,
      )
    ).wait();
    const challenged = await withdrawalProvenance(deps, unpaidId);
    expect(challenged.status).to.equal("failed");
    expect(errorKinds(challenged)).to.deep.equal(["payout:not-paid", "finalization:withdrawal-challenged"]);

    // The deposit's Bitcoin block reorganised away (through the CLI: exit 1, the failure named).
    const depHeight = Number(linkOf(ok, "bitcoin").evidence.height);
    await btc.invalidateBlock(await btc.getBlockHash(depHeight));
    for (let i = 0; i < 3; i++) await btc.generateBlock(wallet, []);
    const gone = await cli([txid, "--json"]);
    expect(gone.code, gone.out).to.equal(1);
    const goneReport = jsonOf(gone.out);
    expect(goneReport.status).to.equal("failed");
    expect(errorKinds(goneReport)).to.include("bitcoin:bitcoin-block-reorganised");
    // The payout's block went with it (it came after the deposit's): named through the CLI by the payout's txid.
    const paidGone = await cli([payoutTxid, "--json"]);
    expect(paidGone.code, paidGone.out).to.equal(1);
    const paidGoneReport = jsonOf<WithdrawalProvenanceReport>(paidGone.out);
    expect(paidGoneReport.withdrawal.id).to.equal(String(wid));
    expect(errorKinds(paidGoneReport)).to.include("payout:payout-reorganised");
    const bad = await cli(["not-a-deposit"]);
    expect(bad.code, bad.out).to.equal(2);
    console.log(`      scenario took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
