/**
 * Output script classification, addresses, Bitcoin Core's script `asm` and output descriptors (with the
 * BIP380 checksum), as the node's RPC shows them.
 */
import { address as btcAddress, networks, opcodes, script as btcScript } from "bitcoinjs-lib";

export const REGTEST = networks.regtest;

/** Bitcoin Core's names for output script types (`scriptPubKey.type`). */
export type ScriptType =
  | "pubkey"
  | "pubkeyhash"
  | "scripthash"
  | "multisig"
  | "nulldata"
  | "witness_v0_keyhash"
  | "witness_v0_scripthash"
  | "witness_v1_taproot"
  | "anchor"
  | "witness_unknown"
  | "nonstandard";

export function classifyScript(s: Uint8Array): ScriptType {
  const b = Buffer.from(s);
  const n = b.length;
  if (n === 25 && b[0] === 0x76 && b[1] === 0xa9 && b[2] === 0x14 && b[23] === 0x88 && b[24] === 0xac)
    return "pubkeyhash";
  if (n === 23 && b[0] === 0xa9 && b[1] === 0x14 && b[22] === 0x87) return "scripthash";
  if (n === 22 && b[0] === 0x00 && b[1] === 0x14) return "witness_v0_keyhash";
  if (n === 34 && b[0] === 0x00 && b[1] === 0x20) return "witness_v0_scripthash";
  if (n === 34 && b[0] === 0x51 && b[1] === 0x20) return "witness_v1_taproot";
  if (n === 4 && b.equals(Buffer.from("51024e73", "hex"))) return "anchor";
  if (n >= 4 && n <= 42 && (b[0] === 0x00 || (b[0] >= 0x51 && b[0] <= 0x60)) && b[1] === n - 2)
    return "witness_unknown";
  if ((n === 35 && b[0] === 33 && b[34] === 0xac) || (n === 67 && b[0] === 65 && b[66] === 0xac)) return "pubkey";
  if (n >= 1 && b[0] === 0x6a) {
    const chunks = btcScript.decompile(b.subarray(1));
    if (chunks !== null && chunks.every((c) => typeof c !== "number" || c <= 0x60)) return "nulldata";
  }
  if (n >= 37 && b[n - 1] === 0xae) return "multisig";
  return "nonstandard";
}

/** An output that can never be spent (OP_RETURN first, or over the 10,000-byte script limit); never enters the UTXO set. */
export function isUnspendable(s: Uint8Array): boolean {
  return (s.length > 0 && s[0] === 0x6a) || s.length > 10_000;
}

/** The regtest address of an output script, or undefined when it has none. */
export function scriptToAddress(s: Uint8Array): string | undefined {
  const t = classifyScript(s);
  if (t === "pubkey" || t === "multisig" || t === "nulldata" || t === "nonstandard") return undefined;
  try {
    return btcAddress.fromOutputScript(s, REGTEST);
  } catch {
    return undefined;
  }
}

/** The output script of a regtest address; throws on anything that is not a valid regtest address. */
export function addressToScript(addr: string): Buffer {
  return Buffer.from(btcAddress.toOutputScript(addr, REGTEST));
}

const OPCODE_NAMES: Map<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, code] of Object.entries(opcodes) as [string, unknown][])
    if (typeof code === "number" && !m.has(code)) m.set(code, name);
  m.set(0xb1, "OP_CHECKLOCKTIMEVERIFY");
  m.set(0xb2, "OP_CHECKSEQUENCEVERIFY");
  return m;
})();

const SIGHASH_NAMES: Record<number, string> = {
  0x01: "ALL",
  0x02: "NONE",
  0x03: "SINGLE",
  0x81: "ALL|ANYONECANPAY",
  0x82: "NONE|ANYONECANPAY",
  0x83: "SINGLE|ANYONECANPAY",
};

function scriptNumDecode(b: Buffer): number {
  if (b.length === 0) return 0;
  let v = 0;
  for (let i = 0; i < b.length; i++) v += b[i] * 2 ** (8 * i);
  if ((b[b.length - 1] & 0x80) !== 0) return -(v - 0x80 * 2 ** (8 * (b.length - 1)));
  return v;
}

/**
 * Bitcoin Core's ScriptToAsmStr: small pushes as numbers, other pushes as hex, opcodes by name; with
 * `decodeSighash`, a push that is a DER signature ends in its sighash name ("[ALL]").
 */
export function scriptToAsm(s: Uint8Array, decodeSighash = false): string {
  const out: string[] = [];
  const b = Buffer.from(s);
  let i = 0;
  while (i < b.length) {
    const op = b[i++];
    if (op === 0x00) {
      out.push("0");
      continue;
    }
    if (op >= 0x01 && op <= 0x4e) {
      let len = op;
      if (op === 0x4c) len = i < b.length ? b[i] : -1;
      else if (op === 0x4d) len = i + 1 < b.length ? b.readUInt16LE(i) : -1;
      else if (op === 0x4e) len = i + 3 < b.length ? b.readUInt32LE(i) : -1;
      i += op === 0x4c ? 1 : op === 0x4d ? 2 : op === 0x4e ? 4 : 0;
      if (len < 0 || i + len > b.length) {
        out.push("[error]");
        break;
      }
      const data = b.subarray(i, i + len);
      i += len;
      if (data.length <= 4) out.push(String(scriptNumDecode(data)));
      else if (decodeSighash && data.length > 8 && btcScript.isCanonicalScriptSignature(data)) {
        const name = SIGHASH_NAMES[data[data.length - 1]];
        out.push(name === undefined ? data.toString("hex") : data.subarray(0, -1).toString("hex") + `[${name}]`);
      } else out.push(data.toString("hex"));
      continue;
    }
    if (op === 0x4f) out.push("-1");
    else if (op >= 0x51 && op <= 0x60) out.push(String(op - 0x50));
    else out.push(OPCODE_NAMES.get(op) ?? "OP_UNKNOWN");
  }
  return out.join(" ");
}

const INPUT_CHARSET =
  "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, val: number): bigint {
  const c0 = c >> 35n;
  let r = ((c & 0x7ffffffffn) << 5n) ^ BigInt(val);
  for (let i = 0; i < 5; i++) if (((c0 >> BigInt(i)) & 1n) === 1n) r ^= GENERATOR[i];
  return r;
}

/** BIP380 descriptor checksum (8 characters). */
export function descriptorChecksum(desc: string): string {
  let c = 1n;
  let cls = 0;
  let clscount = 0;
  for (const ch of desc) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos < 0) throw new Error(`invalid character in descriptor: ${JSON.stringify(ch)}`);
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clscount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clscount = 0;
    }
  }
  if (clscount > 0) c = polymod(c, cls);
  for (let j = 0; j < 8; j++) c = polymod(c, 0);
  c ^= 1n;
  let out = "";
  for (let j = 0; j < 8; j++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - j))) & 31n)];
  return out;
}

/** `desc#checksum`. */
export function withChecksum(desc: string): string {
  return `${desc}#${descriptorChecksum(desc)}`;
}

/** The inferred descriptor Bitcoin Core shows for an output script (addr(...), pk(...) or raw(...)). */
export function scriptDescriptor(s: Uint8Array): string {
  const b = Buffer.from(s);
  const t = classifyScript(b);
  if (t === "pubkey") return withChecksum(`pk(${b.subarray(1, b.length - 1).toString("hex")})`);
  const addr = scriptToAddress(b);
  if (addr !== undefined) return withChecksum(`addr(${addr})`);
  return withChecksum(`raw(${b.toString("hex")})`);
}

/** The `scriptPubKey` JSON object of Bitcoin Core's RPC. */
export interface ScriptPubKeyJson {
  asm: string;
  desc: string;
  hex: string;
  address?: string;
  type: ScriptType;
}

export function scriptPubKeyJson(s: Uint8Array): ScriptPubKeyJson {
  const addr = scriptToAddress(s);
  const out: ScriptPubKeyJson = {
    asm: scriptToAsm(s),
    desc: scriptDescriptor(s),
    hex: Buffer.from(s).toString("hex"),
    type: classifyScript(s),
  };
  if (addr !== undefined) out.address = addr;
  return {
    asm: out.asm,
    desc: out.desc,
    hex: out.hex,
    ...(addr !== undefined ? { address: addr } : {}),
    type: out.type,
  };
}

/**
 * Parses a descriptor of the kinds scantxoutset supports here, addr(ADDRESS) and raw(HEX), with or
 * without checksum (a wrong checksum is an error), into its output script.
 */
export function descriptorToScript(descriptor: string): Buffer {
  let desc = descriptor.trim();
  const hashPos = desc.indexOf("#");
  if (hashPos >= 0) {
    const given = desc.slice(hashPos + 1);
    desc = desc.slice(0, hashPos);
    const expected = descriptorChecksum(desc);
    if (given !== expected)
      throw new Error(`Provided checksum '${given}' does not match computed checksum '${expected}'`);
  }
  const m = /^(addr|raw)\((.*)\)$/.exec(desc);
  if (m === null) throw new Error(`unsupported descriptor '${descriptor}' (this node supports addr(...) and raw(...))`);
  if (m[1] === "addr") {
    try {
      return addressToScript(m[2]);
    } catch {
      throw new Error(`Address is not valid: ${m[2]}`);
    }
  }
  if (!/^([0-9a-fA-F]{2})*$/.test(m[2]) || m[2].length === 0) throw new Error(`Raw script is not hex: ${m[2]}`);
  return Buffer.from(m[2], "hex");
}
