/**
 * A typed bitcoind JSON-RPC client: HTTP basic auth (credentials in the URL, or Bitcoin Core's cookie
 * file), JSON-RPC errors as BitcoinRpcError with bitcoind's codes, timeouts and bounded retries with
 * backoff for transport failures only (for methods that must not run twice, such as sendtoaddress or
 * generatetoaddress, only when the connection was refused, i.e. nothing reached the node), and batching. Hashes and txids are display-order hex here, as
 * bitcoind shows them; convert with byteOrder.ts before they reach a contract.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type {
  BlockchainInfo,
  BlockHeaderInfo,
  BlockInfo,
  BlockInfoWithTxs,
  ChainTip,
  DecodedTransaction,
  EstimateSmartFeeResult,
  GenerateBlockResult,
  MempoolAcceptResult,
  MempoolEntryInfo,
  MempoolInfo,
  NetworkInfo,
  RawTransactionInfo,
  ScanTxOutSetResult,
  TxOutInfo,
  TxSpendingPrevout,
  UnspentOutput,
} from "./rpcTypes";

export type * from "./rpcTypes";

export interface BitcoinRpcOptions {
  /** e.g. http://user:pass@127.0.0.1:18443; credentials may be in the URL. */
  url: string;
  /** Bitcoin Core's cookie file (`__cookie__:<secret>`), read on every request so a node restart is picked up. */
  cookieFile?: string;
  /** Per-request timeout, default 30000 ms. */
  timeoutMs?: number;
  /**
   * Retries after a transport failure (not after a JSON-RPC error or HTTP 401), default 3, exponential
   * backoff. Methods in NON_REPEATABLE_METHODS are retried only after a refused connection.
   */
  retries?: number;
  /** First backoff delay, default 200 ms (doubles each retry, capped at 5 s). */
  retryDelayMs?: number;
}

/** A JSON-RPC error object returned by the node (bitcoind's codes, e.g. -5, -8, -25, -26, -27). */
export class BitcoinRpcError extends Error {
  /** The node's own message. */
  readonly rpcMessage: string;
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(`bitcoind ${method} failed: ${message} (code ${code})`);
    this.name = "BitcoinRpcError";
    this.rpcMessage = message;
  }
}

/** The node could not be reached or answered without a JSON-RPC reply: unreachable, timeout, HTTP 401, bad HTTP. */
export class BitcoinTransportError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = "BitcoinTransportError";
  }
}

/**
 * Methods whose effect must not happen twice: after a timeout or a dropped connection the node may have
 * run them already, so they are retried only when the connection was refused (nothing was sent).
 * submitblock is here too: a repeat of a block that was accepted answers "duplicate", not null.
 */
export const NON_REPEATABLE_METHODS: ReadonlySet<string> = new Set([
  "sendtoaddress",
  "sendmany",
  "generatetoaddress",
  "generatetodescriptor",
  "generateblock",
  "submitblock",
  "getnewaddress",
  "getrawchangeaddress",
  "createwallet",
  "stop",
]);

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string } | null;
  id?: unknown;
}

/**
 * The error of an HTTP exchange, whether retrying makes sense, and whether the request certainly did
 * not reach the node (connection refused), which makes even a non-repeatable method safe to retry.
 */
class HttpFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly notSent = false,
  ) {
    super(message);
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BitcoinRpcClient {
  private readonly endpoint: URL;
  private readonly urlCreds: { user: string; password: string } | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly cookieFile: string | undefined;
  private readonly agent: http.Agent;
  private nextId = 1;

  constructor(options: BitcoinRpcOptions) {
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new Error(`invalid bitcoind RPC URL: ${options.url}`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      throw new Error(`bitcoind RPC URL must be http(s): ${options.url}`);
    this.urlCreds =
      u.username !== ""
        ? { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
        : undefined;
    u.username = "";
    u.password = "";
    this.endpoint = u;
    this.cookieFile = options.cookieFile;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.agent = u.protocol === "https:" ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** The endpoint without credentials (safe to log). */
  get displayUrl(): string {
    return this.endpoint.toString();
  }

  private authHeader(): string | undefined {
    let creds = this.urlCreds;
    if (this.cookieFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(this.cookieFile, "utf8").trim();
      } catch (err) {
        throw new BitcoinTransportError(
          `cannot read bitcoind cookie file ${this.cookieFile}: ${err instanceof Error ? err.message : String(err)}`,
          "",
          0,
        );
      }
      const i = text.indexOf(":");
      if (i < 0) throw new BitcoinTransportError(`malformed bitcoind cookie file ${this.cookieFile}`, "", 0);
      creds = { user: text.slice(0, i), password: text.slice(i + 1) };
    }
    if (creds === undefined) return undefined;
    return "Basic " + Buffer.from(`${creds.user}:${creds.password}`).toString("base64");
  }

  /**
   * One HTTP POST. `fresh` uses a new connection instead of a kept-alive one, so that a failure other
   * than a refused connection cannot be a stale pooled socket (for non-repeatable methods).
   */
  private post(body: string, fresh: boolean): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
      };
      const auth = this.authHeader();
      if (auth !== undefined) headers.Authorization = auth;
      const mod = this.endpoint.protocol === "https:" ? https : http;
      const agent = fresh ? false : this.agent;
      const req = mod.request(this.endpoint, { method: "POST", headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (err) => reject(new HttpFailure(err.message, true)));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new HttpFailure(`timed out after ${this.timeoutMs} ms`, true)));
      req.on("error", (err) =>
        reject(
          err instanceof HttpFailure
            ? err
            : new HttpFailure(err.message, true, undefined, errorCode(err) === "ECONNREFUSED"),
        ),
      );
      req.end(body);
    });
  }

  /**
   * One HTTP exchange with retries on transport failures; returns the parsed JSON body. When not
   * `repeatable`, a failure is retried only if the request certainly did not reach the node.
   */
  private async exchange(method: string, payload: unknown, repeatable: boolean): Promise<unknown> {
    const body = JSON.stringify(payload);
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const { status, text } = await this.post(body, !repeatable);
        if (status === 401)
          throw new HttpFailure(
            `authentication failed (HTTP 401): check the RPC user and password or the cookie file`,
            false,
            401,
          );
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new HttpFailure(
            `HTTP ${status} without a JSON-RPC reply: ${text.slice(0, 200)}`,
            status >= 500,
            status,
          );
        }
        return parsed;
      } catch (err) {
        const f =
          err instanceof HttpFailure ? err : new HttpFailure(err instanceof Error ? err.message : String(err), false);
        const mayRepeat = repeatable || f.notSent;
        if (!f.retryable || !mayRepeat || attempt > this.retries)
          throw new BitcoinTransportError(
            `bitcoind ${method} at ${this.displayUrl}: ${f.message}` +
              (attempt > 1 ? ` (after ${attempt} attempts)` : "") +
              (f.retryable && !mayRepeat ? " (not retried: the node may have run it already)" : ""),
            method,
            attempt,
            f.status,
          );
        await sleep(Math.min(5_000, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private unwrap<T>(method: string, reply: unknown): T {
    if (typeof reply !== "object" || reply === null)
      throw new BitcoinTransportError(`bitcoind ${method}: reply is not a JSON-RPC object`, method, 1);
    const r = reply as RpcReply;
    if (r.error !== undefined && r.error !== null) throw new BitcoinRpcError(r.error.code, r.error.message, method);
    return r.result as T;
  }

  /** Calls one method. */
  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.nextId++;
    const reply = await this.exchange(
      method,
      { jsonrpc: "1.0", id, method, params },
      !NON_REPEATABLE_METHODS.has(method),
    );
    return this.unwrap<T>(method, reply);
  }

  /** Calls several methods in one HTTP request; results in call order. Throws on the first failed entry. */
  async batch<T>(calls: { method: string; params?: unknown[] }[]): Promise<T[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const payload = calls.map((c, i) => ({ jsonrpc: "1.0", id: first + i, method: c.method, params: c.params ?? [] }));
    const label = `batch(${calls.length}: ${calls[0].method}${calls.length > 1 ? ", ..." : ""})`;
    const reply = await this.exchange(
      label,
      payload,
      calls.every((c) => !NON_REPEATABLE_METHODS.has(c.method)),
    );
    if (!Array.isArray(reply)) {
      // bitcoind answers a whole batch with one error object when it cannot run it at all.
      const r = typeof reply === "object" && reply !== null ? (reply as RpcReply) : undefined;
      if (r?.error !== undefined && r.error !== null) throw new BitcoinRpcError(r.error.code, r.error.message, label);
      throw new BitcoinTransportError(`bitcoind ${label}: reply to a batch is not an array`, label, 1);
    }
    if (reply.length !== calls.length)
      throw new BitcoinTransportError(
        `bitcoind ${label}: batch reply has ${reply.length} entries for ${calls.length} calls`,
        label,
        1,
      );
    const byId = new Map<unknown, unknown>();
    for (const r of reply as RpcReply[]) byId.set(r?.id, r);
    return calls.map((c, i) => {
      const r = byId.get(first + i);
      if (r === undefined)
        throw new BitcoinTransportError(`bitcoind ${c.method}: missing from batch reply`, c.method, 1);
      return this.unwrap<T>(c.method, r);
    });
  }

  getBlockchainInfo(): Promise<BlockchainInfo> {
    return this.call("getblockchaininfo");
  }

  getNetworkInfo(): Promise<NetworkInfo> {
    return this.call("getnetworkinfo");
  }

  getBlockCount(): Promise<number> {
    return this.call("getblockcount");
  }

  getBestBlockHash(): Promise<string> {
    return this.call("getbestblockhash");
  }

  getBlockHash(height: number): Promise<string> {
    return this.call("getblockhash", [height]);
  }

  /** Raw 80-byte header, hex. */
  getBlockHeaderHex(hash: string): Promise<string> {
    return this.call("getblockheader", [hash, false]);
  }

  getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    return this.call("getblockheader", [hash, true]);
  }

  /** Headers of the active chain from `fromHeight`, `count` of them (fewer if the chain is shorter): two batched requests per 1,000. */
  async getRawHeaders(fromHeight: number, count: number): Promise<{ height: number; hash: string; header: string }[]> {
    const tip = await this.getBlockCount();
    const last = Math.min(tip, fromHeight + count - 1);
    const out: { height: number; hash: string; header: string }[] = [];
    for (let start = fromHeight; start <= last; start += 1000) {
      const end = Math.min(last, start + 999);
      const heights = Array.from({ length: end - start + 1 }, (_, i) => start + i);
      const hashes = await this.batch<string>(heights.map((h) => ({ method: "getblockhash", params: [h] })));
      const headers = await this.batch<string>(hashes.map((h) => ({ method: "getblockheader", params: [h, false] })));
      heights.forEach((height, i) => out.push({ height, hash: hashes[i], header: headers[i] }));
    }
    return out;
  }

  getBlock(hash: string, verbosity: 0): Promise<string>;
  getBlock(hash: string, verbosity?: 1): Promise<BlockInfo>;
  getBlock(hash: string, verbosity: 2 | 3): Promise<BlockInfoWithTxs>;
  getBlock(hash: string, verbosity: 0 | 1 | 2 | 3 = 1): Promise<string | BlockInfo | BlockInfoWithTxs> {
    return this.call("getblock", [hash, verbosity]);
  }

  getChainTips(): Promise<ChainTip[]> {
    return this.call("getchaintips");
  }

  getRawTransaction(txid: string, verbose?: false, blockhash?: string): Promise<string>;
  getRawTransaction(txid: string, verbose: true, blockhash?: string): Promise<RawTransactionInfo>;
  getRawTransaction(txid: string, verbose = false, blockhash?: string): Promise<string | RawTransactionInfo> {
    return this.call("getrawtransaction", blockhash === undefined ? [txid, verbose] : [txid, verbose, blockhash]);
  }

  decodeRawTransaction(hex: string): Promise<DecodedTransaction> {
    return this.call("decoderawtransaction", [hex]);
  }

  /** Returns the txid. `maxFeeRate` in BTC/kvB (0 = no cap; bitcoind's default 0.10). */
  sendRawTransaction(hex: string, maxFeeRate?: number): Promise<string> {
    return this.call("sendrawtransaction", maxFeeRate === undefined ? [hex] : [hex, maxFeeRate]);
  }

  testMempoolAccept(hexes: string[]): Promise<MempoolAcceptResult[]> {
    return this.call("testmempoolaccept", [hexes]);
  }

  getRawMempool(): Promise<string[]> {
    return this.call("getrawmempool", [false]);
  }

  getMempoolEntry(txid: string): Promise<MempoolEntryInfo> {
    return this.call("getmempoolentry", [txid]);
  }

  getMempoolInfo(): Promise<MempoolInfo> {
    return this.call("getmempoolinfo");
  }

  /** The mempool transactions spending these outpoints (bitcoind 25+); `spendingtxid` absent when none does. */
  getTxSpendingPrevout(outpoints: { txid: string; vout: number }[]): Promise<TxSpendingPrevout[]> {
    return this.call("gettxspendingprevout", [outpoints.map((o) => ({ txid: o.txid, vout: o.vout }))]);
  }

  /** null when the output is spent or unknown. */
  getTxOut(txid: string, vout: number, includeMempool = true): Promise<TxOutInfo | null> {
    return this.call("gettxout", [txid, vout, includeMempool]);
  }

  estimateSmartFee(confTarget: number, mode?: "economical" | "conservative"): Promise<EstimateSmartFeeResult> {
    return this.call("estimatesmartfee", mode === undefined ? [confTarget] : [confTarget, mode]);
  }

  generateToAddress(n: number, address: string): Promise<string[]> {
    return this.call("generatetoaddress", [n, address]);
  }

  /** One block paying `output` (address or descriptor) with exactly these transactions (txids in the mempool or raw hex). */
  generateBlock(output: string, transactions: string[]): Promise<GenerateBlockResult> {
    return this.call("generateblock", [output, transactions]);
  }

  /** null on success, else bitcoind's reason string. */
  submitBlock(hex: string): Promise<string | null> {
    return this.call("submitblock", [hex]);
  }

  async invalidateBlock(hash: string): Promise<void> {
    await this.call("invalidateblock", [hash]);
  }

  async reconsiderBlock(hash: string): Promise<void> {
    await this.call("reconsiderblock", [hash]);
  }

  /** scantxoutset "start" over descriptors such as `addr(<address>)` or `raw(<hex>)`. */
  scanTxOutSet(descriptors: string[]): Promise<ScanTxOutSetResult> {
    return this.call("scantxoutset", ["start", descriptors]);
  }

  getNewAddress(label = "", addressType?: "bech32" | "legacy" | "bech32m" | "p2sh-segwit"): Promise<string> {
    return this.call("getnewaddress", addressType === undefined ? [label] : [label, addressType]);
  }

  /**
   * Returns the txid. `feeRate` in sat/vB (bitcoind's fee_rate): pass it on regtest, where bitcoind has no fee
   * estimate and refuses to send without one unless started with -fallbackfee.
   */
  sendToAddress(address: string, btc: number, feeRate?: number): Promise<string> {
    if (feeRate === undefined) return this.call("sendtoaddress", [address, btc]);
    return this.call("sendtoaddress", [address, btc, null, null, null, null, null, null, null, feeRate]);
  }

  /** Names of the loaded wallets. */
  listWallets(): Promise<string[]> {
    return this.call("listwallets");
  }

  createWallet(name: string): Promise<{ name: string; warnings?: string[] }> {
    return this.call("createwallet", [name]);
  }

  loadWallet(name: string): Promise<{ name: string; warnings?: string[] }> {
    return this.call("loadwallet", [name]);
  }

  listUnspent(minconf = 1, maxconf = 9_999_999, addresses: string[] = []): Promise<UnspentOutput[]> {
    return this.call("listunspent", [minconf, maxconf, addresses]);
  }

  /** Trusted wallet balance in BTC. */
  getBalance(): Promise<number> {
    return this.call("getbalance");
  }
}
