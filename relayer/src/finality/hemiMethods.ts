/**
 * The Hemi JSON-RPC methods the devnet's EVM URL answers itself, with go-ethereum's argument decoding (its
 * -32602 "invalid argument i: ..." / "missing value for required argument i" / "too many arguments" errors):
 * `optimism_btcFinalityByBlockHash(common.Hash)`, `kss_getKeystone(string, uint)`, `kss_getLatestKeystones(uint)`.
 */
import type { FinalityChainView } from "./chainView";
import { kssGetKeystone, kssGetLatestKeystones } from "./kssMethods";
import { btcFinalityByBlockHash } from "./opNodeFinality";
import { HemiRpcError } from "./rpcErrors";

/** The methods answered here; every other method goes to the EVM node. */
export const HEMI_METHODS = ["optimism_btcFinalityByBlockHash", "kss_getKeystone", "kss_getLatestKeystones"] as const;
export type HemiMethod = (typeof HEMI_METHODS)[number];

export function isHemiMethod(m: unknown): m is HemiMethod {
  return typeof m === "string" && (HEMI_METHODS as readonly string[]).includes(m);
}

function jsonKind(v: unknown): string {
  if (typeof v === "number") return `number ${String(v)}`;
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return v === null ? "null" : "object";
}

function argCount(params: readonly unknown[], want: number): void {
  if (params.length > want) throw new HemiRpcError(-32602, `too many arguments, want at most ${want}`);
  if (params.length < want) throw new HemiRpcError(-32602, `missing value for required argument ${params.length}`);
}

function uintArg(params: readonly unknown[], i: number): number {
  const v = params[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    const kind = typeof v === "number" ? `number ${String(v)}` : jsonKind(v);
    throw new HemiRpcError(-32602, `invalid argument ${i}: json: cannot unmarshal ${kind} into Go value of type uint`);
  }
  return v;
}

function stringArg(params: readonly unknown[], i: number): string {
  const v = params[i];
  if (typeof v !== "string") {
    const kind = typeof v === "number" ? "number" : jsonKind(v);
    throw new HemiRpcError(
      -32602,
      `invalid argument ${i}: json: cannot unmarshal ${kind} into Go value of type string`,
    );
  }
  return v;
}

function hashArg(params: readonly unknown[], i: number): string {
  const v = params[i];
  const bad = (what: string): HemiRpcError => new HemiRpcError(-32602, `invalid argument ${i}: ${what}`);
  if (typeof v !== "string") throw bad("json: cannot unmarshal non-string into Go value of type common.Hash");
  if (!/^0[xX]/.test(v))
    throw bad("json: cannot unmarshal hex string without 0x prefix into Go value of type common.Hash");
  const hex = v.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(hex))
    throw bad("json: cannot unmarshal invalid hex string into Go value of type common.Hash");
  if (hex.length !== 64) throw bad(`hex string has length ${hex.length}, want 64 for common.Hash`);
  return v;
}

/** Answers one Hemi method call: the JSON-RPC result, or throws HemiRpcError. */
export async function callHemiMethod(view: FinalityChainView, method: HemiMethod, params: unknown): Promise<unknown> {
  const p = params === undefined || params === null ? [] : (params as unknown[]);
  if (!Array.isArray(p)) throw new HemiRpcError(-32602, "non-array args");
  switch (method) {
    case "optimism_btcFinalityByBlockHash":
      argCount(p, 1);
      return btcFinalityByBlockHash(view, hashArg(p, 0));
    case "kss_getKeystone": {
      argCount(p, 2);
      const hash = stringArg(p, 0);
      const count = uintArg(p, 1);
      return kssGetKeystone(view, hash, count, await view.head());
    }
    case "kss_getLatestKeystones":
      argCount(p, 1);
      return kssGetLatestKeystones(view, uintArg(p, 0), await view.head());
  }
}
