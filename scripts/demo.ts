/**
 * The main demo on the embedded defaults (`npm run demo`): BTC goes into the tunnel and comes back out.
 *
 *   embedded Bitcoin regtest node + a Hardhat node over HTTP + Redis (local, or a private redis-server)
 *   -> deploy BitcoinLightClient, BitcoinTunnel (+ HemiBTC) and the operator's vault
 *   -> the relayer in this process with the roles headers, deposits, withdrawals
 *   -> a faucet wallet (101 mined blocks), the operator posts collateral (the local TestCollateral token) to its vault
 *   -> a user locks 1 BTC with the SDK and follows it to the mint
 *   -> the user withdraws 0.4 BTC with the SDK and follows it to the payout on Bitcoin and its proof.
 *
 * Blocks are mined every MINE_INTERVAL_MS while the demo runs, like a fast regtest miner. Every wait is bounded;
 * on any failure it prints why (and the relayer's last log lines) and exits 1. Everything it started is stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { DEV_KEYS, startEvmNode } from "./lib/evmNode";
import { Redis } from "ioredis";
import pino from "pino";
import { startRegtestNode } from "../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../relayer/src/bitcoin/rpcClient";
import { randomKey } from "../relayer/src/bitcoin/txBuilder";
import { describeDeposit, describeWithdrawal } from "../relayer/src/cli/commands/tunnelCommon";
import { loadConfig, redactUrl } from "../relayer/src/config/load";
import { redisAnswers, resolveRedis } from "../relayer/src/core/redis";
import { deployFabric, vaultOptionFromConfig } from "../relayer/src/evm/deployFabric";
import { writeDeployment } from "../relayer/src/evm/deployment";
import { addCollateralFromBalance, mintTestCollateral } from "../relayer/src/evm/tunnelVault";
import { formatUnits, parseUnits } from "ethers";
import { startRelayer } from "../relayer/src/relayer";
import { TunnelClient, formatBtc, parseAmount, type DepositStatus } from "../relayer/src/sdk";

/**
 * Hardhat's development accounts: 0 deploys and operates the vault, 1 is the user, 2 is the relayer's signer (its
 * EVM calls are permissionless; a key of its own keeps its nonces apart from the operator's collateral transactions).
 */
const [OPERATOR_KEY, USER_KEY, RELAYER_KEY] = DEV_KEYS;
const MINE_INTERVAL_MS = 400;
const STEP_TIMEOUT_MS = 60_000;
const DEMO_TIMEOUT_MS = 170_000;
/** Collateral the operator posts: 300 tCOL, worth 3 BTC at the local price (1 tCOL = 0.01 BTC), backing 2 BTC. */
const COLLATERAL = parseUnits("300", 18);
const DEPOSIT = parseAmount("1");
const WITHDRAWAL = parseAmount("0.4");

let stepNo = 0;
function step(text: string): void {
  stepNo++;
  console.log(`\n[${stepNo}] ${text}`);
}
function detail(text: string): void {
  console.log(`    ${text}`);
}

/** Things to stop, newest first. */
const cleanups: { what: string; run: () => Promise<void> | void }[] = [];
function onCleanup(what: string, run: () => Promise<void> | void): void {
  cleanups.push({ what, run });
}
async function cleanUp(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try {
      await c.run();
    } catch (err) {
      console.error(`cleanup of ${c.what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  cleanups.length = 0;
}

/** Deletes the demo's keys from a shared Redis (its prefix is random, so nothing else matches). */
async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on("error", () => undefined); // a failure surfaces as the rejected command
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await r.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

async function demo(logFile: string, workDir: string): Promise<void> {
  const started = Date.now();
  const secs = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  // 1. Bitcoin
  const btcNode = await startRegtestNode({ port: 0 });
  onCleanup("Bitcoin node", () => btcNode.close());
  const rpc = new BitcoinRpcClient({ url: btcNode.url });
  step(`embedded Bitcoin regtest node: JSON-RPC on ${btcNode.url.replace(/\/\/.*@/, "//")} (bitcoind's protocol)`);
  const faucet = await rpc.getNewAddress("faucet");
  await rpc.generateToAddress(101, faucet);
  detail(`faucet wallet: mined 101 blocks to ${faucet}; balance ${await rpc.getBalance()} BTC (one mature coinbase)`);

  // 2. EVM
  const evmNode = await startEvmNode();
  onCleanup("Hardhat node", () => evmNode.close());
  const evmUrl = evmNode.url;
  const provider = new JsonRpcProvider(evmUrl, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 100;
  onCleanup("EVM provider", () => provider.destroy());
  step(`Hardhat node (chain 31337): JSON-RPC on ${evmUrl}`);

  // 3. Redis
  const redis = await resolveRedis({ url: process.env.REDIS_URL });
  onCleanup("Redis", () => redis.close());
  if (!(await redisAnswers(redis.url, 2_000))) {
    throw new Error(`Redis at ${redactUrl(redis.url)} does not answer (REDIS_URL): start it, or unset REDIS_URL`);
  }
  const prefix = `hf-demo-${randomBytes(6).toString("hex")}`;
  if (!redis.private) onCleanup("Redis keys", () => dropRedisKeys(redis.url, prefix));
  step(`Redis: ${redis.private ? "a private redis-server" : "the local Redis"} at ${redis.url} (key prefix ${prefix})`);

  // 4. Deploy
  const custodyKey = randomKey();
  const cfg = loadConfig({
    env: {
      EVM_RPC_URL: evmUrl,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: RELAYER_KEY,
      DEPLOYMENTS_DIR: workDir,
      VAULT_CUSTODY_KEY: Buffer.from(custodyKey.privateKey ?? []).toString("hex"),
      VAULT_CONFIRMATIONS: "6",
      VAULT_MIN_DEPOSIT: "10000",
      VAULT_DEPOSIT_FEE_BPS: "10",
      VAULT_WITHDRAWAL_FLAT_FEE: "1000",
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "200",
      STARTUP_RETRIES: "2",
      LOG_LEVEL: "info",
    },
  });
  const operator = new Wallet(OPERATOR_KEY, provider);
  const user = new Wallet(USER_KEY, provider);
  const deployment = await deployFabric({
    signer: operator,
    bitcoin: rpc,
    anchorHeight: await rpc.getBlockCount(),
    anchorMargin: 0,
    vault: vaultOptionFromConfig(cfg),
  });
  const file = writeDeployment(workDir, deployment);
  const vaultId = deployment.vaults?.[0]?.id;
  if (vaultId === undefined) throw new Error("deploy created no vault");
  step(`deployed (anchored at Bitcoin block ${deployment.anchor.height}); ${file}`);
  for (const [name, address] of Object.entries(deployment.contracts)) detail(`${name.padEnd(18)} ${address}`);
  const userClient = TunnelClient.fromDeployment(deployment, {
    provider,
    signer: user,
    bitcoin: rpc,
    pollIntervalMs: 200,
  });
  const operatorClient = TunnelClient.fromDeployment(deployment, {
    provider,
    signer: operator,
    bitcoin: rpc,
    pollIntervalMs: 200,
  });
  const v = await userClient.vault(vaultId);
  detail(
    `vault ${vaultId}: operator ${v.operator}, custody ${v.address} (P2WPKH of VAULT_CUSTODY_KEY), ` +
      `${v.confirmations} confirmations, min ${v.minDeposit} sat, deposit fee ${v.depositFeeBps} bps, withdrawal fee ${v.withdrawalFlatFee} sat`,
  );

  // 5. Relayer
  const log = pino({ level: "info", name: "relayer" }, pino.destination({ dest: logFile, sync: true }));
  const relayer = await startRelayer(cfg, ["headers", "deposits", "withdrawals"], log);
  onCleanup("relayer", () => relayer.stop());
  step(
    `relayer running in this process: roles headers, deposits, withdrawals; signer ${relayer.signer}; log ${logFile}`,
  );

  // 6. Miner
  let mining = false;
  let mined = 0;
  const miner = setInterval(() => {
    if (mining) return;
    mining = true;
    rpc
      .generateToAddress(1, faucet)
      .then(() => void mined++)
      .catch(() => undefined)
      .finally(() => (mining = false));
  }, MINE_INTERVAL_MS);
  onCleanup("miner", () => clearInterval(miner));
  step(`mining a Bitcoin block every ${MINE_INTERVAL_MS} ms from now on`);

  const printDeposit = (s: DepositStatus): void => detail(describeDeposit(s));

  // 7. Collateral
  step(
    `operator posts ${formatUnits(COLLATERAL, 18)} tCOL of collateral to vault ${vaultId} (minted from the local test token)`,
  );
  await mintTestCollateral(operator, deployment.contracts.BitcoinTunnel, COLLATERAL);
  const collateral = await addCollateralFromBalance(operator, deployment.contracts.BitcoinTunnel, vaultId, COLLATERAL);
  const backing = await operatorClient.tunnel.vaultBacking(vaultId);
  detail(
    `vault ${vaultId} collateral: ${formatUnits(collateral, 18)} tCOL, worth ${formatBtc(backing.collateralSats)} BTC ` +
      `(backs ${formatBtc(backing.depositCapacity)} BTC of deposits at the 150% collateral ratio)`,
  );

  // 8. User deposit
  const ins = await userClient.depositInstructions(user.address, vaultId);
  step(`user ${user.address} locks ${formatBtc(DEPOSIT)} BTC from the faucet wallet with the SDK`);
  detail(`instructions: pay ${ins.address}; OP_RETURN ${ins.opReturnScript}; tunnel fee ${ins.tunnelFee(DEPOSIT)} sat`);
  const dep = await userClient.sendDepositFromNodeWallet({ amountSats: DEPOSIT, recipient: user.address, vaultId });
  detail(
    `deposit tx ${dep.txid} output ${dep.vout}, network fee ${dep.fee} sat (funded by faucet tx ${dep.fundingTxid})`,
  );
  const minted = await userClient.trackDeposit(dep.txid, { timeoutMs: STEP_TIMEOUT_MS, onUpdate: printDeposit });
  const balance = await userClient.balanceOf(user.address);
  detail(`user hemiBTC balance: ${formatBtc(balance)} (sequence ${minted.sequence}, EVM tx ${minted.evmTxHash})`);
  if (balance !== DEPOSIT - ins.tunnelFee(DEPOSIT))
    throw new Error(`user balance ${balance} is not the deposit minus the fee`);

  // 9. Withdrawal
  const payTo = await rpc.getNewAddress("user");
  step(`user withdraws ${formatBtc(WITHDRAWAL)} hemiBTC to ${payTo} with the SDK`);
  const req = await userClient.requestWithdrawal({ to: payTo, sats: WITHDRAWAL });
  detail(
    `withdrawal ${req.id} from vault ${req.vaultId}: burned ${formatBtc(req.sats)} hemiBTC, payout ${formatBtc(req.payout)} BTC ` +
      `(fee ${req.fee} sat), EVM tx ${req.evmTxHash}`,
  );
  const done = await userClient.trackWithdrawal(req.id, {
    timeoutMs: STEP_TIMEOUT_MS,
    onUpdate: (s) => detail(describeWithdrawal(s)),
  });
  if (done.stage !== "finalized") throw new Error(`withdrawal ${req.id} ended ${done.stage}, not finalized`);
  const received = (await rpc.listUnspent(0, 9_999_999, [payTo])).reduce((s, u) => s + Math.round(u.amount * 1e8), 0);
  if (BigInt(received) !== req.payout) throw new Error(`${payTo} holds ${received} sat, expected ${req.payout}`);
  detail(`${payTo} received ${formatBtc(BigInt(received))} BTC on Bitcoin (payout ${done.payoutTxid})`);

  // 10. Summary
  clearInterval(miner);
  const sum = await userClient.summary(5);
  step(`summary after ${secs()} (${mined} blocks mined by the demo's miner)`);
  detail(`Bitcoin tip ${sum.bitcoinTip.height}, light client best ${sum.lightClientBest.height}`);
  detail(
    `hemiBTC supply ${formatBtc(sum.totalSupply)}; deposits minted ${sum.depositCount}; withdrawals ${sum.withdrawalCount}`,
  );
  for (const x of sum.vaults) {
    detail(
      `vault ${x.id} ${x.status}: custody ${formatBtc(x.custody)} BTC, pending ${formatBtc(x.pending)}, collateral ${formatUnits(x.collateral, 18)} tCOL, fees ${x.accruedFees} sat`,
    );
  }
  detail(
    `user: ${formatBtc(await userClient.balanceOf(user.address))} hemiBTC left, ${formatBtc(req.payout)} BTC back on Bitcoin`,
  );
  console.log(`\ndemo complete in ${secs()}: BTC locked, hemiBTC minted, hemiBTC burned, BTC paid back and proven`);
}

async function main(): Promise<number> {
  const workDir = mkdtempSync(path.join(tmpdir(), "hemi-fabric-demo-"));
  const logFile = path.join(workDir, "relayer.log");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s`)),
      DEMO_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([demo(logFile, workDir), timeout]);
    return 0;
  } catch (err) {
    const verbose = process.env.DEBUG !== undefined && err instanceof Error;
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    if (verbose) console.error(err.stack);
    if (existsSync(logFile)) {
      const lines = readFileSync(logFile, "utf8").trim().split("\n").slice(-25);
      console.error(`\nlast relayer log lines (${logFile}):\n${lines.join("\n")}`);
    }
    return 1;
  } finally {
    clearTimeout(timer);
    await cleanUp();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${String(err)}`);
    process.exit(1);
  },
);
