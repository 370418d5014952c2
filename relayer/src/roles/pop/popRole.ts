import type { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import type { Logger } from "pino";
import { crypto as btcCrypto } from "bitcoinjs-lib";
import { keyOutput } from "../../bitcoin/txBuilder";
import { Poller } from "../../core/poller";
import type { QueueCore } from "../../core/queues";
import { minerEvmAddress } from "../../pop/popTx";
import { PublicationIndex } from "../../pop/publicationIndex";
import { processPopJob, type PopJobData, type PopJobResult, type PopMinerDeps } from "./popMiner";
import { PopStore } from "./popStore";

/** The queue of one miner key: `pop-<hash160 of its public key>` (each miner key has its own jobs). */
export function popQueueName(minerId: string): string {
  return `pop-${minerId}`;
}

/** The job id of keystone n with id `id` (a rewritten keystone at the same height is another job). */
export function popJobId(n: number, id: string): string {
  return `keystone-${n}-${id.replace(/^0x/, "").slice(0, 16)}`;
}

/** The miner's settings and connections; the role derives the rest of PopMinerDeps (store, index, ids, lock). */
export interface PopRoleOptions extends Omit<
  PopMinerDeps,
  "store" | "index" | "minerId" | "minerScript" | "lockKey" | "interval"
> {
  core: QueueCore;
  log: Logger;
  provider: JsonRpcProvider;
  /** The deployment's Redis prefix; the miner's keys live under `<prefix>:state:pop:<minerId>:`. */
  prefix: string;
  /** Jobs of this miner handled at once (coin selection is serialised per miner key regardless). */
  concurrency?: number;
}

/**
 * The `pop` role, a PoP miner for the key POP_MINER_KEY: a poller reads the newest POP_KEYSTONE_WINDOW keystones of
 * the ledger and enqueues one job per keystone on the miner's own queue; a job publishes the keystone on Bitcoin in
 * popm's transaction, bumps it when stuck, proves it on the EVM once confirmed and follows it until settled (see
 * popMiner.ts). Several miners (different keys) may run at once, in one Redis and deployment prefix: each has its
 * queue, journal and coin lock under its own id.
 */
export class PopRole {
  readonly name = "pop";
  readonly minerId: string;
  readonly minerAddress: string;
  /** The miner's EVM address (rewards go there: the same secp256k1 key). */
  readonly evmAddress: string;
  private queue: Queue<PopJobData, PopJobResult> | undefined;
  private readonly poller: Poller;
  private readonly deps: PopMinerDeps;
  private readonly abbrevs = new Map<string, { abbrev: string; recordedAt: number }>();
  private interval = 0;
  private lastStatus: Record<string, unknown> = {};

  constructor(private readonly o: PopRoleOptions) {
    this.minerId = Buffer.from(btcCrypto.hash160(o.key.publicKey)).toString("hex");
    const out = keyOutput(o.key, "p2pkh");
    this.minerAddress = out.address;
    this.evmAddress = minerEvmAddress(o.key);
    this.poller = new Poller({
      name: "pop",
      intervalMs: o.pollIntervalMs,
      poll: () => this.poll(),
      log: o.log,
      quietAfterStop: true,
    });
    this.deps = {
      ...o,
      store: new PopStore(o.redis, o.prefix, this.minerId),
      index: new PublicationIndex(o.node),
      minerId: this.minerId,
      minerScript: out.script.toString("hex"),
      lockKey: `${o.prefix}:state:pop:${this.minerId}:coin-lock`,
      interval: 0,
    };
  }

  start(): void {
    const { core, log } = this.o;
    const name = popQueueName(this.minerId);
    this.queue = core.queue<PopJobData>(name) as unknown as Queue<PopJobData, PopJobResult>;
    core.addWorker<PopJobData, PopJobResult>(
      name,
      async (job, ctx) => {
        if (this.deps.interval === 0) this.deps.interval = await this.o.ledger.interval();
        return processPopJob(this.deps, job, ctx.log.child({ miner: this.minerId }), ctx.signal);
      },
      { concurrency: this.o.concurrency ?? 4 },
    );
    log.info(
      {
        miner: this.minerId,
        minerAddress: this.minerAddress,
        evmAddress: this.evmAddress,
        maxFeeRate: this.o.maxRate,
        feeTarget: this.o.target,
        publish: this.o.publish,
      },
      "pop role started (PoP miner)",
    );
    this.poller.start();
  }

  /** One poll: enqueue the newest keystones of the ledger for this miner. */
  async poll(): Promise<void> {
    const queue = this.queue;
    if (queue === undefined) throw new Error("pop role not started");
    const { ledger, provider } = this.o;
    if (this.interval === 0) {
      this.interval = await ledger.interval();
      this.deps.interval = this.interval;
    }
    const [last, first] = await Promise.all([ledger.lastKeystoneNumber(), ledger.firstKeystoneNumber()]);
    this.lastStatus = { miner: this.minerId, lastKeystone: last };
    if (last === 0) return;
    const from = Math.max(first, last - (this.o.window - 1) * this.interval);
    for (let n = from; n <= last; n += this.interval) {
      const k = await ledger.keystoneAt(n);
      if (/^0x0+$/.test(k.id)) continue;
      const jobId = popJobId(n, k.id);
      if ((await queue.getJob(jobId)) !== undefined) continue;
      let known = this.abbrevs.get(k.id);
      if (known === undefined) {
        const ev = (await ledger.recordedAbbrevs(k.recordedAtBlock, k.recordedAtBlock, n)).find((e) => e.id === k.id);
        if (ev === undefined)
          throw new Error(`no KeystoneRecorded event of keystone ${n} in block ${k.recordedAtBlock}`);
        const block = await provider.getBlock(k.recordedAtBlock);
        known = { abbrev: ev.abbrev.replace(/^0x/, ""), recordedAt: block?.timestamp ?? Math.floor(Date.now() / 1000) };
        if (this.abbrevs.size > 10_000) this.abbrevs.clear();
        this.abbrevs.set(k.id, known);
      }
      await queue.add("publish", { n, id: k.id, ...known }, { jobId });
    }
  }

  health(): { ok: boolean; detail: unknown } {
    const { ok, lastPollAgeMs, consecutiveFailures } = this.poller.health();
    return { ok, detail: { lastPollAgeMs, consecutiveFailures, ...this.lastStatus } };
  }

  stop(): void {
    this.poller.stop();
  }
}
