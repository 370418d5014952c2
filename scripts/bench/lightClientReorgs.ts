/**
 * Reorganisation gas of BitcoinLightClient on regtest headers mined here (real proof of work at regtest difficulty):
 * a heavier branch submitted in one call, and the deepest reorganisation the client accepts (a fork at
 * MAX_FORK_SEARCH blocks below the tip) applied under a 16.7M gas cap per transaction (`continueReorg` steps).
 * Used by scripts/bench/gas.ts.
 */
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, headerHash, mineRegtestHeaders } from "../../test/helpers/bitcoinData";
import { deployRegtestClient } from "../../test/helpers/headerTree";

/** The per-transaction gas cap the benchmark respects (EIP-7825's 2^24). */
export const TX_GAS_CAP = 16_777_216;

/** Sends submitHeaders with an explicit gas limit (no estimate) and returns the gas used. */
async function submit(c: BitcoinLightClient, headers: string[]): Promise<number> {
  const r = await (await c.submitHeaders("0x" + headers.join(""), { gasLimit: TX_GAS_CAP })).wait();
  return Number(r!.gasUsed);
}

/** Extends the canonical chain by `headers` in batches of `batch`. */
async function extend(c: BitcoinLightClient, headers: string[], batch: number): Promise<void> {
  for (let i = 0; i < headers.length; i += batch) await submit(c, headers.slice(i, i + batch));
}

/** A 10-header (and a 30-header) branch that becomes the heaviest in the call that submits it. */
export async function reorgGasPerHeader(): Promise<
  { branch: number; replaced: number; gasUsed: number; gasPerHeader: number }[]
> {
  const rows = [];
  for (const n of [10, 30]) {
    const c = await deployRegtestClient();
    const main = mineRegtestHeaders(REGTEST_GENESIS.header, 100, 1);
    await extend(c, main, 100);
    // Branch from height 100 - (n - 1): replaces n - 1 canonical blocks and adds one.
    const forkParent = main[100 - n];
    const branch = mineRegtestHeaders(forkParent, n, 2);
    const r = await (await c.submitHeaders("0x" + branch.join(""), { gasLimit: TX_GAS_CAP })).wait();
    if (!r!.logs.some((l) => c.interface.parseLog(l)?.name === "Reorg")) throw new Error("no Reorg event");
    const gasUsed = Number(r!.gasUsed);
    rows.push({ branch: n, replaced: n - 1, gasUsed, gasPerHeader: Math.round(gasUsed / n) });
  }
  return rows;
}

export interface DeepReorgResult {
  depth: number;
  branchHeaders: number;
  phases: { phase: string; transactions: number; gasUsed: number; maxGas: number }[];
  totalGas: number;
  continueSteps: number;
}

/**
 * The deepest reorganisation: a canonical chain of MAX_FORK_SEARCH blocks above the anchor, then a branch from the
 * anchor one block longer, stored in calls under the cap, the last of which makes it the heaviest; the rest is
 * applied by `continueReorg` steps under the cap.
 */
export async function deepReorgGas(): Promise<DeepReorgResult> {
  const c = await deployRegtestClient();
  const depth = Number(await c.MAX_FORK_SEARCH());
  const main = mineRegtestHeaders(REGTEST_GENESIS.header, depth, 1);
  await extend(c, main, 500);
  const branch = mineRegtestHeaders(REGTEST_GENESIS.header, depth + 1, 2);
  const phases: DeepReorgResult["phases"] = [];
  const record = (phase: string, gas: number[]) =>
    phases.push({
      phase,
      transactions: gas.length,
      gasUsed: gas.reduce((a, b) => a + b, 0),
      maxGas: Math.max(...gas),
    });
  // The first call also searches the fork's parent among the canonical blocks (about 2.1k gas per block of depth).
  const stored: number[] = [];
  let i = 0;
  while (i < depth - 10) {
    const size = Math.min(i === 0 ? 90 : 190, depth - 10 - i);
    stored.push(await submit(c, branch.slice(i, i + size)));
    i += size;
  }
  record("branch stored as fork blocks (lighter)", stored);
  const last = await submit(c, branch.slice(i));
  record(`last ${depth + 1 - i} headers: heavier, ${await c.INLINE_REORG_BLOCKS()} blocks applied inline`, [last]);
  const steps: number[] = [];
  for (;;) {
    const pending = (await c.pendingReorg())[0];
    if (!pending) break;
    const r = await (await c.continueReorg(1400, { gasLimit: TX_GAS_CAP })).wait();
    steps.push(Number(r!.gasUsed));
  }
  record("continueReorg(1400) steps", steps);
  const [bestHash, bestHeight] = await c.bestBlock();
  if (Number(bestHeight) !== depth + 1 || bestHash !== "0x" + headerHash(branch[depth])) {
    throw new Error(`the deep reorganisation did not complete (best height ${bestHeight})`);
  }
  const totalGas = phases.reduce((a, p) => a + p.gasUsed, 0);
  return { depth, branchHeaders: depth + 1, phases, totalGas, continueSteps: steps.length };
}
