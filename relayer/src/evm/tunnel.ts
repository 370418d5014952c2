/**
 * The relayer's view of BitcoinTunnel (and its HemiBTC): the ABI subset it calls, artifact loading for deploy,
 * typed reads (vaults, deposit records, withdrawals) and calldata encoders. Bitcoin hashes and txids are bytes32
 * in internal byte order here, as the contract takes them.
 */
import type { ContractRunner, InterfaceAbi, Log } from "ethers";
import { parseContractEvents, type ParsedEvent } from "./events";
import { BitcoinLightClient__factory } from "../../../typechain-types/factories/contracts/bitcoin/BitcoinLightClient__factory";
import type { BitcoinLightClient } from "../../../typechain-types";
import {
  TUNNEL_ABI,
  toDepositRecord,
  toWithdrawalRequested,
  tunnelAt,
  type BitcoinTunnel,
  type DepositRecord,
  type VaultStructOutput,
  type WithdrawalRequestedFields,
} from "./tunnelAbi";

export type { DepositRecord } from "./tunnelAbi";
export { HEMI_BTC_ABI, TUNNEL_ABI } from "./tunnelAbi";

/** BitcoinTunnel.VaultStatus. */
export enum VaultStatus {
  None = 0,
  Live = 1,
  Paused = 2,
  Closing = 3,
  Slashed = 4,
}

/** BitcoinTunnel.WithdrawalStatus. */
export enum WithdrawalStatus {
  None = 0,
  Pending = 1,
  Finalized = 2,
  Challenged = 3,
}

/** The compiled tunnel ABI (with the custom errors of the tunnel and its modules, for revert decoding). */
export function tunnelAbi(): InterfaceAbi {
  return TUNNEL_ABI;
}

/** A vault as `vault(id)` returns it, with its id and (from VaultCreated) its custody script. */
export interface VaultInfo {
  id: number;
  /** Custody script, lowercase hex without 0x. */
  script: string;
  operator: string;
  status: VaultStatus;
  confirmations: number;
  minDeposit: bigint;
  depositFeeBps: number;
  depositFlatFee: bigint;
  depositsUntilHeight: number;
  custody: bigint;
  pending: bigint;
  /** Units of the collateral token backing the custody. */
  collateral: bigint;
}

/** `withdrawal(id)`. */
export interface WithdrawalInfo {
  requester: string;
  vaultId: number;
  status: WithdrawalStatus;
  deadline: number;
  sats: bigint;
  fee: bigint;
  /** Confirmations its payout needs (the vault's at the request). */
  confirmations: number;
}

/** A `WithdrawalRequested` event (btcScript lowercase hex without 0x). */
export interface WithdrawalRequest extends WithdrawalRequestedFields {
  blockNumber: number;
}

/** The SPV proof struct (as buildTxProof returns it). */
export interface TxProofArg {
  rawTx: string;
  blockHeight: number;
  blockHeader: string;
  txIndex: number;
  merkleProof: string;
}

/** One item of `confirmDepositsInBlock`. */
export interface TxInBlockArg {
  rawTx: string;
  txIndex: number;
  merkleProof: string;
}

const strip0x = (h: string): string => (h.startsWith("0x") ? h.slice(2) : h).toLowerCase();

/** Typed access to a deployed BitcoinTunnel (reads, event queries, calldata). */
export class TunnelClient {
  readonly contract: BitcoinTunnel;
  private readonly lcContract: BitcoinLightClient;
  private readonly scripts = new Map<number, { script: string; operator: string }>();
  private scannedTo: number;

  /**
   * @param fromBlock EVM block to start VaultCreated / WithdrawalRequested queries at (the deployment's block).
   */
  constructor(
    readonly address: string,
    readonly lightClientAddress: string,
    private readonly runner: ContractRunner,
    readonly fromBlock = 0,
  ) {
    this.contract = tunnelAt(address, runner);
    this.lcContract = BitcoinLightClient__factory.connect(lightClientAddress, runner);
    this.scannedTo = fromBlock - 1;
  }

  /** The token's address. */
  async token(): Promise<string> {
    return this.contract.token();
  }

  /** Every vault with its current state (custody scripts from VaultCreated events, read incrementally). */
  async vaults(): Promise<VaultInfo[]> {
    const count = Number(await this.contract.vaultCount());
    if (this.scripts.size < count) {
      const latest = await this.latestBlock();
      const logs = await this.contract.queryFilter(this.contract.filters.VaultCreated(), this.scannedTo + 1, latest);
      for (const l of logs) {
        this.scripts.set(Number(l.args.vaultId), { script: strip0x(l.args.custodyScript), operator: l.args.operator });
      }
      this.scannedTo = latest;
    }
    const out: VaultInfo[] = [];
    for (let id = 1; id <= count; id++) {
      const known = this.scripts.get(id);
      if (known === undefined)
        throw new Error(`VaultCreated event of vault ${id} not found (from block ${this.fromBlock})`);
      out.push(await this.vault(id, known.script));
    }
    return out;
  }

  private async latestBlock(): Promise<number> {
    const provider = this.runner.provider;
    if (provider === null || provider === undefined) throw new Error("the tunnel client's runner has no provider");
    return provider.getBlockNumber();
  }

  /** `vault(id)` (script: the custody script hex when known). */
  async vault(id: number, script = this.scripts.get(id)?.script ?? ""): Promise<VaultInfo> {
    return toRelayerVault(id, script, await this.contract.vault(id));
  }

  /** The vault id of a custody script (0: none). */
  async vaultOfScript(scriptHex: string): Promise<number> {
    return Number(await this.contract.vaultOfScript("0x" + strip0x(scriptHex)));
  }

  /** `depositRecord(txid, vout)`, txid internal order. */
  async depositRecord(txidInternal: string, vout: number): Promise<DepositRecord> {
    return toDepositRecord(await this.contract.depositRecord(txidInternal, vout));
  }

  /** `withdrawal(id)`. */
  async withdrawal(id: bigint): Promise<WithdrawalInfo> {
    const w = await this.contract.withdrawal(id);
    return {
      requester: w.requester,
      vaultId: Number(w.vaultId),
      status: Number(w.status) as WithdrawalStatus,
      deadline: Number(w.deadline),
      sats: w.sats,
      fee: w.fee,
      confirmations: Number(w.confirmations),
    };
  }

  /** The light client's confirmations of a block (0 unless canonical at that height); hash internal order. */
  async lightClientConfirmations(hashInternal: string, height: number): Promise<number> {
    return Number(await this.lcContract.confirmations(hashInternal, height));
  }

  /** WithdrawalRequested events of `vaultIds` in EVM blocks [from, to]. */
  async withdrawalRequests(vaultIds: readonly number[], from: number, to: number): Promise<WithdrawalRequest[]> {
    if (to < from) return [];
    const logs = await this.contract.queryFilter(this.contract.filters.WithdrawalRequested(), from, to);
    const out: WithdrawalRequest[] = [];
    for (const l of logs) {
      const a = toWithdrawalRequested(l.args);
      if (!vaultIds.includes(a.vaultId)) continue;
      out.push({ ...a, blockNumber: l.blockNumber });
    }
    return out;
  }

  encodeConfirmDepositsInBlock(
    headerHex: string,
    height: number,
    txs: readonly TxInBlockArg[],
    outputIndexes: readonly number[],
  ): string {
    return this.contract.interface.encodeFunctionData("confirmDepositsInBlock", [
      "0x" + strip0x(headerHex),
      height,
      txs.map((t) => ({ rawTx: t.rawTx, txIndex: t.txIndex, merkleProof: t.merkleProof })),
      [...outputIndexes],
    ]);
  }

  encodeConfirmDeposit(proof: TxProofArg, outputIndex: number): string {
    return this.contract.interface.encodeFunctionData("confirmDeposit", [proof, outputIndex]);
  }

  encodeFinalizeWithdrawal(id: bigint, proof: TxProofArg): string {
    return this.contract.interface.encodeFunctionData("finalizeWithdrawal", [id, proof]);
  }

  /** The tunnel's events in receipt logs. */
  parseEvents(logs: readonly Log[]): ParsedEvent[] {
    return parseContractEvents(this.contract, this.address, logs);
  }
}

/** The relayer's view of the typed `vault(id)` struct. */
export function toRelayerVault(id: number, script: string, v: VaultStructOutput): VaultInfo {
  return {
    id,
    script,
    operator: v.operator,
    status: Number(v.status) as VaultStatus,
    confirmations: Number(v.confirmations),
    minDeposit: v.minDeposit,
    depositFeeBps: Number(v.depositFeeBps),
    depositFlatFee: v.depositFlatFee,
    depositsUntilHeight: Number(v.depositsUntilHeight),
    custody: v.custody,
    pending: v.pending,
    collateral: v.collateral,
  };
}
