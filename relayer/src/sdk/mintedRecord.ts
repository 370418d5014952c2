/**
 * A deposit's state from the tunnel's own record, for when the Bitcoin node cannot serve the transaction (a bitcoind
 * without -txindex serves a confirmed transaction only with its block hash): a deposit the tunnel has minted is
 * known to the EVM whatever the node says.
 */
import type { Contract, EventLog, Log } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { toDepositRecord } from "./abi";
import type { DepositStatus } from "./tunnelClient";

function argsOf(l: Log): Record<string, unknown> {
  return (l as EventLog).args.toObject();
}

/** The minted status of deposit `txid` (display order; `vout`, else its first minted output), or undefined. */
export async function mintedFromTunnelRecord(
  tunnel: Contract,
  fromBlock: number,
  txid: string,
  vout: number | undefined,
): Promise<DepositStatus | undefined> {
  const internal = displayToInternal(txid).toLowerCase();
  const logs = await tunnel.queryFilter(tunnel.filters.DepositConfirmed(), fromBlock, "latest");
  const mine = logs
    .filter((l) => String(argsOf(l).txid).toLowerCase() === internal)
    .filter((l) => vout === undefined || Number(argsOf(l).vout as bigint) === vout)
    .sort((a, b) => Number(argsOf(a).vout as bigint) - Number(argsOf(b).vout as bigint));
  const ev = mine[0];
  if (ev === undefined) return undefined;
  const a = argsOf(ev);
  const out = Number(a.vout as bigint);
  const record = toDepositRecord(await tunnel.depositRecord(internal, out));
  if (record.sequence === 0n) return undefined;
  return {
    stage: "minted",
    txid: internalToDisplay(internal),
    vout: out,
    vaultId: record.vaultId,
    recipient: a.recipient as string,
    sats: a.sats as bigint,
    blockHeight: record.blockHeight,
    confirmations: 0,
    lightClientConfirmations: 0,
    required: 0,
    sequence: record.sequence,
    minted: a.minted as bigint,
    inBitcoinOrder: record.inBitcoinOrder,
    evmTxHash: ev.transactionHash,
    evmBlockNumber: ev.blockNumber,
  };
}
