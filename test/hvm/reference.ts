/**
 * Independent reference for the hVM answers, built only from the Bitcoin node's RPC data (getrawtransaction,
 * getblockheader, gettxout) and HEMI-FACTS.md §1: the expected fields of each precompile answer, and a decoder that
 * splits an actual answer into the same named fields, so tests compare them field by field.
 */
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import type { RawTransactionInfo } from "../../relayer/src/bitcoin/rpcTypes";
import type { HvmLayout } from "../../relayer/src/hvm";

export interface Field {
  name: string;
  hex: string;
}

export interface Flags {
  f1: number;
  f2: number;
  f3: number;
  f4: number;
}

const be = (v: number | bigint, size: number): string =>
  BigInt(v)
    .toString(16)
    .padStart(size * 2, "0")
    .slice(-size * 2);
const sats = (btc: number): bigint => BigInt(Math.round(btc * 1e8));

/** The unspendable rule of btcd (OP_RETURN first, > 10,000 bytes, or a push running past the end). */
export function isUnspendable(script: Buffer): boolean {
  if (script.length > 0 && script[0] === 0x6a) return true;
  if (script.length > 10_000) return true;
  let i = 0;
  while (i < script.length) {
    const op = script[i++];
    let n = 0;
    if (op >= 1 && op <= 0x4b) n = op;
    else if (op === 0x4c) {
      if (i + 1 > script.length) return true;
      n = script[i];
      i += 1;
    } else if (op === 0x4d) {
      if (i + 2 > script.length) return true;
      n = script.readUInt16LE(i);
      i += 2;
    } else if (op === 0x4e) {
      if (i + 4 > script.length) return true;
      n = script.readUInt32LE(i);
      i += 4;
    }
    if (i + n > script.length) return true;
    i += n;
  }
  return false;
}

/** Node data for one transaction and what the hVM view needs around it. */
export interface NodeTx {
  info: RawTransactionInfo;
  height: number;
  /** Per input: the prevout value when its source is inside the indexed, visible range; undefined otherwise. */
  inValues: (bigint | undefined)[];
  /** Per output: still in the node's UTXO set. */
  unspent: boolean[];
}

/** Reads a transaction and its surroundings from the node; `indexed` says whether a height is in the hVM's view. */
export async function readNodeTx(
  rpc: BitcoinRpcClient,
  txid: string,
  indexed: (height: number) => boolean,
): Promise<NodeTx> {
  const info = (await rpc.getRawTransaction(txid, true)) as RawTransactionInfo;
  const height = (await rpc.getBlockHeader(info.blockhash as string)).height;
  const inValues: (bigint | undefined)[] = [];
  for (const vin of info.vin) {
    if (vin.txid === undefined) {
      inValues.push(undefined);
      continue;
    }
    const src = (await rpc.getRawTransaction(vin.txid, true)) as RawTransactionInfo;
    const srcHeight = (await rpc.getBlockHeader(src.blockhash as string)).height;
    inValues.push(indexed(srcHeight) ? sats(src.vout[vin.vout as number].value) : undefined);
  }
  const unspent: boolean[] = [];
  for (const o of info.vout) unspent.push((await rpc.getTxOut(txid, o.n, false)) !== null);
  return { info, height, inValues, unspent };
}

interface Decoded {
  blockHash: boolean;
  witnessCount: boolean;
  version: boolean;
  sizes: boolean;
  locktime: boolean;
  inputs: boolean;
  source: boolean;
  scriptSig: boolean;
  sequence: boolean;
  outputs: boolean;
  outScript: boolean;
  unspendable: boolean;
  spent: boolean;
  maxIn: number;
  maxOut: number;
  maxSig: number;
  maxScript: number;
  idxSize: number;
}

/** The flag bits of HEMI-FACTS §1.8 for a layout. */
export function decodeFlags(f: Flags, layout: HvmLayout): Decoded {
  const cur = layout === "current";
  return {
    blockHash: (f.f1 & 0x40) !== 0,
    witnessCount: cur && (f.f1 & 0x40) !== 0,
    version: (f.f1 & 0x20) !== 0,
    sizes: (f.f1 & 0x10) !== 0,
    locktime: (f.f1 & 0x08) !== 0,
    inputs: (f.f1 & 0x04) !== 0,
    source: (f.f1 & 0x02) !== 0,
    scriptSig: (f.f1 & 0x01) !== 0,
    sequence: (f.f2 & 0x80) !== 0,
    outputs: (f.f2 & (cur ? 0x20 : 0x40)) !== 0,
    outScript: (f.f2 & (cur ? 0x10 : 0x20)) !== 0,
    unspendable: (f.f2 & 0x08) !== 0,
    spent: (f.f2 & 0x04) !== 0,
    maxIn: 1 << ((f.f3 >> 3) & 7),
    maxOut: 1 << (f.f3 & 7),
    maxSig: 1 << (4 + ((f.f4 >> 2) & 3)),
    maxScript: 1 << (4 + (f.f4 & 3)),
    idxSize: cur ? 4 : 2,
  };
}

/** The expected 0x42 answer as named fields, or "empty" where op-geth answers empty. */
export function expectedTxByTxid(n: NodeTx, f: Flags, layout: HvmLayout): Field[] | "empty" {
  const d = decodeFlags(f, layout);
  const { info } = n;
  const out: Field[] = [];
  if (d.blockHash) out.push({ name: "blockHash", hex: info.blockhash as string });
  if (d.version) out.push({ name: "version", hex: be(info.version >>> 0, 4) });
  if (d.sizes) {
    out.push({ name: "size", hex: be(info.size, 4) });
    out.push({ name: "strippedSize", hex: be((info.weight - info.size) / 3, 4) });
  }
  if (d.locktime) out.push({ name: "locktime", hex: be(info.locktime, 4) });
  if (d.inputs) {
    out.push({ name: "inputCount", hex: be(Math.min(info.vin.length, layout === "current" ? 0xffff : 1e9), 2) });
    for (let i = 0; i < Math.min(info.vin.length, d.maxIn); i++) {
      const vin = info.vin[i];
      const v = n.inValues[i];
      if (v === undefined) return "empty";
      if (d.witnessCount) out.push({ name: `in${i}.witnessCount`, hex: be((vin.txinwitness ?? []).length, 2) });
      out.push({ name: `in${i}.value`, hex: be(v, 8) });
      if (d.source) {
        out.push({ name: `in${i}.prevTxid`, hex: vin.txid as string });
        out.push({ name: `in${i}.prevIndex`, hex: be(vin.vout as number, d.idxSize) });
      }
      if (d.scriptSig) {
        const sig = Buffer.from(vin.scriptSig?.hex ?? "", "hex");
        out.push({ name: `in${i}.scriptSigLength`, hex: be(sig.length, 2) });
        out.push({ name: `in${i}.scriptSig`, hex: sig.subarray(0, d.maxSig).toString("hex") });
      }
      if (d.sequence) out.push({ name: `in${i}.sequence`, hex: be(vin.sequence, 4) });
    }
  }
  if (d.outputs) {
    const scripts = info.vout.map((o) => Buffer.from(o.scriptPubKey.hex, "hex"));
    const unsp = scripts.map(isUnspendable);
    const count = d.unspendable ? scripts.length : unsp.filter((u) => !u).length;
    out.push({ name: "outputCount", hex: be(count, 2) });
    let written = 0;
    for (let v = 0; v < scripts.length && written < d.maxOut; v++) {
      if (unsp[v] && !d.unspendable) continue;
      out.push({ name: `out${v}.value`, hex: be(sats(info.vout[v].value), 8) });
      if (d.outScript) {
        out.push({ name: `out${v}.scriptLength`, hex: be(scripts[v].length, 2) });
        out.push({ name: `out${v}.script`, hex: scripts[v].subarray(0, d.maxScript).toString("hex") });
      }
      if (d.spent) out.push({ name: `out${v}.unspent`, hex: n.unspent[v] ? "01" : "00" });
      written++;
    }
  }
  return out;
}

/** Splits an actual 0x42 answer into named fields following the flags (output names follow the expected list). */
export function decodeTxByTxid(
  answer: string,
  f: Flags,
  layout: HvmLayout,
  outputIndexes: number[],
): Field[] | "empty" {
  const b = Buffer.from(answer.replace(/^0x/, ""), "hex");
  if (b.length === 0) return "empty";
  const d = decodeFlags(f, layout);
  let p = 0;
  const out: Field[] = [];
  const take = (name: string, n: number): number => {
    if (p + n > b.length) throw new Error(`answer ends before ${name} (offset ${p}, ${n} bytes, length ${b.length})`);
    const hex = b.subarray(p, p + n).toString("hex");
    out.push({ name, hex });
    p += n;
    return n <= 6 ? parseInt(hex || "0", 16) : 0;
  };
  if (d.blockHash) take("blockHash", 32);
  if (d.version) take("version", 4);
  if (d.sizes) {
    take("size", 4);
    take("strippedSize", 4);
  }
  if (d.locktime) take("locktime", 4);
  if (d.inputs) {
    const total = take("inputCount", 2);
    for (let i = 0; i < Math.min(total, d.maxIn); i++) {
      if (d.witnessCount) take(`in${i}.witnessCount`, 2);
      take(`in${i}.value`, 8);
      if (d.source) {
        take(`in${i}.prevTxid`, 32);
        take(`in${i}.prevIndex`, d.idxSize);
      }
      if (d.scriptSig) {
        const len = take(`in${i}.scriptSigLength`, 2);
        take(`in${i}.scriptSig`, Math.min(len, d.maxSig));
      }
      if (d.sequence) take(`in${i}.sequence`, 4);
    }
  }
  if (d.outputs) {
    take("outputCount", 2);
    for (const v of outputIndexes.slice(0, d.maxOut)) {
      if (p >= b.length) break;
      take(`out${v}.value`, 8);
      if (d.outScript) {
        const len = take(`out${v}.scriptLength`, 2);
        take(`out${v}.script`, Math.min(len, d.maxScript));
      }
      if (d.spent) take(`out${v}.unspent`, 1);
    }
  }
  if (p !== b.length) out.push({ name: "trailing", hex: b.subarray(p).toString("hex") });
  return out;
}

/** Output indexes an answer serializes, in order (unspendable ones only with the flag). */
export function servedOutputs(n: NodeTx, f: Flags, layout: HvmLayout): number[] {
  const d = decodeFlags(f, layout);
  const idx: number[] = [];
  n.info.vout.forEach((o, v) => {
    if (d.unspendable || !isUnspendable(Buffer.from(o.scriptPubKey.hex, "hex"))) idx.push(v);
  });
  return idx;
}

/** The expected 116-byte header record of 0x44/0x45 from getblockheader. */
export async function expectedHeaderRecord(rpc: BitcoinRpcClient, height: number): Promise<Field[]> {
  const hash = await rpc.getBlockHash(height);
  const h = await rpc.getBlockHeader(hash);
  return [
    { name: "height", hex: be(height, 4) },
    { name: "blockHash", hex: hash },
    { name: "version", hex: be(h.version >>> 0, 4) },
    { name: "prevBlockHash", hex: h.previousblockhash as string },
    { name: "merkleRoot", hex: h.merkleroot },
    { name: "time", hex: be(h.time, 4) },
    { name: "bits", hex: h.bits },
    { name: "nonce", hex: be(h.nonce, 4) },
  ];
}

/** Splits a 116-byte header record into its fields. */
export function decodeHeaderRecord(answer: string): Field[] {
  const b = Buffer.from(answer.replace(/^0x/, ""), "hex");
  if (b.length !== 116) throw new Error(`header record must be 116 bytes, got ${b.length}`);
  const names: [string, number][] = [
    ["height", 4],
    ["blockHash", 32],
    ["version", 4],
    ["prevBlockHash", 32],
    ["merkleRoot", 32],
    ["time", 4],
    ["bits", 4],
    ["nonce", 4],
  ];
  let p = 0;
  return names.map(([name, n]) => {
    const hex = b.subarray(p, p + n).toString("hex");
    p += n;
    return { name, hex };
  });
}

export { be, sats };
