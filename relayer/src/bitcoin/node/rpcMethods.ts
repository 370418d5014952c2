/**
 * The bitcoind JSON-RPC methods the embedded node serves, with Bitcoin Core's parameter names, result
 * shapes, error codes and messages.
 */
import type {
  BlockchainInfo,
  ChainTip,
  EstimateSmartFeeResult,
  TxSpendingPrevout,
  MempoolAcceptResult,
  MempoolEntryInfo,
  MempoolInfo,
  NetworkInfo,
  RawTransactionInfo,
  ScanTxOutSetResult,
  ScanTxOutSetUnspent,
  TxOutInfo,
} from "../rpcTypes";
import { bitsToTarget, COIN, difficulty, satsToBtc } from "./consensus";
import { INCREMENTAL_RELAY_FEE_PER_KVB, MIN_RELAY_FEE_PER_KVB, type MempoolEntry } from "./mempool";
import type { RegtestNode } from "./regtestNode";
import { decodeRawTx } from "./regtestNode";
import { RpcCode, RpcMethodError, TxRejectedError } from "./rpcError";
import { addressToScript, descriptorToScript, scriptDescriptor, scriptPubKeyJson } from "./script";
import { blockJson, blockJsonWithTxs, decodeTx, headerJson, hex64 } from "./txJson";
import { outpointKey, parseOutpointKey } from "./utxoSet";
import type { Wallet } from "./wallet";

/** What a call carries besides its arguments: the wallet named by a /wallet/<name> URL path, if any. */
export interface CallContext {
  walletName?: string;
}

type Handler = (node: RegtestNode, args: Args, ctx: CallContext) => unknown;

export interface MethodSpec {
  params: string[];
  handler: Handler;
}

/** The wallet a wallet method works on (Bitcoin Core's GetWalletForJSONRPCRequest). */
function walletOf(node: RegtestNode, ctx: CallContext): Wallet {
  return node.walletFor(ctx.walletName);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v;
}

/** Positional or named arguments of one call, with Bitcoin Core's type errors (-3) and ParseHashV (-8). */
export class Args {
  constructor(
    private readonly values: unknown[],
    private readonly names: string[],
  ) {}

  /** The raw JSON value of argument `i`. */
  raw(i: number): unknown {
    return this.values[i];
  }

  has(i: number): boolean {
    return this.values[i] !== undefined && this.values[i] !== null;
  }

  /** Bitcoin Core 28's argument type error (RPCHelpMan::HandleRequest): every mismatch keyed by position and name. */
  private typeError(i: number, expected: string): never {
    throw new RpcMethodError(
      RpcCode.TYPE_ERROR,
      `Wrong type passed:\n{\n    "Position ${i + 1} (${this.names[i]})": "JSON value of type ${typeName(this.raw(i))} is not of expected type ${expected}"\n}`,
    );
  }

  required(i: number): void {
    if (!this.has(i)) throw new RpcMethodError(RpcCode.MISC_ERROR, `Missing required argument ${this.names[i]}`);
  }

  str(i: number): string;
  str(i: number, def: string): string;
  str(i: number, def?: string): string {
    if (!this.has(i)) {
      if (def !== undefined) return def;
      this.required(i);
    }
    const v = this.raw(i);
    if (typeof v !== "string") this.typeError(i, "string");
    return v;
  }

  num(i: number): number;
  num(i: number, def: number): number;
  num(i: number, def?: number): number {
    if (!this.has(i)) {
      if (def !== undefined) return def;
      this.required(i);
    }
    const v = this.raw(i);
    if (typeof v !== "number" || !Number.isFinite(v)) this.typeError(i, "number");
    return v;
  }

  /** An object argument (e.g. createwallet's options are not used; gettxspendingprevout's outputs entries). */
  isObject(i: number): boolean {
    const v = this.raw(i);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  }

  int(i: number): number;
  int(i: number, def: number): number;
  int(i: number, def?: number): number {
    const v = def === undefined ? this.num(i) : this.num(i, def);
    if (!Number.isInteger(v)) throw new RpcMethodError(RpcCode.TYPE_ERROR, "JSON integer out of range");
    return v;
  }

  /** A boolean argument: Bitcoin Core 28 refuses a number here (except where a method says otherwise: verbosityFlag). */
  bool(i: number, def: boolean): boolean {
    if (!this.has(i)) return def;
    const v = this.raw(i);
    if (typeof v === "boolean") return v;
    this.typeError(i, "bool");
  }

  /** Core's "verbosity|verbose" arguments (getrawtransaction): a number, or a boolean for 0/1. True when >= 1. */
  verbosityFlag(i: number): boolean {
    if (!this.has(i)) return false;
    const v = this.raw(i);
    if (typeof v === "boolean") return v;
    return this.int(i) >= 1;
  }

  arr(i: number, def?: unknown[]): unknown[] {
    if (!this.has(i)) {
      if (def !== undefined) return def;
      this.required(i);
    }
    const v = this.raw(i);
    if (!Array.isArray(v)) this.typeError(i, "array");
    return v;
  }

  /** A 32-byte hash in display hex, as Bitcoin Core's ParseHashV checks it (length first, then hex); `name` as Core names it. */
  hash(i: number, name: string = this.names[i]): string {
    return parseHash(this.str(i), name);
  }

  /** An amount in BTC (number or decimal string) to satoshis, as AmountFromValue. */
  amount(i: number): bigint {
    this.required(i);
    const v = this.raw(i);
    if (typeof v !== "number" && typeof v !== "string") this.typeError(i, "number");
    if ((typeof v === "number" && v < 0) || (typeof v === "string" && v.startsWith("-")))
      throw new RpcMethodError(RpcCode.TYPE_ERROR, "Amount out of range");
    // A number must be exactly the double nearest to an 8-decimal amount: its 8-decimal rendering reads
    // back as the same number (finer amounts such as 1e-9 do not). Extra digits (toFixed(12)) would show
    // binary noise on large amounts, e.g. 9357.99756019 as 9357.997560190001.
    let s: string;
    if (typeof v === "number") {
      s = v.toFixed(8);
      if (!Number.isFinite(v) || Number(s) !== v) throw new RpcMethodError(RpcCode.TYPE_ERROR, "Invalid amount");
    } else s = v;
    const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
    if (m === null) throw new RpcMethodError(RpcCode.TYPE_ERROR, "Invalid amount");
    const frac = (m[2] ?? "").replace(/0+$/, "");
    if (frac.length > 8) throw new RpcMethodError(RpcCode.TYPE_ERROR, "Invalid amount");
    const sats = BigInt(m[1]) * COIN + BigInt(frac.padEnd(8, "0"));
    if (sats > 21_000_000n * COIN) throw new RpcMethodError(RpcCode.TYPE_ERROR, "Amount out of range");
    return sats;
  }
}

/** Bitcoin Core's ParseHashV: "<name> must be of length 64 (not N, for 'x')", then "<name> must be hexadecimal string (not 'x')". */
function parseHash(v: string, name: string): string {
  if (v.length !== 64)
    throw new RpcMethodError(RpcCode.INVALID_PARAMETER, `${name} must be of length 64 (not ${v.length}, for '${v}')`);
  if (!/^[0-9a-fA-F]*$/.test(v))
    throw new RpcMethodError(RpcCode.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${v}')`);
  return v.toLowerCase();
}

/** A recipient or filter address, refused as Bitcoin Core does: -5 "Invalid Bitcoin address: <address>". */
function bitcoinAddress(address: string): Buffer {
  try {
    return addressToScript(address);
  } catch {
    throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, `Invalid Bitcoin address: ${address}`);
  }
}

/** Fee-rate estimation window (blocks) and the fewest mined transactions it needs before it answers. */
export const FEE_ESTIMATE_BLOCKS = 6;
export const FEE_ESTIMATE_MIN_TXS = 3;

/**
 * estimatesmartfee: like Bitcoin Core on a fresh regtest chain, no estimate ("Insufficient data or no feerate found",
 * blocks 0) until there is data. Our rule (simpler than Core's bucketed estimator, and documented as ours): the median
 * fee rate of the non-coinbase transactions in the last 6 blocks of the active chain, once there are at least 3 of
 * them, never below the minimum relay fee (1 sat/vB).
 */
function estimateSmartFee(node: RegtestNode, a: Args): EstimateSmartFeeResult {
  const target = a.int(0);
  if (target < 1 || target > 1008)
    throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Invalid conf_target, must be between 1 and 1008");
  if (a.has(1) && !["unset", "economical", "conservative"].includes(a.str(1).toLowerCase()))
    throw new RpcMethodError(
      RpcCode.INVALID_PARAMETER,
      'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
    );
  const rates: bigint[] = [];
  for (let h = node.chain.height; h > Math.max(0, node.chain.height - FEE_ESTIMATE_BLOCKS); h--) {
    const e = node.chain.atHeight(h);
    if (e?.fees === undefined) continue;
    e.txs.forEach((tx, i) => {
      if (i > 0) rates.push(((e.fees?.[i] ?? 0n) * 1000n) / BigInt(Math.ceil(tx.weight() / 4)));
    });
  }
  if (rates.length < FEE_ESTIMATE_MIN_TXS) return { errors: ["Insufficient data or no feerate found"], blocks: 0 };
  rates.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const median = rates[Math.floor(rates.length / 2)];
  const rate = median > MIN_RELAY_FEE_PER_KVB ? median : MIN_RELAY_FEE_PER_KVB;
  return { feerate: satsToBtc(rate), blocks: Math.max(2, target) };
}

/** gettxspendingprevout: the mempool transaction spending each outpoint, as Bitcoin Core 25+. */
function txSpendingPrevout(node: RegtestNode, a: Args): TxSpendingPrevout[] {
  const outputs = a.arr(0);
  if (outputs.length === 0)
    throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Invalid parameter, outputs are missing");
  return outputs.map((o) => {
    if (typeof o !== "object" || o === null || Array.isArray(o))
      throw new RpcMethodError(RpcCode.TYPE_ERROR, `JSON value of type ${typeName(o)} is not of expected type object`);
    const { txid, vout } = o as { txid?: unknown; vout?: unknown };
    if (typeof txid !== "string") throw new RpcMethodError(RpcCode.TYPE_ERROR, `Missing txid`);
    if (typeof vout !== "number") throw new RpcMethodError(RpcCode.TYPE_ERROR, `Missing vout`);
    const id = parseHash(txid, "txid");
    if (!Number.isInteger(vout)) throw new RpcMethodError(RpcCode.TYPE_ERROR, "JSON integer out of range");
    if (vout < 0) throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Invalid parameter, vout cannot be negative");
    const spender = node.mempool.spender(outpointKey(id, vout));
    return spender === undefined ? { txid: id, vout } : { txid: id, vout, spendingtxid: spender };
  });
}

function blockByHash(node: RegtestNode, hash: string) {
  const e = node.chain.getBlock(hash);
  if (e === undefined) throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Block not found");
  return e;
}

function payoutScript(address: string): Buffer {
  try {
    return addressToScript(address);
  } catch {
    throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Error: Invalid address");
  }
}

/** sat/kvB from a BTC/kvB argument. */
function feeRateArg(args: Args, i: number, def: bigint): bigint {
  if (!args.has(i)) return def;
  return args.amount(i);
}

function mempoolEntryJson(node: RegtestNode, e: MempoolEntry): MempoolEntryInfo {
  const depends = [...new Set(e.spends.map((k) => parseOutpointKey(k).txid).filter((t) => node.mempool.has(t)))];
  const spentby: string[] = [];
  e.tx.outs.forEach((_o, vout) => {
    const s = node.mempool.spender(outpointKey(e.txid, vout));
    if (s !== undefined) spentby.push(s);
  });
  const fee = satsToBtc(e.fee);
  return {
    vsize: e.vsize,
    weight: e.weight,
    time: e.time,
    height: e.height,
    descendantcount: 1,
    descendantsize: e.vsize,
    ancestorcount: 1 + depends.length,
    ancestorsize: e.vsize,
    wtxid: e.wtxid,
    fees: { base: fee, modified: fee, ancestor: fee, descendant: fee },
    depends,
    spentby,
    "bip125-replaceable": e.tx.ins.some((i) => i.sequence < 0xfffffffe),
    unbroadcast: false,
  };
}

function scanTxOutSet(node: RegtestNode, args: Args): ScanTxOutSetResult | boolean | null {
  const action = args.str(0);
  if (action === "status") return null;
  if (action === "abort") return false;
  if (action !== "start") throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Invalid action argument");
  const objects = args.arr(1);
  const unspents: ScanTxOutSetUnspent[] = [];
  let total = 0n;
  const chain = node.chain;
  for (const o of objects) {
    const desc =
      typeof o === "string"
        ? o
        : typeof o === "object" && o !== null && "desc" in o
          ? String((o as { desc: unknown }).desc)
          : undefined;
    if (desc === undefined)
      throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Scan object needs to be either a string or an object");
    let script: Buffer;
    try {
      script = descriptorToScript(desc);
    } catch (err) {
      throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, err instanceof Error ? err.message : String(err));
    }
    for (const key of chain.utxo.keysForScript(script.toString("hex"))) {
      const coin = chain.utxo.get(key);
      if (coin === undefined) continue;
      const { txid, vout } = parseOutpointKey(key);
      total += coin.value;
      unspents.push({
        txid,
        vout,
        scriptPubKey: script.toString("hex"),
        desc: scriptDescriptor(script),
        amount: satsToBtc(coin.value),
        coinbase: coin.coinbase,
        height: coin.height,
        blockhash: chain.atHeight(coin.height)?.hash ?? "",
        confirmations: chain.height - coin.height + 1,
      });
    }
  }
  return {
    success: true,
    txouts: chain.utxo.size,
    height: chain.height,
    bestblock: chain.tip.hash,
    unspents,
    total_amount: satsToBtc(total),
  };
}

function getRawTransaction(node: RegtestNode, args: Args): string | RawTransactionInfo {
  const txid = args.hash(0, "parameter 1");
  const verbose = args.verbosityFlag(1);
  const chain = node.chain;
  let found: { tx: import("bitcoinjs-lib").Transaction; entry?: import("./chainState").BlockEntry } | undefined;
  if (args.has(2)) {
    const bh = args.hash(2, "parameter 3");
    const entry = chain.getBlock(bh);
    if (entry === undefined) throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Block hash not found");
    const idx = entry.txids.indexOf(txid);
    if (idx < 0)
      throw new RpcMethodError(
        RpcCode.INVALID_ADDRESS_OR_KEY,
        "No such transaction found in the provided block. Use gettransaction for wallet transactions.",
      );
    found = { tx: entry.txs[idx], entry };
  } else {
    const m = node.mempool.get(txid);
    if (m !== undefined) found = { tx: m.tx };
    else {
      const c = chain.findTx(txid);
      if (c !== undefined) found = { tx: c.entry.txs[c.index], entry: c.entry };
    }
  }
  if (found === undefined)
    throw new RpcMethodError(
      RpcCode.INVALID_ADDRESS_OR_KEY,
      "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.",
    );
  const hex = Buffer.from(found.tx.toBuffer()).toString("hex");
  if (!verbose) return hex;
  const out: RawTransactionInfo = { ...decodeTx(found.tx), hex };
  if (found.entry !== undefined) {
    out.blockhash = found.entry.hash;
    const conf = chain.confirmations(found.entry);
    out.confirmations = conf < 0 ? 0 : conf;
    out.time = found.entry.time;
    out.blocktime = found.entry.time;
  }
  return out;
}

function acceptResult(node: RegtestNode, hex: string, maxRate: bigint): MempoolAcceptResult {
  let tx;
  try {
    tx = decodeRawTx(hex);
  } catch (err) {
    throw err instanceof RpcMethodError
      ? new RpcMethodError(RpcCode.DESERIALIZATION_ERROR, `TX decode failed: ${hex.slice(0, 16)}...`)
      : err;
  }
  const d = decodeTx(tx);
  try {
    const e = node.testMempoolAccept(hex, maxRate);
    return { txid: e.txid, wtxid: e.wtxid, allowed: true, vsize: e.vsize, fees: { base: satsToBtc(e.fee) } };
  } catch (err) {
    if (err instanceof TxRejectedError || err instanceof RpcMethodError)
      return { txid: d.txid, wtxid: d.hash, allowed: false, "reject-reason": err.message };
    throw err;
  }
}

const m = (params: string[], handler: Handler): MethodSpec => ({ params, handler });

/** Every method, by name. */
export const METHODS: Record<string, MethodSpec> = {
  getblockchaininfo: m([], (node): BlockchainInfo => {
    const tip = node.chain.tip;
    return {
      chain: "regtest",
      blocks: node.chain.height,
      headers: node.chain.height,
      bestblockhash: tip.hash,
      bits: (tip.bits >>> 0).toString(16).padStart(8, "0"),
      target: hex64(bitsToTarget(tip.bits)),
      difficulty: difficulty(tip.bits),
      time: tip.time,
      mediantime: tip.mtp,
      verificationprogress: 1,
      initialblockdownload: false,
      chainwork: hex64(tip.chainWork),
      size_on_disk: 0,
      pruned: false,
      warnings: [],
    };
  }),
  getblockcount: m([], (node) => node.chain.height),
  getbestblockhash: m([], (node) => node.chain.tip.hash),
  getdifficulty: m([], (node) => difficulty(node.chain.tip.bits)),
  getblockhash: m(["height"], (node, a) => {
    const h = a.int(0);
    const e = node.chain.atHeight(h);
    if (h < 0 || e === undefined) throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "Block height out of range");
    return e.hash;
  }),
  getblockheader: m(["blockhash", "verbose"], (node, a) => {
    const e = blockByHash(node, a.hash(0));
    return a.bool(1, true) ? headerJson(node.chain, e) : e.header.toString("hex");
  }),
  getblock: m(["blockhash", "verbosity"], (node, a) => {
    const e = blockByHash(node, a.hash(0));
    const verbosity = verbosityArg(a);
    if (verbosity === 0) return e.raw.toString("hex");
    if (verbosity === 1) return blockJson(node.chain, e);
    return blockJsonWithTxs(node.chain, e, verbosity >= 3);
  }),
  getchaintips: m([], (node): ChainTip[] => node.chain.tips()),
  getrawtransaction: m(["txid", "verbose", "blockhash"], getRawTransaction),
  decoderawtransaction: m(["hexstring"], (_node, a) => decodeTx(decodeRawTx(a.str(0)))),
  sendrawtransaction: m(["hexstring", "maxfeerate"], (node, a) =>
    node.sendRawTransaction(a.str(0), feeRateArg(a, 1, 10_000_000n)),
  ),
  testmempoolaccept: m(["rawtxs", "maxfeerate"], (node, a): MempoolAcceptResult[] =>
    a.arr(0).map((h) => acceptResult(node, String(h), feeRateArg(a, 1, 10_000_000n))),
  ),
  getrawmempool: m(["verbose"], (node, a) => {
    const entries = node.mempool.all();
    if (!a.bool(0, false)) return entries.map((e) => e.txid);
    const out: Record<string, MempoolEntryInfo> = {};
    for (const e of entries) out[e.txid] = mempoolEntryJson(node, e);
    return out;
  }),
  getmempoolentry: m(["txid"], (node, a) => {
    const e = node.mempool.get(a.hash(0, "parameter 1"));
    if (e === undefined) throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
    return mempoolEntryJson(node, e);
  }),
  getmempoolinfo: m([], (node): MempoolInfo => {
    const all = node.mempool.all();
    return {
      loaded: true,
      size: all.length,
      bytes: all.reduce((s, e) => s + e.vsize, 0),
      usage: all.reduce((s, e) => s + e.weight, 0),
      total_fee: satsToBtc(all.reduce((s, e) => s + e.fee, 0n)),
      maxmempool: 300_000_000,
      mempoolminfee: 0.00001,
      minrelaytxfee: 0.00001,
      incrementalrelayfee: satsToBtc(INCREMENTAL_RELAY_FEE_PER_KVB),
      fullrbf: true,
    };
  }),
  gettxout: m(["txid", "n", "include_mempool"], (node, a): TxOutInfo | null => {
    const txid = a.hash(0);
    const n = a.int(1);
    const includeMempool = a.bool(2, true);
    const key = outpointKey(txid, n);
    const chain = node.chain;
    if (includeMempool) {
      if (node.mempool.spender(key) !== undefined) return null;
      const pool = node.mempool.get(txid);
      if (pool !== undefined) {
        const out = pool.tx.outs[n];
        if (out === undefined) return null;
        return {
          bestblock: chain.tip.hash,
          confirmations: 0,
          value: satsToBtc(out.value),
          scriptPubKey: scriptPubKeyJson(out.script),
          coinbase: false,
        };
      }
    }
    const coin = chain.utxo.get(key);
    if (coin === undefined) return null;
    return {
      bestblock: chain.tip.hash,
      confirmations: chain.height - coin.height + 1,
      value: satsToBtc(coin.value),
      scriptPubKey: scriptPubKeyJson(coin.script),
      coinbase: coin.coinbase,
    };
  }),
  estimatesmartfee: m(["conf_target", "estimate_mode"], estimateSmartFee),
  gettxspendingprevout: m(["outputs"], txSpendingPrevout),
  savemempool: m([], (node) => ({ filename: node.saveMempool() })),
  generatetoaddress: m(["nblocks", "address", "maxtries"], (node, a) => {
    const n = a.int(0);
    if (n < 0) throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "nblocks must be non-negative");
    return node.generate(n, payoutScript(a.str(1)), a.int(2, 1_000_000));
  }),
  generatetodescriptor: m(["num_blocks", "descriptor", "maxtries"], (node, a) => {
    let script: Buffer;
    try {
      script = descriptorToScript(a.str(1));
    } catch (err) {
      throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, err instanceof Error ? err.message : String(err));
    }
    return node.generate(a.int(0), script, a.int(2, 1_000_000));
  }),
  generateblock: m(["output", "transactions", "submit"], (node, a) => {
    const output = a.str(0);
    let script: Buffer;
    try {
      script = output.includes("(") ? descriptorToScript(output) : addressToScript(output);
    } catch {
      throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, `Error: Invalid address or descriptor`);
    }
    return node.generateBlock(script, a.arr(1).map(String), a.bool(2, true));
  }),
  submitblock: m(["hexdata"], (node, a) => node.submitRawBlock(a.str(0))),
  invalidateblock: m(["blockhash"], (node, a) => {
    node.invalidateBlock(a.hash(0));
    return null;
  }),
  reconsiderblock: m(["blockhash"], (node, a) => {
    node.reconsiderBlock(a.hash(0));
    return null;
  }),
  scantxoutset: m(["action", "scanobjects"], scanTxOutSet),
  getnewaddress: m(["label", "address_type"], (node, a, ctx) =>
    walletOf(node, ctx).newAddress(a.str(0, ""), a.str(1, "bech32")),
  ),
  getrawchangeaddress: m(["address_type"], (node, a, ctx) =>
    walletOf(node, ctx).newAddress("", a.str(0, "bech32"), true),
  ),
  createwallet: m(
    [
      "wallet_name",
      "disable_private_keys",
      "blank",
      "passphrase",
      "avoid_reuse",
      "descriptors",
      "load_on_startup",
      "external_signer",
    ],
    (node, a) => {
      const name = a.str(0);
      node.createWallet(name);
      return { name };
    },
  ),
  loadwallet: m(["filename", "load_on_startup"], (node, a) => {
    const name = a.str(0);
    node.loadWallet(name);
    return { name };
  }),
  unloadwallet: m(["wallet_name", "load_on_startup"], (node, a, ctx) => {
    const name = a.has(0) ? a.str(0) : ctx.walletName;
    if (name === undefined)
      throw new RpcMethodError(RpcCode.WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded");
    node.unloadWallet(name);
    return {};
  }),
  listwallets: m([], (node) => node.listWallets()),
  sendtoaddress: m(
    [
      "address",
      "amount",
      "comment",
      "comment_to",
      "subtractfeefromamount",
      "replaceable",
      "conf_target",
      "estimate_mode",
      "avoid_reuse",
      "fee_rate",
    ],
    (node, a, ctx) => {
      const wallet = walletOf(node, ctx);
      const address = a.str(0);
      bitcoinAddress(address);
      const sats = a.amount(1);
      if (sats <= 0n) throw new RpcMethodError(RpcCode.TYPE_ERROR, "Invalid amount for send");
      if (a.bool(4, false))
        throw new RpcMethodError(RpcCode.INVALID_PARAMETER, "subtractfeefromamount is not supported by this node");
      const feeRate = a.has(9) ? a.num(9) : undefined;
      return wallet.send(address, sats, feeRate).getId();
    },
  ),
  listunspent: m(["minconf", "maxconf", "addresses"], (node, a, ctx) => {
    const wallet = walletOf(node, ctx);
    const addresses: string[] = [];
    for (const v of a.arr(2, [])) {
      if (typeof v !== "string")
        throw new RpcMethodError(
          RpcCode.TYPE_ERROR,
          `JSON value of type ${typeName(v)} is not of expected type string`,
        );
      bitcoinAddress(v);
      if (addresses.includes(v))
        throw new RpcMethodError(RpcCode.INVALID_PARAMETER, `Invalid parameter, duplicated address: ${v}`);
      addresses.push(v);
    }
    return wallet.listUnspent(a.int(0, 1), a.int(1, 9_999_999), addresses);
  }),
  getbalance: m(["dummy", "minconf"], (node, a, ctx) => {
    if (a.has(0) && a.str(0) !== "*")
      throw new RpcMethodError(RpcCode.METHOD_DEPRECATED, 'dummy first argument must be excluded or set to "*".');
    return satsToBtc(walletOf(node, ctx).balance(a.int(1, 0)));
  }),
  getnetworkinfo: m([], (): NetworkInfo => ({
    version: 280000,
    subversion: "/hemi-fabric-regtest:0.1.0/",
    protocolversion: 70016,
    localservices: "0000000000000409",
    localrelay: true,
    timeoffset: 0,
    networkactive: true,
    connections: 0,
    networks: [],
    relayfee: 0.00001,
    incrementalfee: 0.00001,
    localaddresses: [],
    warnings: [],
  })),
  stop: m([], () => "Bitcoin server stopping"),
  uptime: m([], (node) => Math.floor(Date.now() / 1000) - node.startedAt),
  help: m(["command"], () => Object.keys(METHODS).sort().join("\n")),
};

function verbosityArg(a: Args): number {
  // Bitcoin Core accepts a number (0, 1, 2, 3) or a boolean (false = 0, true = 1).
  const v = a.raw(1);
  if (v === undefined || v === null) return 1;
  if (typeof v === "boolean") return v ? 1 : 0;
  // Bitcoin Core: <= 0 raw hex, 1 txids, 2 transactions, >= 3 transactions with their prevouts.
  if (typeof v === "number" && Number.isInteger(v)) return Math.max(0, Math.min(3, v));
  return a.int(1);
}
