/**
 * What the parts of the SDK's TunnelClient share (TunnelClient implements it): the typed tunnel contract, the
 * nodes, the vault directory, and small helpers for events and node errors.
 */
import type { EventLog, Log, Provider, Signer } from "ethers";
import { BitcoinRpcError, BitcoinTransportError, type BitcoinRpcClient } from "../bitcoin/rpcClient";
import type { BitcoinLightClient, BitcoinTunnel, HemiBTC } from "../evm/tunnelAbi";
import type { VaultInfo } from "./abi";
import type { BitcoinNetworkName } from "./addresses";

/** A vault with its custody address (when the script has one on the tunnel's network). */
export type VaultView = VaultInfo & { address?: string };

/** The tunnel client as its parts see it. */
export interface TunnelContext {
  readonly tunnel: BitcoinTunnel;
  readonly network: BitcoinNetworkName;
  readonly bitcoin: BitcoinRpcClient;
  readonly provider: Provider;
  readonly signer: Signer | undefined;
  /** EVM block the tunnel's events are searched from. */
  readonly fromBlock: number;
  /** Poll interval of the tracking loops, ms. */
  readonly pollMs: number;
  token(): Promise<HemiBTC>;
  lightClient(): Promise<BitcoinLightClient>;
  vault(id: number): Promise<VaultView>;
  vaults(): Promise<VaultView[]>;
  /** Vault ids by custody script hex. */
  vaultOfScriptMap(): Promise<Map<string, number>>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The node's "not found" answer (-5). */
export function isNotFound(err: unknown): boolean {
  return err instanceof BitcoinRpcError && err.code === -5;
}

/** Errors of an unreachable or overloaded node (worth another try), as opposed to answers. */
export function isTransient(err: unknown): boolean {
  if (err instanceof BitcoinTransportError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === "NETWORK_ERROR" || code === "SERVER_ERROR" || code === "TIMEOUT";
}

/** The decoded args of an event log. */
export function eventArgs(log: Log): Record<string, unknown> {
  const args = (log as EventLog).args;
  if (args === undefined) throw new Error(`log ${log.transactionHash}:${log.index} was not decoded`);
  return args.toObject();
}
