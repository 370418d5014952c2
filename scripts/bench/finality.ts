/**
 * Hemi's finality interfaces benchmark: the latency of each answer (median and p95 over repeated requests, one
 * at a time, on the test machine), on real parts: the embedded regtest node, the PoP contracts on the Hardhat
 * network served over HTTP, a keystone published by a real PoP transaction and 10 Bitcoin blocks on top.
 * Rows: a pass-through call straight to Hardhat and through the proxy (the proxy's overhead), BFG's
 * keystonefinality for a published, a pending and an unknown keystone, the three Hemi methods, a mixed batch.
 * No contract path is added (the interfaces only read), so there is no gas to measure.
 * Run: npx hardhat run scripts/bench/finality.ts (npm run bench:finality). Writes bench/results/finality.json.
 */
import { network } from "hardhat";
import { startEvmNode } from "../lib/evmNode";
import { startFinalityServices } from "../../relayer/src/finality/finalityServices";
import { keystoneIdDisplay } from "../../relayer/src/pop/keystone";
import { mineBtc, PopMiner, proofOf, recordNext, startPopChain } from "../../test/pop/popChain";
import { printTable, writeBenchResult } from "./report";

const RUNS = 40;

async function timeIt(fn: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p95: ms[Math.floor(ms.length * 0.95)] };
}

async function main(): Promise<void> {
  console.log("starting the regtest node, the PoP contracts, Hardhat over HTTP, BFG and the proxy ...");
  const c = await startPopChain({ interval: 25 });
  const evm = await startEvmNode({ provider: network.provider });
  const svc = await startFinalityServices({
    evmUrl: evm.url,
    chainId: 31337,
    pop: { keystoneLedger: c.dep.keystoneLedger, popVerifier: c.dep.popVerifier },
    rpcPort: 0,
    bfgPort: 0,
  });
  try {
    const published = await recordNext(c);
    const pending = await recordNext(c);
    const miner = await PopMiner.funded(c);
    const pop = await miner.publish(published.abbrev);
    await mineBtc(c, 1);
    await (await c.verifier.submitPop(await proofOf(c, pop.txid))).wait();
    await mineBtc(c, 10);
    console.log(`keystones ${published.n} (published, 10 confirmations) and ${pending.n} (pending) recorded`);
    const post = async (url: string, body: string): Promise<string> =>
      (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).text();
    const call = (method: string, params: unknown[]): string =>
      JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
    const block = (await network.provider.send("eth_getBlockByNumber", [
      "0x" + (published.n - 1).toString(16),
      false,
    ])) as {
      hash: string;
    };
    const cases: [string, () => Promise<unknown>][] = [
      ["eth_blockNumber straight to Hardhat", () => post(evm.url, call("eth_blockNumber", []))],
      ["eth_blockNumber through the proxy", () => post(svc.rpcUrl, call("eth_blockNumber", []))],
      [
        "BFG keystonefinality, published",
        () => fetch(`${svc.bfgUrl}/v2/keystonefinality/${keystoneIdDisplay(published.abbrev)}`).then((r) => r.text()),
      ],
      [
        "BFG keystonefinality, pending",
        () => fetch(`${svc.bfgUrl}/v2/keystonefinality/${keystoneIdDisplay(pending.abbrev)}`).then((r) => r.text()),
      ],
      [
        "BFG keystonefinality, unknown",
        () => fetch(`${svc.bfgUrl}/v2/keystonefinality/${"ab".repeat(32)}`).then((r) => r.text()),
      ],
      [
        "optimism_btcFinalityByBlockHash",
        () => post(svc.rpcUrl, call("optimism_btcFinalityByBlockHash", [block.hash])),
      ],
      [
        "kss_getKeystone(hash, 10)",
        () => post(svc.rpcUrl, call("kss_getKeystone", [keystoneIdDisplay(published.abbrev), 10])),
      ],
      ["kss_getLatestKeystones(10)", () => post(svc.rpcUrl, call("kss_getLatestKeystones", [10]))],
      [
        "mixed batch (eth_chainId + kss_getLatestKeystones(2))",
        () => post(svc.rpcUrl, `[${call("eth_chainId", [])},${call("kss_getLatestKeystones", [2])}]`),
      ],
    ];
    const rows: { request: string; medianMs: number; p95Ms: number }[] = [];
    for (const [name, fn] of cases) {
      const t = await timeIt(fn);
      rows.push({ request: name, medianMs: Number(t.median.toFixed(2)), p95Ms: Number(t.p95.toFixed(2)) });
    }
    printTable(
      `Hemi's finality interfaces: latency per request (${RUNS} sequential requests each)`,
      ["request", "median ms", "p95 ms"],
      rows.map((r) => [r.request, r.medianMs, r.p95Ms]),
    );
    console.log(`\nwrote ${writeBenchResult("finality", { runs: RUNS, rows })}`);
  } finally {
    await svc.close();
    await evm.close();
    await c.t.running.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
