/**
 * The SDK's withdrawals: requesting one (with the fee quoted as the most accepted), and its state from the request
 * to the payout on Bitcoin and its proof (the payout is found by its OP_RETURN <id>, amount and script).
 */
import type { Log } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import type { BlockInfoWithTxs, RawTransactionInfo } from "../bitcoin/rpcTypes";
import { toWithdrawalInfo, type WithdrawalInfo } from "./abi";
import { destinationScriptHex, scriptHexToAddress } from "./addresses";
import { formatBtc } from "./amounts";
import { payoutOpReturnHex } from "./depositTx";
import { rethrowRevert } from "./errors";
import { toWithdrawalRequested } from "../evm/tunnelAbi";
import { eventArgs, isNotFound, type TunnelContext } from "./tunnelContext";
import { track } from "./tunnelTracking";
import type { TrackOptions, WithdrawalRequest, WithdrawalStatus } from "./tunnelTypes";

/** Bitcoin's common dust limit; the tunnel refuses payouts below it. */
const DUST_LIMIT = 546n;
/** getblockhash calls per batch request of the payout search. */
const HASH_BATCH = 500;

/** Scan state of one withdrawal's payout search. */
interface PayoutScan {
  nextHeight: number;
  /** Hash of the block scanned at each height from `nextHeight` up (a changed hash means a reorg: rescan). */
  scanned: Map<number, string>;
  seenMempool: Set<string>;
  found?: { txid: string };
}

export class TunnelWithdrawals {
  private readonly payoutScans = new Map<bigint, PayoutScan>();

  constructor(private readonly ctx: TunnelContext) {}

  /** hemiBTC balance of an account, in satoshis. */
  async balanceOf(account: string): Promise<bigint> {
    return (await (await this.ctx.token()).balanceOf(account)) as bigint;
  }

  /**
   * Burns `sats` hemiBTC of the signer and queues a withdrawal to `to` (an address of the tunnel's network, or a raw
   * script as 0x-hex); the vault pays `sats - fee` on Bitcoin. The tunnel burns directly (no approval). Checks the
   * balance, that a vault can serve it and the dust limit before sending, so the usual mistakes fail without gas.
   * The request carries the fee quoted now as the most it accepts (`maxFee` to set another): a fee raised in between
   * makes it revert with FeeAboveMax instead of charging more.
   */
  async requestWithdrawal(opts: {
    to: string;
    sats: bigint;
    vaultId?: number;
    maxFee?: bigint;
  }): Promise<WithdrawalRequest> {
    if (this.ctx.signer === undefined) throw new Error("requestWithdrawal needs an EVM signer");
    if (opts.sats <= 0n) throw new Error(`withdrawal amount must be positive, got ${opts.sats}`);
    const script = destinationScriptHex(opts.to, this.ctx.network);
    const me = await this.ctx.signer.getAddress();
    const balance = await this.balanceOf(me);
    if (balance < opts.sats) {
      throw new Error(`${me} holds ${formatBtc(balance)} hemiBTC, less than the ${formatBtc(opts.sats)} to withdraw`);
    }
    let vaultId = opts.vaultId;
    if (vaultId === undefined) {
      const [found, id] = await this.ctx.tunnel.selectVault(opts.sats);
      if (!found) {
        const lines: string[] = [];
        for (const v of await this.ctx.vaults()) {
          const b = await this.ctx.tunnel.vaultBacking(v.id);
          lines.push(
            `vault ${v.id} ${v.status}: custody-pending ${v.custody - v.pending}, collateral worth ${b.collateralSats} sat for ${v.pending} pending`,
          );
        }
        throw new Error(
          `no vault can serve a withdrawal of ${opts.sats} sat (each needs the custody for it and collateral worth all its pending withdrawals with it): ${lines.join("; ") || "no vaults"}`,
        );
      }
      vaultId = Number(id);
    }
    const fee = await this.ctx.tunnel.withdrawalFee(vaultId, opts.sats);
    if (opts.sats - fee < DUST_LIMIT) {
      throw new Error(
        `withdrawal of ${opts.sats} sat pays ${opts.sats - fee} sat after vault ${vaultId}'s fee of ${fee} sat: under the ${DUST_LIMIT} sat dust limit`,
      );
    }
    const maxFee = opts.maxFee ?? fee;
    try {
      const tx =
        opts.vaultId === undefined
          ? await this.ctx.tunnel["requestWithdrawal(bytes,uint64,uint64)"]("0x" + script, opts.sats, maxFee)
          : await this.ctx.tunnel["requestWithdrawalFrom(uint32,bytes,uint64,uint64)"](
              vaultId,
              "0x" + script,
              opts.sats,
              maxFee,
            );
      const receipt = await tx.wait();
      if (receipt === null) throw new Error(`withdrawal transaction ${tx.hash} was dropped`);
      for (const l of receipt.logs) {
        const p = this.ctx.tunnel.interface.parseLog(l);
        if (p?.name !== "WithdrawalRequested") continue;
        const a = toWithdrawalRequested(p.args.toObject() as Parameters<typeof toWithdrawalRequested>[0]);
        return { ...a, payout: a.sats - a.fee, evmTxHash: receipt.hash, evmBlockNumber: receipt.blockNumber };
      }
      throw new Error(`transaction ${receipt.hash} emitted no WithdrawalRequested`);
    } catch (err) {
      rethrowRevert(
        opts.vaultId === undefined ? "requestWithdrawal" : "requestWithdrawalFrom",
        err,
        this.ctx.tunnel.interface,
      );
    }
  }

  /** `withdrawal(id)`; throws for an unknown id. */
  async withdrawal(id: bigint): Promise<WithdrawalInfo> {
    const w = toWithdrawalInfo(await this.ctx.tunnel.withdrawal(id));
    if (w.status === "None") {
      const count = (await this.ctx.tunnel.withdrawalCount()) as bigint;
      throw new Error(`withdrawal ${id} does not exist (the tunnel has ${count} withdrawal(s))`);
    }
    return w;
  }

  private async requestEvent(id: bigint): Promise<Log> {
    const logs = await this.ctx.tunnel.queryFilter(
      this.ctx.tunnel.filters.WithdrawalRequested(id),
      this.ctx.fromBlock,
      "latest",
    );
    if (logs.length === 0) throw new Error(`no WithdrawalRequested event for withdrawal ${id}`);
    return logs[0];
  }

  /** Confirmations of a mined Bitcoin transaction, in the node and in the light client. */
  private async txDepth(
    txid: string,
  ): Promise<{ blockHash?: string; height?: number; confirmations: number; lc: number }> {
    let info: RawTransactionInfo;
    try {
      info = await this.ctx.bitcoin.getRawTransaction(txid, true);
    } catch (err) {
      if (isNotFound(err)) return { confirmations: 0, lc: 0 };
      throw err;
    }
    if (info.blockhash === undefined || (info.confirmations ?? 0) <= 0) return { confirmations: 0, lc: 0 };
    const header = await this.ctx.bitcoin.getBlockHeader(info.blockhash);
    const lc = await this.ctx.lightClient();
    const lcConf = Number((await lc.confirmations(displayToInternal(info.blockhash), header.height)) as bigint);
    return { blockHash: info.blockhash, height: header.height, confirmations: info.confirmations ?? 0, lc: lcConf };
  }

  /** Whether a decoded transaction is the payout of this withdrawal: OP_RETURN <id> and `paid` to `script`. */
  private static isPayout(
    tx: { vout: { value: number; scriptPubKey: { hex: string } }[] },
    idScript: string,
    script: string,
    paid: bigint,
  ): boolean {
    const hasId = tx.vout.some((o) => o.scriptPubKey.hex === idScript);
    return hasId && tx.vout.some((o) => o.scriptPubKey.hex === script && BigInt(Math.round(o.value * 1e8)) === paid);
  }

  /**
   * Looks for the payout of a pending withdrawal: blocks from the light client's best height when it was requested
   * (the payout cannot be older), then the mempool; remembers how far it got.
   */
  private async findPayout(
    id: bigint,
    script: string,
    paid: bigint,
    requestBlock: number,
  ): Promise<string | undefined> {
    let scan = this.payoutScans.get(id);
    if (scan === undefined) {
      const lc = await this.ctx.lightClient();
      let from: number;
      try {
        const [, height] = (await lc.bestBlock({ blockTag: requestBlock })) as [string, bigint];
        from = Number(height);
      } catch {
        // A node without the historical state: a week of blocks below the light client's best covers any payout
        // made within the tunnel's longest withdrawal window that is still worth following.
        const [, best] = (await lc.bestBlock()) as [string, bigint];
        from = Math.max(0, Number(best) - 1_008);
      }
      scan = { nextHeight: from, scanned: new Map(), seenMempool: new Set() };
      this.payoutScans.set(id, scan);
    }
    if (scan.found !== undefined) {
      const depth = await this.txDepth(scan.found.txid);
      const inMempool = depth.confirmations === 0 && (await this.ctx.bitcoin.getRawMempool()).includes(scan.found.txid);
      if (depth.confirmations > 0 || inMempool) return scan.found.txid;
      scan.found = undefined; // reorged out and dropped: search again
      scan.seenMempool.clear();
    }
    const idScript = payoutOpReturnHex(id);
    const tip = await this.ctx.bitcoin.getBlockCount();
    // The hashes of the heights to look at in batches; a block is fetched (with its transactions) only when the
    // hash at its height is not the one already scanned there.
    for (let from = scan.nextHeight; from <= tip; from += HASH_BATCH) {
      const heights: number[] = [];
      for (let h = from; h <= Math.min(tip, from + HASH_BATCH - 1); h++) heights.push(h);
      const hashes = await this.ctx.bitcoin.batch<string>(
        heights.map((h) => ({ method: "getblockhash", params: [h] })),
      );
      for (let i = 0; i < heights.length; i++) {
        if (scan.scanned.get(heights[i]) === hashes[i]) continue;
        const block = (await this.ctx.bitcoin.getBlock(hashes[i], 2)) as BlockInfoWithTxs;
        const hit = block.tx.find((t) => TunnelWithdrawals.isPayout(t, idScript, script, paid));
        if (hit !== undefined) {
          scan.found = { txid: hit.txid };
          return hit.txid;
        }
        scan.scanned.set(heights[i], hashes[i]);
      }
    }
    // Keep a few blocks behind the tip so that a short reorg is rescanned (by hash: only the blocks that changed).
    scan.nextHeight = Math.max(scan.nextHeight, tip - 5);
    for (const h of scan.scanned.keys()) if (h < scan.nextHeight || h > tip) scan.scanned.delete(h);
    const mempool = (await this.ctx.bitcoin.getRawMempool()).filter((t) => !scan.seenMempool.has(t));
    if (mempool.length > 0) {
      const txs = await this.ctx.bitcoin
        .batch<RawTransactionInfo | null>(mempool.map((t) => ({ method: "getrawtransaction", params: [t, true] })))
        .catch(() => [] as (RawTransactionInfo | null)[]);
      for (const t of txs) {
        if (t === null) continue;
        if (TunnelWithdrawals.isPayout(t, idScript, script, paid)) {
          scan.found = { txid: t.txid };
          return t.txid;
        }
        scan.seenMempool.add(t.txid);
      }
    }
    return undefined;
  }

  /** Where a withdrawal is now (see WithdrawalStatus). */
  async withdrawalStatus(id: bigint): Promise<WithdrawalStatus> {
    const w = await this.withdrawal(id);
    const req = await this.requestEvent(id);
    const a = eventArgs(req);
    const script = (a.btcScript as string).slice(2).toLowerCase();
    const v = await this.ctx.vault(w.vaultId);
    const s: WithdrawalStatus = {
      stage: "requested",
      id,
      vaultId: w.vaultId,
      requester: w.requester,
      status: w.status,
      btcScript: script,
      btcAddress: scriptHexToAddress(script, this.ctx.network),
      sats: w.sats,
      fee: w.fee,
      deadline: w.deadline,
      confirmations: 0,
      lightClientConfirmations: 0,
      required: v.confirmations,
      requestTxHash: req.transactionHash,
    };
    if (w.status === "Challenged") return { ...s, stage: "challenged" };
    if (w.status === "Finalized") {
      const logs = await this.ctx.tunnel.queryFilter(
        this.ctx.tunnel.filters.WithdrawalFinalized(id),
        this.ctx.fromBlock,
        "latest",
      );
      const f = logs[0];
      const fa = f === undefined ? undefined : eventArgs(f);
      const payoutTxid = fa === undefined ? undefined : internalToDisplay(fa.payoutTxid as string);
      const depth = payoutTxid === undefined ? { confirmations: 0, lc: 0 } : await this.txDepth(payoutTxid);
      return {
        ...s,
        stage: "finalized",
        payoutTxid,
        paid: fa?.paid as bigint | undefined,
        finalizeTxHash: f?.transactionHash,
        payoutBlockHash: "blockHash" in depth ? depth.blockHash : undefined,
        payoutBlockHeight: "height" in depth ? depth.height : undefined,
        confirmations: depth.confirmations,
        lightClientConfirmations: depth.lc,
      };
    }
    const payoutTxid = await this.findPayout(id, script, w.sats - w.fee, req.blockNumber);
    if (payoutTxid === undefined) return s;
    const depth = await this.txDepth(payoutTxid);
    return {
      ...s,
      stage: depth.confirmations > 0 ? "payout-mined" : "payout-broadcast",
      payoutTxid,
      payoutBlockHash: depth.blockHash,
      payoutBlockHeight: depth.height,
      confirmations: depth.confirmations,
      lightClientConfirmations: depth.lc,
    };
  }

  /** Follows a withdrawal until it is finalized (or challenged), calling `onUpdate` on each new state. */
  async trackWithdrawal(id: bigint, opts: TrackOptions<WithdrawalStatus> = {}): Promise<WithdrawalStatus> {
    return track(
      this.ctx,
      `withdrawal ${id} to be paid and finalized`,
      () => this.withdrawalStatus(id),
      (s) => `${s.stage}/${s.payoutTxid ?? ""}/${s.confirmations}/${s.lightClientConfirmations}`,
      (s) => s.stage === "finalized" || s.stage === "challenged",
      opts,
    );
  }
}
