/**
 * Finds the minted deposit a provenance query names: a Bitcoin txid[:vout], a tunnel sequence number or the EVM
 * transaction hash that minted it, from the tunnel's DepositConfirmed events.
 */
import type { Contract, EventLog, Log } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import type { MintedDeposit, ProvenanceDeps } from "./types";

/** A parsed query. */
export type ProvenanceQuery =
  | { kind: "outpoint"; txid: string; vout: number | undefined }
  | { kind: "sequence"; sequence: number }
  | { kind: "evmTx"; hash: string };

/** Parses `txid[:vout]`, a sequence number or `0x` + 64 hex (an EVM tx hash); throws on anything else. */
export function parseQuery(q: string): ProvenanceQuery {
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) return { kind: "evmTx", hash: q.toLowerCase() };
  const m = /^([0-9a-fA-F]{64})(?::(\d{1,10}))?$/.exec(q);
  if (m !== null)
    return { kind: "outpoint", txid: m[1].toLowerCase(), vout: m[2] === undefined ? undefined : Number(m[2]) };
  if (/^\d{1,18}$/.test(q) && Number(q) > 0) return { kind: "sequence", sequence: Number(q) };
  throw new Error(
    `"${q}" is not a deposit txid[:vout] (64 hex), a sequence number (>= 1) or an EVM tx hash (0x + 64 hex)`,
  );
}

function toDeposit(tunnel: Contract, l: Log): MintedDeposit | undefined {
  const parsed = tunnel.interface.parseLog({ topics: [...l.topics], data: l.data });
  if (parsed === null || parsed.name !== "DepositConfirmed") return undefined;
  const a = parsed.args;
  return {
    txid: internalToDisplay(a.txid as string),
    vout: Number(a.vout as bigint),
    sequence: Number(a.sequence as bigint),
    recipient: a.recipient as string,
    sats: (a.sats as bigint).toString(),
    minted: (a.minted as bigint).toString(),
    evmTxHash: l.transactionHash,
    evmBlock: l.blockNumber,
  };
}

/** Every DepositConfirmed event of the tunnel, in sequence order. */
export async function mintedDeposits(d: ProvenanceDeps): Promise<MintedDeposit[]> {
  const logs = (await d.tunnel.queryFilter(d.tunnel.filters.DepositConfirmed(), d.evmFromBlock, "latest")) as (
    EventLog | Log
  )[];
  return logs.flatMap((l) => toDeposit(d.tunnel, l) ?? []).sort((a, b) => a.sequence - b.sequence);
}

/** The deposit the query names, or an error saying why none matches. */
export async function findDeposit(
  d: ProvenanceDeps,
  q: ProvenanceQuery,
): Promise<{ deposit: MintedDeposit; all: MintedDeposit[] }> {
  const all = await mintedDeposits(d);
  let hits: MintedDeposit[];
  if (q.kind === "sequence") hits = all.filter((x) => x.sequence === q.sequence);
  else if (q.kind === "evmTx") hits = all.filter((x) => x.evmTxHash.toLowerCase() === q.hash);
  else hits = all.filter((x) => x.txid === q.txid && (q.vout === undefined || x.vout === q.vout));
  if (hits.length === 0) {
    const what = q.kind === "sequence" ? `sequence ${q.sequence}` : q.kind === "evmTx" ? `EVM tx ${q.hash}` : q.txid;
    throw new NotMintedError(`no minted deposit matches ${what} (${all.length} deposit(s) minted)`);
  }
  if (hits.length > 1)
    throw new NotMintedError(
      `${hits.length} outputs of ${hits[0].txid} were minted (vouts ${hits.map((h) => h.vout).join(", ")}): name one as txid:vout`,
    );
  return { deposit: hits[0], all };
}

/** The query names no minted deposit. */
export class NotMintedError extends Error {}

/** The txid as the contracts take it. */
export const internalTxid = (display: string): string => displayToInternal(display);
