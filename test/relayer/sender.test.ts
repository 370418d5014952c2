import { expect } from "chai";
import { removeState } from "../../relayer/src/core/stateMarker";
import { ContractFactory, JsonRpcProvider, Network, Wallet, formatUnits, parseUnits } from "ethers";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { createLogger } from "../../relayer/src/core/logger";
import { RelayerMetrics } from "../../relayer/src/core/metrics";
import { loadArtifact } from "../../relayer/src/evm/artifacts";
import { EIP7825_TX_GAS_CAP } from "../../relayer/src/evm/gasLimit";
import { LightClientReader, lightClientAbi } from "../../relayer/src/evm/lightClient";
import { RevertDecoder, RevertError } from "../../relayer/src/evm/revertDecoder";
import {
  EvmSender,
  FeeCapReachedError,
  StuckTransactionError,
  type EvmSenderOptions,
} from "../../relayer/src/evm/sender";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { rejection } from "./helpers/rejects";
import { REGTEST_GENESIS, headerHash, mineRegtestHeaders } from "../helpers/bitcoinData";

const REGTEST_GENESIS_HEADER = REGTEST_GENESIS.header;

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("relayer EVM sender", function () {
  this.timeout(120_000);
  let node: EvmNode;
  let provider: JsonRpcProvider;
  let redis: Redis;
  let wallet: Wallet;
  let lc: LightClientReader;

  before(async () => {
    node = await startEvmNode();
    provider = new JsonRpcProvider(node.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    provider.pollingInterval = 100;
    wallet = new Wallet(DEV_KEYS[0], provider);
    redis = new Redis(REDIS);
    const art = loadArtifact("BitcoinLightClient");
    const c = await new ContractFactory(art.abi, art.bytecode, wallet).deploy(
      "0x" + REGTEST_GENESIS_HEADER,
      0,
      1296688602,
      2,
    );
    await c.waitForDeployment();
    lc = new LightClientReader(await c.getAddress(), provider);
  });

  after(async () => {
    await node.provider.request({ method: "evm_setAutomine", params: [true] });
    for (const p of prefixes) await removeState(redis, p);
    redis.disconnect();
    provider.destroy();
    await node.close();
  });

  /** Redis prefixes the tests use (their keys are removed at the end). */
  const prefixes = new Set<string>();

  function sender(overrides: Partial<EvmSenderOptions> = {}): EvmSender {
    const prefix = overrides.prefix ?? `hf-test:${randomBytes(6).toString("hex")}`;
    prefixes.add(prefix);
    return new EvmSender({
      signer: wallet,
      provider,
      redis,
      prefix,
      decoder: new RevertDecoder([lightClientAbi()]),
      log: createLogger({ level: "silent" }),
      metrics: new RelayerMetrics({ defaultMetrics: false }),
      receiptTimeoutMs: 10_000,
      bumpPercent: 20,
      maxReplacements: 3,
      maxFeeGwei: 500,
      lockTtlMs: 5_000,
      pollMs: 50,
      ...overrides,
    });
  }

  const submit = (headers: string[]) => ({ to: lc.address, data: lc.encodeSubmitHeaders("0x" + headers.join("")) });

  it("decodes a revert to the contract's custom error name and sends nothing", async () => {
    const nonce = await provider.getTransactionCount(wallet.address);
    const err = await sender()
      .send({ key: "bad", role: "test", prepare: async () => submit(["1234"]) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(RevertError);
    expect((err as RevertError).revert?.name).to.equal("InvalidHeadersLength");
    expect((err as RevertError).message).to.include("InvalidHeadersLength(2)");
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce);
  });

  it("sends, awaits the receipt, and skips work that prepare finds already done", async () => {
    const headers = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1);
    const s = sender();
    const prepare = async () => {
      const best = await lc.bestBlock();
      return best.hash === "0x" + headerHash(headers[2]) ? { skip: "already at height 3" } : submit(headers);
    };
    const first = await s.send({ key: "h1-3", role: "test", prepare });
    expect(first.status).to.equal("mined");
    const nonce = await provider.getTransactionCount(wallet.address);
    const again = await s.send({ key: "h1-3", role: "test", prepare });
    expect(again).to.deep.equal({ status: "skipped", reason: "already at height 3" });
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce);
    expect((await lc.bestBlock()).height).to.equal(3);
  });

  it("takes the nonce from the chain, so transactions sent elsewhere do not collide", async () => {
    const parent = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1)[2];
    await (await wallet.sendTransaction({ to: wallet.address, value: 1n })).wait();
    const res = await sender().send({
      key: "h4",
      role: "test",
      prepare: async () => submit(mineRegtestHeaders(parent, 1, 1)),
    });
    expect(res.status).to.equal("mined");
    expect((await lc.bestBlock()).height).to.equal(4);
  });

  it("replaces a stuck transaction with a higher fee and returns the receipt of the one mined", async () => {
    const best = await lc.bestBlock();
    const tipHeader = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1)[2];
    const parent = mineRegtestHeaders(tipHeader, 1, 1)[0];
    expect("0x" + headerHash(parent)).to.equal(best.hash);
    await node.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      const nonce = await provider.getTransactionCount(wallet.address);
      const initialMaxFee = (await provider.getFeeData()).maxFeePerGas ?? 0n;
      // Room for many replacements: under load the mine below may come late, and the send must still be waiting.
      const s = sender({ receiptTimeoutMs: 400, maxReplacements: 10 });
      const pending = s.send({
        key: "h5",
        role: "test",
        prepare: async () => submit(mineRegtestHeaders(parent, 1, 1)),
      });
      await new Promise((r) => setTimeout(r, 1_300));
      await node.provider.request({ method: "evm_mine", params: [] });
      const res = await pending;
      expect(res.status).to.equal("mined");
      if (res.status !== "mined") return;
      expect(res.replacements).to.be.greaterThan(0);
      const mined = await provider.getTransaction(res.hash);
      expect(mined?.nonce).to.equal(nonce);
      expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
      // The mined transaction is a replacement: its fee cap is above the first broadcast's.
      const block = await provider.getBlock(res.receipt.blockNumber, true);
      expect(block?.transactions.length).to.equal(1);
      expect((mined?.maxFeePerGas ?? 0n) > (initialMaxFee * 119n) / 100n).to.equal(true);
    } finally {
      await node.provider.request({ method: "evm_setAutomine", params: [true] });
    }
  });

  it("after a crash with a transaction in flight, finishes it instead of paying for the work again", async () => {
    const tip = await lc.bestBlock();
    const chain = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1);
    const h4 = mineRegtestHeaders(chain[2], 1, 1)[0];
    const h5 = mineRegtestHeaders(h4, 1, 1)[0];
    expect("0x" + headerHash(h5)).to.equal(tip.hash);
    const next = mineRegtestHeaders(h5, 2, 1);
    const prefix = `hf-test:${randomBytes(6).toString("hex")}`;
    const prepare = async () =>
      (await lc.bestBlock()).height >= 7 ? { skip: "headers 6-7 already stored" } : submit(next);
    await node.provider.request({ method: "evm_setAutomine", params: [false] });
    const nonce = await provider.getTransactionCount(wallet.address);
    try {
      // The first process broadcasts, then "dies" before a receipt (its journal entry stays in Redis).
      const first = sender({ prefix, receiptTimeoutMs: 200, maxReplacements: 0 });
      expect(await rejection(first.send({ key: "h6-7", role: "test", prepare }))).to.be.instanceOf(
        StuckTransactionError,
      );
      expect(await redis.get(`${prefix}:sender:${wallet.address.toLowerCase()}:inflight`)).to.not.equal(null);
      // The restarted process replays the job: it waits for the journalled transaction, then finds the work done.
      const second = sender({ prefix, receiptTimeoutMs: 5_000 });
      const replay = second.send({ key: "h6-7", role: "test", prepare });
      await new Promise((r) => setTimeout(r, 300));
      await node.provider.request({ method: "evm_mine", params: [] });
      expect(await replay).to.deep.equal({ status: "skipped", reason: "headers 6-7 already stored" });
    } finally {
      await node.provider.request({ method: "evm_setAutomine", params: [true] });
    }
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
    expect((await lc.bestBlock()).height).to.equal(7);
    expect(await redis.get(`${prefix}:sender:${wallet.address.toLowerCase()}:inflight`)).to.equal(null);
  });

  it("never replaces a transaction above TX_MAX_FEE_GWEI, and stops replacing once at the cap", async () => {
    const chain = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1);
    const h5 = mineRegtestHeaders(mineRegtestHeaders(chain[2], 1, 1)[0], 1, 1)[0];
    const h7 = mineRegtestHeaders(h5, 2, 1)[1];
    expect("0x" + headerHash(h7)).to.equal((await lc.bestBlock()).hash);
    await node.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      const initialMax = (await provider.getFeeData()).maxFeePerGas ?? 0n;
      // Room for about two 20% bumps, not ten.
      const capGwei = Number(formatUnits((initialMax * 3n) / 2n, "gwei"));
      const cap = parseUnits(capGwei.toFixed(9), "gwei");
      const s = sender({ receiptTimeoutMs: 300, maxReplacements: 10, maxFeeGwei: capGwei });
      const err = await rejection(
        s.send({ key: "h8", role: "test", prepare: async () => submit(mineRegtestHeaders(h7, 1, 1)) }),
      );
      expect(err).to.be.instanceOf(FeeCapReachedError);
      expect(err).to.be.instanceOf(StuckTransactionError);
      expect((err as FeeCapReachedError).capWei).to.equal(cap);
      expect((err as FeeCapReachedError).hashes.length).to.be.within(2, 4);
      await node.provider.request({ method: "evm_mine", params: [] });
      const block = await provider.getBlock("latest", true);
      expect(block?.prefetchedTransactions.length).to.equal(1);
      const mined = block!.prefetchedTransactions[0];
      expect(mined.maxFeePerGas! <= cap, `${mined.maxFeePerGas} <= cap ${cap}`).to.equal(true);
      expect(mined.maxPriorityFeePerGas! <= cap).to.equal(true);
      expect(mined.maxFeePerGas! > initialMax, "it was replaced with a higher fee below the cap").to.equal(true);
    } finally {
      await node.provider.request({ method: "evm_setAutomine", params: [true] });
    }
    expect((await lc.bestBlock()).height).to.equal(8);
  });

  /** Header 8 of the chain the tests above stored (deterministic), and the journal key of a prefix. */
  const h8 = (): string => {
    const chain = mineRegtestHeaders(REGTEST_GENESIS_HEADER, 3, 1);
    const h5 = mineRegtestHeaders(mineRegtestHeaders(chain[2], 1, 1)[0], 1, 1)[0];
    return mineRegtestHeaders(mineRegtestHeaders(h5, 2, 1)[1], 1, 1)[0];
  };
  const journalKey = (prefix: string) => `${prefix}:sender:${wallet.address.toLowerCase()}:inflight`;

  it("forgets a broadcast the node refused, so the next send is not wedged behind it", async () => {
    expect("0x" + headerHash(h8())).to.equal((await lc.bestBlock()).hash);
    const prefix = `hf-test:${randomBytes(6).toString("hex")}`;
    const nonce = await provider.getTransactionCount(wallet.address);
    const next = mineRegtestHeaders(h8(), 1, 1);
    // A fee cap of 1 wei is below the base fee: the node answers with a JSON-RPC error.
    const refused = await rejection(
      sender({ prefix, maxFeeGwei: 1e-9 }).send({ key: "h9", role: "test", prepare: async () => submit(next) }),
    );
    expect(refused).to.not.be.instanceOf(StuckTransactionError);
    expect(await redis.get(journalKey(prefix))).to.equal(null);
    const res = await sender({ prefix, receiptTimeoutMs: 2_000, maxReplacements: 0 }).send({
      key: "h9",
      role: "test",
      prepare: async () => submit(next),
    });
    expect(res.status).to.equal("mined");
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
    expect((await lc.bestBlock()).height).to.equal(9);
  });

  it("drops a journalled transaction the node never had (nonce unused) instead of re-sending its calldata", async () => {
    const h9 = mineRegtestHeaders(h8(), 1, 1)[0];
    expect("0x" + headerHash(h9)).to.equal((await lc.bestBlock()).hash);
    const prefix = `hf-test:${randomBytes(6).toString("hex")}`;
    const nonce = await provider.getTransactionCount(wallet.address);
    // Journalled, then the process died before the broadcast reached the node.
    const stale = submit(["1234"]);
    await redis.set(
      journalKey(prefix),
      JSON.stringify({
        key: "old",
        role: "test",
        nonce,
        to: stale.to,
        data: stale.data,
        gasLimit: "200000",
        maxFeePerGas: "2000000000",
        maxPriorityFeePerGas: "1000000000",
        hashes: ["0x" + "ab".repeat(32)],
      }),
    );
    const next = mineRegtestHeaders(h9, 1, 1);
    const res = await sender({ prefix, receiptTimeoutMs: 300, maxReplacements: 1 }).send({
      key: "h10",
      role: "test",
      prepare: async () => submit(next),
    });
    expect(res.status).to.equal("mined");
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
    if (res.status === "mined") expect((await provider.getTransaction(res.hash))?.data).to.equal(submit(next).data);
    expect((await lc.bestBlock()).height).to.equal(10);
    expect(await redis.get(journalKey(prefix))).to.equal(null);
  });
  /** Header 10 of the chain the tests above stored. */
  const h10 = (): string => mineRegtestHeaders(mineRegtestHeaders(h8(), 1, 1)[0], 1, 1)[0];

  it("keeps the gas limit at EIP-7825's cap when the estimate fits under it but its 20% margin would not", async () => {
    expect("0x" + headerHash(h10())).to.equal((await lc.bestBlock()).hash);
    // 600 headers on the tip: about 14.5M gas, so estimate + 20% is above the cap the node enforces.
    const run = mineRegtestHeaders(h10(), 600, 1);
    const estimate = await provider.estimateGas({ from: wallet.address, ...submit(run) });
    expect(estimate > (EIP7825_TX_GAS_CAP * 10n) / 12n && estimate <= EIP7825_TX_GAS_CAP).to.equal(true);
    const res = await sender().send({ key: "h11-610", role: "test", prepare: async () => submit(run) });
    expect(res.status).to.equal("mined");
    if (res.status === "mined")
      expect((await provider.getTransaction(res.hash))?.gasLimit).to.equal(EIP7825_TX_GAS_CAP);
    expect((await lc.bestBlock()).height).to.equal(610);
  });

  it("on a Hardhat node with a block gas limit above the cap, sends a fork batch whose estimate fails at the cap", async () => {
    // Hardhat's default block gas limit (60M): its estimator probes 3x the gas used, above the cap, and fails.
    await node.provider.request({ method: "evm_setBlockGasLimit", params: ["0x" + (60_000_000).toString(16)] });
    try {
      // 80 headers of a lighter branch off height 10: about 6.7M gas, stored as fork blocks.
      const fork = mineRegtestHeaders(h10(), 80, 2);
      const estimateErr = await rejection(provider.estimateGas({ from: wallet.address, ...submit(fork) }));
      expect(JSON.stringify((estimateErr as { info?: unknown }).info)).to.match(/is greater than the cap \(16777216\)/);
      const res = await sender().send({ key: "fork-11-90", role: "test", prepare: async () => submit(fork) });
      expect(res.status).to.equal("mined");
      if (res.status === "mined") {
        expect((await provider.getTransaction(res.hash))?.gasLimit).to.equal(EIP7825_TX_GAS_CAP);
        expect(res.gasUsed > EIP7825_TX_GAS_CAP / 3n).to.equal(true);
      }
      expect(await lc.isStored("0x" + headerHash(fork[79]), 90)).to.equal(true);
      expect((await lc.bestBlock()).height).to.equal(610);
      // A batch that does not fit under the cap fails at its estimate (out of gas) as before: no fallback, no send.
      const nonce = await provider.getTransactionCount(wallet.address);
      const tooBig = mineRegtestHeaders(h10(), 250, 3); // about 18.6M gas as fork blocks
      const err = await rejection(
        sender().send({ key: "fork-too-big", role: "test", prepare: async () => submit(tooBig) }),
      );
      expect(JSON.stringify((err as { info?: unknown }).info)).to.match(/ran out of gas/i);
      expect(String(err)).not.to.match(/does not run within/);
      expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce);
    } finally {
      await node.provider.request({ method: "evm_setBlockGasLimit", params: ["0x" + EIP7825_TX_GAS_CAP.toString(16)] });
    }
  });
});
