import { ConfigError } from "./load";

/**
 * Roles this build can run; later roles (hvm-index, keystones, pop) plug in here. `deposits` and `withdrawals`
 * need the tunnel in the deployment; `withdrawals` also needs VAULT_CUSTODY_KEY.
 */
export const KNOWN_ROLES = ["headers", "deposits", "withdrawals", "hvm-index", "keystones", "pop", "anchors"] as const;
export type RoleName = (typeof KNOWN_ROLES)[number];

/** Parses `--roles headers[,...]`; the error names the bad role and the known ones. */
export function parseRoles(value: string | undefined): RoleName[] {
  const names = (value ?? "headers")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) throw new ConfigError("--roles: name at least one role", ["--roles"]);
  for (const n of names) {
    if (!(KNOWN_ROLES as readonly string[]).includes(n)) {
      throw new ConfigError(`--roles: unknown role "${n}" (known roles: ${KNOWN_ROLES.join(", ")})`, ["--roles"]);
    }
  }
  return [...new Set(names)] as RoleName[];
}
