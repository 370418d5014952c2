/**
 * Benchmark of the embedded regtest node: blocks mined per second (empty, and with signed transactions
 * going through sendrawtransaction) and RPC calls per second over real HTTP on 127.0.0.1
 * (getblockhash + getblockheader, sequential, concurrent and batched).
 * Run: npx hardhat run scripts/bench/btcNode.ts   (writes bench/results/btc-node.json)
 */
import { performance } from "node:perf_hooks";
import { startRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { printTable, writeBenchResult } from "./report";

const EMPTY_BLOCKS = 2_000;
const TX_BLOCKS = 150;
const TXS_PER_BLOCK = 10;
const RPC_SECONDS = 2;
const CONCURRENCY = 8;

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

async function main(): Promise<void> {
  const running = await startRegtestNode({ port: 0 });
  const rpc = new BitcoinRpcClient({ url: running.url, retries: 0 });
  const rows: (string | number)[][] = [];
  const results: Record<string, number> = {};
  try {
    const key = randomKey();
    const own = keyOutput(key, "p2wpkh");

    // 1. Empty blocks through generatetoaddress over RPC (one call for all of them).
    let t0 = performance.now();
    await rpc.generateToAddress(EMPTY_BLOCKS, own.address);
    let ms = performance.now() - t0;
    results.emptyBlocksPerSecondRpc = rate(EMPTY_BLOCKS, ms);
    rows.push([
      `mine ${EMPTY_BLOCKS} empty blocks (generatetoaddress)`,
      EMPTY_BLOCKS,
      Math.round(ms),
      results.emptyBlocksPerSecondRpc,
      "blocks/s",
    ]);

    // 2. In-process mining (no HTTP), same work.
    t0 = performance.now();
    running.node.generate(EMPTY_BLOCKS, own.script);
    ms = performance.now() - t0;
    results.emptyBlocksPerSecondInProcess = rate(EMPTY_BLOCKS, ms);
    rows.push([
      `mine ${EMPTY_BLOCKS} empty blocks (in-process)`,
      EMPTY_BLOCKS,
      Math.round(ms),
      results.emptyBlocksPerSecondInProcess,
      "blocks/s",
    ]);

    // 3. Blocks with signed P2WPKH transactions: each spends one mature coinbase of ours, sent with sendrawtransaction.
    const chain = running.node.chain;
    let height = 1;
    t0 = performance.now();
    for (let b = 0; b < TX_BLOCKS; b++) {
      const hexes: string[] = [];
      for (let i = 0; i < TXS_PER_BLOCK; i++, height++) {
        const entry = chain.atHeight(height);
        if (entry === undefined) throw new Error(`no block at ${height}`);
        const value = entry.txs[0].outs[0].value;
        const tx = buildSignedTx({
          inputs: [{ txid: entry.txids[0], vout: 0, value, script: own.script, key }],
          outputs: [
            { address: own.address, value: value / 2n },
            { address: own.address, value: value / 2n - 1_000n },
          ],
        });
        hexes.push(tx.toHex());
      }
      for (const hex of hexes) await rpc.sendRawTransaction(hex);
      const [hash] = await rpc.generateToAddress(1, own.address);
      if (b === 0 && (await rpc.getBlock(hash, 1)).tx.length !== TXS_PER_BLOCK + 1)
        throw new Error("transactions not mined");
    }
    ms = performance.now() - t0;
    results.txBlocksPerSecond = rate(TX_BLOCKS, ms);
    results.txsPerSecond = rate(TX_BLOCKS * TXS_PER_BLOCK, ms);
    rows.push([
      `${TX_BLOCKS} blocks x ${TXS_PER_BLOCK} signed txs (build+sign, sendrawtransaction, mine)`,
      TX_BLOCKS,
      Math.round(ms),
      results.txBlocksPerSecond,
      "blocks/s",
    ]);
    rows.push([`  same run, transactions`, TX_BLOCKS * TXS_PER_BLOCK, Math.round(ms), results.txsPerSecond, "txs/s"]);

    // 4. RPC: sequential getblockhash + getblockheader pairs for RPC_SECONDS.
    const tip = await rpc.getBlockCount();
    let calls = 0;
    t0 = performance.now();
    while (performance.now() - t0 < RPC_SECONDS * 1000) {
      const h = await rpc.getBlockHash((calls / 2) % tip);
      await rpc.getBlockHeaderHex(h);
      calls += 2;
    }
    ms = performance.now() - t0;
    results.rpcCallsPerSecondSequential = rate(calls, ms);
    rows.push([
      "RPC getblockhash+getblockheader, sequential",
      calls,
      Math.round(ms),
      results.rpcCallsPerSecondSequential,
      "calls/s",
    ]);

    // 5. Same with CONCURRENCY requests in flight (keep-alive connections).
    calls = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        let i = w;
        while (performance.now() - t0 < RPC_SECONDS * 1000) {
          const h = await rpc.getBlockHash(i % tip);
          await rpc.getBlockHeaderHex(h);
          calls += 2;
          i += CONCURRENCY;
        }
      }),
    );
    ms = performance.now() - t0;
    results.rpcCallsPerSecondConcurrent = rate(calls, ms);
    rows.push([
      `RPC getblockhash+getblockheader, ${CONCURRENCY} in flight`,
      calls,
      Math.round(ms),
      results.rpcCallsPerSecondConcurrent,
      "calls/s",
    ]);

    // 6. Batched: getRawHeaders = one batch of getblockhash + one batch of getblockheader per 1,000 heights.
    calls = 0;
    t0 = performance.now();
    while (performance.now() - t0 < RPC_SECONDS * 1000) {
      const got = await rpc.getRawHeaders(1, 2_000);
      calls += got.length * 2;
    }
    ms = performance.now() - t0;
    results.rpcCallsPerSecondBatched = rate(calls, ms);
    rows.push([
      "RPC getRawHeaders (batched, 1,000 per request)",
      calls,
      Math.round(ms),
      results.rpcCallsPerSecondBatched,
      "calls/s",
    ]);
  } finally {
    await running.close();
  }
  printTable("Embedded regtest node (127.0.0.1, real HTTP)", ["what", "count", "ms", "rate", "unit"], rows);
  const file = writeBenchResult("btc-node", { results, rows });
  console.log(`\nwritten to ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
