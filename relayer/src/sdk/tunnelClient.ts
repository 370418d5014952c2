/**
 * TunnelClient: what a dApp needs to use the BTC tunnel. Deposit instructions (address, OP_RETURN, minimum, fee),
 * building or sending a deposit, following it from the Bitcoin transaction to the mint, requesting a withdrawal and
 * following it to the payout on Bitcoin and its proof, and a summary of the tunnel. Txids and block hashes are
 * display order (as bitcoind shows them) at this API; the contracts' internal order is converted with byteOrder.ts.
 *
 * The work is split by concern: vaults (tunnelVaults.ts), deposits (tunnelDeposits.ts), withdrawals
 * (tunnelWithdrawals.ts), tracking (tunnelTracking.ts) and the summary (tunnelSummary.ts); this class holds the
 * connections and forwards to them.
 */
import type { Provider, Signer } from "ethers";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import type { Deployment } from "../evm/deployment";
import { BitcoinLightClient__factory } from "../../../typechain-types/factories/contracts/bitcoin/BitcoinLightClient__factory";
import { HemiBTC__factory } from "../../../typechain-types/factories/contracts/tunnel/HemiBTC__factory";
import { tunnelAt, type BitcoinLightClient, type BitcoinTunnel, type HemiBTC } from "../evm/tunnelAbi";
import type { WithdrawalInfo } from "./abi";
import { addressNetworkOf, networkOfChainName, type BitcoinNetworkName } from "./addresses";
import type { BuiltDeposit } from "./depositTx";
import type { TunnelContext, VaultView } from "./tunnelContext";
import { TunnelDeposits, type DepositFromCoinsOptions } from "./tunnelDeposits";
import { TunnelSummaryReader } from "./tunnelSummary";
import type {
  DepositInstructions,
  DepositStatus,
  SentDeposit,
  TrackOptions,
  TunnelClientOptions,
  TunnelSummary,
  WithdrawalRequest,
  WithdrawalStatus,
} from "./tunnelTypes";
import { TunnelVaults } from "./tunnelVaults";
import { TunnelWithdrawals } from "./tunnelWithdrawals";

export type {
  DepositEventInfo,
  DepositInstructions,
  DepositStage,
  DepositStatus,
  SentDeposit,
  TrackOptions,
  TunnelClientOptions,
  TunnelSummary,
  WithdrawalRequest,
  WithdrawalStage,
  WithdrawalStatus,
  WithdrawalStatusLine,
} from "./tunnelTypes";

export class TunnelClient implements TunnelContext {
  readonly tunnel: BitcoinTunnel;
  readonly network: BitcoinNetworkName;
  readonly bitcoin: BitcoinRpcClient;
  readonly provider: Provider;
  readonly signer: Signer | undefined;
  readonly fromBlock: number;
  readonly pollMs: number;
  private tokenContract: HemiBTC | undefined;
  private lcContract: BitcoinLightClient | undefined;
  private readonly vaultDirectory: TunnelVaults;
  private readonly depositsApi: TunnelDeposits;
  private readonly withdrawalsApi: TunnelWithdrawals;
  private readonly summaryReader: TunnelSummaryReader;

  constructor(opts: TunnelClientOptions) {
    this.provider = opts.provider;
    this.signer = opts.signer;
    this.bitcoin = opts.bitcoin;
    this.network = opts.network;
    this.fromBlock = opts.fromBlock ?? 0;
    this.pollMs = opts.pollIntervalMs ?? 1_000;
    this.tunnel = tunnelAt(opts.tunnel, opts.signer ?? opts.provider);
    this.vaultDirectory = new TunnelVaults(this);
    this.depositsApi = new TunnelDeposits(this);
    this.withdrawalsApi = new TunnelWithdrawals(this);
    this.summaryReader = new TunnelSummaryReader(this, this.depositsApi);
  }

  /**
   * A client for the tunnel of a deployment file (`deployments/<chainId>.json`); the network is the light client's
   * anchor network.
   */
  static fromDeployment(
    deployment: Deployment,
    conn: { provider: Provider; signer?: Signer; bitcoin: BitcoinRpcClient; pollIntervalMs?: number },
  ): TunnelClient {
    const tunnel = deployment.contracts.BitcoinTunnel as string | undefined;
    if (tunnel === undefined) {
      throw new Error(
        `the deployment of chain ${deployment.chainId} has no BitcoinTunnel: redeploy with \`npx hemi-fabric deploy\``,
      );
    }
    return new TunnelClient({
      ...conn,
      tunnel,
      network: addressNetworkOf(deployment.anchor.network),
      fromBlock: deployment.blockNumber ?? 0,
    });
  }

  /** The network name of the Bitcoin node behind `bitcoin` (getblockchaininfo). */
  static async nodeNetwork(bitcoin: BitcoinRpcClient): Promise<BitcoinNetworkName> {
    return networkOfChainName((await bitcoin.getBlockchainInfo()).chain);
  }

  /** The HemiBTC token contract. */
  async token(): Promise<HemiBTC> {
    this.tokenContract ??= HemiBTC__factory.connect(await this.tunnel.token(), this.signer ?? this.provider);
    return this.tokenContract;
  }

  /** The light client contract the tunnel proves against. */
  async lightClient(): Promise<BitcoinLightClient> {
    this.lcContract ??= BitcoinLightClient__factory.connect(
      await this.tunnel.lightClient(),
      this.signer ?? this.provider,
    );
    return this.lcContract;
  }

  // Vaults ------------------------------------------------------------------------------------------------------

  /** One vault with its custody script and address. */
  vault(id: number): Promise<VaultView> {
    return this.vaultDirectory.vault(id);
  }

  /** Every vault, by id (the VaultCreated events are read once for all of them). */
  vaults(): Promise<VaultView[]> {
    return this.vaultDirectory.vaults();
  }

  /** Vault ids by custody script hex. */
  vaultOfScriptMap(): Promise<Map<string, number>> {
    return this.vaultDirectory.vaultOfScriptMap();
  }

  // Deposits ----------------------------------------------------------------------------------------------------

  /**
   * What to pay to deposit for `recipient`: the vault's custody address and script, the OP_RETURN, its minimum,
   * fee and confirmations. Without `vaultId`, the lowest-id vault that takes deposits with room for them.
   */
  depositInstructions(recipient: string, vaultId?: number, amountSats?: bigint): Promise<DepositInstructions> {
    return this.depositsApi.depositInstructions(recipient, vaultId, amountSats);
  }

  /** The node's fee estimate for 6 blocks in sat/vB, or 2 sat/vB when it has none (regtest). */
  feeRate(): Promise<number> {
    return this.depositsApi.feeRate();
  }

  /** Builds and signs a deposit from coins you hold the keys of (see TunnelDeposits.buildDeposit). Not broadcast. */
  buildDeposit(opts: DepositFromCoinsOptions): Promise<BuiltDeposit & { vaultId: number }> {
    return this.depositsApi.buildDeposit(opts);
  }

  /** Broadcasts a signed transaction; returns its txid. */
  broadcast(hex: string): Promise<string> {
    return this.depositsApi.broadcast(hex);
  }

  /** Deposits from the Bitcoin node's wallet (see TunnelDeposits.sendDepositFromNodeWallet). */
  sendDepositFromNodeWallet(opts: {
    amountSats: bigint;
    recipient: string;
    vaultId?: number;
    feeRate?: number;
  }): Promise<SentDeposit> {
    return this.depositsApi.sendDepositFromNodeWallet(opts);
  }

  /** Where a deposit is now (see DepositStatus); NotADepositError when it can never be minted. */
  depositStatus(txid: string, vout?: number): Promise<DepositStatus> {
    return this.depositsApi.depositStatus(txid, vout);
  }

  /** Follows a deposit until it is minted, calling `onUpdate` on each new state. */
  trackDeposit(txid: string, opts: TrackOptions<DepositStatus> & { vout?: number } = {}): Promise<DepositStatus> {
    return this.depositsApi.trackDeposit(txid, opts);
  }

  /** Mints a deposit yourself (anyone may): builds the SPV proof and calls `confirmDeposit`. */
  proveDeposit(txid: string, vout?: number): Promise<{ sequence: bigint; evmTxHash: string }> {
    return this.depositsApi.proveDeposit(txid, vout);
  }

  // Withdrawals -------------------------------------------------------------------------------------------------

  /** hemiBTC balance of an account, in satoshis. */
  balanceOf(account: string): Promise<bigint> {
    return this.withdrawalsApi.balanceOf(account);
  }

  /**
   * Burns `sats` hemiBTC of the signer and queues a withdrawal to `to`; the fee quoted before sending is the most
   * the request accepts (`maxFee` overrides it). See TunnelWithdrawals.requestWithdrawal.
   */
  requestWithdrawal(opts: { to: string; sats: bigint; vaultId?: number; maxFee?: bigint }): Promise<WithdrawalRequest> {
    return this.withdrawalsApi.requestWithdrawal(opts);
  }

  /** `withdrawal(id)`; throws for an unknown id. */
  withdrawal(id: bigint): Promise<WithdrawalInfo> {
    return this.withdrawalsApi.withdrawal(id);
  }

  /** Where a withdrawal is now (see WithdrawalStatus). */
  withdrawalStatus(id: bigint): Promise<WithdrawalStatus> {
    return this.withdrawalsApi.withdrawalStatus(id);
  }

  /** Follows a withdrawal until it is finalized (or challenged), calling `onUpdate` on each new state. */
  trackWithdrawal(id: bigint, opts: TrackOptions<WithdrawalStatus> = {}): Promise<WithdrawalStatus> {
    return this.withdrawalsApi.trackWithdrawal(id, opts);
  }

  // Summary -----------------------------------------------------------------------------------------------------

  /** The tunnel at a glance: vaults, supply, counts, the last `recent` deposits and withdrawals. */
  summary(recent = 5): Promise<TunnelSummary> {
    return this.summaryReader.summary(recent);
  }
}
