/**
 * The Bitcoin side of every path (node behaviour the relayer relies on, deploy + relayer + deposit through the CLI,
 * the demo's deposit and withdrawal) against a node taken from the environment: the embedded node started as a
 * separate process by default, Bitcoin Core with BITCOIND=<path to bitcoind>. See sideNode.ts and the README.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { chooseFeeRate } from "../../relayer/src/bitcoin/feeRate";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { rejection } from "../bitcoin-node/helpers";
import { spawnCli, type CliProcess } from "../relayer/helpers/relayerProcess";
import { bitcoindArgs, embeddedArgs, startSideNode, type SideNode } from "./sideNode";

const ROOT = path.resolve(__dirname, "..", "..");
const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("Bitcoin side against the node from the environment (BITCOIND=<path> for Bitcoin Core)", function () {
  this.timeout(300_000);
  let node: SideNode;
  let miner: string;

  before(async function () {
    node = await startSideNode();
    console.log(`      node: ${node.kind}, wallet "${node.wallet}"`);
    miner = await node.rpc.getNewAddress();
    await node.rpc.generateToAddress(101, miner);
  });

  after(async () => {
    await node?.stop();
  });

  it("answers as the relayer expects: no fee estimate yet (fallback), wallet calls on /wallet/<name>, BIP125 refusals", async () => {
    const est = await node.rpc.estimateSmartFee(6);
    expect(est.feerate).to.equal(undefined);
    expect(est.errors).to.deep.equal(["Insufficient data or no feerate found"]);
    expect((await chooseFeeRate(node.rpc, 6, 3)).source).to.equal("fallback");
    expect(await node.rpc.listWallets()).to.include(node.wallet);

    // A coin of our own key, paid by the wallet at an explicit fee rate (as commands do on regtest).
    const key = randomKey();
    const { address, script } = keyOutput(key, "p2wpkh");
    const fundTxid = await node.rpc.sendToAddress(address, 1, 2);
    await node.rpc.generateToAddress(1, miner);
    const funding = await node.rpc.getRawTransaction(fundTxid, true);
    const vout = funding.vout.findIndex((o) => o.scriptPubKey.hex === script.toString("hex"));
    const coin = { txid: fundTxid, vout, value: 100_000_000n, script, key };
    const pay = (fee: bigint, sequence?: number) =>
      buildSignedTx({
        inputs: [{ ...coin, sequence }],
        outputs: [{ script: keyOutput(randomKey(), "p2wpkh").script, value: coin.value - fee }],
      });
    const a = pay(1_000n, 0xffffffff); // does not signal: Core 28 replaces it anyway (mempoolfullrbf)
    await node.rpc.sendRawTransaction(a.toHex());
    const same = pay(1_000n);
    const refused = await rejection(node.rpc.sendRawTransaction(same.toHex()));
    expect(refused.code).to.equal(-26);
    expect(refused.rpcMessage).to.match(
      new RegExp(
        `^insufficient fee, rejecting replacement ${same.getId()}; new feerate [0-9.]+ BTC/kvB <= old feerate`,
      ),
    );
    const better = pay(5_000n);
    await node.rpc.sendRawTransaction(better.toHex());
    expect(await node.rpc.getRawMempool()).to.deep.equal([better.getId()]);
    expect(await node.rpc.getTxSpendingPrevout([{ txid: coin.txid, vout }])).to.deep.equal([
      { txid: coin.txid, vout, spendingtxid: better.getId() },
    ]);
    await node.rpc.generateToAddress(1, miner);
  });

  describe("through the CLI: deploy, the relayer, a deposit paid from the node's wallet", () => {
    let evm: EvmNode;
    let relayer: CliProcess | undefined;
    let dir: string;
    const prefix = `test:btc-side:${process.pid}:${randomBytes(4).toString("hex")}`;

    before(async () => {
      evm = await startEvmNode();
      dir = mkdtempSync(path.join(tmpdir(), "hf-btc-side-deploy-"));
    });

    after(async () => {
      relayer?.proc.kill("SIGTERM");
      if (relayer !== undefined) await relayer.exited;
      await evm.close();
      rmSync(dir, { recursive: true, force: true });
      const r = new Redis(REDIS, { maxRetriesPerRequest: 1 });
      const keys = await r.keys(`${prefix}*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    });

    it("deploys anchored on this node, feeds its headers, and mints a deposit the CLI paid and waited for", async () => {
      const custodyKey = randomBytes(32).toString("hex");
      const common = {
        EVM_RPC_URL: evm.url,
        BITCOIN_RPC_URL: node.url,
        RELAYER_PRIVATE_KEY: DEV_KEYS[0],
        VAULT_CUSTODY_KEY: custodyKey,
        VAULT_CONFIRMATIONS: "2",
        VAULT_MIN_DEPOSIT: "10000",
      };
      const deploy = spawnCli(["deploy", "--out-dir", dir, "--anchor-margin", "0"], common);
      expect((await deploy.exited).code, deploy.output()).to.equal(0);
      const file = deploy.output().trim().split("\n").pop() ?? "";
      // The vault takes deposits only with collateral behind them: the operator (the deployer) posts test collateral.
      const bond = spawnCli(["bond", "--amount", "100", "--mint"], { ...common, DEPLOYMENT_FILE: file });
      expect((await bond.exited).code, bond.output()).to.equal(0);
      const env = { ...common, DEPLOYMENT_FILE: file, RELAYER_PRIVATE_KEY: DEV_KEYS[2] };
      relayer = spawnCli(["relayer", "--roles", "headers,deposits"], {
        ...env,
        REDIS_URL: REDIS,
        REDIS_PREFIX: prefix,
        METRICS_PORT: "0",
        BITCOIN_POLL_INTERVAL_MS: "200",
        JOB_BACKOFF_MS: "200",
        LOG_LEVEL: "info",
      });
      const mining = setInterval(() => void node.rpc.generateToAddress(1, miner).catch(() => undefined), 700);
      try {
        const recipient = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
        const dep = spawnCli(
          [
            "deposit",
            "--amount",
            "0.25",
            "--recipient",
            recipient,
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
        const result = JSON.parse(dep.output().slice(dep.output().indexOf("{"))) as {
          deposit: { txid: string };
          status: { stage: string; minted?: string };
        };
        expect(result.status.stage).to.equal("minted");
        // The deposit is a real transaction of this node, confirmed in its chain.
        const tx = await node.rpc.getRawTransaction(result.deposit.txid, true);
        expect(tx.confirmations).to.be.at.least(2);
        const st = spawnCli(["status", "--deposit", result.deposit.txid, "--json"], env);
        expect((await st.exited).code, st.output()).to.equal(0);
        expect(st.output()).to.match(/"stage": ?"minted"/);
      } finally {
        clearInterval(mining);
      }
    });
  });

  it("npm run demo with BITCOIN_RPC_URL runs on this node: deposits minted, anchored by PoP, withdrawal paid and proven", async () => {
    const proc = spawn("npm", ["run", "demo"], {
      cwd: ROOT,
      env: { ...process.env, BITCOIN_RPC_URL: node.url },
      detached: true,
    });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.pid !== undefined && process.kill(-proc.pid, "SIGKILL"), 240_000);
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    clearTimeout(timer);
    expect(code, out).to.equal(0);
    const port = new URL(node.baseUrl).port;
    expect(out).to.match(
      new RegExp(`\\[1\\] the Bitcoin node at BITCOIN_RPC_URL, JSON-RPC on http://127\\.0\\.0\\.1:${port}/wallet/`),
    );
    expect(out).to.match(/minted 99\.90000000 hemiBTC to 0x[0-9a-fA-F]{40}, sequence [12]/);
    expect(out).to.include("provenance: OK, superfinal");
    expect(out).to.match(/received 39\.99999000 BTC on Bitcoin/);
    expect(out).to.match(/demo complete in [\d.]+ s/);
  });

  it("forms the node's command line: bitcoind -regtest with a private datadir, a free RPC port, -fallbackfee, -txindex", async () => {
    const o = { datadir: "/tmp/x", rpcPort: 40123, rpcUser: "u", rpcPassword: "p" };
    expect(bitcoindArgs(o)).to.include.members([
      "-regtest",
      "-datadir=/tmp/x",
      "-rpcport=40123",
      "-rpcuser=u",
      "-rpcpassword=p",
      "-fallbackfee=0.0002",
      "-txindex=1",
      "-listen=0",
    ]);
    expect(embeddedArgs(o)).to.deep.equal([
      "hemi-fabric",
      "btc-node",
      "--port",
      "40123",
      "--datadir",
      "/tmp/x",
      "--rpcuser",
      "u",
      "--rpcpassword",
      "p",
    ]);
    // BITCOIND that is not there: a clear error naming it, nothing left running.
    const missing = path.join(tmpdir(), `no-bitcoind-${randomBytes(4).toString("hex")}`);
    const err = await startSideNode({ BITCOIND: missing }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.include(`cannot start ${missing}`);
  });
});
