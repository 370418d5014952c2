/**
 * TunnelClient: what a dApp needs to use the BTC tunnel. Deposit instructions (address, OP_RETURN, minimum, fee),
 * building or sending a deposit, following it from the Bitcoin transaction to the mint, requesting a withdrawal and
 * following it to the payout on Bitcoin and its proof, and a summary of the tunnel. Txids and block hashes are
 * display order (as bitcoind shows them) at this API; the contracts' internal order is converted with byteOrder.ts.
 */
import { Contract, type ContractRunner, type EventLog, type Log, type Provider, type Signer } from "ethers";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { chooseFeeRate } from "../bitcoin/feeRate";
import { BitcoinRpcError, BitcoinTransportError, type BitcoinRpcClient } from "../bitcoin/rpcClient";
import type { BlockInfoWithTxs, RawTransactionInfo } from "../bitcoin/rpcTypes";
import { ECPair, type UtxoToSpend } from "../bitcoin/txBuilder";
import { buildTxProof } from "../bitcoin/txProof";
import type { Deployment } from "../evm/deployment";
import type { WithdrawalRequestedFields } from "../evm/tunnelAbi";
import {
  HEMI_BTC_ABI,
  SDK_LIGHT_CLIENT_ABI,
  TUNNEL_ABI,
  toDepositRecord,
  toVaultInfo,
  toWithdrawalInfo,
  type VaultInfo,
  type VaultStatusName,
  type WithdrawalInfo,
  type WithdrawalStatusName,
} from "./abi";
import {
  destinationScriptHex,
  networkOfChainName,
  networkParams,
  scriptHexToAddress,
  type BitcoinNetworkName,
} from "./addresses";
import { btcNumberToSats, formatBtc, satsToBtcNumber } from "./amounts";
import {
  buildDepositTx,
  checkRecipient,
  depositOpReturnHex,
  depositVsize,
  inspectDepositTx,
  NotADepositError,
  payoutOpReturnHex,
  tunnelFee,
  type BuiltDeposit,
} from "./depositTx";
import { TrackTimeoutError, rethrowRevert } from "./errors";
import { payments } from "bitcoinjs-lib";

/** Bitcoin's common dust limit; the tunnel refuses payouts below it. */
const DUST_LIMIT = 546n;
/** sat/vB used when the node has no fee estimate (regtest). */
const FALLBACK_FEE_RATE = 2;

export interface TunnelClientOptions {
  /** EVM provider for reads and event queries. */
  provider: Provider;
  /** EVM signer for withdrawals and for proving deposits yourself (optional for read-only use). */
  signer?: Signer;
  /** A bitcoind JSON-RPC client (the embedded regtest node or a real bitcoind). */
  bitcoin: BitcoinRpcClient;
  /** BitcoinTunnel address. */
  tunnel: string;
  /** Bitcoin network of the tunnel's light client (addresses are checked against it). */
  network: BitcoinNetworkName;
  /** EVM block to search the tunnel's events from (its deployment block); default 0. */
  fromBlock?: number;
  /** Poll interval of `trackDeposit` / `trackWithdrawal`, default 1000 ms. */
  pollIntervalMs?: number;
}

/** What a wallet needs to make a deposit to a vault for `recipient`. */
export interface DepositInstructions {
  vaultId: number;
  /** Address of the vault's custody script on the tunnel's network (pay the amount here). */
  address: string;
  /** Custody script, hex. */
  custodyScript: string;
  recipient: string;
  /** The OP_RETURN output's script, `6a14 || recipient`, hex (the transaction must have exactly one OP_RETURN). */
  opReturnScript: string;
  /** The OP_RETURN data alone (the recipient's 20 bytes), hex: what wallets that take "data" outputs ask for. */
  opReturnHex: string;
  /** Smaller outputs are never minted. */
  minDeposit: bigint;
  /** Bitcoin confirmations before the deposit can be minted. */
  confirmations: number;
  depositFeeBps: number;
  depositFlatFee: bigint;
  /** The tunnel's fee for `amount` (flat + amount * bps / 10000, capped at the amount). */
  tunnelFee(amount: bigint): bigint;
  /** Approximate Bitcoin network fee of a one-input P2WPKH deposit at `feeRate` sat/vB. */
  networkFee(feeRate: number): bigint;
}

/** Stages of a deposit, in order. */
export type DepositStage = "not-found" | "mempool" | "mined" | "ready" | "minted";

/**
 * Where a deposit is. `not-found`: the node does not know the transaction. `mempool`: broadcast, unconfirmed.
 * `mined`: in a block, waiting for confirmations, for the light client to learn the block, or for its Paused vault to
 * be resumed. `ready`: the light client has the block with the vault's confirmations and the vault takes it; anyone
 * (the relayer) may mint it now. `minted`: done. A deposit to a Closing vault in a block above the vault's
 * `depositsUntilHeight` (or still unconfirmed once the tip has reached it) can never be minted: NotADepositError.
 */
export interface DepositStatus {
  stage: DepositStage;
  /** Display order. */
  txid: string;
  vout?: number;
  vaultId?: number;
  recipient?: string;
  sats?: bigint;
  blockHash?: string;
  blockHeight?: number;
  /** Bitcoin confirmations as the node counts them. */
  confirmations: number;
  /** Confirmations of the deposit's block in the light client (0 until it has the block). */
  lightClientConfirmations: number;
  /** The vault's required confirmations. */
  required: number;
  /** The vault's status (set once the deposit is decoded and not yet minted); Paused holds the deposit at `mined`. */
  vaultStatus?: VaultStatusName;
  sequence?: bigint;
  minted?: bigint;
  inBitcoinOrder?: boolean;
  evmTxHash?: string;
  evmBlockNumber?: number;
}

/** A deposit sent from the Bitcoin node's wallet. */
export interface SentDeposit extends BuiltDeposit {
  /** The wallet transaction that funded the one-time key that signed the deposit. */
  fundingTxid: string;
  vaultId: number;
  recipient: string;
  amountSats: bigint;
}

/** A withdrawal just requested. */
export interface WithdrawalRequest extends WithdrawalRequestedFields {
  /** What the payout pays: sats - fee. */
  payout: bigint;
  evmTxHash: string;
  evmBlockNumber: number;
}

/** Stages of a withdrawal, in order (`challenged` replaces the payout stages when the operator did not pay). */
export type WithdrawalStage = "requested" | "payout-broadcast" | "payout-mined" | "finalized" | "challenged";

/** Where a withdrawal is. */
export interface WithdrawalStatus {
  stage: WithdrawalStage;
  id: bigint;
  vaultId: number;
  requester: string;
  status: WithdrawalStatusName;
  btcScript: string;
  /** The destination as an address, when the script has one. */
  btcAddress?: string;
  sats: bigint;
  fee: bigint;
  deadline: number;
  /** Payout transaction, display order (found by its OP_RETURN <id>, amount and script checked). */
  payoutTxid?: string;
  payoutBlockHash?: string;
  payoutBlockHeight?: number;
  confirmations: number;
  lightClientConfirmations: number;
  required: number;
  paid?: bigint;
  requestTxHash: string;
  finalizeTxHash?: string;
}

/** A line of the tunnel's recent deposits. */
export interface DepositEventInfo {
  txid: string;
  vout: number;
  recipient: string;
  sats: bigint;
  minted: bigint;
  sequence: bigint;
  evmTxHash: string;
  evmBlockNumber: number;
}

/** The tunnel at a glance. */
export interface TunnelSummary {
  network: BitcoinNetworkName;
  tunnel: string;
  token: string;
  lightClient: string;
  paused: boolean;
  bitcoinTip: { height: number; hash: string };
  lightClientBest: { height: number; hash: string };
  totalSupply: bigint;
  depositCount: bigint;
  withdrawalCount: bigint;
  vaults: (VaultInfo & { address?: string })[];
  recentDeposits: DepositEventInfo[];
  recentWithdrawals: WithdrawalStatusLine[];
}

/** A line of the tunnel's recent withdrawals. */
export interface WithdrawalStatusLine {
  id: bigint;
  vaultId: number;
  requester: string;
  status: WithdrawalStatusName;
  sats: bigint;
  fee: bigint;
  btcAddress?: string;
  btcScript: string;
}

export interface TrackOptions<S> {
  /** Called with every new state (a change of stage or of a confirmation count). */
  onUpdate?: (status: S) => void;
  /** Give up after this long (TrackTimeoutError); default 10 minutes. */
  timeoutMs?: number;
}

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isNotFound(err: unknown): boolean {
  return err instanceof BitcoinRpcError && err.code === -5;
}

/** Errors of an unreachable or overloaded node (worth another try), as opposed to answers. */
function isTransient(err: unknown): boolean {
  if (err instanceof BitcoinTransportError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === "NETWORK_ERROR" || code === "SERVER_ERROR" || code === "TIMEOUT";
}

function eventArgs(log: Log): Record<string, unknown> {
  const args = (log as EventLog).args;
  if (args === undefined) throw new Error(`log ${log.transactionHash}:${log.index} was not decoded`);
  return args.toObject();
}

export class TunnelClient {
  readonly tunnel: Contract;
  readonly network: BitcoinNetworkName;
  readonly bitcoin: BitcoinRpcClient;
  readonly provider: Provider;
  readonly signer: Signer | undefined;
  private readonly fromBlock: number;
  private readonly pollMs: number;
  private scripts = new Map<number, string>();
  private scriptsScannedTo = -1;
  private tokenContract: Contract | undefined;
  private lcContract: Contract | undefined;
  private readonly payoutScans = new Map<bigint, PayoutScan>();

  constructor(opts: TunnelClientOptions) {
    this.provider = opts.provider;
    this.signer = opts.signer;
    this.bitcoin = opts.bitcoin;
    this.network = opts.network;
    this.fromBlock = opts.fromBlock ?? 0;
    this.pollMs = opts.pollIntervalMs ?? 1_000;
    this.tunnel = new Contract(opts.tunnel, TUNNEL_ABI, opts.signer ?? opts.provider);
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
      network: deployment.anchor.network,
      fromBlock: deployment.blockNumber ?? 0,
    });
  }

  /** The network name of the Bitcoin node behind `bitcoin` (getblockchaininfo). */
  static async nodeNetwork(bitcoin: BitcoinRpcClient): Promise<BitcoinNetworkName> {
    return networkOfChainName((await bitcoin.getBlockchainInfo()).chain);
  }

  private runner(): ContractRunner {
    return this.signer ?? this.provider;
  }

  /** The HemiBTC token contract. */
  async token(): Promise<Contract> {
    this.tokenContract ??= new Contract((await this.tunnel.token()) as string, HEMI_BTC_ABI, this.runner());
    return this.tokenContract;
  }

  /** The light client contract the tunnel proves against. */
  async lightClient(): Promise<Contract> {
    this.lcContract ??= new Contract((await this.tunnel.lightClient()) as string, SDK_LIGHT_CLIENT_ABI, this.runner());
    return this.lcContract;
  }

  private async tunnelAddress(): Promise<string> {
    return this.tunnel.getAddress();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Vaults
  // ------------------------------------------------------------------------------------------------------------

  /** Custody scripts by vault id, from VaultCreated events (new events are read on each call). */
  private async custodyScripts(): Promise<Map<number, string>> {
    const latest = await this.provider.getBlockNumber();
    if (latest > this.scriptsScannedTo) {
      const from = Math.max(this.fromBlock, this.scriptsScannedTo + 1);
      const logs = await this.tunnel.queryFilter(this.tunnel.filters.VaultCreated(), from, latest);
      for (const l of logs) {
        const a = eventArgs(l);
        this.scripts.set(Number(a.vaultId as bigint), (a.custodyScript as string).slice(2).toLowerCase());
      }
      this.scriptsScannedTo = latest;
    }
    return this.scripts;
  }

  /** Vault ids by custody script hex. */
  private async vaultOfScriptMap(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const [id, s] of await this.custodyScripts()) m.set(s, id);
    return m;
  }

  /** One vault with its custody script and address. */
  async vault(id: number): Promise<VaultInfo & { address?: string }> {
    return this.vaultWith(id, await this.custodyScripts());
  }

  private async vaultWith(id: number, scripts: Map<number, string>): Promise<VaultInfo & { address?: string }> {
    const raw: unknown = await this.tunnel.vault(id);
    const script = scripts.get(id);
    if (script === undefined) throw new Error(`vault ${id} does not exist (the tunnel has no VaultCreated for it)`);
    const v = toVaultInfo(id, raw, script);
    return { ...v, address: scriptHexToAddress(script, this.network) };
  }

  /** Every vault, by id (the VaultCreated events are read once for all of them). */
  async vaults(): Promise<(VaultInfo & { address?: string })[]> {
    const count = Number((await this.tunnel.vaultCount()) as bigint);
    const scripts = await this.custodyScripts();
    const out: (VaultInfo & { address?: string })[] = [];
    for (let id = 1; id <= count; id++) out.push(await this.vaultWith(id, scripts));
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Deposits
  // ------------------------------------------------------------------------------------------------------------

  /**
   * What to pay to deposit for `recipient`: the vault's custody address and script, the OP_RETURN, its minimum,
   * fee and confirmations. Without `vaultId`, the lowest-id Live vault.
   */
  async depositInstructions(recipient: string, vaultId?: number): Promise<DepositInstructions> {
    const to = checkRecipient(recipient);
    let v: VaultInfo & { address?: string };
    if (vaultId !== undefined) {
      v = await this.vault(vaultId);
      if (v.status !== "Live") throw new Error(`vault ${vaultId} is ${v.status}: it takes no deposits`);
    } else {
      const live = (await this.vaults()).find((x) => x.status === "Live");
      if (live === undefined) throw new Error("no Live vault takes deposits (the tunnel has none, or all are paused)");
      v = live;
    }
    if (v.address === undefined) throw new Error(`vault ${v.id}'s custody script has no ${this.network} address`);
    const opReturnScript = depositOpReturnHex(to);
    const { depositFeeBps, depositFlatFee } = v;
    const scriptBytes = v.custodyScript.length / 2;
    return {
      vaultId: v.id,
      address: v.address,
      custodyScript: v.custodyScript,
      recipient: to,
      opReturnScript,
      opReturnHex: opReturnScript.slice(4),
      minDeposit: v.minDeposit,
      confirmations: v.confirmations,
      depositFeeBps,
      depositFlatFee,
      tunnelFee: (amount: bigint) => tunnelFee(amount, depositFeeBps, depositFlatFee),
      networkFee: (feeRate: number) => BigInt(Math.ceil(depositVsize(1, scriptBytes, 22) * feeRate)),
    };
  }

  /** The node's fee estimate for 6 blocks in sat/vB, or 2 sat/vB when it has none (regtest). */
  async feeRate(): Promise<number> {
    return (await chooseFeeRate(this.bitcoin, 6, FALLBACK_FEE_RATE)).satPerVb;
  }

  private checkAmount(ins: DepositInstructions, amountSats: bigint): void {
    if (amountSats < ins.minDeposit) {
      throw new Error(
        `deposit of ${amountSats} sat is below vault ${ins.vaultId}'s minimum of ${ins.minDeposit} sat: it would never be minted`,
      );
    }
  }

  /**
   * Builds and signs a deposit from coins you hold the keys of: output 0 pays the vault's custody script, output 1 is
   * the OP_RETURN, the rest goes to `changeScript` (hex) or `changeAddress`. Not broadcast.
   */
  async buildDeposit(opts: {
    inputs: readonly UtxoToSpend[];
    amountSats: bigint;
    recipient: string;
    vaultId?: number;
    feeRate?: number;
    changeScript?: string;
    changeAddress?: string;
  }): Promise<BuiltDeposit & { vaultId: number }> {
    const ins = await this.depositInstructions(opts.recipient, opts.vaultId);
    this.checkAmount(ins, opts.amountSats);
    const change =
      opts.changeScript ??
      (opts.changeAddress !== undefined ? destinationScriptHex(opts.changeAddress, this.network) : undefined);
    if (change === undefined) throw new Error("buildDeposit needs changeScript or changeAddress");
    const built = buildDepositTx({
      inputs: opts.inputs,
      custodyScript: ins.custodyScript,
      amountSats: opts.amountSats,
      recipient: ins.recipient,
      feeRate: opts.feeRate ?? (await this.feeRate()),
      changeScript: change,
    });
    return { ...built, vaultId: ins.vaultId };
  }

  /** Broadcasts a signed transaction; returns its txid. */
  async broadcast(hex: string): Promise<string> {
    return this.bitcoin.sendRawTransaction(hex);
  }

  /**
   * Deposits from the Bitcoin node's wallet (any bitcoind with a wallet, or the embedded node): the wallet pays
   * amount + network fee to a one-time key (`sendtoaddress`), which signs the deposit spending that output, so
   * the wallet never needs to create an OP_RETURN itself. Both transactions are broadcast; the deposit spends the
   * unconfirmed funding output, signed for the value the funding output actually has. If building or broadcasting
   * the deposit fails the error carries the one-time key (WIF) and the funding outpoint, so the coins can be
   * recovered.
   */
  async sendDepositFromNodeWallet(opts: {
    amountSats: bigint;
    recipient: string;
    vaultId?: number;
    feeRate?: number;
  }): Promise<SentDeposit> {
    const ins = await this.depositInstructions(opts.recipient, opts.vaultId);
    this.checkAmount(ins, opts.amountSats);
    const feeRate = opts.feeRate ?? (await this.feeRate());
    const key = ECPair.makeRandom({ network: networkParams(this.network) });
    const pay = payments.p2wpkh({ pubkey: key.publicKey, network: networkParams(this.network) });
    if (pay.address === undefined || pay.output === undefined) throw new Error("cannot derive a P2WPKH address");
    const relayScript = Buffer.from(pay.output).toString("hex");
    // One vbyte of margin over the builder's own estimate, so that the no-change path always covers the fee.
    const fee = BigInt(Math.ceil((depositVsize(1, ins.custodyScript.length / 2) + 1) * feeRate));
    const fund = opts.amountSats + fee;
    // An explicit fee rate: bitcoind refuses sendtoaddress without an estimate unless started with -fallbackfee.
    const fundingTxid = await this.bitcoin.sendToAddress(pay.address, satsToBtcNumber(fund), feeRate);
    const funding = await this.bitcoin.getRawTransaction(fundingTxid, true);
    const out = funding.vout.find((o) => o.scriptPubKey.hex === relayScript);
    if (out === undefined) throw new Error(`funding transaction ${fundingTxid} does not pay ${pay.address}`);
    // Sign for what the wallet actually paid (a segwit signature commits to the spent value), not for the plan.
    const value = btcNumberToSats(out.value);
    let built: BuiltDeposit;
    try {
      built = buildDepositTx({
        inputs: [{ txid: fundingTxid, vout: out.n, value, script: relayScript, key }],
        custodyScript: ins.custodyScript,
        amountSats: opts.amountSats,
        recipient: ins.recipient,
        feeRate,
        changeScript: relayScript,
      });
      await this.bitcoin.sendRawTransaction(built.hex);
    } catch (err) {
      throw new Error(
        `deposit failed (${err instanceof Error ? err.message : String(err)}); the funds are at ` +
          `${fundingTxid}:${out.n} (${formatBtc(value)} BTC, ${fund} sat asked of the wallet), spendable with the ` +
          `one-time key ${key.toWIF()}`,
      );
    }
    return { ...built, fundingTxid, vaultId: ins.vaultId, recipient: ins.recipient, amountSats: opts.amountSats };
  }

  /** The DepositConfirmed event of (txid internal, vout), if any. */
  private async depositEvent(txidInternal: string, vout: number): Promise<DepositEventInfo | undefined> {
    const logs = await this.tunnel.queryFilter(this.tunnel.filters.DepositConfirmed(), this.fromBlock, "latest");
    for (const l of logs) {
      const a = eventArgs(l);
      if ((a.txid as string).toLowerCase() === txidInternal.toLowerCase() && Number(a.vout as bigint) === vout)
        return this.toDepositEvent(l);
    }
    return undefined;
  }

  private toDepositEvent(l: Log): DepositEventInfo {
    const a = eventArgs(l);
    return {
      txid: internalToDisplay(a.txid as string),
      vout: Number(a.vout as bigint),
      recipient: a.recipient as string,
      sats: a.sats as bigint,
      minted: a.minted as bigint,
      sequence: a.sequence as bigint,
      evmTxHash: l.transactionHash,
      evmBlockNumber: l.blockNumber,
    };
  }

  /**
   * Where a deposit is now (see DepositStatus). `vout`: the custody output to follow (default the first one). Throws
   * a NotADepositError when the transaction can never be minted (shape, minimum, vault status).
   */
  async depositStatus(txid: string, vout?: number): Promise<DepositStatus> {
    const base: DepositStatus = {
      stage: "not-found",
      txid,
      confirmations: 0,
      lightClientConfirmations: 0,
      required: 0,
    };
    let info: RawTransactionInfo;
    try {
      info = await this.bitcoin.getRawTransaction(txid, true);
    } catch (err) {
      if (isNotFound(err)) return base;
      throw err;
    }
    const d = inspectDepositTx(info.hex, await this.vaultOfScriptMap());
    const out = vout === undefined ? d.outputs[0] : d.outputs.find((o) => o.vout === vout);
    if (out === undefined) throw new NotADepositError(txid, `output ${vout} does not pay a custody script`);
    const v = await this.vault(out.vaultId);
    const s: DepositStatus = {
      ...base,
      vout: out.vout,
      vaultId: out.vaultId,
      recipient: d.recipient,
      sats: out.sats,
      required: v.confirmations,
    };
    const internal = displayToInternal(txid);
    const record = toDepositRecord(await this.tunnel.depositRecord(internal, out.vout));
    if (info.blockhash !== undefined && (info.confirmations ?? 0) > 0) {
      const header = await this.bitcoin.getBlockHeader(info.blockhash);
      s.blockHash = info.blockhash;
      s.blockHeight = header.height;
      s.confirmations = info.confirmations ?? header.confirmations;
      const lc = await this.lightClient();
      s.lightClientConfirmations = Number(
        (await lc.confirmations(displayToInternal(info.blockhash), header.height)) as bigint,
      );
    }
    if (record.sequence !== 0n) {
      const ev = await this.depositEvent(internal, out.vout);
      return {
        ...s,
        stage: "minted",
        sequence: record.sequence,
        inBitcoinOrder: record.inBitcoinOrder,
        minted: ev?.minted,
        evmTxHash: ev?.evmTxHash,
        evmBlockNumber: ev?.evmBlockNumber,
      };
    }
    if (out.sats < v.minDeposit) {
      throw new NotADepositError(txid, `DepositBelowMinimum (${out.sats} < vault ${v.id}'s ${v.minDeposit} sat)`);
    }
    s.vaultStatus = v.status;
    if (v.status === "Closing") {
      // The contract mints for a Closing vault only deposits in blocks at or below depositsUntilHeight; a deposit
      // still in the mempool lands at tip + 1 or higher.
      const height = s.blockHeight ?? (await this.bitcoin.getBlockCount()) + 1;
      if (height > v.depositsUntilHeight) {
        throw new NotADepositError(
          txid,
          `vault ${v.id} is Closing and mints only deposits in blocks up to height ${v.depositsUntilHeight}; ` +
            (s.blockHeight === undefined
              ? `this one is unconfirmed and can be mined at ${height} at the earliest`
              : `this one is in block ${height}`),
        );
      }
    } else if (v.status !== "Live" && v.status !== "Paused") {
      throw new NotADepositError(txid, `vault ${v.id} is ${v.status} and takes no deposits`);
    }
    if (s.blockHash === undefined) return { ...s, stage: "mempool" };
    // A Paused vault mints nothing until it is resumed: the deposit waits at `mined`, however deep it is.
    const provable = s.lightClientConfirmations >= s.required && v.status !== "Paused";
    return { ...s, stage: provable ? "ready" : "mined" };
  }

  /**
   * Follows a deposit until it is minted, calling `onUpdate` on each new state; resolves with the minted state.
   * Waits through `not-found` (a transaction not yet seen by the node) until the timeout.
   */
  async trackDeposit(txid: string, opts: TrackOptions<DepositStatus> & { vout?: number } = {}): Promise<DepositStatus> {
    return this.track(
      `deposit ${txid} to be minted`,
      () => this.depositStatus(txid, opts.vout),
      (s) => `${s.stage}/${s.confirmations}/${s.lightClientConfirmations}/${s.vaultStatus ?? ""}`,
      (s) => s.stage === "minted",
      opts,
    );
  }

  /**
   * Mints a deposit yourself (anyone may; the relayer's deposits role normally does it): builds the SPV proof and
   * calls `confirmDeposit`. Needs a signer and the light client to have the block with the vault's confirmations.
   */
  async proveDeposit(txid: string, vout?: number): Promise<{ sequence: bigint; evmTxHash: string }> {
    if (this.signer === undefined) throw new Error("proveDeposit needs an EVM signer");
    const s = await this.depositStatus(txid, vout);
    if (s.stage === "minted") throw new Error(`deposit ${txid}:${s.vout} is already minted (sequence ${s.sequence})`);
    if (s.stage !== "ready") {
      throw new Error(
        `deposit ${txid} is not provable yet: ${s.stage}, light client confirmations ${s.lightClientConfirmations}/${s.required}`,
      );
    }
    const proof = await buildTxProof(this.bitcoin, txid, s.blockHash);
    try {
      const tx = await this.tunnel.confirmDeposit(proof, s.vout);
      const receipt = await tx.wait();
      const ev = receipt.logs
        .map((l: Log) => this.tunnel.interface.parseLog(l))
        .find((p: { name: string } | null) => p?.name === "DepositConfirmed");
      return { sequence: ev.args.sequence as bigint, evmTxHash: receipt.hash as string };
    } catch (err) {
      rethrowRevert("confirmDeposit", err);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Withdrawals
  // ------------------------------------------------------------------------------------------------------------

  /** hemiBTC balance of an account, in satoshis. */
  async balanceOf(account: string): Promise<bigint> {
    return (await (await this.token()).balanceOf(account)) as bigint;
  }

  /**
   * Burns `sats` hemiBTC of the signer and queues a withdrawal to `to` (an address of the tunnel's network, or a raw
   * script as 0x-hex); the vault pays `sats - fee` on Bitcoin. The tunnel burns directly (no approval). Checks the
   * balance, that a vault can serve it and the dust limit before sending, so the usual mistakes fail without gas.
   */
  async requestWithdrawal(opts: { to: string; sats: bigint; vaultId?: number }): Promise<WithdrawalRequest> {
    if (this.signer === undefined) throw new Error("requestWithdrawal needs an EVM signer");
    if (opts.sats <= 0n) throw new Error(`withdrawal amount must be positive, got ${opts.sats}`);
    const script = destinationScriptHex(opts.to, this.network);
    const me = await this.signer.getAddress();
    const balance = await this.balanceOf(me);
    if (balance < opts.sats) {
      throw new Error(`${me} holds ${formatBtc(balance)} hemiBTC, less than the ${formatBtc(opts.sats)} to withdraw`);
    }
    let vaultId = opts.vaultId;
    if (vaultId === undefined) {
      const [found, id] = (await this.tunnel.selectVault(opts.sats)) as [boolean, bigint];
      if (!found) {
        const lines = (await this.vaults()).map(
          (v) =>
            `vault ${v.id} ${v.status}: custody-pending ${v.custody - v.pending}, bond-pending ${v.bond - v.pending}`,
        );
        throw new Error(
          `no vault can serve a withdrawal of ${opts.sats} sat (each needs custody and free bond for it): ${lines.join("; ") || "no vaults"}`,
        );
      }
      vaultId = Number(id);
    }
    const v = await this.vault(vaultId);
    const fee = tunnelFee(opts.sats, v.withdrawalFeeBps, v.withdrawalFlatFee);
    if (opts.sats - fee < DUST_LIMIT) {
      throw new Error(
        `withdrawal of ${opts.sats} sat pays ${opts.sats - fee} sat after vault ${vaultId}'s fee of ${fee} sat: under the ${DUST_LIMIT} sat dust limit`,
      );
    }
    try {
      const tx =
        opts.vaultId === undefined
          ? await this.tunnel.requestWithdrawal("0x" + script, opts.sats)
          : await this.tunnel.requestWithdrawalFrom(vaultId, "0x" + script, opts.sats);
      const receipt = await tx.wait();
      for (const l of receipt.logs as Log[]) {
        const p = this.tunnel.interface.parseLog(l);
        if (p?.name !== "WithdrawalRequested") continue;
        const a = p.args.toObject();
        return {
          id: a.id as bigint,
          vaultId: Number(a.vaultId as bigint),
          requester: a.requester as string,
          btcScript: (a.btcScript as string).slice(2),
          sats: a.sats as bigint,
          fee: a.fee as bigint,
          payout: (a.sats as bigint) - (a.fee as bigint),
          deadline: Number(a.deadline as bigint),
          evmTxHash: receipt.hash as string,
          evmBlockNumber: receipt.blockNumber as number,
        };
      }
      throw new Error(`transaction ${receipt.hash as string} emitted no WithdrawalRequested`);
    } catch (err) {
      rethrowRevert(opts.vaultId === undefined ? "requestWithdrawal" : "requestWithdrawalFrom", err);
    }
  }

  /** `withdrawal(id)`; throws for an unknown id. */
  async withdrawal(id: bigint): Promise<WithdrawalInfo> {
    const w = toWithdrawalInfo(await this.tunnel.withdrawal(id));
    if (w.status === "None") {
      const count = (await this.tunnel.withdrawalCount()) as bigint;
      throw new Error(`withdrawal ${id} does not exist (the tunnel has ${count} withdrawal(s))`);
    }
    return w;
  }

  private async requestEvent(id: bigint): Promise<Log> {
    const logs = await this.tunnel.queryFilter(this.tunnel.filters.WithdrawalRequested(id), this.fromBlock, "latest");
    if (logs.length === 0) throw new Error(`no WithdrawalRequested event for withdrawal ${id}`);
    return logs[0];
  }

  /** Confirmations of a mined Bitcoin transaction, in the node and in the light client. */
  private async txDepth(
    txid: string,
  ): Promise<{ blockHash?: string; height?: number; confirmations: number; lc: number }> {
    let info: RawTransactionInfo;
    try {
      info = await this.bitcoin.getRawTransaction(txid, true);
    } catch (err) {
      if (isNotFound(err)) return { confirmations: 0, lc: 0 };
      throw err;
    }
    if (info.blockhash === undefined || (info.confirmations ?? 0) <= 0) return { confirmations: 0, lc: 0 };
    const header = await this.bitcoin.getBlockHeader(info.blockhash);
    const lc = await this.lightClient();
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
      const lc = await this.lightClient();
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
      const inMempool = depth.confirmations === 0 && (await this.bitcoin.getRawMempool()).includes(scan.found.txid);
      if (depth.confirmations > 0 || inMempool) return scan.found.txid;
      scan.found = undefined; // reorged out and dropped: search again
      scan.seenMempool.clear();
    }
    const idScript = payoutOpReturnHex(id);
    const tip = await this.bitcoin.getBlockCount();
    // The hashes of the heights to look at in batches; a block is fetched (with its transactions) only when the
    // hash at its height is not the one already scanned there.
    for (let from = scan.nextHeight; from <= tip; from += HASH_BATCH) {
      const heights: number[] = [];
      for (let h = from; h <= Math.min(tip, from + HASH_BATCH - 1); h++) heights.push(h);
      const hashes = await this.bitcoin.batch<string>(heights.map((h) => ({ method: "getblockhash", params: [h] })));
      for (let i = 0; i < heights.length; i++) {
        if (scan.scanned.get(heights[i]) === hashes[i]) continue;
        const block = (await this.bitcoin.getBlock(hashes[i], 2)) as BlockInfoWithTxs;
        const hit = block.tx.find((t) => TunnelClient.isPayout(t, idScript, script, paid));
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
    const mempool = (await this.bitcoin.getRawMempool()).filter((t) => !scan.seenMempool.has(t));
    if (mempool.length > 0) {
      const txs = await this.bitcoin
        .batch<RawTransactionInfo | null>(mempool.map((t) => ({ method: "getrawtransaction", params: [t, true] })))
        .catch(() => [] as (RawTransactionInfo | null)[]);
      for (const t of txs) {
        if (t === null) continue;
        if (TunnelClient.isPayout(t, idScript, script, paid)) {
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
    const v = await this.vault(w.vaultId);
    const s: WithdrawalStatus = {
      stage: "requested",
      id,
      vaultId: w.vaultId,
      requester: w.requester,
      status: w.status,
      btcScript: script,
      btcAddress: scriptHexToAddress(script, this.network),
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
      const logs = await this.tunnel.queryFilter(this.tunnel.filters.WithdrawalFinalized(id), this.fromBlock, "latest");
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
    return this.track(
      `withdrawal ${id} to be paid and finalized`,
      () => this.withdrawalStatus(id),
      (s) => `${s.stage}/${s.payoutTxid ?? ""}/${s.confirmations}/${s.lightClientConfirmations}`,
      (s) => s.stage === "finalized" || s.stage === "challenged",
      opts,
    );
  }

  private async track<S>(
    what: string,
    read: () => Promise<S>,
    key: (s: S) => string,
    done: (s: S) => boolean,
    opts: TrackOptions<S>,
  ): Promise<S> {
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    let last: S | undefined;
    let lastKey = "";
    for (;;) {
      let s: S;
      try {
        s = await read();
      } catch (err) {
        // A node that is briefly unreachable does not end the tracking; anything else does.
        if (!isTransient(err) || Date.now() >= deadline) throw err;
        await sleep(Math.min(this.pollMs * 2, Math.max(0, deadline - Date.now())));
        continue;
      }
      const k = key(s);
      if (k !== lastKey) {
        lastKey = k;
        opts.onUpdate?.(s);
      }
      last = s;
      if (done(s)) return s;
      if (Date.now() >= deadline) throw new TrackTimeoutError(what, timeoutMs, last);
      await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Summary
  // ------------------------------------------------------------------------------------------------------------

  /** The tunnel at a glance: vaults, supply, counts, the last `recent` deposits and withdrawals. */
  async summary(recent = 5): Promise<TunnelSummary> {
    const token = await this.token();
    const lc = await this.lightClient();
    const [lcHash, lcHeight] = (await lc.bestBlock()) as [string, bigint];
    const tipHeight = await this.bitcoin.getBlockCount();
    const tipHash = await this.bitcoin.getBlockHash(tipHeight);
    const cursor = (await this.tunnel.orderCursor()) as { count: bigint };
    const withdrawalCount = (await this.tunnel.withdrawalCount()) as bigint;
    const depositLogs = await this.tunnel.queryFilter(this.tunnel.filters.DepositConfirmed(), this.fromBlock, "latest");
    const recentWithdrawals: WithdrawalStatusLine[] = [];
    const reqLogs = await this.tunnel.queryFilter(this.tunnel.filters.WithdrawalRequested(), this.fromBlock, "latest");
    for (const l of reqLogs.slice(-recent)) {
      const a = eventArgs(l);
      const w = toWithdrawalInfo(await this.tunnel.withdrawal(a.id as bigint));
      const script = (a.btcScript as string).slice(2);
      recentWithdrawals.push({
        id: a.id as bigint,
        vaultId: w.vaultId,
        requester: w.requester,
        status: w.status,
        sats: w.sats,
        fee: w.fee,
        btcScript: script,
        btcAddress: scriptHexToAddress(script, this.network),
      });
    }
    return {
      network: this.network,
      tunnel: await this.tunnelAddress(),
      token: await token.getAddress(),
      lightClient: await lc.getAddress(),
      paused: (await this.tunnel.paused()) as boolean,
      bitcoinTip: { height: tipHeight, hash: tipHash },
      lightClientBest: { height: Number(lcHeight), hash: internalToDisplay(lcHash) },
      totalSupply: (await token.totalSupply()) as bigint,
      depositCount: cursor.count,
      withdrawalCount,
      vaults: await this.vaults(),
      recentDeposits: depositLogs.slice(-recent).map((l) => this.toDepositEvent(l)),
      recentWithdrawals,
    };
  }
}
