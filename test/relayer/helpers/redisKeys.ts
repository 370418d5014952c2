import { Redis } from "ioredis";
import { removeState } from "../../../relayer/src/core/stateMarker";

/** The shared Redis of the tests (REDIS_URL, else 127.0.0.1:6379). */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Deletes every key a test created under its prefixes (SCAN + UNLINK; never FLUSHALL). */
export async function removeTestKeys(...prefixes: string[]): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    for (const p of prefixes) await removeState(redis, p);
  } finally {
    redis.disconnect();
  }
}
