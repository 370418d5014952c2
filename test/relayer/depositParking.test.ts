/**
 * Deposits to a Paused vault are parked, not failed: kept out of the Bitcoin-order queue (so other vaults' deposits
 * are minted meanwhile) and minted once the vault is Live again. Real regtest node and Redis; the tunnel and the EVM
 * sender are small in-memory stand-ins that mint what confirmDepositsInBlock carries.
 */
import { expect } from "chai";
import { Transaction } from "bitcoinjs-lib";
import { Redis } from "ioredis";
import pino from "pino";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { PermanentError } from "../../relayer/src/core/errors";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import type { EvmSender, SendRequest, SendResult } from "../../relayer/src/evm/sender";
import { VaultStatus, type TunnelClient, type TxInBlockArg } from "../../relayer/src/evm/tunnel";
import {
  DepositParkedError,
  processDepositJob,
  type ConfirmDeps,
} from "../../relayer/src/roles/deposits/depositConfirmer";
import { orderKey } from "../../relayer/src/roles/deposits/depositRules";
import { DepositStore, FAILED_TTL_SECONDS, type PendingDeposit } from "../../relayer/src/roles/deposits/depositStore";
import { buildDeposit, fundFromCoinbase } from "./helpers/tunnelBitcoin";
import { rejection } from "./helpers/rejects";

describe("relayer deposits to a paused vault", function () {
  this.timeout(60_000);
  let handle: RunningRegtestNode;
  let redis: Redis;
  let prefix: string;

  beforeEach(async function () {
    handle = await startRegtestNode();
    redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 2 });
    prefix = `test:dpark:${process.pid}:${Date.now()}:${Math.random().toString(16).slice(2)}`;
  });

  afterEach(async function () {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await handle.close();
  });

  it("parks a paused vault's deposit, mints the other vault's, and mints the parked one once the vault is Live", async function () {
    const btc = new BitcoinRpcClient({ url: handle.url });
    const funder = randomKey();
    const coins = await fundFromCoinbase(btc, funder, 2);
    const custody = [1, 2].map(() => keyOutput(randomKey(), "p2wpkh").script.toString("hex"));
    const recipient = "0x" + "ab".repeat(20);
    const txs = [0, 1].map((v) =>
      buildDeposit(funder, coins[v], { pays: [{ script: custody[v], sats: 100_000n }], recipient }),
    );
    const ids = [];
    for (const t of txs) ids.push(await btc.sendRawTransaction(t.toHex()));
    const blockHash = (await btc.generateBlock(await btc.getNewAddress(), ids)).hash;
    await btc.generateToAddress(5, await btc.getNewAddress());
    const height = (await btc.getBlockHeader(blockHash)).height;
    const block = await btc.getBlock(blockHash, 1);
    // The first deposit in Bitcoin order is to vault 1 (paused), the second to vault 2 (live).
    const deposits: PendingDeposit[] = txs
      .map((t) => {
        const txid = t.getId();
        const txIndex = block.tx.indexOf(txid);
        return {
          txid,
          vout: 0,
          height,
          blockHash,
          txIndex,
          vaultId: 0,
          value: "100000",
          recipient,
          key: orderKey(height, txIndex, 0, txid),
        };
      })
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const [paused, live] = deposits;
    paused.vaultId = 1;
    live.vaultId = 2;

    const store = new DepositStore(redis, prefix);
    await store.recordBlock(height, blockHash, deposits);

    const status = new Map<number, VaultStatus>([
      [1, VaultStatus.Paused],
      [2, VaultStatus.Live],
    ]);
    const minted = new Map<string, bigint>();
    let sequence = 0n;
    const tunnel = {
      address: "0x" + "11".repeat(20),
      vault: async (id: number) => ({ id, status: status.get(id), confirmations: 1, minDeposit: 1_000n }),
      depositRecord: async (txidInternal: string, vout: number) => ({
        sequence: minted.get(`${txidInternal}:${vout}`) ?? 0n,
        blockHeight: height,
        txIndex: 0,
        vaultId: 0,
        inBitcoinOrder: true,
      }),
      lightClientConfirmations: async () => 100,
      encodeConfirmDepositsInBlock: (_h: string, _height: number, items: readonly TxInBlockArg[], vouts: number[]) =>
        JSON.stringify(
          items.map(
            (t, i) =>
              `${displayToInternal(Transaction.fromHex(String(t.rawTx).replace(/^0x/, "")).getId())}:${vouts[i]}`,
          ),
        ),
      parseEvents: () => [],
    } as unknown as TunnelClient;
    const sends: string[][] = [];
    const sender = {
      send: async (req: SendRequest): Promise<SendResult> => {
        const call = await req.prepare();
        if ("skip" in call) return { status: "skipped", reason: call.skip };
        const keys = JSON.parse(call.data) as string[];
        sends.push(keys);
        for (const k of keys) minted.set(k, ++sequence);
        return {
          status: "mined",
          receipt: { logs: [] },
          hash: "0x01",
          gasUsed: 0n,
          replacements: 0,
        } as unknown as SendResult;
      },
    } as unknown as EvmSender;
    const deps: ConfirmDeps = {
      node: btc,
      tunnel,
      store,
      sender,
      redis,
      lockKey: `${prefix}:confirm-lock`,
      lockTtlMs: 10_000,
      metrics: new RelayerMetrics({ defaultMetrics: false }),
      maxBatch: 10,
    };
    const log = pino({ level: "silent" });
    const key = (d: PendingDeposit) => `${displayToInternal(d.txid)}:${d.vout}`;

    // The live vault's deposit is minted although the paused vault's one comes first; that one is parked, not failed.
    const res = await processDepositJob(deps, { txid: live.txid, vout: live.vout }, log);
    expect(res.status).to.equal("minted");
    expect(sends).to.deep.equal([[key(live)]]);
    expect(await store.failure(paused.txid, paused.vout)).to.equal(undefined);
    expect(await store.isParked(paused)).to.equal(true);
    expect(await store.pending()).to.deep.equal([]);
    expect(await store.parked()).to.deep.equal([paused]);

    // Its own job fails transiently (retried), not permanently, while the vault stays paused.
    const err = await rejection(processDepositJob(deps, { txid: paused.txid, vout: paused.vout }, log));
    expect(err).to.be.instanceOf(DepositParkedError);
    expect(err).to.not.be.instanceOf(PermanentError);
    expect(sends).to.have.length(1);

    // Live again: the job unparks and mints it.
    status.set(1, VaultStatus.Live);
    const later = await processDepositJob(deps, { txid: paused.txid, vout: paused.vout }, log);
    expect(later.status).to.equal("minted");
    expect(sends).to.deep.equal([[key(live)], [key(paused)]]);
    expect(await store.parked()).to.deep.equal([]);
    expect(await store.item(paused.txid, paused.vout)).to.equal(undefined);
  });

  it("keeps the reason of a never-mintable deposit for a bounded time (its own key with a TTL)", async function () {
    const store = new DepositStore(redis, prefix);
    const txid = "cd".repeat(32);
    const d: PendingDeposit = {
      txid,
      vout: 1,
      height: 10,
      blockHash: "ef".repeat(32),
      txIndex: 2,
      vaultId: 1,
      value: "5000",
      recipient: "0x" + "ab".repeat(20),
      key: orderKey(10, 2, 1, txid),
    };
    await store.recordBlock(10, d.blockHash, [d]);
    await store.markFailed(d, "DepositBelowMinimum");
    expect(await store.failure(txid, 1)).to.equal("DepositBelowMinimum");
    expect(await store.pending()).to.deep.equal([]);
    expect(await redis.ttl(`${prefix}:state:deposits:failed:${txid}:1`)).to.be.within(
      FAILED_TTL_SECONDS - 60,
      FAILED_TTL_SECONDS,
    );
    expect(await redis.exists(`${prefix}:state:deposits:failed`)).to.equal(0);
  });
});
