import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { displayToInternal } from "../../bitcoin/byteOrder";
import { withLock } from "../../core/lock";
import type { RelayerMetrics } from "../../core/metrics";
import type { LightClientReader } from "../../evm/lightClient";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender } from "../../evm/sender";
import { headerPrevDisplay, linkedPrefix, type BitcoinHeaderSource, type RawHeaderRow } from "./bitcoinSource";
import type { HeadersBatch } from "./planner";

export interface SubmitBatchDeps {
  node: BitcoinHeaderSource;
  lc: LightClientReader;
  sender: EvmSender;
  redis: Redis;
  /** Redis key of the deployment-wide header-submission lock. */
  lockKey: string;
  lockTtlMs: number;
  metrics: RelayerMetrics;
  /** Gas budget of one submitHeaders transaction and the estimated gas per header extending the tip. */
  maxBatchGas: number;
  gasPerHeader: number;
}

export interface SubmitBatchResult {
  status: "submitted" | "skipped" | "obsolete";
  reason?: string;
  firstHeight?: number;
  submitted: number;
  gasUsed?: string;
  txHash?: string;
  reorg?: { forkHeight: number };
  /** After a continueReorg step: blocks of the pending branch written so far. */
  reorgApplied?: number;
}

/** The light client does not yet hold the batch's parent (the batch before it is not in): retry later. */
export class ParentNotStoredError extends Error {
  constructor(height: number, hash: string) {
    super(`the parent of height ${height + 1} (${hash} at ${height}) is not stored in the light client yet`);
    this.name = "ParentNotStoredError";
  }
}

/**
 * Reverts that a retry or a new plan can fix: another submission raced ahead, the parent batch is still in flight,
 * a reorganisation displaced the stored branch's base (the next plan starts lower), or a reorganisation is being
 * applied (the next plan continues it).
 */
const TRANSIENT_REVERTS = new Set(["UnknownParent", "HeaderAlreadyKnown", "ForkBaseDisplaced", "ReorgInProgress"]);

/** Gas budgeted per block of a pending reorganisation applied by continueReorg (measured about 10k). */
export const REORG_GAS_PER_BLOCK = 12_000;

/**
 * Submits one batch of headers. Under the deployment-wide header lock and then the signer lock, it re-reads the
 * light client and sends only the headers it has not stored, so a job replayed after a crash, or claimed by a
 * second relayer, never pays for headers that are already on chain.
 */
export async function submitBatch(
  deps: SubmitBatchDeps,
  batch: HeadersBatch,
  key: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<SubmitBatchResult> {
  if (batch.continueReorg === true) return continueReorg(deps, key, log, signal);
  const rows = linkedPrefix(await deps.node.getRawHeaders(batch.fromHeight, batch.count));
  if (rows.length === 0 || rows[0].hash !== batch.firstHash) {
    return { status: "obsolete", reason: "the node's best chain changed since the batch was planned", submitted: 0 };
  }
  let chosen: RawHeaderRow[] = [];
  let result: SubmitBatchResult;
  try {
    result = await withLock(
      deps.redis,
      deps.lockKey,
      { ttlMs: deps.lockTtlMs, waitMs: 10 * 60_000, signal },
      async () => {
        const sent = await deps.sender.send({
          key,
          role: "headers",
          signal,
          prepare: async () => {
            const stored = (r: RawHeaderRow): Promise<boolean> => deps.lc.isStored(displayToInternal(r.hash), r.height);
            // Stored headers form a prefix of the run: find the first one the light client lacks.
            let a = 0;
            let b = rows.length;
            // Planned from the fork point: resend the stored part too (the light client accepts known fork headers).
            if (batch.fromForkPoint === true && !(await stored(rows[rows.length - 1]))) b = 0;
            while (a < b) {
              const mid = a + Math.floor((b - a) / 2);
              if (await stored(rows[mid])) a = mid + 1;
              else b = mid;
            }
            if (a === rows.length) return { skip: `all ${rows.length} headers already stored` };
            const first = rows[a];
            const prev = headerPrevDisplay(first.header);
            if (a === 0 && !(await deps.lc.isStored(displayToInternal(prev), first.height - 1))) {
              throw new ParentNotStoredError(first.height - 1, prev);
            }
            const best = await deps.lc.bestBlock();
            // A branch off the tip stores full fork records (several slots per header): budget more gas for it.
            const perHeader = displayToInternal(prev) === best.hash ? deps.gasPerHeader : deps.gasPerHeader * 4;
            const max = Math.max(1, Math.floor(deps.maxBatchGas / perHeader));
            chosen = rows.slice(a, a + max);
            return {
              to: deps.lc.address,
              data: deps.lc.encodeSubmitHeaders("0x" + chosen.map((r) => r.header).join("")),
            };
          },
        });
        if (sent.status === "skipped") return { status: "skipped", reason: sent.reason, submitted: 0 } as const;
        const events = deps.lc.parseEvents(sent.receipt.logs);
        const reorgEvent = events.find((e) => e.name === "Reorg");
        deps.metrics.headersSubmitted.inc(chosen.length);
        return {
          status: "submitted",
          firstHeight: chosen[0].height,
          submitted: chosen.length,
          gasUsed: sent.gasUsed.toString(),
          txHash: sent.hash,
          reorg: reorgEvent === undefined ? undefined : { forkHeight: Number(reorgEvent.args.forkHeight) },
        } as const;
      },
    );
  } catch (err) {
    if (err instanceof RevertError && err.revert !== undefined && TRANSIENT_REVERTS.has(err.revert.name)) {
      throw new Error(`${err.message} (will retry: the light client changed under the batch)`);
    }
    throw err;
  }
  if (result.status === "submitted") {
    log.info(
      { firstHeight: result.firstHeight, count: result.submitted, gasUsed: result.gasUsed, tx: result.txHash },
      "headers submitted",
    );
    if (result.reorg !== undefined) {
      deps.metrics.reorgs.inc();
      log.warn({ forkHeight: result.reorg.forkHeight }, "light client reorganised to the node's heavier branch");
    }
  } else log.info({ reason: result.reason }, "batch needed no transaction");
  return result;
}

/** Advances the light client's pending reorganisation by as many blocks as one transaction's gas budget allows. */
async function continueReorg(
  deps: SubmitBatchDeps,
  key: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<SubmitBatchResult> {
  const maxBlocks = Math.max(1, Math.floor(deps.maxBatchGas / REORG_GAS_PER_BLOCK));
  const result = await withLock(
    deps.redis,
    deps.lockKey,
    { ttlMs: deps.lockTtlMs, waitMs: 10 * 60_000, signal },
    async (): Promise<SubmitBatchResult> => {
      const sent = await deps.sender.send({
        key,
        role: "headers",
        signal,
        prepare: async () => {
          const pending = await deps.lc.pendingReorg();
          if (pending === undefined) return { skip: "no reorganisation pending any more" };
          return { to: deps.lc.address, data: deps.lc.encodeContinueReorg(maxBlocks) };
        },
      });
      if (sent.status === "skipped") return { status: "skipped", reason: sent.reason, submitted: 0 };
      const events = deps.lc.parseEvents(sent.receipt.logs);
      const reorgEvent = events.find((e) => e.name === "Reorg");
      const progress = events.find((e) => e.name === "ReorgProgress");
      return {
        status: "submitted",
        submitted: 0,
        gasUsed: sent.gasUsed.toString(),
        txHash: sent.hash,
        reorg: reorgEvent === undefined ? undefined : { forkHeight: Number(reorgEvent.args.forkHeight) },
        reorgApplied: progress === undefined ? undefined : Number(progress.args.applied),
      };
    },
  );
  if (result.status === "submitted") {
    log.info(
      { applied: result.reorgApplied, maxBlocks, gasUsed: result.gasUsed, tx: result.txHash },
      result.reorg === undefined ? "reorganisation step applied" : "reorganisation completed",
    );
    if (result.reorg !== undefined) {
      deps.metrics.reorgs.inc();
      log.warn({ forkHeight: result.reorg.forkHeight }, "light client reorganised to the node's heavier branch");
    }
  } else log.info({ reason: result.reason }, "reorganisation step needed no transaction");
  return result;
}
