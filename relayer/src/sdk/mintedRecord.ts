/**
 * A deposit's state from the tunnel's own record, for when the Bitcoin node cannot serve the transaction (a bitcoind
 * without -txindex serves a confirmed transaction only with its block hash): a deposit the tunnel has minted is
 * known to the EVM whatever the node says.
 */
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import type { BitcoinTunnel } from "../evm/tunnelAbi";
import { toDepositRecord } from "./abi";
import { eventArgs } from "./tunnelContext";
import type { DepositStatus } from "./tunnelTypes";

/** The minted status of deposit `txid` (display order; `vout`, else its first minted output), or undefined. */
export async function mintedFromTunnelRecord(
  tunnel: BitcoinTunnel,
  fromBlock: number,
  txid: string,
  vout: number | undefined,
): Promise<DepositStatus | undefined> {
  const internal = displayToInternal(txid).toLowerCase();
  const logs = await tunnel.queryFilter(tunnel.filters.DepositConfirmed(), fromBlock, "latest");
  const mine = logs
    .map((l) => ({ l, a: eventArgs(l) }))
    .filter(({ a }) => String(a.txid).toLowerCase() === internal)
    .filter(({ a }) => vout === undefined || Number(a.vout as bigint) === vout)
    .sort((x, y) => Number(x.a.vout as bigint) - Number(y.a.vout as bigint));
  const ev = mine[0];
  if (ev === undefined) return undefined;
  const out = Number(ev.a.vout as bigint);
  const record = toDepositRecord(await tunnel.depositRecord(internal, out));
  if (record.sequence === 0n) return undefined;
  return {
    stage: "minted",
    txid: internalToDisplay(internal),
    vout: out,
    vaultId: record.vaultId,
    recipient: ev.a.recipient as string,
    sats: ev.a.sats as bigint,
    blockHeight: record.blockHeight,
    confirmations: 0,
    lightClientConfirmations: 0,
    required: 0,
    sequence: record.sequence,
    minted: ev.a.minted as bigint,
    inBitcoinOrder: record.inBitcoinOrder,
    evmTxHash: ev.l.transactionHash,
    evmBlockNumber: ev.l.blockNumber,
  };
}
