import { Contract, type ContractRunner, type InterfaceAbi, type Log } from "ethers";
import { parseContractEvents, type ParsedEvent } from "./events";
import { compiledAbiOr } from "./artifacts";

/** The light client's public API as the relayer uses it (the artifact's ABI adds the custom errors). */
export const LIGHT_CLIENT_ABI = [
  "function bestBlock() view returns (bytes32 hash, uint32 height)",
  "function blockHashAt(uint32 height) view returns (bytes32)",
  "function isCanonical(bytes32 blockHash, uint32 height) view returns (bool)",
  "function forkBlock(bytes32 blockHash) view returns (tuple(bytes32 prevHash, uint128 work, uint32 height, uint32 time, uint32 bits, uint32 epochBits, uint32 epochStartTime))",
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

/** Typed read access to a deployed BitcoinLightClient. Hashes are bytes32 hex in internal byte order. */
export class LightClientReader {
  readonly contract: Contract;

  constructor(
    readonly address: string,
    runner: ContractRunner,
  ) {
    this.contract = new Contract(address, LIGHT_CLIENT_ABI, runner);
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

  /** True when the header is stored: canonical at `height`, or kept as a fork block. */
  async isStored(hashInternal: string, height: number): Promise<boolean> {
    if ((await this.contract.isCanonical(hashInternal, height)) as boolean) return true;
    const fork = (await this.contract.forkBlock(hashInternal)) as { work: bigint };
    return fork.work !== 0n;
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
