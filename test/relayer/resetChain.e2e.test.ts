/**
 * A reset EVM chain (issue 11, item 10): Hardhat restarted and `deploy` run again gives the same chain id and the same
 * addresses, so the relayer's Redis prefix is the same, but the old state (a deposit of the old deployment still
 * pending, cursors above the new head) would block every new deposit. The relayer must see that the state is another
 * deployment's and start fresh (or refuse, with the reason), and /healthz and /metrics must say when a role is stuck.
 */
import { expect } from "chai";
import { Contract, JsonRpcProvider, Network } from "ethers";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import type { KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { checkStateMarker, deploymentIdentity, markerKey } from "../../relayer/src/core/stateMarker";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import { TUNNEL_ABI } from "../../relayer/src/evm/tunnel";
import { orderKey } from "../../relayer/src/roles/deposits/depositRules";
import { DepositStore } from "../../relayer/src/roles/deposits/depositStore";
import { custodyScriptOf, parseCustodyKey } from "../../relayer/src/roles/withdrawals/custodyKey";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { removeTestKeys, TEST_REDIS_URL } from "./helpers/redisKeys";
import { deployWithCli, spawnCli, waitFor, type CliProcess } from "./helpers/relayerProcess";
import { buildDeposit, depositorCoins, type Coin } from "./helpers/tunnelBitcoin";

const RECIPIENT = "0x" + "42".repeat(20);

describe("relayer after the EVM chain is reset and redeployed (same addresses)", function () {
  this.timeout(300_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let port: number;
  let funder: KeyPair;
  let coins: Coin[];
  let miner: string;
  const children: CliProcess[] = [];
  const prefixes: string[] = [];
  const custodyKeyHex = randomBytes(32).toString("hex");
  const custodyScript = custodyScriptOf(parseCustodyKey(custodyKeyHex));
  const outDir = mkdtempSync(path.join(tmpdir(), "hf-reset-"));

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    ({ funder, coins, miner } = await depositorCoins(btc, 4));
    evm = await startEvmNode();
    port = Number(new URL(evm.url).port);
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await evm?.close();
    await btcNode?.close();
    await removeTestKeys(...prefixes);
  });

  function relayer(prefix: string, extra: Record<string, string> = {}): CliProcess {
    const cli = spawnCli(["relayer", "--roles", "headers,deposits,withdrawals"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: DEV_KEYS[1],
      VAULT_CUSTODY_KEY: custodyKeyHex,
      DEPLOYMENT_FILE: path.join(outDir, "31337.json"),
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      LOG_LEVEL: "info",
      ...extra,
    });
    children.push(cli);
    return cli;
  }

  async function deploy(): Promise<Deployment> {
    return readDeployment(
      await deployWithCli(outDir, {
        EVM_RPC_URL: evm.url,
        BITCOIN_RPC_URL: btcNode.url,
        RELAYER_PRIVATE_KEY: DEV_KEYS[0],
        DEPLOY_ANCHOR_MARGIN: "0",
        VAULT_CUSTODY_KEY: custodyKeyHex,
        VAULT_CONFIRMATIONS: "2",
      }),
    );
  }

  /** Broadcasts a deposit of `coin` to the vault and mines it in a block of its own; returns its txid. */
  async function depositAndMine(coin: Coin): Promise<string> {
    const tx = buildDeposit(funder, coin, { pays: [{ script: custodyScript, sats: 200_000n }], recipient: RECIPIENT });
    await btc.sendRawTransaction(tx.toHex());
    await btc.generateBlock(miner, [tx.getId()]);
    return tx.getId();
  }

  async function sequenceOf(d: Deployment, txid: string): Promise<bigint> {
    const provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    try {
      const tunnel = new Contract(d.contracts.BitcoinTunnel, TUNNEL_ABI, provider);
      return ((await tunnel.depositRecord(displayToInternal(txid), 0)) as { sequence: bigint }).sequence;
    } finally {
      provider.destroy();
    }
  }

  async function ops(r: CliProcess, what: "healthz" | "metrics"): Promise<{ status: number; body: string }> {
    const started = r.logs.find((l) => l.msg === "relayer started");
    const res = await fetch(`http://127.0.0.1:${started?.opsPort as number}/${what}`);
    return { status: res.status, body: await res.text() };
  }

  it("starts fresh on the new deployment (refusing first when told to) and mints a new deposit", async () => {
    const first = await deploy();
    const prefix = `hf-test-reset-${randomBytes(4).toString("hex")}`;
    prefixes.push(prefix);
    const a = relayer(prefix);
    await a.waitForLog((l) => l.msg === "relayer started", 60_000);
    // A deposit found but not yet minted (1 of 2 confirmations) when the chain goes away.
    const old = await depositAndMine(coins[0]);
    const oldHeight = await btc.getBlockCount();
    await a.waitForLog((l) => l.msg === "deposits found" && l.height === oldHeight, 30_000);
    // Let the withdrawals role move its EVM cursor to the old chain's head.
    await waitFor("EVM cursor saved", async () => (await cursor(prefix)) !== null, 10_000);
    a.proc.kill("SIGTERM");
    expect((await a.exited).code).to.equal(0);
    expect(await sequenceOf(first, old)).to.equal(0n);

    // Hardhat restarted on the same port: a new chain. One more Bitcoin block, then the same deploy again.
    await evm.close();
    evm = await startEvmNode({ port });
    await btc.generateToAddress(1, miner);
    const second = await deploy();
    expect(second.contracts).to.deep.equal(first.contracts);
    expect(second.anchor.height).to.be.above(oldHeight);

    // Told to refuse stale state, the relayer stops with the reason.
    const refusing = relayer(prefix, { STALE_STATE: "refuse" });
    const refused = await refusing.exited;
    expect(refused.code, refusing.output()).to.equal(2);
    expect(refusing.output()).to.match(/Redis state under prefix .* is stale: it belongs to another deployment/);

    // By default it removes the stale state and starts fresh.
    const b = relayer(prefix);
    const reset = await b.waitForLog((l) => l.msg?.toString().startsWith("Redis state was stale") === true, 60_000);
    expect(reset.reason).to.match(/belongs to another deployment .*the EVM chain was reset and redeployed/);
    await b.waitForLog((l) => l.msg === "relayer started", 60_000);
    const fresh = await depositAndMine(coins[1]);
    await btc.generateToAddress(2, miner);
    await waitFor("the new deposit minted", async () => (await sequenceOf(second, fresh)) === 1n, 60_000).catch(
      (err: unknown) => {
        throw new Error(`${(err as Error).message}\n${b.output().slice(-4000)}`);
      },
    );
    expect(await sequenceOf(second, old)).to.equal(0n);
    const health = await ops(b, "healthz");
    expect(health.status, health.body).to.equal(200);
    const metrics = (await ops(b, "metrics")).body;
    for (const role of ["headers", "deposits", "withdrawals"]) {
      expect(metrics).to.match(new RegExp(`^hemi_fabric_role_healthy\\{role="${role}"\\} 1$`, "m"));
      expect(metrics).to.match(
        new RegExp(`^hemi_fabric_role_last_progress_timestamp_seconds\\{role="${role}"\\} \\d+`, "m"),
      );
    }
    expect(metrics).to.match(/^hemi_fabric_role_lag\{role="withdrawals",unit="evm-blocks"\} \d+$/m);
    b.proc.kill("SIGTERM");
    expect((await b.exited).code).to.equal(0);
  });

  it("/healthz and /metrics say a role is stuck: a pending deposit below the light client's anchor holds every later one", async () => {
    const d = readDeployment(path.join(outDir, "31337.json"));
    const prefix = `hf-test-stuck-${randomBytes(4).toString("hex")}`;
    prefixes.push(prefix);
    // This deployment's marker (so the state is not taken for stale), and a deposit the light client cannot prove.
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    const provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    try {
      const identity = await deploymentIdentity(provider, {
        chainId: 31337,
        lightClient: d.contracts.BitcoinLightClient,
        tunnel: d.contracts.BitcoinTunnel,
        deployBlock: d.blockNumber,
      });
      const log = (await import("pino")).default({ level: "silent" });
      await checkStateMarker({
        redis,
        prefix,
        identity,
        evmHead: await provider.getBlockNumber(),
        policy: "refuse",
        log,
      });
      expect(await redis.exists(markerKey(prefix))).to.equal(1);
      const height = d.anchor.height - 1;
      const hash = await btc.getBlockHash(height);
      const txid = (await btc.getBlock(hash, 1)).tx[0] as unknown as string;
      await new DepositStore(redis, prefix).recordBlock(height, hash, [
        {
          txid,
          vout: 0,
          height,
          blockHash: hash,
          txIndex: 0,
          vaultId: 1,
          value: "200000",
          recipient: RECIPIENT,
          key: orderKey(height, 0, 0, txid),
        },
      ]);
    } finally {
      redis.disconnect();
      provider.destroy();
    }
    const r = relayer(prefix, { ROLE_STUCK_AFTER_MS: "2000" });
    await r.waitForLog((l) => l.msg === "relayer started", 60_000);
    await r.waitForLog((l) => l.msg === "role fault" && l.role === "deposits", 30_000);
    const health = await ops(r, "healthz");
    expect(health.status).to.equal(503);
    const body = JSON.parse(health.body) as { checks: Record<string, { ok: boolean; detail: { reason?: string } }> };
    expect(body.checks.deposits.ok).to.equal(false);
    expect(body.checks.deposits.detail.reason).to.match(
      new RegExp(
        `fault: pending deposit .* is in Bitcoin block ${d.anchor.height - 1}, below the light client's anchor ${d.anchor.height}: it can never be proven`,
      ),
    );
    expect(body.checks.headers.ok).to.equal(true);
    const metrics = (await ops(r, "metrics")).body;
    expect(metrics).to.match(/^hemi_fabric_role_healthy\{role="deposits"\} 0$/m);
    expect(metrics).to.match(/^hemi_fabric_role_healthy\{role="headers"\} 1$/m);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  async function cursor(prefix: string): Promise<string | null> {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
    try {
      return await redis.get(`${prefix}:state:withdrawals:evm-cursor`);
    } finally {
      redis.disconnect();
    }
  }
});
