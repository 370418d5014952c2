/**
 * Finds the withdrawal a provenance query names: its id, the EVM transaction that requested or finalized it, or the
 * Bitcoin transaction that paid it (named by the WithdrawalFinalized event, or by its OP_RETURN <id> when not
 * finalized yet); and reads its terms and events from the tunnel (`withdrawal(id)`, WithdrawalRequested,
 * WithdrawalFinalized, WithdrawalChallenged).
 */
import type { EventLog, Log } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { networkOfChainName, scriptHexToAddress } from "../sdk/addresses";
import type { WithdrawalStructOutput } from "../evm/tunnelAbi";
import type { ProvenanceDeps, WithdrawalSubject } from "./types";

/** BitcoinTunnel.WithdrawalStatus by enum value. */
const STATES = ["None", "Pending", "Finalized", "Challenged"] as const;

/** The query names no withdrawal of the tunnel. */
export class NoSuchWithdrawalError extends Error {}

/** Parses a withdrawal id (1, 2, ...); throws on anything else. */
export function parseWithdrawalId(s: string | undefined): bigint {
  if (s === undefined || !/^\d{1,20}$/.test(s) || BigInt(s) === 0n || BigInt(s) >= 2n ** 64n)
    throw new Error(`--withdrawal takes a withdrawal id (1, 2, ...), got ${s === undefined ? "nothing" : `"${s}"`}`);
  return BigInt(s);
}

async function events(d: ProvenanceDeps, name: string, id?: bigint): Promise<(EventLog | Log)[]> {
  const filter = d.tunnel.filters[name];
  return (await d.tunnel.queryFilter(id === undefined ? filter() : filter(id), d.evmFromBlock, "latest")) as (
    EventLog | Log
  )[];
}

function args(d: ProvenanceDeps, l: Log): Record<string, unknown> {
  const p = d.tunnel.interface.parseLog({ topics: [...l.topics], data: l.data });
  if (p === null) throw new Error(`log ${l.transactionHash}/${l.index} is not a tunnel event`);
  return p.args.toObject() as Record<string, unknown>;
}

/** The withdrawal `id` with its terms and events; NoSuchWithdrawalError when the tunnel has none of that id. */
export async function findWithdrawal(d: ProvenanceDeps, id: bigint): Promise<WithdrawalSubject> {
  const w = (await d.tunnel.withdrawal(id)) as WithdrawalStructOutput;
  const state = STATES[Number(w.status)] ?? "None";
  if (state === "None") {
    const count = (await d.tunnel.withdrawalCount()) as bigint;
    throw new NoSuchWithdrawalError(`withdrawal ${id} does not exist (the tunnel has ${count} withdrawal(s))`);
  }
  const [req] = await events(d, "WithdrawalRequested", id);
  if (req === undefined) throw new NoSuchWithdrawalError(`no WithdrawalRequested event for withdrawal ${id}`);
  const a = args(d, req);
  const btcScript = (a.btcScript as string).slice(2).toLowerCase();
  let btcAddress: string | null = null;
  try {
    btcAddress = scriptHexToAddress(btcScript, networkOfChainName((await d.bitcoin.getBlockchainInfo()).chain)) ?? null;
  } catch {
    // a chain without addresses: the script is the destination
  }
  const [fin] = state === "Finalized" ? await events(d, "WithdrawalFinalized", id) : [];
  const [chal] = state === "Challenged" ? await events(d, "WithdrawalChallenged", id) : [];
  const sats = a.sats as bigint;
  const fee = a.fee as bigint;
  return {
    id: id.toString(),
    vaultId: Number(a.vaultId as bigint),
    requester: a.requester as string,
    state,
    btcScript,
    btcAddress,
    sats: sats.toString(),
    fee: fee.toString(),
    payout: (sats - fee).toString(),
    confirmations: Number(w.confirmations),
    deadline: Number(a.deadline as bigint),
    requestTxHash: req.transactionHash,
    requestBlock: req.blockNumber,
    payoutTxid: fin === undefined ? null : internalToDisplay(args(d, fin).payoutTxid as string),
    finalizeTxHash: fin?.transactionHash ?? null,
    finalizeBlock: fin?.blockNumber ?? null,
    challengeTxHash: chal?.transactionHash ?? null,
  };
}

/** The id of the withdrawal an EVM transaction requested or finalized (its tunnel events), if any. */
export async function withdrawalOfEvmTx(d: ProvenanceDeps, hash: string): Promise<bigint | undefined> {
  const receipt = await d.provider.getTransactionReceipt(hash);
  const tunnel = (await d.tunnel.getAddress()).toLowerCase();
  for (const l of receipt?.logs ?? []) {
    if (l.address.toLowerCase() !== tunnel) continue;
    const p = d.tunnel.interface.parseLog({ topics: [...l.topics], data: l.data });
    if (p?.name === "WithdrawalRequested" || p?.name === "WithdrawalFinalized") return p.args.id as bigint;
  }
  return undefined;
}

/**
 * The id of the withdrawal a Bitcoin transaction paid: the WithdrawalFinalized event naming it, else (a payout not
 * proven yet) its OP_RETURN `0x6a08 <id>` when the withdrawal of that id exists and the transaction pays its script.
 */
export async function withdrawalOfPayout(d: ProvenanceDeps, txid: string): Promise<bigint | undefined> {
  const internal = displayToInternal(txid).toLowerCase();
  for (const l of await events(d, "WithdrawalFinalized")) {
    const a = args(d, l);
    if ((a.payoutTxid as string).toLowerCase() === internal) return a.id as bigint;
  }
  let tx;
  try {
    tx = await d.bitcoin.getRawTransaction(txid, true);
  } catch {
    return undefined; // unknown to the node (or confirmed and the node has no transaction index)
  }
  const op = tx.vout.find((o) => /^6a08[0-9a-f]{16}$/i.test(o.scriptPubKey.hex));
  if (op === undefined) return undefined;
  const id = BigInt("0x" + op.scriptPubKey.hex.slice(4));
  if (id === 0n) return undefined;
  try {
    const w = await findWithdrawal(d, id);
    return tx.vout.some((o) => o.scriptPubKey.hex.toLowerCase() === w.btcScript) ? id : undefined;
  } catch (e) {
    if (e instanceof NoSuchWithdrawalError) return undefined;
    throw e;
  }
}
