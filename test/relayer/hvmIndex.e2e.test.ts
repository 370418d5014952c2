import { expect } from "chai";
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal, internalToDisplay } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { keyOutput, randomKey } from "../../relayer/src/bitcoin/txBuilder";
import { deleteKeysWithPrefix } from "../../relayer/src/devnet/redisKeys";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { BitcoinTxIndex__factory, type BitcoinTxIndex } from "../../typechain-types";
import { spawnCli, waitFor, type CliProcess } from "./helpers/relayerProcess";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Blocks above this many transactions enter the index transaction by transaction (60 by default; 4 here). */
const MAX_WHOLE = 4;

describe("relayer hvm-index role (end to end: Redis, Hardhat node, embedded Bitcoin node, relayer processes)", function () {
  this.timeout(300_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let provider: JsonRpcProvider;
  let miner: string;
  let deployment: Deployment;
  let file: string;
  let index: BitcoinTxIndex;
  let workDir: string;
  const prefix = `hf-test-hvmidx-${randomBytes(4).toString("hex")}`;
  const children: CliProcess[] = [];

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    miner = await btc.getNewAddress();
    await btc.generateToAddress(110, miner);
    evm = await startEvmNode();
    provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    workDir = mkdtempSync(path.join(tmpdir(), "hf-hvmidx-"));
    const cli = spawnCli(["deploy", "--out-dir", workDir], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      DEPLOY_ANCHOR_MARGIN: "3",
    });
    const { code } = await cli.exited;
    expect(code, cli.output()).to.equal(0);
    file = path.join(workDir, "31337.json");
    deployment = readDeployment(file);
    // `deploy` deployed and installed the hVM, and recorded it.
    expect(deployment.hvm).to.include({ layout: "current", lag: 2, installedWith: "hardhat_setCode" });
    expect(deployment.contracts.BitcoinKit).to.equal(deployment.hvm?.bitcoinKit);
    expect(await provider.getCode("0x0000000000000000000000000000000000000042")).to.not.equal("0x");
    index = BitcoinTxIndex__factory.connect(deployment.contracts.BitcoinTxIndex, provider);
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await deleteKeysWithPrefix(REDIS, prefix);
    provider.destroy();
    await evm.close();
    await btcNode.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  function relayer(): CliProcess {
    const cli = spawnCli(["relayer", "--roles", "headers,hvm-index"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: DEV_KEYS[1],
      DEPLOYMENT_FILE: file,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "100",
      JOB_LOCK_MS: "4000",
      JOB_STALLED_INTERVAL_MS: "1000",
      LOCK_TTL_MS: "3000",
      HVM_INDEX_MAX_WHOLE_TXS: String(MAX_WHOLE),
    });
    children.push(cli);
    return cli;
  }

  /** Every block of the node's best chain from the anchor to the tip is indexed: whole, or each transaction. */
  async function indexedToTip(): Promise<boolean> {
    const tip = await btc.getBlockCount();
    for (let h = tip; h >= deployment.anchor.height; h--) {
      const hash = await btc.getBlockHash(h);
      if ((await index.blockRecord(displayToInternal(hash))).complete) continue;
      for (const txid of (await btc.getBlock(hash, 1)).tx) {
        if (!(await index.hasOccurrence(displayToInternal(txid), displayToInternal(hash)))) return false;
      }
    }
    return true;
  }

  /** TxIndexed events of block `hash` (display order), per txid. */
  async function txIndexedCounts(hash: string): Promise<Map<string, number>> {
    const logs = await index.queryFilter(index.filters.TxIndexed(undefined, displayToInternal(hash)), 0, "latest");
    const counts = new Map<string, number>();
    for (const l of logs) {
      const t = internalToDisplay(l.args.txid);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    return counts;
  }

  /** BlockIndexed events per block hash (display order). */
  async function indexedCounts(): Promise<Map<string, number>> {
    const logs = await index.queryFilter(index.filters.BlockIndexed(), 0, "latest");
    const counts = new Map<string, number>();
    for (const l of logs) {
      const h = internalToDisplay(l.args.blockHash);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    return counts;
  }

  /** Transactions of the relayer's signer (DEV_KEYS[1]) to `to` on the whole EVM chain. */
  async function relayerTxsTo(to: string): Promise<number> {
    const signer = new Wallet(DEV_KEYS[1]).address;
    let n = 0;
    const last = await provider.getBlockNumber();
    for (let b = 0; b <= last; b++) {
      const block = await provider.getBlock(b, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from === signer && tx.to?.toLowerCase() === to.toLowerCase()) n++;
      }
    }
    return n;
  }

  /** `n` blocks, each with a payment from the node's wallet (so blocks carry spends and new coins). */
  async function mineWithPayments(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await btc.sendToAddress(keyOutput(randomKey(), "p2wpkh").address, 0.1);
      await btc.generateToAddress(1, miner);
    }
  }

  it("indexes N blocks behind the light client, follows a reorg, and survives SIGKILL without indexing a block twice", async () => {
    const t0 = Date.now();
    let r = relayer();
    await mineWithPayments(12);
    await waitFor("the index to reach the tip", indexedToTip, 90_000);
    const afterFirst = await indexedCounts();
    const tip = await btc.getBlockCount();
    expect(afterFirst.size).to.equal(tip - deployment.anchor.height + 1);

    // A reorg: the last 3 blocks (with their payments) replaced by 4 new ones.
    const orphaned = await btc.getBlockHash(tip - 2);
    await btc.invalidateBlock(orphaned);
    await btc.generateToAddress(4, miner);
    await waitFor("the index to follow the reorg", indexedToTip, 60_000);
    const orphanTx = (await btc.getBlock(orphaned, 1)).tx[1];
    // The orphaned block stays recorded but is not canonical: its transactions moved to the new branch's block.
    expect((await btc.getRawTransaction(orphanTx, true)).blockhash).to.not.equal(orphaned);

    // One block too large to index whole (6 transactions > MAX_WHOLE): it enters transaction by transaction.
    for (let i = 0; i < 5; i++) await btc.sendToAddress(keyOutput(randomKey(), "p2wpkh").address, 0.01);
    const [big] = await btc.generateToAddress(1, miner);
    await btc.generateToAddress(1, miner);
    await waitFor("the index to pass the big block", indexedToTip, 60_000);
    expect((await indexedCounts()).has(big)).to.equal(false); // not whole...
    const bigTxs = await txIndexedCounts(big); // ...but every transaction of it
    expect([...bigTxs.keys()].sort()).to.deep.equal([...(await btc.getBlock(big, 1)).tx].sort());

    // SIGKILL while it indexes a run of blocks, then a restart on the same Redis.
    const before = await btc.getBlockCount();
    await mineWithPayments(10);
    await r.waitForLog((l) => l.msg === "block indexed" && Number(l.height) > before, 60_000);
    r.proc.kill("SIGKILL");
    await r.exited;
    r = relayer();
    await waitFor("the restarted relayer to reach the tip", indexedToTip, 120_000);

    const counts = await indexedCounts();
    const twice = [...counts.entries()].filter(([, c]) => c !== 1);
    expect(twice, "blocks indexed more than once").to.deep.equal([]);
    const finalTip = await btc.getBlockCount();
    // Every canonical block once (the big one by its transactions), plus the 3 orphaned ones indexed before the reorg.
    expect(counts.size).to.equal(finalTip - deployment.anchor.height + 3);
    expect([...(await txIndexedCounts(big)).values()]).to.deep.equal([1, 1, 1, 1, 1, 1]);
    // No paid-for duplicate either: the relayer's transactions to the index are exactly the blocks indexed whole
    // plus the big block's six transactions.
    const toIndex = await relayerTxsTo(deployment.contracts.BitcoinTxIndex);
    expect(toIndex).to.equal([...counts.values()].reduce((a, b) => a + b, 0) + 6);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
    console.log(`      ${counts.size} blocks indexed (reorg + SIGKILL) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
