/**
 * The SDK's deposits: instructions (address, OP_RETURN, minimum, fee), building or sending a deposit, its state from
 * the Bitcoin transaction to the mint, and proving it yourself.
 */
import { payments } from "bitcoinjs-lib";
import { displayToInternal, internalToDisplay } from "../bitcoin/byteOrder";
import { chooseFeeRate } from "../bitcoin/feeRate";
import type { RawTransactionInfo } from "../bitcoin/rpcTypes";
import { ECPair, type UtxoToSpend } from "../bitcoin/txBuilder";
import { buildTxProof } from "../bitcoin/txProof";
import { toDepositRecord } from "./abi";
import { destinationScriptHex, networkParams } from "./addresses";
import { btcNumberToSats, formatBtc, satsToBtcNumber } from "./amounts";
import {
  buildDepositTx,
  checkRecipient,
  depositOpReturnHex,
  depositVsize,
  inspectDepositTx,
  NotADepositError,
  tunnelFee,
  type BuiltDeposit,
} from "./depositTx";
import { rethrowRevert } from "./errors";
import { mintedFromTunnelRecord } from "./mintedRecord";
import { eventArgs, isNotFound, type TunnelContext, type VaultView } from "./tunnelContext";
import type { Log } from "ethers";
import { track } from "./tunnelTracking";
import type { DepositEventInfo, DepositInstructions, DepositStatus, SentDeposit, TrackOptions } from "./tunnelTypes";

/** What `buildDeposit` takes: coins you hold the keys of, the amount, the recipient, and where the change goes. */
export interface DepositFromCoinsOptions {
  inputs: readonly UtxoToSpend[];
  amountSats: bigint;
  recipient: string;
  vaultId?: number;
  feeRate?: number;
  changeScript?: string;
  changeAddress?: string;
}

/** sat/vB used when the node has no fee estimate (regtest). */
const FALLBACK_FEE_RATE = 2;

export class TunnelDeposits {
  constructor(private readonly ctx: TunnelContext) {}

  /**
   * What to pay to deposit for `recipient`: the vault's custody address and script, the OP_RETURN, its minimum,
   * fee and confirmations. Without `vaultId`, the lowest-id vault that takes deposits: Live, not short of
   * collateral, and (with `amountSats`) with collateral for that much more custody.
   */
  async depositInstructions(recipient: string, vaultId?: number, amountSats?: bigint): Promise<DepositInstructions> {
    const to = checkRecipient(recipient);
    let v: VaultView;
    if (vaultId !== undefined) {
      v = await this.ctx.vault(vaultId);
      const why = await this.refusal(v, amountSats);
      if (why !== undefined) throw new Error(why);
    } else {
      const all = await this.ctx.vaults();
      let found: VaultView | undefined;
      const reasons: string[] = [];
      for (const x of all) {
        const why = await this.refusal(x, amountSats);
        if (why === undefined) {
          found = x;
          break;
        }
        reasons.push(why);
      }
      if (found === undefined) {
        throw new Error(`no vault takes this deposit: ${reasons.join("; ") || "the tunnel has no vaults"}`);
      }
      v = found;
    }
    if (v.address === undefined) throw new Error(`vault ${v.id}'s custody script has no ${this.ctx.network} address`);
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

  /** Why a vault would not mint a new deposit of `amountSats` (undefined: it would). */
  private async refusal(v: VaultView, amountSats: bigint | undefined): Promise<string | undefined> {
    if (v.status !== "Live") return `vault ${v.id} is ${v.status}: it takes no deposits`;
    if (v.depositsUntilHeight !== 0) {
      return (
        `vault ${v.id} is short of collateral: it mints only deposits in blocks up to height ` +
        `${v.depositsUntilHeight} until its operator adds collateral`
      );
    }
    if (amountSats !== undefined) {
      const room = (await this.ctx.tunnel.vaultBacking(v.id)).depositCapacity;
      if (room < amountSats) {
        return `vault ${v.id}'s collateral backs only ${room} sat more custody (deposit of ${amountSats} sat)`;
      }
    }
    return undefined;
  }

  /** The node's fee estimate for 6 blocks in sat/vB, or 2 sat/vB when it has none (regtest). */
  async feeRate(): Promise<number> {
    return (await chooseFeeRate(this.ctx.bitcoin, 6, FALLBACK_FEE_RATE)).satPerVb;
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
  async buildDeposit(opts: DepositFromCoinsOptions): Promise<BuiltDeposit & { vaultId: number }> {
    const ins = await this.depositInstructions(opts.recipient, opts.vaultId, opts.amountSats);
    this.checkAmount(ins, opts.amountSats);
    const change =
      opts.changeScript ??
      (opts.changeAddress !== undefined ? destinationScriptHex(opts.changeAddress, this.ctx.network) : undefined);
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
    return this.ctx.bitcoin.sendRawTransaction(hex);
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
    const ins = await this.depositInstructions(opts.recipient, opts.vaultId, opts.amountSats);
    this.checkAmount(ins, opts.amountSats);
    const feeRate = opts.feeRate ?? (await this.feeRate());
    const key = ECPair.makeRandom({ network: networkParams(this.ctx.network) });
    const pay = payments.p2wpkh({ pubkey: key.publicKey, network: networkParams(this.ctx.network) });
    if (pay.address === undefined || pay.output === undefined) throw new Error("cannot derive a P2WPKH address");
    const relayScript = Buffer.from(pay.output).toString("hex");
    // One vbyte of margin over the builder's own estimate, so that the no-change path always covers the fee.
    const fee = BigInt(Math.ceil((depositVsize(1, ins.custodyScript.length / 2) + 1) * feeRate));
    const fund = opts.amountSats + fee;
    // An explicit fee rate: bitcoind refuses sendtoaddress without an estimate unless started with -fallbackfee.
    const fundingTxid = await this.ctx.bitcoin.sendToAddress(pay.address, satsToBtcNumber(fund), feeRate);
    const funding = await this.ctx.bitcoin.getRawTransaction(fundingTxid, true);
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
      await this.ctx.bitcoin.sendRawTransaction(built.hex);
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
    const logs = await this.ctx.tunnel.queryFilter(
      this.ctx.tunnel.filters.DepositConfirmed(),
      this.ctx.fromBlock,
      "latest",
    );
    for (const l of logs) {
      const a = eventArgs(l);
      if ((a.txid as string).toLowerCase() === txidInternal.toLowerCase() && Number(a.vout as bigint) === vout)
        return this.toDepositEvent(l);
    }
    return undefined;
  }

  toDepositEvent(l: Log): DepositEventInfo {
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
      info = await this.ctx.bitcoin.getRawTransaction(txid, true);
    } catch (err) {
      // Not on the node (or a node without -txindex): the tunnel's record still knows a minted deposit.
      if (isNotFound(err))
        return (await mintedFromTunnelRecord(this.ctx.tunnel, this.ctx.fromBlock, txid, vout)) ?? base;
      throw err;
    }
    const d = inspectDepositTx(info.hex, await this.ctx.vaultOfScriptMap());
    const out = vout === undefined ? d.outputs[0] : d.outputs.find((o) => o.vout === vout);
    if (out === undefined) throw new NotADepositError(txid, `output ${vout} does not pay a custody script`);
    const v = await this.ctx.vault(out.vaultId);
    const s: DepositStatus = {
      ...base,
      vout: out.vout,
      vaultId: out.vaultId,
      recipient: d.recipient,
      sats: out.sats,
      required: v.confirmations,
    };
    const internal = displayToInternal(txid);
    const record = toDepositRecord(await this.ctx.tunnel.depositRecord(internal, out.vout));
    if (info.blockhash !== undefined && (info.confirmations ?? 0) > 0) {
      const header = await this.ctx.bitcoin.getBlockHeader(info.blockhash);
      s.blockHash = info.blockhash;
      s.blockHeight = header.height;
      s.confirmations = info.confirmations ?? header.confirmations;
      const lc = await this.ctx.lightClient();
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
    // A Live vault short of collateral holds later deposits until its operator adds collateral (as Paused does).
    let held = v.status === "Paused";
    if (v.status === "Live" && v.depositsUntilHeight !== 0) {
      const height = s.blockHeight ?? (await this.ctx.bitcoin.getBlockCount()) + 1;
      held = height > v.depositsUntilHeight;
    } else if (v.status === "Closing") {
      // The contract mints for a Closing vault only deposits in blocks at or below depositsUntilHeight; a deposit
      // still in the mempool lands at tip + 1 or higher.
      const height = s.blockHeight ?? (await this.ctx.bitcoin.getBlockCount()) + 1;
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
    // A held deposit (Paused vault, or past a short vault's window) waits at `mined`, however deep it is.
    const provable = s.lightClientConfirmations >= s.required && !held;
    return { ...s, stage: provable ? "ready" : "mined" };
  }

  /**
   * Follows a deposit until it is minted, calling `onUpdate` on each new state; resolves with the minted state.
   * Waits through `not-found` (a transaction not yet seen by the node) until the timeout.
   */
  async trackDeposit(txid: string, opts: TrackOptions<DepositStatus> & { vout?: number } = {}): Promise<DepositStatus> {
    return track(
      this.ctx,
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
    if (this.ctx.signer === undefined) throw new Error("proveDeposit needs an EVM signer");
    const s = await this.depositStatus(txid, vout);
    if (s.stage === "minted") throw new Error(`deposit ${txid}:${s.vout} is already minted (sequence ${s.sequence})`);
    if (s.stage !== "ready") {
      throw new Error(
        `deposit ${txid} is not provable yet: ${s.stage}, light client confirmations ${s.lightClientConfirmations}/${s.required}`,
      );
    }
    const proof = await buildTxProof(this.ctx.bitcoin, txid, s.blockHash);
    const outputIndex = s.vout ?? 0;
    try {
      const tx = await this.ctx.tunnel.confirmDeposit(proof, outputIndex);
      const receipt = await tx.wait();
      if (receipt === null) throw new Error(`confirmDeposit transaction ${tx.hash} was dropped`);
      const ev = receipt.logs
        .map((l: Log) => this.ctx.tunnel.interface.parseLog(l))
        .find((p) => p?.name === "DepositConfirmed");
      if (ev === undefined || ev === null) throw new Error(`transaction ${receipt.hash} emitted no DepositConfirmed`);
      return { sequence: ev.args.sequence as bigint, evmTxHash: receipt.hash };
    } catch (err) {
      rethrowRevert("confirmDeposit", err, this.ctx.tunnel.interface);
    }
  }
}
