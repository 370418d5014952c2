/**
 * The tunnel's events the live view follows, read incrementally from the EVM node: vaults' custody scripts and
 * confirmations (VaultCreated, VaultConfirmationsSet), minted deposits (DepositConfirmed) and withdrawals
 * (WithdrawalRequested, then WithdrawalFinalized or WithdrawalChallenged). Txids are display order.
 */
import { Contract, type JsonRpcProvider, type Log } from "ethers";
import { internalToDisplay } from "../bitcoin/byteOrder";
import { loadArtifact } from "../evm/artifacts";

/** A DepositConfirmed event. */
export interface MintedEvent {
  txid: string;
  vout: number;
  recipient: string;
  sats: bigint;
  minted: bigint;
  sequence: number;
  evmTxHash: string;
  evmBlock: number;
}

/** A withdrawal's WithdrawalRequested event and, once there, the event that closed it. */
export interface WithdrawalEvents {
  id: bigint;
  vaultId: number;
  requester: string;
  sats: bigint;
  fee: bigint;
  deadline: number;
  requestTxHash: string;
  closed?: { state: "finalized" | "challenged"; txHash: string; payoutTxid?: string; paid?: bigint };
}

export class TunnelEventLog {
  readonly tunnel: Contract;
  /** Vault id by custody script (hex, no 0x). */
  readonly custody = new Map<string, number>();
  /** Vault confirmations by vault id (from VaultConfirmationsSet; read from the tunnel by the caller otherwise). */
  readonly confirmations = new Map<number, number>();
  /** Minted deposits by "<txid>:<vout>". */
  readonly minted = new Map<string, MintedEvent>();
  /** Withdrawals by id (decimal). */
  readonly withdrawals = new Map<string, WithdrawalEvents>();
  private scannedTo: number;

  constructor(
    private readonly provider: JsonRpcProvider,
    tunnelAddress: string,
    private readonly fromBlock: number,
  ) {
    this.tunnel = new Contract(tunnelAddress, loadArtifact("BitcoinTunnel").abi, provider);
    this.scannedTo = fromBlock - 1;
  }

  /** Reads the tunnel's events from the last block read to `head`. */
  async scan(head: number): Promise<void> {
    if (head < this.scannedTo) {
      // The EVM chain went back (a revert on a test node): read everything again.
      this.scannedTo = this.fromBlock - 1;
      this.minted.clear();
      this.withdrawals.clear();
    }
    if (head <= this.scannedTo) return;
    const logs: Log[] = await this.provider.getLogs({
      address: await this.tunnel.getAddress(),
      fromBlock: this.scannedTo + 1,
      toBlock: head,
    });
    for (const l of logs) this.apply(l);
    this.scannedTo = head;
  }

  private apply(l: Log): void {
    const parsed = this.tunnel.interface.parseLog({ topics: [...l.topics], data: l.data });
    if (parsed === null) return;
    const a = parsed.args;
    switch (parsed.name) {
      case "VaultCreated":
        this.custody.set((a.custodyScript as string).slice(2).toLowerCase(), Number(a.vaultId as bigint));
        break;
      case "VaultConfirmationsSet":
        this.confirmations.set(Number(a.vaultId as bigint), Number(a.confirmations as bigint));
        break;
      case "DepositConfirmed": {
        const m: MintedEvent = {
          txid: internalToDisplay(a.txid as string),
          vout: Number(a.vout as bigint),
          recipient: a.recipient as string,
          sats: a.sats as bigint,
          minted: a.minted as bigint,
          sequence: Number(a.sequence as bigint),
          evmTxHash: l.transactionHash,
          evmBlock: l.blockNumber,
        };
        this.minted.set(`${m.txid}:${m.vout}`, m);
        break;
      }
      case "WithdrawalRequested": {
        const id = a.id as bigint;
        this.withdrawals.set(id.toString(), {
          id,
          vaultId: Number(a.vaultId as bigint),
          requester: a.requester as string,
          sats: a.sats as bigint,
          fee: a.fee as bigint,
          deadline: Number(a.deadline as bigint),
          requestTxHash: l.transactionHash,
        });
        break;
      }
      case "WithdrawalFinalized":
      case "WithdrawalChallenged": {
        const w = this.withdrawals.get((a.id as bigint).toString());
        if (w === undefined) break;
        w.closed =
          parsed.name === "WithdrawalFinalized"
            ? {
                state: "finalized",
                txHash: l.transactionHash,
                payoutTxid: internalToDisplay(a.payoutTxid as string),
                paid: a.paid as bigint,
              }
            : { state: "challenged", txHash: l.transactionHash };
        break;
      }
    }
  }
}
