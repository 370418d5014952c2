import type { RoleName } from "../config/roles";
import type { FabricConfig } from "../config/schema";
import type { Deployment } from "../evm/deployment";

/** A relayer role the devnet runs when the deployment supports it. */
export interface DevnetRole {
  role: RoleName;
  supported(deployment: Deployment, cfg: FabricConfig): boolean;
}

/**
 * Every role the devnet knows, in start order. Extension point: a new role (keystones, pop, ...) adds one entry
 * saying which part of the deployment it needs.
 */
export const DEVNET_ROLES: readonly DevnetRole[] = [
  { role: "headers", supported: () => true },
  { role: "deposits", supported: (d) => d.contracts.BitcoinTunnel !== undefined },
  {
    role: "withdrawals",
    supported: (d, cfg) =>
      d.contracts.BitcoinTunnel !== undefined && cfg.VAULT_CUSTODY_KEY !== undefined && (d.vaults?.length ?? 0) > 0,
  },
  { role: "hvm-index", supported: (d) => d.contracts.BitcoinTxIndex !== undefined },
  { role: "keystones", supported: (d) => d.pop !== undefined },
  { role: "pop", supported: (d, cfg) => d.pop !== undefined && cfg.POP_MINER_KEY !== undefined },
  { role: "anchors", supported: (d) => d.pop !== undefined },
];

/** The roles of DEVNET_ROLES that this deployment and configuration support. */
export function supportedRoles(deployment: Deployment, cfg: FabricConfig): RoleName[] {
  return DEVNET_ROLES.filter((r) => r.supported(deployment, cfg)).map((r) => r.role);
}
