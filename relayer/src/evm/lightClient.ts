import { Contract, type ContractRunner, type InterfaceAbi, type Log } from "ethers";
import { parseContractEvents, type ParsedEvent } from "./events";
import { compiledAbiOr } from "./artifacts";

/** The light client's public API as the relayer uses it (the artifact's ABI adds the custom errors). */
export const LIGHT_CLIENT_ABI = [
  "function bestBlock() view returns (bytes32 hash, uint32 height)",
  "function blockHashAt(uint32 height) view returns (bytes32)",
  "function isCanonical(bytes32 blockHash, uint32 height) view returns (bool)",
  "function forkBlock(bytes32 blockHash) view returns (tuple(bytes32 prevHash, uint128 work, uint32 height, uint32 time, uint32 bits, uint32 epochBits, uint32 epochStartTime, uint32 baseHeight, bytes24 baseTag))",
  "function anchorHeight() view returns (uint32)",
  "function submitHeaders(bytes headers)",
  "event HeadersAdded(bytes32 firstHash, uint32 firstHeight, uint32 count)",
  "event NewBestBlock(bytes32 hash, uint32 height)",
  "event Reorg(bytes32 oldBest, bytes32 newBest, uint32 forkHeight)",
] as const;

/** The compiled ABI (with custom errors) when artifacts exist, else the relayer's own ABI subset. */
export function lightClientAbi(): InterfaceAbi {
  return compiledAbiOr("BitcoinLightClient", LIGHT_CLIENT_ABI);
}

/** A reorganisation being applied in steps: views answer up to `safeHeight` until it is done. */
export interface PendingReorg {
  newBest: string;
  newHeight: number;
  /** The highest height still to be written (heights above it hold the new branch). */
  cursorHeight: number;
  safeHeight: number;
  applied: number;
}

/** Typed read access to a deployed BitcoinLightClient. Hashes are bytes32 hex in internal byte order. */
export class LightClientReader {
  readonly contract: Contract;

  constructor(
    readonly address: string,
    runner: ContractRunner,
  ) {
    this.contract = new Contract(address, lightClientAbi(), runner);
  }

  async bestBlock(): Promise<{ hash: string; height: number }> {
    const [hash, height] = (await this.contract.bestBlock()) as [string, bigint];
    return { hash, height: Number(height) };
  }

  async blockHashAt(height: number): Promise<string> {
    return (await this.contract.blockHashAt(height)) as string;
  }

  async anchorHeight(): Promise<number> {
    return Number((await this.contract.anchorHeight()) as bigint);
  }

  /**
   * True when the header is stored so that a child of it can be submitted: canonical at `height`, or a fork block
   * whose branch still joins the canonical chain (the contract's `isKnown`).
   */
  async isStored(hashInternal: string, height: number): Promise<boolean> {
    return (await this.contract.isKnown(hashInternal, height)) as boolean;
  }

  /** The reorganisation the light client is applying in steps, if any (see `continueReorg`). */
  async pendingReorg(): Promise<PendingReorg | undefined> {
    const r = (await this.contract.pendingReorg()) as [boolean, string, bigint, bigint, bigint, bigint];
    if (!r[0]) return undefined;
    return {
      newBest: r[1],
      newHeight: Number(r[2]),
      cursorHeight: Number(r[3]),
      safeHeight: Number(r[4]),
      applied: Number(r[5]),
    };
  }

  /** ABI-encoded calldata of continueReorg(maxBlocks). */
  encodeContinueReorg(maxBlocks: number): string {
    return this.contract.interface.encodeFunctionData("continueReorg", [maxBlocks]);
  }

  /** ABI-encoded calldata of submitHeaders(concatenated headers). */
  encodeSubmitHeaders(headersHex: string): string {
    return this.contract.interface.encodeFunctionData("submitHeaders", [headersHex]);
  }

  /** Parses the light client's events out of receipt logs. */
  parseEvents(logs: readonly Log[]): ParsedEvent[] {
    return parseContractEvents(this.contract, this.address, logs);
  }
}
