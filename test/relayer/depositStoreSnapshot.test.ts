/**
 * The live view reads the deposits role's Redis state with DepositStore.snapshot, which must leave that state as it
 * is; pending() and parked(), used by the role itself, prune an order key whose item is gone. Real Redis.
 */
import { expect } from "chai";
import { Redis } from "ioredis";
import { orderKey } from "../../relayer/src/roles/deposits/depositRules";
import { DepositStore, type PendingDeposit } from "../../relayer/src/roles/deposits/depositStore";
import { removeTestKeys } from "./helpers/redisKeys";

function deposit(i: number): PendingDeposit {
  const txid = String(i).repeat(64);
  return {
    txid,
    vout: 0,
    height: 100 + i,
    blockHash: "ab".repeat(32),
    txIndex: 1,
    vaultId: 1,
    value: "100000",
    recipient: "0x" + "cd".repeat(20),
    key: orderKey(100 + i, 1, 0, txid),
  };
}

describe("DepositStore.snapshot (a read-only view of the deposits role's state)", () => {
  let redis: Redis;
  const prefix = `test:dsnap:${process.pid}:${Date.now()}`;

  before(() => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 2 });
  });
  after(async () => {
    await removeTestKeys(prefix);
    redis.disconnect();
  });

  it("lists pending and parked deposits and removes nothing, where pending() prunes an orphaned order key", async () => {
    const store = new DepositStore(redis, prefix);
    const [a, b, c] = [1, 2, 3].map(deposit);
    await store.recordBlock(103, "ef".repeat(32), [a, b, c]);
    await store.park(c);
    // An order key whose item is gone (as a crash between two writes of an older version could leave it).
    await redis.hdel(`${prefix}:state:deposits:items`, `${b.txid}:0`);
    const pendingKey = `${prefix}:state:deposits:pending`;

    const snap = await store.snapshot();
    expect(snap.pending.map((d) => d.txid)).to.deep.equal([a.txid]);
    expect(snap.parked.map((d) => d.txid)).to.deep.equal([c.txid]);
    expect(await redis.zrange(pendingKey, 0, -1), "the snapshot changed nothing").to.deep.equal([a.key, b.key]);

    expect((await store.pending()).map((d) => d.txid)).to.deep.equal([a.txid]);
    await new Promise((r) => setTimeout(r, 50)); // the prune is not awaited
    expect(await redis.zrange(pendingKey, 0, -1), "pending() pruned the orphan").to.deep.equal([a.key]);
  });
});
