import { Redis } from "ioredis";

/** Deletes every key under `prefix` (SCAN + DEL, never FLUSH*), for a run's keys on a shared Redis. */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on("error", () => undefined); // a failure surfaces as the rejected command
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) deleted += await r.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return deleted;
}
