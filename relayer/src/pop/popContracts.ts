/**
 * Typed access to the PoP contracts for the relayer's roles and verify-anchors: KeystoneLedger and PopVerifier
 * (ABIs from the compiled artifacts). Hashes are bytes32 0x-hex in internal byte order.
 */
import { Contract, type ContractRunner, type Log } from "ethers";
import { loadArtifact } from "../evm/artifacts";
import { parseContractEvents, type ParsedEvent } from "../evm/events";
import type { TxProof } from "../bitcoin/txProof";

/** A keystone as KeystoneLedger keeps it. */
export interface LedgerKeystone {
  id: string;
  l2BlockNumber: number;
  btcHeight: number;
  recordedAtBlock: number;
  epHashPrefix: string;
  hashesChecked: boolean;
}

/** A publication as PopVerifier keeps it. */
export interface VerifierPublication {
  txid: string;
  btcBlockHash: string;
  btcHeight: number;
  miner: string;
  submittedAtBlock: number;
}

export class KeystoneLedgerClient {
  readonly contract: Contract;

  constructor(
    readonly address: string,
    runner: ContractRunner,
  ) {
    this.contract = new Contract(address, loadArtifact("KeystoneLedger").abi, runner);
  }

  async interval(): Promise<number> {
    return Number((await this.contract.interval()) as bigint);
  }

  async firstKeystoneNumber(): Promise<number> {
    return Number((await this.contract.firstKeystoneNumber()) as bigint);
  }

  async lastKeystoneNumber(): Promise<number> {
    return Number((await this.contract.lastKeystoneNumber()) as bigint);
  }

  /** The keystone at `n`; `id` is zero when none is recorded there. */
  async keystoneAt(n: number): Promise<LedgerKeystone> {
    const k = (await this.contract.keystoneAt(n)) as {
      id: string;
      l2BlockNumber: bigint;
      btcHeight: bigint;
      recordedAtBlock: bigint;
      epHashPrefix: string;
      hashesChecked: boolean;
    };
    return {
      id: k.id,
      l2BlockNumber: Number(k.l2BlockNumber),
      btcHeight: Number(k.btcHeight),
      recordedAtBlock: Number(k.recordedAtBlock),
      epHashPrefix: k.epHashPrefix,
      hashesChecked: k.hashesChecked,
    };
  }

  /** The 76-byte abbreviations recorded in EVM blocks [fromBlock, toBlock], from KeystoneRecorded events. */
  async recordedAbbrevs(
    fromBlock: number,
    toBlock: number | "latest",
    l2BlockNumber?: number,
  ): Promise<{ l2BlockNumber: number; id: string; abbrev: string; evmBlock: number }[]> {
    const filter = this.contract.filters.KeystoneRecorded(null, l2BlockNumber ?? null);
    const logs = await this.contract.queryFilter(filter, fromBlock, toBlock);
    return logs.flatMap((l) => {
      const parsed = this.contract.interface.parseLog(l);
      if (parsed === null) return [];
      return [
        {
          l2BlockNumber: Number(parsed.args.l2BlockNumber as bigint),
          id: parsed.args.id as string,
          abbrev: (parsed.args.abbrev as string).toLowerCase(),
          evmBlock: l.blockNumber,
        },
      ];
    });
  }

  encodeRecord(abbrevHex: string): string {
    return this.contract.interface.encodeFunctionData("recordKeystone", [abbrevHex]);
  }

  parseEvents(logs: readonly Log[]): ParsedEvent[] {
    return parseContractEvents(this.contract, this.address, logs);
  }
}

export class PopVerifierClient {
  readonly contract: Contract;

  constructor(
    readonly address: string,
    runner: ContractRunner,
  ) {
    this.contract = new Contract(address, loadArtifact("PopVerifier").abi, runner);
  }

  async ledgerAddress(): Promise<string> {
    return (await this.contract.ledger()) as string;
  }

  /** Whether this transaction is recorded as proven in this block (both internal order). */
  async isRecorded(txid: string, blockHash: string): Promise<boolean> {
    return (await this.contract.isRecorded(txid, blockHash)) as boolean;
  }

  async publications(keystoneNumber: number): Promise<VerifierPublication[]> {
    const ps = (await this.contract.publications(keystoneNumber)) as {
      txid: string;
      btcBlockHash: string;
      btcHeight: bigint;
      miner: string;
      submittedAtBlock: bigint;
    }[];
    return ps.map((p) => ({
      txid: p.txid,
      btcBlockHash: p.btcBlockHash,
      btcHeight: Number(p.btcHeight),
      miner: p.miner,
      submittedAtBlock: Number(p.submittedAtBlock),
    }));
  }

  encodeSubmitPop(proof: TxProof): string {
    return this.contract.interface.encodeFunctionData("submitPop", [proof]);
  }

  parseEvents(logs: readonly Log[]): ParsedEvent[] {
    return parseContractEvents(this.contract, this.address, logs);
  }
}
