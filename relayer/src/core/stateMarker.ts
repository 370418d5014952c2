/**
 * Which deployment the relayer's Redis state belongs to. A Hardhat node restarted and redeployed gives the same chain
 * id and the same contract addresses, hence the same default Redis prefix, but a new chain: the saved cursors are
 * above its head and the old pending deposits block the new ones. So the prefix holds a marker,
 * `<prefix>:deployment` = the deployment's identity (chain id, contract addresses, the hash of the EVM block the
 * deployment is in, the EVM genesis hash); at start-up a marker of another deployment, or a saved EVM cursor above the
 * chain head, means the state is stale: it is removed (STALE_STATE=reset, the default) or the relayer refuses to
 * start (STALE_STATE=refuse). While running, a marker that disappears means Redis lost its data (restarted without
 * persistence): see RedisWatch.
 */
import type { JsonRpcProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ConfigError } from "../config/load";

/** What identifies one deployment on one chain. */
export interface DeploymentIdentity {
  chainId: number;
  lightClient: string;
  tunnel?: string;
  /** EVM block of the deployment (the deployment file's blockNumber; 0 when unknown). */
  deployBlock: number;
  /** Hash of that block: differs on a reset chain even when the addresses are the same. */
  deployBlockHash: string;
  /** Hash of the EVM genesis block. */
  genesisHash: string;
}

/** The Redis key of the marker under `prefix`. */
export function markerKey(prefix: string): string {
  return `${prefix}:deployment`;
}

/** Redis key of the withdrawals role's saved EVM cursor (see roles/withdrawals/payoutStore.ts). */
function evmCursorKey(prefix: string): string {
  return `${prefix}:state:withdrawals:evm-cursor`;
}

/** Reads the identity of the deployment from the chain. */
export async function deploymentIdentity(
  provider: JsonRpcProvider,
  d: { chainId: number; lightClient: string; tunnel?: string; deployBlock?: number },
): Promise<DeploymentIdentity> {
  const deployBlock = d.deployBlock ?? 0;
  const [genesis, block] = await Promise.all([provider.getBlock(0), provider.getBlock(deployBlock)]);
  if (genesis?.hash == null) throw new Error("the EVM node has no genesis block");
  if (block?.hash == null) {
    throw new ConfigError(
      `the deployment's EVM block ${deployBlock} does not exist on chain ${d.chainId} (head ${await provider.getBlockNumber()}): ` +
        "the chain was reset after the deployment; redeploy with `npx hemi-fabric deploy`",
      ["DEPLOYMENT_FILE", "EVM_RPC_URL"],
    );
  }
  return {
    chainId: d.chainId,
    lightClient: d.lightClient.toLowerCase(),
    tunnel: d.tunnel?.toLowerCase(),
    deployBlock,
    deployBlockHash: block.hash,
    genesisHash: genesis.hash,
  };
}

function sameIdentity(a: DeploymentIdentity, b: DeploymentIdentity): boolean {
  return (
    a.chainId === b.chainId &&
    a.lightClient === b.lightClient &&
    (a.tunnel ?? "") === (b.tunnel ?? "") &&
    a.deployBlock === b.deployBlock &&
    a.deployBlockHash === b.deployBlockHash &&
    a.genesisHash === b.genesisHash
  );
}

/** Every key under `prefix:` (SCAN, never KEYS). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return out;
}

/** Removes every key under `prefix:`; returns how many. */
export async function removeState(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysUnder(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  return keys.length;
}

export type StaleStatePolicy = "reset" | "refuse";

export interface StateCheckResult {
  /** fresh: nothing under the prefix; same: state of this deployment; reset: stale state removed. */
  outcome: "fresh" | "same" | "reset";
  /** Why the state was stale (outcome reset). */
  reason?: string;
}

/**
 * Checks that the state under `prefix` is this deployment's (see the module comment); writes the marker. Stale state
 * is removed (policy reset) or refused with a ConfigError that says why and what to do (policy refuse).
 */
export async function checkStateMarker(opts: {
  redis: Redis;
  prefix: string;
  identity: DeploymentIdentity;
  evmHead: number;
  policy: StaleStatePolicy;
  log: Logger;
}): Promise<StateCheckResult> {
  const { redis, prefix, identity, evmHead, policy, log } = opts;
  const raw = await redis.get(markerKey(prefix));
  const cursorRaw = await redis.get(evmCursorKey(prefix));
  const cursor = cursorRaw === null ? undefined : Number(cursorRaw);
  let reason: string | undefined;
  if (raw !== null) {
    let saved: DeploymentIdentity | undefined;
    try {
      saved = JSON.parse(raw) as DeploymentIdentity;
    } catch {
      saved = undefined;
    }
    if (saved === undefined || !sameIdentity(saved, identity)) {
      reason =
        saved === undefined
          ? "its deployment marker is unreadable"
          : `it belongs to another deployment (EVM block ${saved.deployBlock} hash ${saved.deployBlockHash.slice(0, 18)}…, ` +
            `genesis ${saved.genesisHash.slice(0, 18)}…; now block ${identity.deployBlock} hash ` +
            `${identity.deployBlockHash.slice(0, 18)}…, genesis ${identity.genesisHash.slice(0, 18)}…): the EVM chain was reset and redeployed`;
    }
  }
  if (reason === undefined && cursor !== undefined && cursor > evmHead) {
    reason = `its saved EVM cursor (block ${cursor}) is above the chain head (block ${evmHead}): the EVM chain was reset`;
  }
  if (reason === undefined) {
    const hadState = raw !== null || (await keysUnder(redis, prefix)).length > 0;
    await redis.set(markerKey(prefix), JSON.stringify(identity));
    return { outcome: hadState ? "same" : "fresh" };
  }
  if (policy === "refuse") {
    throw new ConfigError(
      `the Redis state under prefix "${prefix}" is stale: ${reason}. Remove it (start with STALE_STATE=reset, ` +
        "the default), or use another REDIS_PREFIX",
      ["STALE_STATE", "REDIS_PREFIX"],
    );
  }
  const removed = await removeState(redis, prefix);
  await redis.set(markerKey(prefix), JSON.stringify(identity));
  log.warn({ prefix, removedKeys: removed, reason }, `Redis state was stale (${reason}): removed it, starting fresh`);
  return { outcome: "reset", reason };
}

/**
 * Start-up report of locks left by a relayer that was killed (its job and Redis locks expire by themselves): one line
 * saying what waits and for how long at most, instead of a silent wait.
 */
export async function reportLeftoverLocks(redis: Redis, prefix: string, log: Logger): Promise<number> {
  const keys = (await keysUnder(redis, prefix)).filter((k) => k.endsWith("lock"));
  const held: { key: string; expiresInMs: number }[] = [];
  for (const key of keys) {
    const ttl = await redis.pttl(key);
    if (ttl > 0) held.push({ key: key.slice(prefix.length + 1), expiresInMs: ttl });
  }
  if (held.length > 0) {
    const maxMs = Math.max(...held.map((h) => h.expiresInMs));
    log.warn(
      { locks: held, waitMs: maxMs },
      `${held.length} lock(s) of a relayer that stopped without releasing them (killed?); the work they hold resumes ` +
        `when they expire, within ${Math.ceil(maxMs / 1000)} s`,
    );
  }
  return held.length;
}
