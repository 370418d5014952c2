import { ConfigError } from "./load";

/** Roles this build can run; later roles (deposits, hvm-index, keystones, pop, withdrawals) plug in here. */
export const KNOWN_ROLES = ["headers"] as const;
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
