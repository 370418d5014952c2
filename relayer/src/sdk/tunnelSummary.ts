/** The SDK's summary of the tunnel: vaults, supply, counts, recent deposits and withdrawals. */
import { internalToDisplay } from "../bitcoin/byteOrder";
import { toWithdrawalInfo } from "./abi";
import { scriptHexToAddress } from "./addresses";
import { eventArgs, type TunnelContext } from "./tunnelContext";
import type { TunnelDeposits } from "./tunnelDeposits";
import type { TunnelSummary, WithdrawalStatusLine } from "./tunnelTypes";

export class TunnelSummaryReader {
  constructor(
    private readonly ctx: TunnelContext,
    private readonly deposits: TunnelDeposits,
  ) {}

  /** The tunnel at a glance: vaults, supply, counts, the last `recent` deposits and withdrawals. */
  async summary(recent = 5): Promise<TunnelSummary> {
    const token = await this.ctx.token();
    const lc = await this.ctx.lightClient();
    const [lcHash, lcHeight] = (await lc.bestBlock()) as [string, bigint];
    const tipHeight = await this.ctx.bitcoin.getBlockCount();
    const tipHash = await this.ctx.bitcoin.getBlockHash(tipHeight);
    const cursor = (await this.ctx.tunnel.orderCursor()) as { count: bigint };
    const withdrawalCount = (await this.ctx.tunnel.withdrawalCount()) as bigint;
    const depositLogs = await this.ctx.tunnel.queryFilter(
      this.ctx.tunnel.filters.DepositConfirmed(),
      this.ctx.fromBlock,
      "latest",
    );
    const recentWithdrawals: WithdrawalStatusLine[] = [];
    const reqLogs = await this.ctx.tunnel.queryFilter(
      this.ctx.tunnel.filters.WithdrawalRequested(),
      this.ctx.fromBlock,
      "latest",
    );
    for (const l of reqLogs.slice(-recent)) {
      const a = eventArgs(l);
      const w = toWithdrawalInfo(await this.ctx.tunnel.withdrawal(a.id as bigint));
      const script = (a.btcScript as string).slice(2);
      recentWithdrawals.push({
        id: a.id as bigint,
        vaultId: w.vaultId,
        requester: w.requester,
        status: w.status,
        sats: w.sats,
        fee: w.fee,
        btcScript: script,
        btcAddress: scriptHexToAddress(script, this.ctx.network),
      });
    }
    return {
      network: this.ctx.network,
      tunnel: await this.ctx.tunnel.getAddress(),
      token: await token.getAddress(),
      lightClient: await lc.getAddress(),
      paused: (await this.ctx.tunnel.paused()) as boolean,
      bitcoinTip: { height: tipHeight, hash: tipHash },
      lightClientBest: { height: Number(lcHeight), hash: internalToDisplay(lcHash) },
      totalSupply: (await token.totalSupply()) as bigint,
      depositCount: cursor.count,
      withdrawalCount,
      vaults: await this.ctx.vaults(),
      recentDeposits: depositLogs.slice(-recent).map((l) => this.deposits.toDepositEvent(l)),
      recentWithdrawals,
    };
  }
}
