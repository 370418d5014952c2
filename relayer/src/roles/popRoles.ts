/**
 * Starts the Bitcoin-secure sequencing and PoP roles (`keystones`, `pop`, `anchors`) inside startRelayer: finds the
 * PoP contracts (KEYSTONE_LEDGER_ADDRESS / POP_VERIFIER_ADDRESS, else the deployment file), checks the settings a
 * role needs, and returns the running roles for /healthz.
 */
import type { InterfaceAbi, JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { ConfigError } from "../config/load";
import type { RoleName } from "../config/roles";
import type { FabricConfig } from "../config/schema";
import type { RelayerMetrics } from "../core/metrics";
import type { QueueCore } from "../core/queues";
import { loadArtifact } from "../evm/artifacts";
import type { Deployment } from "../evm/deployment";
import type { LightClientReader } from "../evm/lightClient";
import type { EvmSender } from "../evm/sender";
import { KeystoneLedgerClient, PopVerifierClient } from "../pop/popContracts";
import { PublicationIndex } from "../pop/publicationIndex";
import { AnchorsRole } from "./anchors/anchorsRole";
import { KeystonesRole } from "./keystones/keystonesRole";
import { PopMetrics } from "./pop/popMetrics";
import { PopRole } from "./pop/popRole";
import { parseCustodyKey } from "./withdrawals/custodyKey";

/** The roles this module starts. */
export const POP_ROLES: readonly RoleName[] = ["keystones", "pop", "anchors"];

/** ABIs of the PoP contracts (for revert decoding), when they are compiled. */
export function popContractAbis(): InterfaceAbi[] {
  const out: InterfaceAbi[] = [];
  for (const name of ["KeystoneLedger", "PopVerifier", "PopRewards"]) {
    try {
      out.push(loadArtifact(name).abi);
    } catch {
      // not compiled: reverts of that contract are shown undecoded
    }
  }
  return out;
}

/** KeystoneLedger and PopVerifier addresses from the settings or the deployment file; a ConfigError if absent. */
export function popAddresses(
  cfg: Pick<FabricConfig, "KEYSTONE_LEDGER_ADDRESS" | "POP_VERIFIER_ADDRESS">,
  deployment: Deployment | undefined,
  what: string,
): { ledger: string; verifier: string } {
  const ledger = cfg.KEYSTONE_LEDGER_ADDRESS ?? deployment?.pop?.keystoneLedger;
  const verifier = cfg.POP_VERIFIER_ADDRESS ?? deployment?.pop?.popVerifier;
  if (ledger === undefined || verifier === undefined) {
    throw new ConfigError(
      `${what} needs the PoP contracts: set KEYSTONE_LEDGER_ADDRESS and POP_VERIFIER_ADDRESS, or use a deployment file with its pop record (redeploy with \`npx hemi-fabric deploy\`)`,
      ["KEYSTONE_LEDGER_ADDRESS", "POP_VERIFIER_ADDRESS", "DEPLOYMENT_FILE"],
    );
  }
  return { ledger, verifier };
}

export interface PopRolesContext {
  cfg: FabricConfig;
  roles: readonly RoleName[];
  deployment: Deployment | undefined;
  provider: JsonRpcProvider;
  bitcoin: BitcoinRpcClient;
  lc: LightClientReader;
  anchorHeight: number;
  core: QueueCore;
  sender: EvmSender;
  redis: Redis;
  metrics: RelayerMetrics;
  prefix: string;
  log: Logger;
}

export type RunningRole = { stop(): void; health(): { ok: boolean; detail: unknown } };

/** Checks the settings and the contracts before anything starts (throws ConfigError). */
export async function checkPopRoles(
  c: Pick<PopRolesContext, "cfg" | "roles" | "deployment" | "provider">,
): Promise<void> {
  const wanted = c.roles.filter((r) => POP_ROLES.includes(r));
  if (wanted.length === 0) return;
  const { ledger, verifier } = popAddresses(c.cfg, c.deployment, `role(s) ${wanted.join(", ")}`);
  for (const [name, address] of [
    ["KeystoneLedger", ledger],
    ["PopVerifier", verifier],
  ] as const) {
    if ((await c.provider.getCode(address)) === "0x") {
      throw new ConfigError(`no ${name} contract at ${address}: redeploy, or fix the address settings`, [
        name === "KeystoneLedger" ? "KEYSTONE_LEDGER_ADDRESS" : "POP_VERIFIER_ADDRESS",
        "DEPLOYMENT_FILE",
      ]);
    }
  }
  if (c.roles.includes("pop") && c.cfg.POP_MINER_KEY === undefined) {
    throw new ConfigError("role pop needs POP_MINER_KEY (the PoP miner's Bitcoin key, hex or WIF)", ["POP_MINER_KEY"]);
  }
}

/** Starts the wanted PoP roles; returns them by name. */
export function startPopRoles(c: PopRolesContext): Map<RoleName, RunningRole> {
  const running = new Map<RoleName, RunningRole>();
  if (!c.roles.some((r) => POP_ROLES.includes(r))) return running;
  const { cfg } = c;
  const addresses = popAddresses(cfg, c.deployment, "the PoP roles");
  const ledger = new KeystoneLedgerClient(addresses.ledger, c.provider);
  const verifier = new PopVerifierClient(addresses.verifier, c.provider);
  const metrics = new PopMetrics(c.metrics.registry);
  if (c.roles.includes("keystones")) {
    const role = new KeystonesRole({
      core: c.core,
      log: c.log.child({ role: "keystones" }),
      provider: c.provider,
      ledger,
      lc: c.lc,
      sender: c.sender,
      metrics,
      pollIntervalMs: cfg.KEYSTONES_POLL_INTERVAL_MS,
    });
    role.start();
    running.set("keystones", role);
  }
  if (c.roles.includes("pop") && cfg.POP_MINER_KEY !== undefined) {
    const role = new PopRole({
      core: c.core,
      log: c.log.child({ role: "pop" }),
      redis: c.redis,
      node: c.bitcoin,
      provider: c.provider,
      lc: c.lc,
      ledger,
      verifier,
      sender: c.sender,
      metrics,
      prefix: c.prefix,
      key: parseCustodyKey(cfg.POP_MINER_KEY),
      pollIntervalMs: cfg.BITCOIN_POLL_INTERVAL_MS,
      lockTtlMs: cfg.LOCK_TTL_MS,
      feeRetryMs: cfg.POP_FEE_RETRY_MS,
      window: cfg.POP_KEYSTONE_WINDOW,
      maxAgeS: cfg.POP_KEYSTONE_MAX_AGE_S,
      publish: cfg.POP_PUBLISH,
      bumpAfterBlocks: cfg.POP_BUMP_AFTER_BLOCKS,
      scanBlocks: cfg.POP_SCAN_BLOCKS,
      settleDepth: cfg.POP_SETTLE_DEPTH,
      target: cfg.POP_FEE_TARGET,
      fallbackRate: cfg.POP_FALLBACK_FEE_RATE,
      maxRate: cfg.POP_MAX_FEE_RATE,
      bumpPercent: cfg.POP_BUMP_PERCENT,
    });
    role.start();
    running.set("pop", role);
  }
  if (c.roles.includes("anchors")) {
    const role = new AnchorsRole({
      log: c.log.child({ role: "anchors" }),
      metrics,
      intervalMs: cfg.ANCHORS_CHECK_INTERVAL_MS,
      provider: c.provider,
      ledger,
      verifier,
      lc: c.lc,
      index: new PublicationIndex(c.bitcoin),
      bitcoinFromHeight: c.anchorHeight + 1,
      evmFromBlock: c.deployment?.blockNumber ?? 0,
      newest: cfg.ANCHORS_CHECK_KEYSTONES,
    });
    role.start();
    running.set("anchors", role);
  }
  return running;
}
