/**
 * The chain of trust, read back: how long a provenance check takes (a deposit's four links, a withdrawal's five)
 * and how long the live view's snapshot (/api/state) takes to read, cold and warm, on a real devnet started in this
 * process (embedded Bitcoin node, Hardhat node over HTTP, the relayer's roles, Redis). One deposit and one
 * withdrawal go through the whole path first, both anchored to superfinality by the devnet's PoP miner.
 * No contract path is added (provenance and the view only read), so there is no gas to measure.
 * Run: npx hardhat run scripts/bench/provenance.ts (npm run bench:provenance). Writes bench/results/provenance.json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Network, Wallet, parseUnits } from "ethers";
import { Redis } from "ioredis";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { loadOrCreateKeys } from "../../relayer/src/devnet/accounts";
import { fastDevnetOptions } from "../lib/fastDevnet";
import { startDevnet } from "../../relayer/src/devnet/devnet";
import { checkAnchors } from "../../relayer/src/pop/anchorCheck";
import { addCollateralFromBalance, mintTestCollateral } from "../../relayer/src/evm/tunnelVault";
import { provenanceDepsOf } from "../../relayer/src/provenance/deps";
import { provenance, withdrawalProvenance } from "../../relayer/src/provenance/provenance";
import { TunnelClient } from "../../relayer/src/sdk/tunnelClient";
import { FabricViewState } from "../../relayer/src/view/viewState";
import { waitForSuperfinality } from "../lib/anchoring";
import { printTable, writeBenchResult } from "./report";

const RUNS = 15;
/** The view's snapshot is kept this long; a warm read waits it out so that it reads the nodes again. */
const VIEW_CACHE_MS = 700;

async function timeIt(runs: number, fn: () => Promise<unknown>, pauseMs = 0): Promise<{ median: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))] };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "hf-bench-prov-"));
  console.log("starting a devnet (embedded Bitcoin node, Hardhat, relayer roles, PoP miner) ...");
  const devnet = await startDevnet(
    fastDevnetOptions(dir, { evmBlockIntervalMs: 500, logLevel: "warn", progress: (line) => console.log(`  ${line}`) }),
  );
  const provider = new JsonRpcProvider(devnet.evm.hardhatUrl, Network.from(devnet.evm.chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
  });
  const bitcoin = new BitcoinRpcClient({ url: devnet.bitcoin.url });
  const redis = new Redis(devnet.redis.url, { maxRetriesPerRequest: 2 });
  let mining = true;
  const miner = (async () => {
    while (mining) {
      await devnet.mine(1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    const operator = new Wallet(loadOrCreateKeys(path.join(dir, "data")).keys.operator, provider);
    const tunnelAddress = devnet.deployment.contracts.BitcoinTunnel as string;
    const vaultId = devnet.deployment.vaults?.[0]?.id ?? 1;
    await mintTestCollateral(operator, tunnelAddress, parseUnits("100", 18));
    await addCollateralFromBalance(operator, tunnelAddress, vaultId, parseUnits("100", 18));
    const client = TunnelClient.fromDeployment(devnet.deployment, { provider, signer: operator, bitcoin });
    const sent = await client.sendDepositFromNodeWallet({
      amountSats: 25_000_000n,
      recipient: operator.address,
      feeRate: 2,
    });
    const minted = await client.trackDeposit(sent.txid, { vout: sent.vout, timeoutMs: 120_000 });
    if (minted.stage !== "minted") throw new Error(`the deposit ended ${minted.stage}`);
    const w = await client.requestWithdrawal({ to: await bitcoin.getNewAddress("bench"), sats: 5_000_000n });
    const done = await client.trackWithdrawal(w.id, { timeoutMs: 120_000 });
    if (done.stage !== "finalized" || done.finalizeTxHash === undefined)
      throw new Error(`the withdrawal ended ${done.stage}`);
    const finalize = await provider.getTransactionReceipt(done.finalizeTxHash);
    if (finalize === null) throw new Error("no receipt of the finalization");
    const deps = await provenanceDepsOf(provider, bitcoin, devnet.deployment);
    await waitForSuperfinality(deps, finalize.blockNumber, (l) => console.log(`  ${l}`), {
      timeoutMs: 120_000,
      pollMs: 250,
    });
    mining = false;
    await miner;

    const query = { kind: "outpoint" as const, txid: sent.txid, vout: sent.vout };
    const dep = await provenance(deps, query);
    const wd = await withdrawalProvenance(deps, w.id);
    console.log(`deposit report ${dep.status}, withdrawal report ${wd.status}; timing ${RUNS} runs each ...`);
    if (dep.status !== "superfinal" || wd.status !== "superfinal")
      throw new Error(`reports not superfinal: deposit ${dep.status}, withdrawal ${wd.status}`);
    const evmHead = await provider.getBlockNumber();

    const depositCheck = await timeIt(RUNS, () => provenance(deps, query));
    const withdrawalCheck = await timeIt(RUNS, () => withdrawalProvenance(deps, w.id));
    const anchorCheck = await timeIt(RUNS, () =>
      checkAnchors({
        provider: deps.provider,
        ledger: deps.ledger,
        verifier: deps.verifier,
        lc: deps.lc,
        index: deps.index,
        bitcoinFromHeight: deps.bitcoinFromHeight,
        evmFromBlock: deps.evmFromBlock,
      }),
    );
    const sources = {
      provider,
      bitcoin,
      deployment: devnet.deployment,
      redis: { client: redis, prefix: devnet.redis.prefix },
    };
    const viewCold = await timeIt(5, () => new FabricViewState(sources).state());
    const view = new FabricViewState(sources);
    await view.state();
    const viewWarm = await timeIt(RUNS, () => view.state(), VIEW_CACHE_MS + 50);
    const viewCached = await timeIt(RUNS, () => view.state());

    const ms = (x: number): string => x.toFixed(1);
    const rows: [string, { median: number; p95: number }][] = [
      ["provenance of a deposit (4 links)", depositCheck],
      ["provenance of a withdrawal (5 links)", withdrawalCheck],
      ["  of which: the anchor check of every keystone", anchorCheck],
      ["view snapshot, cold (events from the deployment block)", viewCold],
      ["view snapshot, warm (new events only, cache expired)", viewWarm],
      ["view snapshot, from its 0.7 s cache", viewCached],
    ];
    printTable(
      `Chain of trust read back (EVM head ${evmHead}, Bitcoin tip ${(await bitcoin.getBlockchainInfo()).blocks})`,
      ["what", "median ms", "p95 ms"],
      rows.map(([what, t]) => [what, ms(t.median), ms(t.p95)]),
    );
    const file = writeBenchResult("provenance", {
      evmHead,
      runs: RUNS,
      results: Object.fromEntries(rows.map(([what, t]) => [what, { medianMs: t.median, p95Ms: t.p95 }])),
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    mining = false;
    await miner;
    provider.destroy();
    redis.disconnect();
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
