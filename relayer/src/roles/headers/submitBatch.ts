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
}

/** The light client does not yet hold the batch's parent (the batch before it is not in): retry later. */
export class ParentNotStoredError extends Error {
  constructor(height: number, hash: string) {
    super(`the parent of height ${height + 1} (${hash} at ${height}) is not stored in the light client yet`);
    this.name = "ParentNotStoredError";
  }
}

/** Reverts that a retry can fix (another submission raced ahead, or the parent batch is still in flight). */
const TRANSIENT_REVERTS = new Set(["UnknownParent", "HeaderAlreadyKnown"]);

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
