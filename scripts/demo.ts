/**
 * The main demo on the embedded defaults (`npm run demo`): the seed's story, a treasury's BTC from Bitcoin to
 * superfinal hemiBTC and back.
 *
 *   the Bitcoin node BITCOIN_RPC_URL names (regtest), else an embedded regtest node + a Hardhat node over HTTP + Redis (local, or a private redis-server)
 *   -> a treasury with its own Bitcoin key (block rewards mined to it) and EVM account; a funded PoP miner key
 *   -> deploy BitcoinLightClient, BitcoinTunnel (+ HemiBTC), the operator's vault and the PoP contracts
 *   -> the relayer in this process with the roles headers, deposits, withdrawals, keystones, pop
 *   -> the operator posts collateral (the local TestCollateral token) for 100+ BTC at the 150% rule
 *   -> the treasury locks 100 BTC and a user 1 BTC at the same time; both minted in Bitcoin order
 *   -> the keystone covering the treasury's mint is recorded, published on Bitcoin by PoP, proven, and followed to
 *      superfinality (10 Bitcoin blocks on its publication, BFG's rule)
 *   -> the provenance report of the treasury's deposit: every link must pass and the status be superfinal
 *   -> the treasury withdraws 40 BTC, paid on Bitcoin and proven
 *   -> the block that finalized the withdrawal followed to superfinality in the same way, then the withdrawal's
 *      provenance report (burn, payout, finalization, keystone, PoP): every link must pass, superfinal.
 *
 * Bitcoin blocks are mined every MINE_INTERVAL_MS while the demo waits on Bitcoin (not while the provenance report
 * is checked); EVM blocks every EVM_BLOCK_MS until superfinality, so that keystones fall due as on a sequencer. Every
 * wait is bounded; on any failure it prints why (and the relayer's last log lines) and exits 1. Everything it
 * started is stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, Network, Wallet, formatUnits, parseUnits } from "ethers";
import { Redis } from "ioredis";
import pino from "pino";
import { IntervalMiner } from "./lib/blockMiner";
import { openBitcoinNode } from "./lib/bitcoinNode";
import { DEV_KEYS, startEvmNode } from "./lib/evmNode";
import { waitForSuperfinality } from "./lib/anchoring";
import { fundFromBlockRewards } from "./lib/treasury";
import { displayToInternal } from "../relayer/src/bitcoin/byteOrder";
import { keyOutput, randomKey } from "../relayer/src/bitcoin/txBuilder";
import { describeDeposit, describeWithdrawal } from "../relayer/src/cli/commands/tunnelCommon";
import { loadConfig, redactUrl } from "../relayer/src/config/load";
import { redisAnswers, resolveRedis } from "../relayer/src/core/redis";
import { splitPopMinerCoin } from "../relayer/src/devnet/popMinerCoins";
import { loadArtifact } from "../relayer/src/evm/artifacts";
import { deployFabric, vaultOptionFromConfig } from "../relayer/src/evm/deployFabric";
import { writeDeployment } from "../relayer/src/evm/deployment";
import { LightClientReader } from "../relayer/src/evm/lightClient";
import { addCollateralFromBalance, mintTestCollateral } from "../relayer/src/evm/tunnelVault";
import { KeystoneLedgerClient, PopVerifierClient } from "../relayer/src/pop/popContracts";
import { minerEvmAddress } from "../relayer/src/pop/popTx";
import { provenanceDepsOf } from "../relayer/src/provenance/deps";
import { provenance, withdrawalProvenance } from "../relayer/src/provenance/provenance";
import { formatProvenance, formatWithdrawalProvenance } from "../relayer/src/provenance/report";
import { depositRecord, type ProvenanceLink } from "../relayer/src/provenance/types";
import { startRelayer } from "../relayer/src/relayer";
import { TunnelClient, formatBtc, parseAmount, type DepositStatus } from "../relayer/src/sdk";

/**
 * Hardhat's development accounts: 0 deploys and operates the vault, 1 is the user, 2 is the relayer's signer (its
 * EVM calls are permissionless; a key of its own keeps its nonces apart from the operator's collateral transactions;
 * it also records keystones, holding KeystoneLedger's SEQUENCER_ROLE), 3 is the treasury's EVM account.
 */
const [OPERATOR_KEY, USER_KEY, RELAYER_KEY, TREASURY_KEY] = DEV_KEYS;
const MINE_INTERVAL_MS = 400;
/** An EVM block this often (besides automine) until superfinality, like a sequencer, so that keystones fall due. */
const EVM_BLOCK_MS = 250;
/** A keystone every this many EVM blocks (the default is 25; fewer keeps the demo short). */
const KEYSTONE_INTERVAL = 10;
const STEP_TIMEOUT_MS = 60_000;
const DEMO_TIMEOUT_MS = 170_000;
const TREASURY_DEPOSIT = parseAmount("100");
/** The treasury's block rewards must cover the deposit and its network fee. */
const TREASURY_FUNDING = TREASURY_DEPOSIT + 100_000n;
const USER_DEPOSIT = parseAmount("1");
const WITHDRAWAL = parseAmount("40");
/**
 * Collateral the operator posts: 15,300 tCOL, worth 153 BTC at the local price (1 tCOL = 0.01 BTC), backing 102 BTC
 * at the 150% collateral ratio: the treasury's 100 BTC and the user's 1 BTC.
 */
const COLLATERAL = parseUnits("15300", 18);
/** The PoP miner's funding (P2PKH), split into coins so several publications can be in flight. */
const POP_MINER_BTC = 0.2;

let stepNo = 0;
function step(text: string): void {
  stepNo++;
  console.log(`\n[${stepNo}] ${text}`);
}
function detail(text: string): void {
  console.log(`    ${text}`);
}
/** A provenance report, indented under its step. */
function printReport(text: string): void {
  console.log(
    text
      .split("\n")
      .map((l) => (l === "" ? l : `    ${l}`))
      .join("\n"),
  );
}
/** The demo's bar for a provenance report: superfinal with every link passing. */
function requireSuperfinal(status: string, links: readonly ProvenanceLink[]): void {
  const notPassed = links.filter((l) => l.status !== "pass").map((l) => `${l.name} ${l.status}`);
  if (status !== "superfinal" || notPassed.length > 0)
    throw new Error(
      `the provenance report is ${status}, not superfinal${notPassed.length > 0 ? ` (${notPassed.join(", ")})` : ""}`,
    );
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function demo(logFile: string, workDir: string): Promise<void> {
  const started = Date.now();
  const secs = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  // 1. Bitcoin: the node BITCOIN_RPC_URL names (a real bitcoind on regtest), else a new embedded node
  const btcNode = await openBitcoinNode();
  onCleanup("Bitcoin node", () => btcNode.close());
  const { rpc, faucet } = btcNode;
  step(btcNode.description);
  detail(`faucet wallet: mined 101 blocks to ${faucet}; balance ${await rpc.getBalance()} BTC`);

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

  // 4. The treasury and the PoP miner on Bitcoin
  const treasuryKey = randomKey();
  const treasury = new Wallet(TREASURY_KEY, provider);
  const funded = await fundFromBlockRewards(rpc, treasuryKey, TREASURY_FUNDING, faucet);
  step(`treasury: Bitcoin key with P2WPKH address ${funded.address}, EVM account ${treasury.address}`);
  detail(
    `holds ${formatBtc(funded.total)} BTC: the rewards of ${funded.coins.length} blocks mined to it, matured by 100 more (tip ${funded.tip})`,
  );
  const popMinerKey = randomKey();
  const popMinerHex = Buffer.from(popMinerKey.privateKey ?? []).toString("hex");
  const popMinerAddress = keyOutput(popMinerKey, "p2pkh").address;
  await rpc.sendToAddress(popMinerAddress, POP_MINER_BTC);
  await rpc.generateToAddress(1, faucet);
  const popCoins = await splitPopMinerCoin(rpc, popMinerHex, faucet);
  detail(
    `PoP miner: ${POP_MINER_BTC} BTC from the faucet to ${popMinerAddress} (P2PKH), split into ${popCoins} coins; ` +
      `rewarded at ${minerEvmAddress(popMinerKey)}`,
  );

  // 5. Deploy
  const custodyKey = randomKey();
  const relayerAddress = new Wallet(RELAYER_KEY).address;
  const cfg = loadConfig({
    env: {
      EVM_RPC_URL: evmUrl,
      BITCOIN_RPC_URL: btcNode.url,
      ...(btcNode.cookieFile !== undefined ? { BITCOIN_RPC_COOKIE_FILE: btcNode.cookieFile } : {}),
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: RELAYER_KEY,
      DEPLOYMENTS_DIR: workDir,
      VAULT_CUSTODY_KEY: Buffer.from(custodyKey.privateKey ?? []).toString("hex"),
      VAULT_CONFIRMATIONS: "6",
      VAULT_MIN_DEPOSIT: "10000",
      VAULT_DEPOSIT_FEE_BPS: "10",
      VAULT_WITHDRAWAL_FLAT_FEE: "1000",
      KEYSTONE_INTERVAL: String(KEYSTONE_INTERVAL),
      POP_SEQUENCER_ADDRESS: relayerAddress,
      POP_MINER_KEY: popMinerHex,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      KEYSTONES_POLL_INTERVAL_MS: "200",
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
    pop: { interval: cfg.KEYSTONE_INTERVAL, payoutDelay: cfg.POP_PAYOUT_DELAY },
    popSequencer: cfg.POP_SEQUENCER_ADDRESS,
  });
  const file = writeDeployment(workDir, deployment);
  const vaultId = deployment.vaults?.[0]?.id;
  if (vaultId === undefined) throw new Error("deploy created no vault");
  const pop = deployment.pop;
  if (pop === undefined) throw new Error("deploy created no PoP contracts");
  step(`deployed (anchored at Bitcoin block ${deployment.anchor.height}); ${file}`);
  for (const [name, address] of Object.entries(deployment.contracts)) detail(`${name.padEnd(18)} ${address}`);
  detail(`${"KeystoneLedger".padEnd(18)} ${pop.keystoneLedger} (a keystone every ${pop.keystoneInterval} EVM blocks)`);
  detail(`${"PopVerifier".padEnd(18)} ${pop.popVerifier}`);
  const clientOf = (signer: Wallet): TunnelClient =>
    TunnelClient.fromDeployment(deployment, { provider, signer, bitcoin: rpc, pollIntervalMs: 200 });
  const userClient = clientOf(user);
  const treasuryClient = clientOf(treasury);
  const operatorClient = clientOf(operator);
  const v = await userClient.vault(vaultId);
  detail(
    `vault ${vaultId}: operator ${v.operator}, custody ${v.address} (P2WPKH of VAULT_CUSTODY_KEY), ` +
      `${v.confirmations} confirmations, min ${v.minDeposit} sat, deposit fee ${v.depositFeeBps} bps, withdrawal fee ${v.withdrawalFlatFee} sat`,
  );

  // 6. Relayer, and EVM blocks at the pace of a sequencer
  const log = pino({ level: "info", name: "relayer" }, pino.destination({ dest: logFile, sync: true }));
  const roles = ["headers", "deposits", "withdrawals", "keystones", "pop"] as const;
  const relayer = await startRelayer(cfg, [...roles], log);
  onCleanup("relayer", () => relayer.stop());
  await provider.send("evm_setIntervalMining", [EVM_BLOCK_MS]);
  onCleanup("EVM interval mining", () => provider.send("evm_setIntervalMining", [0]).then(() => undefined));
  step(`relayer running in this process: roles ${roles.join(", ")}; signer ${relayer.signer}; log ${logFile}`);
  detail(
    `an EVM block every ${EVM_BLOCK_MS} ms besides automine, so a keystone falls due every ${(KEYSTONE_INTERVAL * EVM_BLOCK_MS) / 1000} s`,
  );

  // 7. Miner
  const miner = new IntervalMiner(rpc, faucet, MINE_INTERVAL_MS);
  onCleanup("miner", () => miner.stop());
  miner.start();
  step(`mining a Bitcoin block every ${MINE_INTERVAL_MS} ms while the demo waits on Bitcoin`);

  // 8. Collateral
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
  if (backing.depositCapacity < TREASURY_DEPOSIT + USER_DEPOSIT)
    throw new Error(`vault ${vaultId} backs only ${backing.depositCapacity} sat: not enough for the deposits`);

  // 9. Deposits: the treasury from its own coins, a user from the faucet wallet, broadcast together
  step(
    `the treasury locks ${formatBtc(TREASURY_DEPOSIT)} BTC from its own coins, and a user ${formatBtc(USER_DEPOSIT)} BTC from the faucet wallet, with the SDK`,
  );
  const ins = await treasuryClient.depositInstructions(treasury.address, vaultId, TREASURY_DEPOSIT);
  detail(
    `instructions: pay ${ins.address}; OP_RETURN ${ins.opReturnScript}; tunnel fee ${ins.tunnelFee(TREASURY_DEPOSIT)} sat`,
  );
  const built = await treasuryClient.buildDeposit({
    inputs: funded.coins,
    amountSats: TREASURY_DEPOSIT,
    recipient: treasury.address,
    vaultId,
    changeAddress: funded.address,
  });
  const treasuryTxid = await treasuryClient.broadcast(built.hex);
  const userDep = await userClient.sendDepositFromNodeWallet({
    amountSats: USER_DEPOSIT,
    recipient: user.address,
    vaultId,
  });
  detail(
    `treasury deposit tx ${treasuryTxid} output 0, network fee ${built.fee} sat (${funded.coins.length} coinbase inputs)`,
  );
  detail(`user ${user.address} deposit tx ${userDep.txid} output ${userDep.vout}, network fee ${userDep.fee} sat`);
  // Every state of the treasury's deposit; of the user's (in the same blocks, most likely), only the mint.
  const track = (who: string, txid: string, every: boolean): Promise<DepositStatus> =>
    treasuryClient.trackDeposit(txid, {
      timeoutMs: STEP_TIMEOUT_MS,
      onUpdate: (s) => {
        if (every || s.stage === "minted") detail(`${who}: ${describeDeposit(s)}`);
      },
    });
  const [tMinted, uMinted] = await Promise.all([
    track("treasury", treasuryTxid, true),
    track("user", userDep.txid, false),
  ]);
  const treasuryBalance = await treasuryClient.balanceOf(treasury.address);
  if (treasuryBalance !== TREASURY_DEPOSIT - ins.tunnelFee(TREASURY_DEPOSIT))
    throw new Error(`treasury balance ${treasuryBalance} is not the deposit minus the fee`);
  detail(`treasury hemiBTC balance: ${formatBtc(treasuryBalance)}`);

  // 10. Bitcoin order
  const tunnel = new Contract(deployment.contracts.BitcoinTunnel, loadArtifact("BitcoinTunnel").abi, provider);
  const minted = await Promise.all(
    [
      { who: "treasury", s: tMinted, sats: TREASURY_DEPOSIT },
      { who: "user", s: uMinted, sats: USER_DEPOSIT },
    ].map(async (x) => ({ ...x, r: await depositRecord(tunnel, displayToInternal(x.s.txid), x.s.vout ?? 0) })),
  );
  minted.sort((a, b) => a.r.sequence - b.r.sequence);
  step("minted in Bitcoin order: the tunnel numbers deposits by their position on Bitcoin (height, tx, output)");
  for (const m of minted) {
    detail(
      `sequence ${m.r.sequence}: ${m.who.padEnd(8)} ${formatBtc(m.sats)} BTC, Bitcoin block ${m.r.blockHeight} tx ${m.r.txIndex} ` +
        `output ${m.s.vout ?? 0}, inBitcoinOrder ${m.r.inBitcoinOrder}`,
    );
  }
  const pos = (m: (typeof minted)[number]): number[] => [m.r.blockHeight, m.r.txIndex, m.s.vout ?? 0];
  const before = (a: number[], b: number[]): boolean =>
    a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])));
  if (minted.some((m) => !m.r.inBitcoinOrder) || !before(pos(minted[0]), pos(minted[1])))
    throw new Error("the deposits were not minted in Bitcoin order");
  const treasuryMint = minted.find((m) => m.who === "treasury");
  if (treasuryMint === undefined || tMinted.evmTxHash === undefined) throw new Error("the treasury's mint is missing");
  const mintReceipt = await provider.getTransactionReceipt(tMinted.evmTxHash);
  if (mintReceipt === null) throw new Error(`no receipt of the mint ${tMinted.evmTxHash}`);
  detail(`the treasury's mint: EVM tx ${tMinted.evmTxHash} in EVM block ${mintReceipt.blockNumber}`);

  // 11. PoP: the minting block's keystone anchored in Bitcoin, then superfinal
  step(`PoP: the keystone covering EVM block ${mintReceipt.blockNumber} goes to Bitcoin, then 10 blocks on it`);
  const lc = new LightClientReader(deployment.contracts.BitcoinLightClient, provider);
  const ledger = new KeystoneLedgerClient(pop.keystoneLedger, provider);
  const verifier = new PopVerifierClient(pop.popVerifier, provider);
  const anchored = await waitForSuperfinality({ provider, ledger, verifier }, mintReceipt.blockNumber, detail, {
    timeoutMs: 90_000,
    pollMs: 150,
  });

  // 12. Provenance, on a chain that holds still: no Bitcoin blocks, no interval EVM blocks, the light client at the tip
  const holdStill = async (): Promise<void> => {
    await miner.stop();
    await provider.send("evm_setIntervalMining", [0]);
    const lcDeadline = Date.now() + STEP_TIMEOUT_MS;
    while ((await lc.bestBlock()).hash !== displayToInternal(await rpc.getBestBlockHash())) {
      if (Date.now() > lcDeadline) throw new Error("the light client did not reach the Bitcoin tip");
      await sleep(100);
    }
  };
  await holdStill();
  const provenanceDeps = await provenanceDepsOf(provider, rpc, deployment);
  step(`provenance of the treasury's deposit ${treasuryTxid}:0 (the library behind \`npx hemi-fabric provenance\`)`);
  const report = await provenance(provenanceDeps, { kind: "outpoint", txid: treasuryTxid, vout: 0 });
  printReport(formatProvenance(report));
  requireSuperfinal(report.status, report.links);

  // 13. Withdrawal: the treasury takes 40 BTC back to its own Bitcoin key
  miner.start();
  step(`the treasury withdraws ${formatBtc(WITHDRAWAL)} hemiBTC to its Bitcoin address ${funded.address} with the SDK`);
  const req = await treasuryClient.requestWithdrawal({ to: funded.address, sats: WITHDRAWAL });
  detail(
    `withdrawal ${req.id} from vault ${req.vaultId}: burned ${formatBtc(req.sats)} hemiBTC, payout ${formatBtc(req.payout)} BTC ` +
      `(fee ${req.fee} sat), EVM tx ${req.evmTxHash}`,
  );
  const done = await treasuryClient.trackWithdrawal(req.id, {
    timeoutMs: STEP_TIMEOUT_MS,
    onUpdate: (s) => detail(describeWithdrawal(s)),
  });
  if (done.stage !== "finalized" || done.payoutTxid === undefined)
    throw new Error(`withdrawal ${req.id} ended ${done.stage}, not finalized`);
  const payout = await rpc.getRawTransaction(done.payoutTxid, true);
  const received = payout.vout
    .filter((o) => o.scriptPubKey.address === funded.address)
    .reduce((s, o) => s + BigInt(Math.round(o.value * 1e8)), 0n);
  if (received !== req.payout)
    throw new Error(`payout ${done.payoutTxid} pays ${received} sat to the treasury, expected ${req.payout}`);
  detail(`${funded.address} received ${formatBtc(received)} BTC on Bitcoin (payout ${done.payoutTxid})`);

  // 14. The way back, checked: the finalization's block anchored by PoP to superfinality, then its provenance
  const finalize = await provider.getTransactionReceipt(done.finalizeTxHash ?? "");
  if (finalize === null) throw new Error(`no receipt of the finalization of withdrawal ${req.id}`);
  step(
    `PoP: the keystone covering the finalization (EVM block ${finalize.blockNumber}) goes to Bitcoin, then 10 blocks`,
  );
  await provider.send("evm_setIntervalMining", [EVM_BLOCK_MS]);
  const backAnchored = await waitForSuperfinality({ provider, ledger, verifier }, finalize.blockNumber, detail, {
    timeoutMs: 90_000,
    pollMs: 150,
  });
  await holdStill();
  step(`provenance of withdrawal ${req.id} (\`npx hemi-fabric provenance --withdrawal ${req.id}\`)`);
  const back = await withdrawalProvenance(provenanceDeps, req.id);
  printReport(formatWithdrawalProvenance(back));
  requireSuperfinal(back.status, back.links);

  // 16. Summary
  const sum = await treasuryClient.summary(5);
  step(`summary after ${secs()} (${miner.mined} blocks mined by the demo's miner)`);
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
    `keystones recorded up to EVM block ${await ledger.lastKeystoneNumber()}; the treasury's mint superfinal through keystone ` +
      `${anchored.fromKeystone}, published in Bitcoin block ${anchored.publication.btcHeight}; the withdrawal's ` +
      `finalization superfinal through keystone ${backAnchored.fromKeystone}, published in Bitcoin block ` +
      `${backAnchored.publication.btcHeight}`,
  );
  detail(
    `treasury: ${formatBtc(await treasuryClient.balanceOf(treasury.address))} hemiBTC left, ${formatBtc(req.payout)} BTC back on Bitcoin`,
  );
  console.log(
    `\ndemo complete in ${secs()}: 100 BTC locked, hemiBTC minted in Bitcoin order, anchored by PoP and superfinal, ` +
      "provenance checked, BTC paid back, proven, anchored and checked",
  );
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
