/**
 * fast-check arbitraries for raw Bitcoin transactions and output scripts, built with bitcoinjs-lib, plus an
 * independent (bitcoinjs-based) oracle for output-script classification. Tests of the Solidity parsers compare
 * against these; other suites may reuse them.
 */
import fc from "fast-check";
import * as bitcoin from "bitcoinjs-lib";
import * as ecc from "tiny-secp256k1";

bitcoin.initEccLib(ecc);

const OPS = bitcoin.script.OPS;

/** Largest amount Bitcoin can ever hold: 21e6 BTC in satoshis (2.1e15). */
export const MAX_SATS = 2_100_000_000_000_000n;

/** Output script kinds, named as in BitcoinScript.ScriptKind (same order: enum value = index). */
export const SCRIPT_KINDS = ["Unknown", "P2PKH", "P2SH", "P2WPKH", "P2WSH", "P2TR", "OpReturn"] as const;
export type ScriptKindName = (typeof SCRIPT_KINDS)[number];

/** What a script is expected to classify as. */
export interface ScriptClass {
  kind: ScriptKindName;
  payload: Uint8Array; // hash / program / OP_RETURN data; empty for Unknown
}

/** A generated output: how it was built and what it must classify as. */
export interface GenOutput extends ScriptClass {
  script: Uint8Array;
  value: bigint;
  /** "raw" outputs are random bytes: their class comes from the oracle, not from how they were built. */
  built: ScriptKindName | "raw";
}

export interface GenInput {
  hash: Uint8Array; // prevTxid, internal byte order
  index: number;
  scriptSig: Uint8Array;
  sequence: number;
}

export interface GenTx {
  tx: bitcoin.Transaction;
  raw: Uint8Array; // non-witness serialization
  version: number;
  locktime: number;
  inputs: GenInput[];
  outputs: GenOutput[];
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export function to0x(b: Uint8Array): string {
  return "0x" + toHex(b);
}

export function fromHex(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.startsWith("0x") ? h.slice(2) : h, "hex"));
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

/** A valid x-only public key (bitcoinjs' p2tr checks the output key is on the curve). */
export const arbXOnlyKey: fc.Arbitrary<Uint8Array> = bytes(32, 32).filter((k) => ecc.isXOnlyPoint(k));

/** OP_RETURN data chunks: mostly one push of 0..80 bytes, sometimes 0..3 pushes totalling at most 80 bytes. */
export const arbOpReturnChunks: fc.Arbitrary<Uint8Array[]> = fc.oneof(
  { weight: 3, arbitrary: bytes(0, 80).map((d) => [d]) },
  {
    weight: 1,
    arbitrary: fc
      .array(bytes(0, 40), { minLength: 0, maxLength: 3 })
      .filter((cs) => cs.reduce((n, c) => n + c.length, 0) <= 80),
  },
);

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`bitcoinjs-lib did not produce ${what}`);
  return v;
}

/** An output script of a standard kind, built by bitcoinjs-lib's payments, with its expected class. */
export const arbStandardScript: fc.Arbitrary<ScriptClass & { script: Uint8Array; built: ScriptKindName }> = fc.oneof(
  bytes(20, 20).map((hash) => ({
    built: "P2PKH" as const,
    kind: "P2PKH" as const,
    payload: hash,
    script: must(bitcoin.payments.p2pkh({ hash }).output, "p2pkh output"),
  })),
  bytes(20, 20).map((hash) => ({
    built: "P2SH" as const,
    kind: "P2SH" as const,
    payload: hash,
    script: must(bitcoin.payments.p2sh({ hash }).output, "p2sh output"),
  })),
  bytes(20, 20).map((hash) => ({
    built: "P2WPKH" as const,
    kind: "P2WPKH" as const,
    payload: hash,
    script: must(bitcoin.payments.p2wpkh({ hash }).output, "p2wpkh output"),
  })),
  bytes(32, 32).map((hash) => ({
    built: "P2WSH" as const,
    kind: "P2WSH" as const,
    payload: hash,
    script: must(bitcoin.payments.p2wsh({ hash }).output, "p2wsh output"),
  })),
  arbXOnlyKey.map((pubkey) => ({
    built: "P2TR" as const,
    kind: "P2TR" as const,
    payload: pubkey,
    script: must(bitcoin.payments.p2tr({ pubkey }).output, "p2tr output"),
  })),
  arbOpReturnChunks.map((data) => ({
    built: "OpReturn" as const,
    kind: "OpReturn" as const,
    payload: concatBytes(data),
    script: must(bitcoin.payments.embed({ data }).output, "embed output"),
  })),
);

/** Random bytes as a script (0..300 bytes, so that CompactSize lengths of 0xfd form appear). */
export const arbRawScript: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: bytes(0, 60) },
  { weight: 1, arbitrary: bytes(250, 300) },
);

export const arbOutput: fc.Arbitrary<GenOutput> = fc
  .tuple(
    fc.oneof({ weight: 6, arbitrary: arbStandardScript }, { weight: 1, arbitrary: arbRawScript }),
    fc.bigInt(0n, MAX_SATS),
  )
  .map(([s, value]) => {
    if (s instanceof Uint8Array) {
      return { built: "raw" as const, script: s, value, ...classifyWithBitcoinjs(s) };
    }
    return { ...s, value };
  });

export const arbInput: fc.Arbitrary<GenInput> = fc.record({
  hash: bytes(32, 32),
  index: fc.integer({ min: 0, max: 0xffffffff }),
  scriptSig: fc.oneof({ weight: 5, arbitrary: bytes(0, 120) }, { weight: 1, arbitrary: bytes(250, 400) }),
  sequence: fc.integer({ min: 0, max: 0xffffffff }),
});

/** Builds the transaction with bitcoinjs-lib and serializes it (non-witness). */
export function buildTx(
  version: number,
  inputs: GenInput[],
  outputs: { script: Uint8Array; value: bigint }[],
  locktime: number,
): { tx: bitcoin.Transaction; raw: Uint8Array } {
  const tx = new bitcoin.Transaction();
  tx.version = version;
  tx.locktime = locktime;
  for (const i of inputs) tx.addInput(i.hash, i.index, i.sequence, i.scriptSig);
  for (const o of outputs) tx.addOutput(o.script, o.value);
  return { tx, raw: tx.toBuffer() };
}

/** A random transaction: 1..maxInputs inputs, 1..maxOutputs outputs of every kind, random version/locktime. */
export function arbTx(opts: { maxInputs?: number; maxOutputs?: number } = {}): fc.Arbitrary<GenTx> {
  return fc
    .record({
      version: fc.integer({ min: 0, max: 0xffffffff }),
      locktime: fc.integer({ min: 0, max: 0xffffffff }),
      inputs: fc.array(arbInput, { minLength: 1, maxLength: opts.maxInputs ?? 4 }),
      outputs: fc.array(arbOutput, { minLength: 1, maxLength: opts.maxOutputs ?? 5 }),
    })
    .map(({ version, locktime, inputs, outputs }) => {
      const { tx, raw } = buildTx(version, inputs, outputs, locktime);
      return { tx, raw, version, locktime, inputs, outputs };
    });
}

/** Byte offsets of every CompactSize field in a non-witness serialization (counts and script lengths). */
export function compactSizeOffsets(raw: Uint8Array): number[] {
  const offsets: number[] = [];
  let o = 4;
  const readCs = (): number => {
    offsets.push(o);
    const p = raw[o];
    if (p < 0xfd) {
      o += 1;
      return p;
    }
    const n = p === 0xfd ? 2 : p === 0xfe ? 4 : 8;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + raw[o + 1 + i];
    o += 1 + n;
    return v;
  };
  const nIn = readCs();
  for (let i = 0; i < nIn; i++) {
    o += 36;
    const scriptLen = readCs();
    o += scriptLen + 4;
  }
  const nOut = readCs();
  for (let i = 0; i < nOut; i++) {
    o += 8;
    const scriptLen = readCs();
    o += scriptLen;
  }
  if (o + 4 !== raw.length)
    throw new Error(`compactSizeOffsets: not a well-formed transaction (${o + 4} != ${raw.length})`);
  return offsets;
}

const EMPTY = new Uint8Array(0);

function tryPayment(f: () => Uint8Array | undefined): Uint8Array | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/**
 * Classification by bitcoinjs-lib alone: payments.* for the templates, script.decompile/isPushOnly for OP_RETURN.
 * Documented differences from bitcoinjs-lib's own checks that BitcoinScript follows Bitcoin in:
 * - P2TR: bitcoinjs' p2tr rejects an output key that is not on the curve; Bitcoin (and BitcoinScript) still
 *   treat `OP_1 <32 bytes>` as a v1 witness program, so the template is matched as such.
 * - OP_RETURN: bitcoinjs' embed accepts only data pushes; Bitcoin's standardness (and BitcoinScript) accept any
 *   push-only tail, where OP_0 pushes an empty item, OP_1NEGATE 0x81 and OP_1..OP_16 one byte 1..16.
 */
export function classifyWithBitcoinjs(script: Uint8Array): ScriptClass {
  const p = bitcoin.payments;
  const output = script;
  const hit = (kind: ScriptKindName, payload: Uint8Array | undefined): ScriptClass | undefined =>
    payload === undefined ? undefined : { kind, payload };
  const templ =
    hit(
      "P2PKH",
      tryPayment(() => p.p2pkh({ output }).hash),
    ) ??
    hit(
      "P2SH",
      tryPayment(() => p.p2sh({ output }).hash),
    ) ??
    hit(
      "P2WPKH",
      tryPayment(() => p.p2wpkh({ output }).hash),
    ) ??
    hit(
      "P2WSH",
      tryPayment(() => p.p2wsh({ output }).hash),
    ) ??
    hit(
      "P2TR",
      tryPayment(() => p.p2tr({ output }).pubkey),
    );
  if (templ) return templ;
  if (script.length === 34 && script[0] === OPS.OP_1 && script[1] === 0x20) {
    return { kind: "P2TR", payload: script.slice(2) };
  }
  const chunks = bitcoin.script.decompile(script);
  if (chunks && chunks.length > 0 && chunks[0] === OPS.OP_RETURN && bitcoin.script.isPushOnly(chunks.slice(1))) {
    const items = chunks.slice(1).map((c): Uint8Array => {
      if (c instanceof Uint8Array) return c;
      if (c === OPS.OP_0) return EMPTY;
      if (c === OPS.OP_1NEGATE) return Uint8Array.of(0x81);
      return Uint8Array.of(c - OPS.OP_1 + 1);
    });
    return { kind: "OpReturn", payload: concatBytes(items) };
  }
  return { kind: "Unknown", payload: EMPTY };
}

/**
 * Scripts that stress a classifier: random bytes, standard templates with one byte changed or one byte
 * added/removed, and OP_RETURN followed by random opcodes and pushes (PUSHDATA1/2/4, OP_N, truncated pushes).
 */
export const arbAdversarialScript: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbRawScript,
  fc
    .tuple(arbStandardScript, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 }))
    .map(([s, pos, val, mode]) => {
      const b = s.script;
      const at = b.length === 0 ? 0 : pos % b.length;
      if (mode === 0) {
        const c = b.slice();
        if (c.length > 0) c[at] = val;
        return c;
      }
      if (mode === 1) return concatBytes([b.slice(0, at), Uint8Array.of(val), b.slice(at)]);
      return concatBytes([b.slice(0, at), b.slice(at + 1)]);
    }),
  fc
    .array(
      fc.oneof(
        bytes(0, 80).map((d) => concatBytes([Uint8Array.of(d.length), d])),
        bytes(0, 80).map((d) => concatBytes([Uint8Array.of(0x4c, d.length), d])),
        bytes(0, 80).map((d) => concatBytes([Uint8Array.of(0x4d, d.length, 0), d])),
        bytes(0, 80).map((d) => concatBytes([Uint8Array.of(0x4e, d.length, 0, 0, 0), d])),
        fc.integer({ min: 0x4f, max: 0x60 }).map((op) => Uint8Array.of(op)),
        fc.integer({ min: 0, max: 255 }).map((op) => Uint8Array.of(op)),
        bytes(0, 6),
      ),
      { minLength: 0, maxLength: 4 },
    )
    .map((parts) => concatBytes([Uint8Array.of(OPS.OP_RETURN), ...parts])),
);
