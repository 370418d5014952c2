/**
 * The withdrawal processor against the embedded regtest node served as a node WITHOUT a transaction index
 * (getrawtransaction without a block hash fails for confirmed transactions, as on a default bitcoind): a payout
 * deeper than the search depth whose outputs are all spent must never be paid a second time.
 */
import { expect } from "chai";
import { DelayedError, type Job } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient, BitcoinRpcError, type RawTransactionInfo } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey, type KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import type { EvmSender, SendRequest } from "../../relayer/src/evm/sender";
import { WithdrawalStatus, type TunnelClient } from "../../relayer/src/evm/tunnel";
import { custodyScriptOf } from "../../relayer/src/roles/withdrawals/custodyKey";
import { PayoutFinder } from "../../relayer/src/roles/withdrawals/payoutFinder";
import { PAYOUT_TTL_SECONDS, PayoutStore } from "../../relayer/src/roles/withdrawals/payoutStore";
import { buildPayout } from "../../relayer/src/roles/withdrawals/payoutBuilder";
import {
  PayoutNotLocatedError,
  processWithdrawalJob,
  type WithdrawalDeps,
  type WithdrawalJobData,
  type WithdrawalJobResult,
} from "../../relayer/src/roles/withdrawals/withdrawalProcessor";
import { fundFromCoinbase, type Coin } from "./helpers/tunnelBitcoin";
import { rejection } from "./helpers/rejects";

/** A node client that, like bitcoind without -txindex, finds confirmed transactions only when given their block. */
class NoTxIndexClient extends BitcoinRpcClient {
  /** Raw transactions this client broadcast. */
  readonly broadcasts: string[] = [];

  override getRawTransaction(txid: string, verbose?: false, blockhash?: string): Promise<string>;
  override getRawTransaction(txid: string, verbose: true, blockhash?: string): Promise<RawTransactionInfo>;
  override async getRawTransaction(
    txid: string,
    verbose = false,
    blockhash?: string,
  ): Promise<string | RawTransactionInfo> {
    const info = await super.getRawTransaction(txid, true, blockhash);
    if (blockhash === undefined && info.blockhash !== undefined) {
      throw new BitcoinRpcError(-5, "No such mempool transaction. Use -txindex", "getrawtransaction");
    }
    return verbose ? info : info.hex;
  }

  override sendRawTransaction(hex: string, maxFeeRate?: number): Promise<string> {
    this.broadcasts.push(hex);
    return super.sendRawTransaction(hex, maxFeeRate);
  }
}

const SEARCH_DEPTH = 3;
const CONFIRMATIONS = 6;

describe("relayer withdrawal processor on a node without a transaction index", function () {
  this.timeout(60_000);
  let handle: RunningRegtestNode;
  let btc: NoTxIndexClient;
  let redis: Redis;
  let prefix: string;
  let key: KeyPair;
  let custody: string;
  let coins: Coin[];
  let sent: SendRequest[];
  let store: PayoutStore;

  const user = randomKey();
  const userScript = keyOutput(user, "p2wpkh").script.toString("hex");

  function deps(): WithdrawalDeps {
    const tunnel = {
      address: "0x" + "11".repeat(20),
      withdrawal: async () => ({
        requester: "0x" + "22".repeat(20),
        vaultId: 1,
        status: WithdrawalStatus.Pending,
        deadline: 0,
        sats: 0n,
        fee: 0n,
        // The confirmations in force at the request: what the payout needs (the vault's may have changed since).
        confirmations: CONFIRMATIONS,
      }),
      vault: async () => ({ confirmations: 1_000 }),
      lightClientConfirmations: async () => CONFIRMATIONS,
      encodeFinalizeWithdrawal: () => "0x",
    } as unknown as TunnelClient;
    const sender = {
      send: async (req: SendRequest) => {
        sent.push(req);
        return { status: "sent", hash: "0x" + "33".repeat(32) };
      },
    } as unknown as EvmSender;
    return {
      node: btc,
      tunnel,
      sender,
      redis,
      store,
      finder: new PayoutFinder(btc, SEARCH_DEPTH),
      metrics: new RelayerMetrics(),
      key,
      custodyScript: custody,
      custodyLockKey: `${prefix}:lock:custody`,
      lockTtlMs: 10_000,
      pollIntervalMs: 10,
      feeTarget: 2,
      fallbackFeeRate: 2,
      blockTime: async () => 0,
    };
  }

  function job(id: bigint): Job<WithdrawalJobData, WithdrawalJobResult> {
    const data: WithdrawalJobData = {
      id: id.toString(),
      vaultId: 1,
      btcScript: userScript,
      sats: "1000000",
      fee: "0",
      requestBlock: 1,
    };
    return { data, token: "t", moveToDelayed: async () => undefined } as unknown as Job<
      WithdrawalJobData,
      WithdrawalJobResult
    >;
  }

  const log = pino({ level: "silent" });

  async function mine(n: number): Promise<void> {
    await btc.generateToAddress(n, await btc.getNewAddress());
  }

  beforeEach(async function () {
    handle = await startRegtestNode();
    btc = new NoTxIndexClient({ url: handle.url });
    redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 2 });
    prefix = `test:wproc:${process.pid}:${Date.now()}:${Math.random().toString(16).slice(2)}`;
    store = new PayoutStore(redis, prefix);
    key = randomKey();
    custody = custodyScriptOf(key);
    coins = await fundFromCoinbase(btc, key, 2);
    sent = [];
  });

  afterEach(async function () {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await handle.close();
  });

  it("finalizes a payout buried deeper than the search depth with its outputs spent, and never pays it again", async function () {
    const d = deps();
    const id = 7n;
    // First run: builds, journals and broadcasts the payout, then waits for confirmations.
    expect(await rejection(processWithdrawalJob(d, job(id), log))).to.be.instanceOf(DelayedError);
    expect(btc.broadcasts).to.have.length(1);
    const rec = await store.payout(id);
    expect(rec?.origin).to.equal("built");
    await mine(1);
    // Seen in a block: its block is recorded.
    expect(await rejection(processWithdrawalJob(d, job(id), log))).to.be.instanceOf(DelayedError);
    const placed = await store.payout(id);
    expect(placed?.blockhash).to.equal(await btc.getBestBlockHash());
    expect(placed?.height).to.equal(await btc.getBlockCount());
    const recordKey = `${prefix}:state:withdrawals:payout:${id}`;
    expect(await redis.ttl(recordKey)).to.equal(-1); // kept while the withdrawal is pending

    // The user and the custody change both spend the payout's outputs; it sinks below the search depth.
    const payout = await btc.getRawTransaction(rec!.txid, true, placed!.blockhash);
    const spends = payout.vout
      .filter((o) => !o.scriptPubKey.hex.startsWith("6a"))
      .map((o) => ({
        txid: payout.txid,
        vout: o.n,
        value: BigInt(Math.round(o.value * 1e8)),
        script: Buffer.from(o.scriptPubKey.hex, "hex"),
        key: o.scriptPubKey.hex === userScript ? user : key,
      }));
    expect(spends).to.have.length(2);
    const total = spends.reduce((s, i) => s + i.value, 0n);
    const sweep = buildSignedTx({
      inputs: spends,
      outputs: [{ script: Buffer.from(userScript, "hex"), value: total - 5_000n }],
    });
    await btc.sendRawTransaction(sweep.toHex());
    await mine(CONFIRMATIONS + SEARCH_DEPTH);
    for (let i = 0; i < payout.vout.length; i++) expect(await btc.getTxOut(payout.txid, i, true)).to.equal(null);
    expect(await new PayoutFinder(btc, SEARCH_DEPTH).find(id, userScript)).to.equal(undefined);

    const broadcastsBefore = btc.broadcasts.length;
    const res = await processWithdrawalJob(deps(), job(id), log);
    expect(res.status).to.equal("finalized");
    expect(res.payoutTxid).to.equal(rec!.txid);
    expect(sent.map((s) => s.key)).to.deep.equal([`withdrawal-${id}`]);
    expect(btc.broadcasts.length).to.equal(broadcastsBefore); // no re-broadcast, no second payout
    expect((await store.payout(id))?.txid).to.equal(rec!.txid);
    // Finalized: the record now expires (after 30 days).
    expect(await redis.ttl(recordKey)).to.be.within(PAYOUT_TTL_SECONDS - 60, PAYOUT_TTL_SECONDS);
  });

  it("uses a payout that already exists on the node (mempool or a recent block), never building a second one", async function () {
    // Paid by someone else (another relayer on another Redis): not in this store, on the node only.
    const payouts = [10n, 11n].map((id, i) =>
      buildPayout({
        id,
        btcScript: userScript,
        amount: 1_000_000n,
        utxos: [coins[i]],
        key,
        custodyScript: custody,
        feeRate: 2,
      }),
    );
    await btc.sendRawTransaction(payouts[1].tx.toHex());
    await mine(2); // id 11's payout is two blocks deep
    await btc.sendRawTransaction(payouts[0].tx.toHex()); // id 10's is in the mempool
    const before = btc.broadcasts.length;
    for (const [i, id] of [10n, 11n].entries()) {
      expect(await rejection(processWithdrawalJob(deps(), job(id), log))).to.be.instanceOf(DelayedError);
      const rec = await store.payout(id);
      expect(rec?.origin, `withdrawal ${id}`).to.equal("found");
      expect(rec?.txid).to.equal(payouts[i].tx.getId());
    }
    expect(btc.broadcasts.length).to.equal(before); // nothing built, nothing broadcast
    // Polled again once both are in a block (the job records the block, as it does every poll interval).
    await mine(1);
    for (const id of [10n, 11n]) {
      expect(await rejection(processWithdrawalJob(deps(), job(id), log))).to.be.instanceOf(DelayedError);
    }
    await mine(CONFIRMATIONS);
    for (const [i, id] of [10n, 11n].entries()) {
      const res = await processWithdrawalJob(deps(), job(id), log);
      expect([res.status, res.payoutTxid]).to.deep.equal(["finalized", payouts[i].tx.getId()]);
    }
    expect(sent.map((x) => x.key)).to.deep.equal(["withdrawal-10", "withdrawal-11"]);
    expect(btc.broadcasts.length).to.equal(before);
  });

  it("keeps a journalled payout it cannot find (no recorded block) and fails transiently instead of paying again", async function () {
    const id = 8n;
    const { tx, inputs } = buildPayout({
      id,
      btcScript: userScript,
      amount: 1_000_000n,
      utxos: coins,
      key,
      custodyScript: custody,
      feeRate: 2,
    });
    await store.savePayout(
      {
        id: id.toString(),
        txid: tx.getId(),
        hex: tx.toHex(),
        inputs: inputs.map((u) => `${u.txid}:${u.vout}`),
        origin: "built",
        createdAt: Date.now(),
      },
      custody,
    );
    await btc.sendRawTransaction(tx.toHex());
    await mine(SEARCH_DEPTH + 1);
    // Spend its custody change, so no output of it is unspent (its payment to the user stays, but is not ours to see
    // here: spend it too).
    const mined = await btc.getBlock(await btc.getBlockHash((await btc.getBlockCount()) - SEARCH_DEPTH), 2);
    const p = mined.tx.find((t) => t.txid === tx.getId());
    expect(p, "payout mined").to.not.equal(undefined);
    const spends = p!.vout
      .filter((o) => !o.scriptPubKey.hex.startsWith("6a"))
      .map((o) => ({
        txid: p!.txid,
        vout: o.n,
        value: BigInt(Math.round(o.value * 1e8)),
        script: Buffer.from(o.scriptPubKey.hex, "hex"),
        key: o.scriptPubKey.hex === userScript ? user : key,
      }));
    const total = spends.reduce((s, i) => s + i.value, 0n);
    await btc.sendRawTransaction(
      buildSignedTx({
        inputs: spends,
        outputs: [{ script: Buffer.from(userScript, "hex"), value: total - 5_000n }],
      }).toHex(),
    );
    await mine(1);
    const before = btc.broadcasts.length;
    const err = await rejection(processWithdrawalJob(deps(), job(id), log));
    expect(err).to.be.instanceOf(PayoutNotLocatedError);
    expect((err as Error).message).to.match(/missingorspent/);
    // The re-broadcast was tried (and failed); nothing else was broadcast, and the journal entry is kept.
    expect(btc.broadcasts.length).to.equal(before + 1);
    expect(btc.broadcasts[before]).to.equal(tx.toHex());
    expect((await store.payout(id))?.txid).to.equal(tx.getId());
    expect(sent).to.have.length(0);
  });

  it("drops a journalled payout once another transaction spends its input, and pays with a new one", async function () {
    const id = 9n;
    const { tx, inputs } = buildPayout({
      id,
      btcScript: userScript,
      amount: 1_000_000n,
      utxos: [coins[0]],
      key,
      custodyScript: custody,
      feeRate: 2,
    });
    // Journalled but never broadcast (a crash), and meanwhile its input was spent elsewhere.
    await store.savePayout(
      {
        id: id.toString(),
        txid: tx.getId(),
        hex: tx.toHex(),
        inputs: inputs.map((u) => `${u.txid}:${u.vout}`),
        origin: "built",
        createdAt: Date.now(),
      },
      custody,
    );
    const script = Buffer.from(custody, "hex");
    const other = buildSignedTx({
      inputs: [{ ...coins[0], script, key }],
      outputs: [{ script, value: coins[0].value - 10_000n }],
    });
    await btc.sendRawTransaction(other.toHex());
    await mine(1);
    const before = btc.broadcasts.length;
    expect(await rejection(processWithdrawalJob(deps(), job(id), log))).to.be.instanceOf(DelayedError);
    const rec = await store.payout(id);
    expect(rec?.txid).to.not.equal(tx.getId());
    expect(rec?.inputs).to.not.include(`${coins[0].txid}:${coins[0].vout}`);
    // The old one was tried once more, then the new payout broadcast.
    expect(btc.broadcasts.slice(before)).to.deep.equal([tx.toHex(), rec!.hex]);
    expect(await btc.getRawMempool()).to.include(rec!.txid);
  });
});
