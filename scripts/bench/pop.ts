/**
 * Proof-of-Proof benchmark.
 *  1. PoP transaction vsize and fee at several rates (real signed transactions built by relayer/src/pop/popTx.ts).
 *  2. Gas of recordKeystone, submitPop, the finality view (estimateGas) and a reward payout by publication count,
 *     on the embedded regtest node (real proof of work) and the Hardhat network, through the real contracts.
 *  3. A simulation on the same code paths (keystone.ts, popTx.ts, finality.ts and the gas measured in 2): Bitcoin
 *     fees per day and time to superfinality for keystone intervals of 25, 100 and 500 EVM blocks (12 s blocks),
 *     at 2, 10 and 50 sat/vB, with 1 and 2 PoP miners. Bitcoin blocks arrive as a Poisson process (mean 600 s,
 *     seeded); each miner broadcasts a keystone's PoP transaction after the keystone is recorded (one EVM block
 *     later) plus a poll delay of up to 13 s (popm's poll period), and the transaction is mined in the first
 *     Bitcoin block after that (the fee is assumed to clear the market: the fee rate changes the cost, not the
 *     time, in this model).
 * Run: npx hardhat run scripts/bench/pop.ts (npm run bench:pop). Prints tables, writes bench/results/pop.json.
 */
import { randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { blockFinality, type PublicationRecord } from "../../relayer/src/pop/finality";
import { encodeKeystone, keystoneFromBlock } from "../../relayer/src/pop/keystone";
import { buildPopTx, estimatePopVsize } from "../../relayer/src/pop/popTx";
import { v2Payout } from "../../relayer/src/pop/rewards";
import {
  keystoneOf,
  mineBtc,
  mineEvmTo,
  PopMiner,
  proofOf,
  recordNext,
  startPopChain,
  type PopChain,
} from "../../test/pop/popChain";
import { printTable, writeBenchResult } from "./report";

const RATES = [1, 2, 10, 50, 100];
const SIM_RATES = [2, 10, 50];
const SIM_INTERVALS = [25, 100, 500];
const EVM_BLOCK_S = 12;
const BTC_BLOCK_S = 600;
const POLL_S = 13;
const SIM_DAYS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function gasOf(p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  return Number((await (await p).wait())!.gasUsed);
}

/** 1. PoP transaction size and fee. */
function popTxFigures(): { rate: number; vsize: number; vsizeNoChange: number; fee: number }[] {
  const abbrev = encodeKeystone({
    version: 1,
    btcHeight: 900_000,
    l2BlockNumber: 2_500_000,
    parentEPHash: Buffer.alloc(11, 1),
    prevKeystoneEPHash: Buffer.alloc(12, 2),
    stateRoot: Buffer.alloc(32, 3),
    epHash: Buffer.alloc(12, 4),
  });
  return RATES.map((rate) => {
    const sizes: number[] = [];
    let fee = 0;
    for (let i = 0; i < 20; i++) {
      const pop = buildPopTx({
        abbrev,
        utxo: { txid: "ab".repeat(32), vout: 0, value: 1_000_000n },
        key: randomKey(),
        tipHeight: 900_000,
        feeRate: rate,
      });
      sizes.push(pop.vsize);
      fee = Number(pop.fee);
    }
    return { rate, vsize: median(sizes), vsizeNoChange: estimatePopVsize(false, 72), fee };
  });
}

interface GasFigures {
  recordKeystone: number;
  submitPopFirst: number;
  submitPopNext: number;
  finalityOwn: number;
  finalityInherited10: number;
  payout: { publications: number; gas: number }[];
}

/** 2. Gas on the real contracts. */
async function gasFigures(c: PopChain): Promise<GasFigures> {
  const miner = await PopMiner.funded(c, 5);
  const record: number[] = [];
  const ks: { n: number; abbrev: Buffer }[] = [];
  // 12 keystones: the first is published, the next 10 are not, the 12th is (inherited finality over 10).
  for (let i = 0; i < 12; i++) ks.push(await recordNextMeasured(c, record));
  const first = await miner.publish(ks[0].abbrev);
  const last = await miner.publish(ks[11].abbrev);
  await mineBtc(c, 1);
  const submitFirst = await gasOf(c.verifier.submitPop(await proofOf(c, first.txid)));
  await gasOf(c.verifier.submitPop(await proofOf(c, last.txid)));
  // Four more publications of ks[0] (the next slots of an existing list).
  const next: number[] = [];
  for (let i = 0; i < 4; i++) {
    const p = await miner.publish(ks[0].abbrev);
    await mineBtc(c, 1);
    next.push(await gasOf(c.verifier.submitPop(await proofOf(c, p.txid))));
  }
  await mineBtc(c, 3);
  const finalityOwn = Number(await c.verifier.finality.estimateGas(ks[0].n));
  const finalityInherited10 = Number(await c.verifier.finality.estimateGas(ks[1].n));

  // Payout gas by publication count: keystones with 1, 5, 25 and 75 canonical publications.
  const payout: { publications: number; gas: number }[] = [];
  for (const count of [1, 5, 25, 75]) {
    const { n, abbrev } = await recordNext(c);
    for (let done = 0; done < count;) {
      const batch = Math.min(20, count - done);
      const txids: string[] = [];
      for (let i = 0; i < batch; i++) txids.push((await miner.publish(abbrev)).txid);
      await mineBtc(c, 1);
      for (const t of txids) await (await c.verifier.submitPop(await proofOf(c, t))).wait();
      done += batch;
    }
    await mineEvmTo(n + c.dep.payoutDelay);
    payout.push({ publications: count, gas: await gasOf(c.rewards.payout(n)) });
    process.stdout.write(`  payout with ${count} publications measured\n`);
  }
  return {
    recordKeystone: median(record),
    submitPopFirst: submitFirst,
    submitPopNext: median(next),
    finalityOwn,
    finalityInherited10,
    payout,
  };
}

/** Records the next keystone and pushes its receipt gas. */
async function recordNextMeasured(c: PopChain, gas: number[]): Promise<{ n: number; abbrev: Buffer }> {
  const last = Number(await c.ledger.lastKeystoneNumber());
  const n = last === 0 ? c.dep.firstKeystone : last + c.interval;
  const abbrev = await keystoneOf(c, n);
  gas.push(await gasOf(c.ledger.recordKeystone(abbrev)));
  return { n, abbrev };
}

/** Seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimRow {
  interval: number;
  keystonesPerDay: number;
  feeRate: number;
  miners: number;
  feePerPublicationSats: number;
  btcFeesPerDay: number;
  evmGasPerDay: number;
  superfinalMeanMin: number;
  superfinalP95Min: number;
}

/** 3. Simulation: time to superfinality by BFG's rule (finality.ts) and fees per day. */
function simulate(gas: GasFigures): { rows: SimRow[]; meanBtcBlockS: number } {
  const rows: SimRow[] = [];
  const horizon = SIM_DAYS * 86_400;
  // One Bitcoin block schedule shared by every case (same seed): Poisson arrivals, mean 600 s.
  const r = rng(20261130);
  const btcTimes: number[] = [];
  for (let t = 0; t < horizon + 40 * BTC_BLOCK_S;) {
    t += -Math.log(1 - r()) * BTC_BLOCK_S;
    btcTimes.push(t);
  }
  const heightAt = (t: number): number => {
    let lo = 0;
    let hi = btcTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (btcTimes[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo; // blocks mined by time t (the tip height, genesis 0)
  };
  const payoutGas = (pubs: number): number => {
    const p = gas.payout;
    const a = p.find((x) => x.publications >= pubs) ?? p[p.length - 1];
    return a.gas;
  };
  for (const interval of SIM_INTERVALS) {
    const keystonesPerDay = 86_400 / (EVM_BLOCK_S * interval);
    for (const miners of [1, 2]) {
      // Publications: each keystone k (EVM block k * interval at time k * interval * 12 s) recorded one block later,
      // broadcast by each miner after a poll delay, mined in the next Bitcoin block.
      const pr = rng(interval * 10 + miners);
      const pubs = new Map<number, PublicationRecord[]>();
      const lastKeystone = Math.floor(horizon / EVM_BLOCK_S / interval) * interval;
      for (let k = interval; k <= lastKeystone; k += interval) {
        const list: PublicationRecord[] = [];
        for (let m = 0; m < miners; m++) {
          const broadcast = (k + 1) * EVM_BLOCK_S + pr() * POLL_S;
          const h = heightAt(broadcast) + 1;
          list.push({ keystoneNumber: k, btcHeight: h, btcBlockHash: `${h}` });
        }
        pubs.set(k, list);
      }
      // For a sample of EVM blocks of the first days, the first Bitcoin block at which BFG calls them superfinal.
      const waits: number[] = [];
      const sampleEnd = Math.floor((horizon - 86_400) / EVM_BLOCK_S);
      for (let b = 1; b < sampleEnd; b += 7) {
        const produced = b * EVM_BLOCK_S;
        let lo = heightAt(produced);
        let hi = btcTimes.length - 1;
        const src = (tip: number) => ({
          interval,
          firstKeystone: interval,
          lastKeystone: Math.min(lastKeystone, Math.floor(btcTimes[tip - 1] / EVM_BLOCK_S / interval) * interval),
          tipHeight: tip,
          publicationsOf: (k: number) => pubs.get(k) ?? [],
          isCanonical: (p: PublicationRecord) => p.btcHeight <= tip,
        });
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (mid > 0 && blockFinality(b, src(mid)).superfinal) hi = mid;
          else lo = mid + 1;
        }
        waits.push(btcTimes[lo - 1] - produced);
      }
      waits.sort((x, y) => x - y);
      const mean = waits.reduce((s, w) => s + w, 0) / waits.length;
      const p95 = waits[Math.floor(waits.length * 0.95)];
      for (const feeRate of SIM_RATES) {
        const pop = buildPopTx({
          abbrev: encodeKeystone(
            keystoneFromBlock({
              block: {
                number: interval,
                hash: "0x" + "11".repeat(32),
                parentHash: "0x" + "22".repeat(32),
                stateRoot: "0x" + "33".repeat(32),
              },
              prevKeystoneHash: null,
              btcHeight: 1,
            }),
          ),
          utxo: { txid: "cd".repeat(32), vout: 1, value: 10_000_000n },
          key: randomKey(),
          tipHeight: 1,
          feeRate,
        });
        const fee = Number(pop.fee);
        rows.push({
          interval,
          keystonesPerDay,
          feeRate,
          miners,
          feePerPublicationSats: fee,
          btcFeesPerDay: (keystonesPerDay * miners * fee) / 1e8,
          evmGasPerDay: Math.round(
            keystonesPerDay * (gas.recordKeystone + miners * gas.submitPopFirst + payoutGas(miners)),
          ),
          superfinalMeanMin: mean / 60,
          superfinalP95Min: p95 / 60,
        });
      }
    }
  }
  const inHorizon = btcTimes.filter((t) => t <= horizon);
  return { rows, meanBtcBlockS: inHorizon[inHorizon.length - 1] / inHorizon.length };
}

function sizes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ["KeystoneLedger", "PopVerifier", "PopRewards", "PopRewardToken"]) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const a = require(`../../artifacts/contracts/pop/${name}.sol/${name}.json`) as { deployedBytecode: string };
    out[name] = (a.deployedBytecode.length - 2) / 2;
  }
  return out;
}

async function main(): Promise<void> {
  const tx = popTxFigures();
  printTable(
    "PoP transaction (1 P2PKH input, change, 83-byte HEMI OP_RETURN; median of 20 signed)",
    ["sat/vB", "vsize", "vsize without change", "fee (sat)"],
    tx.map((t) => [t.rate, t.vsize, t.vsizeNoChange, t.fee.toLocaleString("en-US")]),
  );

  console.log("\nmeasuring gas on the embedded regtest node + Hardhat ...");
  const c = await startPopChain({ interval: 25, payoutDelay: 200 });
  let gas: GasFigures;
  try {
    gas = await gasFigures(c);
  } finally {
    await c.t.running.close();
  }
  printTable(
    "PoP contracts: gas (receipt gas incl. the 21,000 base; views: estimateGas)",
    ["operation", "gas"],
    [
      ["recordKeystone", gas.recordKeystone.toLocaleString("en-US")],
      ["submitPop, first publication of a keystone", gas.submitPopFirst.toLocaleString("en-US")],
      ["submitPop, a further publication", gas.submitPopNext.toLocaleString("en-US")],
      ["finality (view), own keystone with 5 publications", gas.finalityOwn.toLocaleString("en-US")],
      ["finality (view), inherited over 10 unpublished keystones", gas.finalityInherited10.toLocaleString("en-US")],
      ...gas.payout.map((p) => [`payout, ${p.publications} publication(s)`, p.gas.toLocaleString("en-US")]),
    ],
  );
  const sz = sizes();
  printTable(
    "Deployed sizes (bytes; limit 24,576)",
    ["contract", "bytes"],
    Object.entries(sz).map(([k, v]) => [k, v.toLocaleString("en-US")]),
  );

  console.log("\nsimulating ...");
  const { rows: sim, meanBtcBlockS } = simulate(gas);
  printTable(
    `Simulation (${SIM_DAYS} days, 12 s EVM blocks, Poisson Bitcoin blocks of mean 600 s, this seed's sample: ${meanBtcBlockS.toFixed(0)} s): Bitcoin fees per day and time from an EVM block to its superfinality (BFG: tip - first publication >= 10)`,
    [
      "interval",
      "keystones/day",
      "sat/vB",
      "miners",
      "fee/pub (sat)",
      "BTC fees/day",
      "EVM gas/day",
      "superfinal mean (min)",
      "p95 (min)",
    ],
    sim.map((s) => [
      s.interval,
      s.keystonesPerDay.toFixed(1),
      s.feeRate,
      s.miners,
      s.feePerPublicationSats.toLocaleString("en-US"),
      s.btcFeesPerDay.toFixed(5),
      s.evmGasPerDay.toLocaleString("en-US"),
      s.superfinalMeanMin.toFixed(1),
      s.superfinalP95Min.toFixed(1),
    ]),
  );
  const scores = v2Payout(
    [0, 0, 1, 3].map((d, i) => ({ miner: `m${i}`, btcHeight: 100 + d })),
    5n * 10n ** 18n,
  );
  const file = writeBenchResult("pop", {
    popTx: tx,
    gas,
    sizes: sz,
    simulation: { meanBtcBlockS, rows: sim },
    exampleV2Split: {
      delays: [0, 0, 1, 3],
      totalScore: scores.totalScore,
      amounts: scores.shares.map((s) => s.amount.toString()),
    },
  });
  console.log(`\nwritten ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
