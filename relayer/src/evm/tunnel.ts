/**
 * The relayer's view of BitcoinTunnel (and its HemiBTC): the ABI subset it calls, artifact loading for deploy,
 * typed reads (vaults, deposit records, withdrawals) and calldata encoders. Bitcoin hashes and txids are bytes32
 * in internal byte order here, as the contract takes them.
 */
import path from "node:path";
import { Contract, type ContractRunner, type InterfaceAbi, type Log } from "ethers";
import { parseContractEvents, type ParsedEvent } from "./events";
import { compiledAbiOr, loadArtifact, REPO_ROOT, type ContractArtifact } from "./artifacts";
import {
  TUNNEL_ADMIN_FRAGMENTS,
  TUNNEL_COMMON_FRAGMENTS,
  type DepositRecord,
  type WithdrawalRequestedFields,
} from "./tunnelAbi";

export type { DepositRecord } from "./tunnelAbi";

/** The tunnel's public API as the relayer, the deploy and the tests use it. */
export const TUNNEL_ABI = [...TUNNEL_COMMON_FRAGMENTS, ...TUNNEL_ADMIN_FRAGMENTS] as const;

/** HemiBTC as the relayer and its helpers use it (ERC-20, 8 decimals). */
export const HEMI_BTC_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function totalSupply() view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
] as const;

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

/** The tunnel's artifacts (Hardhat's artifacts/contracts/tunnel/<Name>.sol/<Name>.json). */
export function loadTunnelArtifact(
  name: "BitcoinTunnel" | "HemiBTC",
  artifactsDir = path.join(REPO_ROOT, "artifacts"),
): ContractArtifact {
  return loadArtifact(name, artifactsDir);
}

/** The compiled tunnel ABI (with its custom errors, for revert decoding), else the relayer's subset. */
export function tunnelAbi(): InterfaceAbi {
  return compiledAbiOr("BitcoinTunnel", TUNNEL_ABI);
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
  bond: bigint;
}

/** `withdrawal(id)`. */
export interface WithdrawalInfo {
  requester: string;
  vaultId: number;
  status: WithdrawalStatus;
  deadline: number;
  sats: bigint;
  fee: bigint;
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
  readonly contract: Contract;
  private readonly lcContract: Contract;
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
    this.contract = new Contract(address, TUNNEL_ABI, runner);
    this.lcContract = new Contract(
      lightClientAddress,
      ["function confirmations(bytes32 blockHash, uint32 height) view returns (uint32)"],
      runner,
    );
    this.scannedTo = fromBlock - 1;
  }

  /** The token's address. */
  async token(): Promise<string> {
    return (await this.contract.token()) as string;
  }

  /** Every vault with its current state (custody scripts from VaultCreated events, read incrementally). */
  async vaults(): Promise<VaultInfo[]> {
    const count = Number((await this.contract.vaultCount()) as bigint);
    if (this.scripts.size < count) {
      const latest = await this.latestBlock();
      const logs = await this.contract.queryFilter(this.contract.filters.VaultCreated(), this.scannedTo + 1, latest);
      for (const l of logs) {
        const args = (l as unknown as { args: { vaultId: bigint; operator: string; custodyScript: string } }).args;
        this.scripts.set(Number(args.vaultId), { script: strip0x(args.custodyScript), operator: args.operator });
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
    const v = (await this.contract.vault(id)) as {
      status: bigint;
      confirmations: bigint;
      minDeposit: bigint;
      depositFeeBps: bigint;
      depositFlatFee: bigint;
      operator: string;
      depositsUntilHeight: bigint;
      custody: bigint;
      pending: bigint;
      bond: bigint;
    };
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
      bond: v.bond,
    };
  }

  /** The vault id of a custody script (0: none). */
  async vaultOfScript(scriptHex: string): Promise<number> {
    return Number((await this.contract.vaultOfScript("0x" + strip0x(scriptHex))) as bigint);
  }

  /** `depositRecord(txid, vout)`, txid internal order. */
  async depositRecord(txidInternal: string, vout: number): Promise<DepositRecord> {
    const r = (await this.contract.depositRecord(txidInternal, vout)) as {
      sequence: bigint;
      blockHeight: bigint;
      txIndex: bigint;
      vaultId: bigint;
      inBitcoinOrder: boolean;
    };
    return {
      sequence: r.sequence,
      blockHeight: Number(r.blockHeight),
      txIndex: Number(r.txIndex),
      vaultId: Number(r.vaultId),
      inBitcoinOrder: r.inBitcoinOrder,
    };
  }

  /** `withdrawal(id)`. */
  async withdrawal(id: bigint): Promise<WithdrawalInfo> {
    const w = (await this.contract.withdrawal(id)) as {
      requester: string;
      vaultId: bigint;
      status: bigint;
      deadline: bigint;
      sats: bigint;
      fee: bigint;
    };
    return {
      requester: w.requester,
      vaultId: Number(w.vaultId),
      status: Number(w.status) as WithdrawalStatus,
      deadline: Number(w.deadline),
      sats: w.sats,
      fee: w.fee,
    };
  }

  /** The light client's confirmations of a block (0 unless canonical at that height); hash internal order. */
  async lightClientConfirmations(hashInternal: string, height: number): Promise<number> {
    return Number((await this.lcContract.confirmations(hashInternal, height)) as bigint);
  }

  /** WithdrawalRequested events of `vaultIds` in EVM blocks [from, to]. */
  async withdrawalRequests(vaultIds: readonly number[], from: number, to: number): Promise<WithdrawalRequest[]> {
    if (to < from) return [];
    const logs = await this.contract.queryFilter(this.contract.filters.WithdrawalRequested(), from, to);
    const out: WithdrawalRequest[] = [];
    for (const l of logs) {
      const a = (
        l as unknown as {
          args: {
            id: bigint;
            vaultId: bigint;
            requester: string;
            btcScript: string;
            sats: bigint;
            fee: bigint;
            deadline: bigint;
          };
        }
      ).args;
      if (!vaultIds.includes(Number(a.vaultId))) continue;
      out.push({
        id: a.id,
        vaultId: Number(a.vaultId),
        requester: a.requester,
        btcScript: strip0x(a.btcScript),
        sats: a.sats,
        fee: a.fee,
        deadline: Number(a.deadline),
        blockNumber: l.blockNumber,
      });
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
      txs.map((t) => [t.rawTx, t.txIndex, t.merkleProof]),
      outputIndexes,
    ]);
  }

  encodeConfirmDeposit(proof: TxProofArg, outputIndex: number): string {
    return this.contract.interface.encodeFunctionData("confirmDeposit", [proofTuple(proof), outputIndex]);
  }

  encodeFinalizeWithdrawal(id: bigint, proof: TxProofArg): string {
    return this.contract.interface.encodeFunctionData("finalizeWithdrawal", [id, proofTuple(proof)]);
  }

  /** The tunnel's events in receipt logs. */
  parseEvents(logs: readonly Log[]): ParsedEvent[] {
    return parseContractEvents(this.contract, this.address, logs);
  }
}

function proofTuple(p: TxProofArg): [string, number, string, number, string] {
  return [p.rawTx, p.blockHeight, p.blockHeader, p.txIndex, p.merkleProof];
}
