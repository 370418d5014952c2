import { Transaction, keccak256, type JsonRpcProvider, type TransactionReceipt, type Wallet, parseUnits } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ShutdownError } from "../core/errors";
import { withLock } from "../core/lock";
import { errorMessage } from "../core/logger";
import type { RelayerMetrics } from "../core/metrics";
import { sleep } from "../core/retry";
import { EIP7825_TX_GAS_CAP, gasLimitFromEstimate } from "./gasLimit";
import { RevertError, type RevertDecoder } from "./revertDecoder";

/** Hardhat's (EDR's) estimator failing on a probe above EIP-7825's cap, not on the transaction itself. */
const ESTIMATOR_PROBED_ABOVE_CAP = /transaction gas limit \(\d+\) is greater than the cap/i;

export interface EvmSenderOptions {
  signer: Wallet;
  provider: JsonRpcProvider;
  redis: Redis;
  /** Redis key prefix of the deployment; the signer lock and journal live under it. */
  prefix: string;
  decoder: RevertDecoder;
  log: Logger;
  metrics: RelayerMetrics;
  /** How long to wait for a receipt before bumping the fee and replacing the transaction. */
  receiptTimeoutMs: number;
  /** Fee increase per replacement, in percent (nodes require at least 10). */
  bumpPercent: number;
  maxReplacements: number;
  /** Upper bound of maxFeePerGas (and so of maxPriorityFeePerGas), in gwei, for first broadcasts and replacements. */
  maxFeeGwei: number;
  lockTtlMs: number;
  /** Receipt polling interval (default 200 ms). */
  pollMs?: number;
}

/** A contract call to send. */
export interface TxCall {
  to: string;
  data: string;
}

/** What a job asks the sender to do. */
export interface SendRequest {
  /** Idempotency key of the work (e.g. the job id), recorded with the transaction. */
  key: string;
  role: string;
  /**
   * Runs under the signer lock right before sending and re-reads on-chain state: returns the call to send, or
   * `{ skip }` with the reason when the work is already done on chain (nothing is sent).
   */
  prepare: () => Promise<TxCall | { skip: string }>;
  /** Aborts before broadcasting (graceful shutdown). */
  signal?: AbortSignal;
}

export type SendResult =
  | { status: "mined"; receipt: TransactionReceipt; hash: string; gasUsed: bigint; replacements: number }
  | { status: "skipped"; reason: string };

/** The transaction in flight of a signer, journalled in Redis before broadcast so a restart can finish it. */
interface InflightTx {
  key: string;
  role: string;
  nonce: number;
  to: string;
  data: string;
  gasLimit: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  hashes: string[];
}

/** The transaction stayed unmined after every allowed replacement (transient: the job is retried). */
export class StuckTransactionError extends Error {
  constructor(
    readonly nonce: number,
    readonly hashes: string[],
  ) {
    super(`transaction with nonce ${nonce} still unmined after ${hashes.length} broadcast(s): ${hashes.join(", ")}`);
    this.name = "StuckTransactionError";
  }
}

/**
 * The transaction stayed unmined and its fee cap already reached TX_MAX_FEE_GWEI, so it cannot be replaced with a
 * higher fee (transient: the job is retried; raise the cap or wait for lower fees).
 */
export class FeeCapReachedError extends StuckTransactionError {
  constructor(
    nonce: number,
    hashes: string[],
    readonly capWei: bigint,
  ) {
    super(nonce, hashes);
    this.message =
      `transaction with nonce ${nonce} still unmined and its fee is at the cap (${capWei} wei = TX_MAX_FEE_GWEI), ` +
      `not replacing it again; broadcast(s): ${hashes.join(", ")}`;
    this.name = "FeeCapReachedError";
  }
}

/** True when the error is the node's JSON-RPC error answer (ethers keeps it in `error` or `info.error`). */
function rpcAnswered(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { error?: unknown; info?: { error?: unknown } };
  return [e.error, e.info?.error].some(
    (x) => typeof x === "object" && x !== null && typeof (x as { code?: unknown }).code === "number",
  );
}

/** The error's message and the node's JSON-RPC error message under it (ethers keeps the latter in `info.error`). */
function errorText(err: unknown): string {
  const parts = [errorMessage(err)];
  if (typeof err === "object" && err !== null) {
    const e = err as { error?: unknown; info?: { error?: unknown } };
    for (const x of [e.error, e.info?.error]) {
      const m = typeof x === "object" && x !== null ? (x as { message?: unknown }).message : undefined;
      if (typeof m === "string") parts.push(m);
    }
  }
  return parts.join(": ");
}

function bump(value: bigint, percent: number): bigint {
  return (value * BigInt(100 + percent) + 99n) / 100n;
}

/**
 * One serialised EVM sender per signer. A Redis lock per signer address (shared by every relayer process on the
 * same Redis) serialises sends, so nonces never collide; the nonce comes from the chain ("pending" count) under
 * the lock, so a restart recovers it. The transaction is journalled in Redis before broadcast: after a crash the
 * next send first finishes (waits for, or replaces) the journalled one. Unmined transactions are replaced with
 * bumped fees; receipts are awaited; reverts are decoded to the contract's custom error names.
 */
export class EvmSender {
  readonly address: string;
  private chainId: bigint | undefined;

  constructor(private readonly o: EvmSenderOptions) {
    this.address = o.signer.address;
  }

  private get lockKey(): string {
    return `${this.o.prefix}:sender:${this.address.toLowerCase()}:lock`;
  }

  private get journalKey(): string {
    return `${this.o.prefix}:sender:${this.address.toLowerCase()}:inflight`;
  }

  /** Sends one transaction (or skips it when `alreadyDone` says so), serialised with every other send of the signer. */
  async send(req: SendRequest): Promise<SendResult> {
    return withLock(
      this.o.redis,
      this.lockKey,
      { ttlMs: this.o.lockTtlMs, waitMs: 10 * 60_000, signal: req.signal },
      async (lock) => {
        await this.finishJournalled();
        for (let round = 0; ; round++) {
          const call = await req.prepare();
          if ("skip" in call) {
            this.o.metrics.transactions.inc({ role: req.role, outcome: "skipped" });
            this.o.log.info({ key: req.key, reason: call.skip }, "transaction not needed: already done on chain");
            return { status: "skipped", reason: call.skip };
          }
          if (req.signal?.aborted === true) throw new ShutdownError(`job ${req.key}`);
          lock.assertHeld();
          const outcome = await this.sendNew(req, call);
          if (outcome !== "nonce-taken") return outcome;
          if (round >= 3) throw new Error(`nonce of ${this.address} keeps being taken by other transactions`);
        }
      },
    );
  }

  private async getChainId(): Promise<bigint> {
    this.chainId ??= (await this.o.provider.getNetwork()).chainId;
    return this.chainId;
  }

  /** TX_MAX_FEE_GWEI in wei: no broadcast, first or replacement, has a higher maxFeePerGas. */
  private get feeCap(): bigint {
    return parseUnits(this.o.maxFeeGwei.toFixed(9), "gwei");
  }

  private async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const fd = await this.o.provider.getFeeData();
    const cap = this.feeCap;
    const prio = fd.maxPriorityFeePerGas ?? parseUnits("1", "gwei");
    let max = fd.maxFeePerGas ?? (fd.gasPrice ?? parseUnits("1", "gwei")) * 2n;
    if (max > cap) max = cap;
    return { maxFeePerGas: max, maxPriorityFeePerGas: prio > max ? max : prio };
  }

  private async signAndBroadcast(tx: InflightTx): Promise<string> {
    const unsigned = Transaction.from({
      type: 2,
      chainId: await this.getChainId(),
      nonce: tx.nonce,
      to: tx.to,
      data: tx.data,
      gasLimit: BigInt(tx.gasLimit),
      maxFeePerGas: BigInt(tx.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas),
      value: 0n,
    });
    const raw = await this.o.signer.signTransaction(unsigned);
    const hash = keccak256(raw);
    tx.hashes.push(hash);
    // Journal first: a crash after the broadcast must find this transaction on restart.
    await this.o.redis.set(this.journalKey, JSON.stringify(tx));
    try {
      await this.o.provider.broadcastTransaction(raw);
    } catch (err) {
      const msg = errorMessage(err).toLowerCase();
      if (msg.includes("already known") || msg.includes("known transaction")) return hash;
      if (rpcAnswered(err)) {
        // The node answered and refused it: this signed transaction is nowhere, so it must not stay journalled
        // (a later send would wait for it, then re-broadcast its calldata). A transport error or timeout leaves it
        // journalled: it may have reached the node.
        tx.hashes.pop();
        if (tx.hashes.length === 0) await this.o.redis.del(this.journalKey);
        else await this.o.redis.set(this.journalKey, JSON.stringify(tx));
      }
      throw err;
    }
    return hash;
  }

  private async sendNew(req: SendRequest, call: TxCall): Promise<SendResult | "nonce-taken"> {
    const { provider, decoder, log } = this.o;
    const nonce = await provider.getTransactionCount(this.address, "pending");
    let gas: bigint;
    try {
      gas = await provider.estimateGas({ from: this.address, to: call.to, data: call.data });
    } catch (err) {
      const revert = decoder.decodeError(err);
      if (revert !== undefined) throw new RevertError(`${req.role} ${req.key} (simulation)`, revert, { cause: err });
      if (!ESTIMATOR_PROBED_ABOVE_CAP.test(errorText(err))) throw err;
      // A Hardhat node whose block gas limit is above EIP-7825's cap fails the estimate of a transaction that needs
      // a little more gas than it uses once 3x its gas used exceeds the cap (see hardhat.config.ts). The call run
      // with the cap as its limit tells whether the transaction fits: then the cap is its gas limit.
      try {
        await provider.call({ from: this.address, to: call.to, data: call.data, gasLimit: EIP7825_TX_GAS_CAP });
      } catch (callErr) {
        const callRevert = decoder.decodeError(callErr);
        if (callRevert !== undefined) {
          throw new RevertError(`${req.role} ${req.key} (simulation)`, callRevert, { cause: callErr });
        }
        throw new Error(
          `${req.role} ${req.key}: the gas estimate failed (${errorText(err)}) and the call does not run within ` +
            `EIP-7825's cap of ${EIP7825_TX_GAS_CAP} gas either (${errorText(callErr)})`,
          { cause: callErr },
        );
      }
      log.warn(
        { key: req.key, role: req.role, error: errorText(err) },
        "gas estimate failed above EIP-7825's cap but the call runs within it: sending with the cap as gas limit",
      );
      gas = EIP7825_TX_GAS_CAP;
    }
    const fees = await this.fees();
    const tx: InflightTx = {
      key: req.key,
      role: req.role,
      nonce,
      to: call.to,
      data: call.data,
      gasLimit: gasLimitFromEstimate(gas).toString(),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      hashes: [],
    };
    const hash = await this.signAndBroadcast(tx);
    log.info({ key: req.key, nonce, hash, gasLimit: tx.gasLimit }, "transaction sent");
    return this.awaitMined(tx);
  }

  /** After a crash: the journalled transaction is waited for (and replaced if stuck) before anything new is sent. */
  private async finishJournalled(): Promise<void> {
    const raw = await this.o.redis.get(this.journalKey);
    if (raw === null) return;
    const tx = JSON.parse(raw) as InflightTx;
    const { provider, log } = this.o;
    let known = false;
    for (const h of tx.hashes) if ((await provider.getTransaction(h)) !== null) known = true;
    if (!known && (await provider.getTransactionCount(this.address, "latest")) <= tx.nonce) {
      // None of its broadcasts reached the node and its nonce is free: there is nothing to finish, and re-sending
      // its (possibly stale) calldata would be wrong. The job that journalled it re-prepares its own call.
      await this.o.redis.del(this.journalKey);
      log.warn(
        { key: tx.key, nonce: tx.nonce, hashes: tx.hashes },
        "dropped a journalled transaction the node never had",
      );
      return;
    }
    log.warn({ key: tx.key, nonce: tx.nonce, hashes: tx.hashes }, "finishing a journalled transaction first");
    try {
      await this.awaitMined(tx);
    } catch (err) {
      if (err instanceof RevertError) {
        this.o.log.warn({ key: tx.key, err: err.message }, "journalled transaction had reverted");
        return;
      }
      throw err;
    }
  }

  private async receiptOfAny(hashes: string[]): Promise<TransactionReceipt | undefined> {
    for (const h of hashes) {
      const r = await this.o.provider.getTransactionReceipt(h);
      if (r !== null) return r;
    }
    return undefined;
  }

  private async awaitMined(tx: InflightTx): Promise<SendResult | "nonce-taken"> {
    const { provider, log, metrics } = this.o;
    const pollMs = this.o.pollMs ?? 200;
    for (let replacements = 0; ; replacements++) {
      const deadline = Date.now() + this.o.receiptTimeoutMs;
      while (Date.now() < deadline) {
        const receipt = await this.receiptOfAny(tx.hashes);
        if (receipt !== undefined) return this.settle(tx, receipt, replacements);
        const mined = await provider.getTransactionCount(this.address, "latest");
        if (mined > tx.nonce) {
          // The nonce is used; one of ours may just have been mined between the two reads.
          const late = await this.receiptOfAny(tx.hashes);
          if (late !== undefined) return this.settle(tx, late, replacements);
          await this.o.redis.del(this.journalKey);
          log.warn({ key: tx.key, nonce: tx.nonce }, "nonce was used by another transaction; re-checking state");
          return "nonce-taken";
        }
        await sleep(pollMs);
      }
      if (replacements >= this.o.maxReplacements) throw new StuckTransactionError(tx.nonce, tx.hashes);
      const cap = this.feeCap;
      if (BigInt(tx.maxFeePerGas) >= cap) {
        log.warn({ key: tx.key, nonce: tx.nonce, cap: cap.toString() }, "transaction stuck with its fee at the cap");
        throw new FeeCapReachedError(tx.nonce, tx.hashes, cap);
      }
      const current = await this.fees();
      let prio = bump(BigInt(tx.maxPriorityFeePerGas), this.o.bumpPercent);
      let max = bump(BigInt(tx.maxFeePerGas), this.o.bumpPercent);
      if (current.maxPriorityFeePerGas > prio) prio = current.maxPriorityFeePerGas;
      if (current.maxFeePerGas > max) max = current.maxFeePerGas;
      const capped = max >= cap;
      if (capped) max = cap;
      if (prio > max) prio = max;
      tx.maxPriorityFeePerGas = prio.toString();
      tx.maxFeePerGas = max.toString();
      try {
        const hash = await this.signAndBroadcast(tx);
        metrics.transactions.inc({ role: tx.role, outcome: "replaced" });
        log.warn(
          { key: tx.key, nonce: tx.nonce, hash, maxFeePerGas: tx.maxFeePerGas, replacement: replacements + 1 },
          "transaction not mined in time; replaced it with a higher fee",
        );
      } catch (err) {
        const msg = errorMessage(err).toLowerCase();
        if (msg.includes("nonce too low") || msg.includes("nonce has already been used")) continue;
        // Clamped to the cap, the bump can fall short of the node's minimum replacement increase.
        if (capped && msg.includes("underpriced")) throw new FeeCapReachedError(tx.nonce, tx.hashes, cap);
        throw err;
      }
    }
  }

  private async settle(tx: InflightTx, receipt: TransactionReceipt, replacements: number): Promise<SendResult> {
    const { metrics, log, provider, decoder } = this.o;
    await this.o.redis.del(this.journalKey);
    metrics.gasUsed.inc({ role: tx.role }, Number(receipt.gasUsed));
    metrics.gasCostWei.inc({ role: tx.role }, Number(receipt.gasUsed * receipt.gasPrice));
    if (receipt.status === 1) {
      metrics.transactions.inc({ role: tx.role, outcome: "mined" });
      log.info(
        { key: tx.key, hash: receipt.hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed.toString() },
        "transaction mined",
      );
      return { status: "mined", receipt, hash: receipt.hash, gasUsed: receipt.gasUsed, replacements };
    }
    metrics.transactions.inc({ role: tx.role, outcome: "reverted" });
    let revertData: string | undefined;
    try {
      await provider.call({ from: this.address, to: tx.to, data: tx.data, blockTag: receipt.blockNumber - 1 });
    } catch (err) {
      revertData = decoder.decodeError(err)?.data;
    }
    throw new RevertError(`${tx.role} ${tx.key} (tx ${receipt.hash})`, decoder.decode(revertData));
  }
}
