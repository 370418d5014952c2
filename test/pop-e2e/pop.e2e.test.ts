/**
 * Bitcoin-secure sequencing and PoP end to end, on real processes: the embedded Bitcoin regtest node (real proof of
 * work), a Hardhat node over JSON-RPC, Redis, `hemi-fabric deploy`, and two relayer processes (each a PoP miner with
 * its own key; the first also records keystones), plus `hemi-fabric verify-anchors`. One scenario walks through:
 * ten keystones recorded, each published on Bitcoin by both miners and proven; BFG finality rising block by block
 * and turning superfinal exactly at 10; a later keystone's publication lifting an earlier block's finality; a stuck
 * PoP transaction replaced (BIP125), only the replacement confirmed and counted; the fee cap (no publication while
 * the node's estimate is above it, published once it falls); SIGKILL of a miner right after its broadcast and while
 * proving; a Bitcoin reorg removing a publication (finality drops until it is published again); V2 rewards; and
 * verify-anchors passing on the honest chain, then catching a false state root and an EVM history rewritten after
 * anchoring (also seen by the relayer's /healthz and /metrics).
 */
import { expect } from "chai";
import { Contract, JsonRpcProvider, Network, Wallet, type EventLog } from "ethers";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTx, keyOutput, randomKey, type KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { loadArtifact } from "../../relayer/src/evm/artifacts";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import { decodeKeystone, encodeKeystone, keystoneAtBlock } from "../../relayer/src/pop/keystone";
import { minerEvmAddress } from "../../relayer/src/pop/popTx";
import { PublicationIndex, publicationsInTx } from "../../relayer/src/pop/publicationIndex";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { spawnCli, waitFor, type CliProcess } from "../relayer/helpers/relayerProcess";
import { fundFromCoinbase, type Coin } from "../relayer/helpers/tunnelBitcoin";
import { removeTestKeys } from "../relayer/helpers/redisKeys";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const MAX_FEE_RATE = 100;
const BUMP_AFTER_BLOCKS = 3;
const POOL = 5n * 10n ** 18n;

interface MempoolPop {
  txid: string;
  n: number;
  publisher: string;
}

describe("PoP end to end (embedded Bitcoin node, Hardhat node, Redis, deploy, two relayer miners, verify-anchors)", function () {
  this.timeout(300_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let provider: JsonRpcProvider;
  let payTo: string;
  let deployment: Deployment;
  let file: string;
  let ledger: Contract;
  let verifier: Contract;
  let lc: Contract;
  let rewards: Contract;
  const prefix = `test:pop-e2e:${randomBytes(4).toString("hex")}`;
  const minerA = randomKey();
  const minerB = randomKey();
  const idA = keyOutput(minerA, "p2pkh").script.subarray(3, 23).toString("hex");
  const idB = keyOutput(minerB, "p2pkh").script.subarray(3, 23).toString("hex");
  const evmA = minerEvmAddress(minerA);
  const evmB = minerEvmAddress(minerB);
  const sequencer = new Wallet(DEV_KEYS[1]);
  const children: CliProcess[] = [];
  let highFeeCoins: Coin[] = [];
  const funder = randomKey();
  /** K1's publication height and the finality values seen for K1 after each Bitcoin block. */
  let k1: number | undefined;
  let h1: number | undefined;
  const k1Seen: { eff: number; superfinal: boolean }[] = [];

  function relayer(key: KeyPair, evmKey: string, roles: string): CliProcess {
    const cli = spawnCli(["relayer", "--roles", roles], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: evmKey,
      POP_MINER_KEY: Buffer.from(key.privateKey as Uint8Array).toString("hex"),
      DEPLOYMENT_FILE: file,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      KEYSTONES_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "200",
      JOB_LOCK_MS: "3000",
      JOB_STALLED_INTERVAL_MS: "1000",
      LOCK_TTL_MS: "3000",
      POP_FEE_RETRY_MS: "400",
      POP_BUMP_AFTER_BLOCKS: String(BUMP_AFTER_BLOCKS),
      POP_MAX_FEE_RATE: String(MAX_FEE_RATE),
      ANCHORS_CHECK_INTERVAL_MS: "500",
      LOG_LEVEL: "info",
    });
    children.push(cli);
    return cli;
  }

  async function verifyAnchors(): Promise<{ code: number | null; report: Record<string, unknown>; out: string }> {
    const cli = spawnCli(["verify-anchors", "--json"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      DEPLOYMENT_FILE: file,
      LOG_LEVEL: "warn",
    });
    const { code } = await cli.exited;
    const out = cli.output();
    const json = out.slice(out.indexOf("\n{") + 1 || out.indexOf("{"));
    return { code, report: JSON.parse(json.slice(0, json.lastIndexOf("}") + 1)) as Record<string, unknown>, out };
  }

  /** Mines n empty EVM blocks one by one (hardhat_mine's reserved blocks disagree with blockhash on parent hashes). */
  const mineEvm = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await provider.send("evm_mine", []);
  };

  async function lcSynced(): Promise<void> {
    await waitFor(
      "the light client to reach the node's tip",
      async () => {
        const best = await btc.getBestBlockHash();
        const [hash] = (await lc.bestBlock()) as [string, bigint];
        return hash === displayToInternal(best);
      },
      60_000,
    );
  }

  /** BFG finality of K1 follows the light client's tip block by block; superfinal exactly at >= 10. */
  async function checkK1(): Promise<void> {
    if (k1 === undefined || h1 === undefined) return;
    const [, tip] = (await lc.bestBlock()) as [string, bigint];
    const [eff, superfinal] = (await verifier.finality(k1 - 7)) as [bigint, boolean];
    expect(Number(eff)).to.equal(Number(tip) - h1);
    expect(superfinal).to.equal(Number(eff) >= 10);
    k1Seen.push({ eff: Number(eff), superfinal });
  }

  async function mineBtc(txids?: string[]): Promise<number> {
    if (txids === undefined) await btc.generateToAddress(1, payTo);
    else await btc.generateBlock(payTo, txids);
    await lcSynced();
    await checkK1();
    return btc.getBlockCount();
  }

  async function mempoolPops(): Promise<MempoolPop[]> {
    const out: MempoolPop[] = [];
    for (const txid of await btc.getRawMempool()) {
      const t = await btc.getRawTransaction(txid, true).catch(() => undefined);
      if (t === undefined) continue;
      for (const p of publicationsInTx(t)) {
        out.push({ txid, n: decodeKeystone(p.abbrev).l2BlockNumber, publisher: p.publisher ?? "" });
      }
    }
    return out;
  }

  async function waitPops(n: number, exclude: string[] = []): Promise<MempoolPop[]> {
    let found: MempoolPop[] = [];
    await waitFor(
      `both miners' PoP transactions of keystone ${n} in the mempool`,
      async () => {
        found = (await mempoolPops()).filter((p) => p.n === n && !exclude.includes(p.txid));
        return new Set(found.map((p) => p.publisher)).size === 2;
      },
      60_000,
    );
    expect(found.map((p) => p.publisher).sort()).to.deep.equal([idA, idB].sort());
    return found;
  }

  async function nextKeystone(): Promise<number> {
    const interval = Number(await ledger.interval());
    const last = Number(await ledger.lastKeystoneNumber());
    const n = last === 0 ? Number(await ledger.firstKeystoneNumber()) : last + interval;
    const head = await provider.getBlockNumber();
    if (head < n) await mineEvm(n - head);
    await waitFor(`keystone ${n} recorded`, async () => Number(await ledger.lastKeystoneNumber()) >= n, 60_000);
    return n;
  }

  async function pubs(n: number): Promise<{ txid: string; btcHeight: number; miner: string; block: string }[]> {
    const ps = (await verifier.publications(n)) as {
      txid: string;
      btcHeight: bigint;
      miner: string;
      btcBlockHash: string;
    }[];
    return ps.map((p) => ({ txid: p.txid, btcHeight: Number(p.btcHeight), miner: p.miner, block: p.btcBlockHash }));
  }

  async function waitProven(n: number, atHeight?: number): Promise<void> {
    await waitFor(
      `keystone ${n} proven by both miners${atHeight === undefined ? "" : ` at height ${atHeight}`}`,
      async () => {
        const ps = (await pubs(n)).filter((p) => atHeight === undefined || p.btcHeight === atHeight);
        return new Set(ps.map((p) => p.miner)).size === 2;
      },
      60_000,
    );
  }

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    payTo = await btc.getNewAddress();
    const [coin] = await fundFromCoinbase(btc, funder, 1);
    // One funding transaction: 14 P2PKH coins per miner, 16 coins for the funder's high-fee transactions.
    const p2pkhA = keyOutput(minerA, "p2pkh").script;
    const p2pkhB = keyOutput(minerB, "p2pkh").script;
    const own = keyOutput(funder, "p2wpkh").script;
    const outputs = [
      ...Array.from({ length: 14 }, () => ({ script: p2pkhA, value: 200_000n })),
      ...Array.from({ length: 14 }, () => ({ script: p2pkhB, value: 200_000n })),
      ...Array.from({ length: 16 }, () => ({ script: own, value: 1_000_000n })),
    ];
    const fee = 20_000n;
    const change = coin.value - outputs.reduce((s, o) => s + o.value, 0n) - fee;
    const tx = buildSignedTx({
      inputs: [{ ...coin, script: own, key: funder }],
      outputs: [...outputs, { script: own, value: change }],
    });
    const txid = await btc.sendRawTransaction(tx.toHex());
    await btc.generateBlock(payTo, [txid]);
    highFeeCoins = Array.from({ length: 16 }, (_, i) => ({ txid, vout: 28 + i, value: 1_000_000n }));

    evm = await startEvmNode();
    provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    const dir = mkdtempSync(path.join(tmpdir(), "hf-pop-"));
    const cli = spawnCli(["deploy", "--out-dir", dir], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      DEPLOY_ANCHOR_MARGIN: "0",
      POP_SEQUENCER_ADDRESS: sequencer.address,
      POP_PAYOUT_DELAY: "30",
    });
    const { code } = await cli.exited;
    expect(code, cli.output()).to.equal(0);
    file = cli.output().trim().split("\n").pop() ?? "";
    deployment = readDeployment(file);
    const pop = deployment.pop;
    if (pop === undefined) throw new Error("deploy wrote no pop record");
    ledger = new Contract(pop.keystoneLedger, loadArtifact("KeystoneLedger").abi, provider);
    verifier = new Contract(pop.popVerifier, loadArtifact("PopVerifier").abi, provider);
    rewards = new Contract(pop.popRewards, loadArtifact("PopRewards").abi, provider);
    lc = new Contract(deployment.contracts.BitcoinLightClient, loadArtifact("BitcoinLightClient").abi, provider);
  });

  afterEach(function () {
    if (this.currentTest?.state !== "failed") return;
    children.forEach((c, i) => {
      const lines = c.output().trim().split("\n");
      console.log(`--- relayer process ${i}, last lines:\n${lines.slice(-40).join("\n")}`);
    });
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await removeTestKeys(prefix);
    provider?.destroy();
    await evm?.close();
    await btcNode?.close();
  });

  it("anchors ten keystones with two miners through fee caps, stuck transactions, crashes and a reorg; verify-anchors catches rewrites", async () => {
    const started = Date.now();
    let r1 = relayer(minerA, DEV_KEYS[1], "headers,keystones,pop,anchors");
    const r2 = relayer(minerB, DEV_KEYS[2], "headers,pop,anchors");
    const r2Ops = Number((await r2.waitForLog((l) => l.msg === "relayer started", 120_000)).opsPort);
    await r1.waitForLog((l) => l.msg === "relayer started", 120_000);
    await lcSynced();

    // --- A: K1..K4 published by both miners in one block each; K5 by B first, A two blocks later.
    const heights = new Map<number, number>();
    const ks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const n = await nextKeystone();
      ks.push(n);
      await waitPops(n);
      heights.set(n, await mineBtc());
      if (i === 0) {
        k1 = n;
        h1 = heights.get(n);
        await waitProven(n);
        await checkK1();
      }
    }
    const k5 = await nextKeystone();
    ks.push(k5);
    const p5 = await waitPops(k5);
    const h5 = await mineBtc([p5.find((p) => p.publisher === idB)?.txid as string]);
    await mineBtc([]);
    const h5a = await mineBtc();
    expect(h5a).to.equal(h5 + 2);
    for (const n of ks) await waitProven(n);
    const pub5 = await pubs(k5);
    expect(pub5.find((p) => p.miner === evmB)?.btcHeight).to.equal(h5);
    expect(pub5.find((p) => p.miner === evmA)?.btcHeight).to.equal(h5 + 2);

    // --- B: K6's transactions are kept out of blocks; K7's are mined first: K7 lifts K6's finality. K6's
    // transactions get stuck, both miners replace them (BIP125); only the replacements confirm and count.
    const k6 = await nextKeystone();
    const orig6 = (await waitPops(k6)).map((p) => p.txid);
    const k7 = await nextKeystone();
    const p7 = await waitPops(k7);
    const before6 = (await verifier.finalityDetails(k6 - 3)) as { published: boolean; effectiveConfirmations: bigint };
    expect(before6.published).to.equal(false);
    expect(before6.effectiveConfirmations).to.equal(0n);
    const h7 = await mineBtc(p7.map((p) => p.txid));
    await waitProven(k7);
    let f6 = (await verifier.finalityDetails(k6 - 3)) as {
      published: boolean;
      fromKeystone: bigint;
      effectiveConfirmations: bigint;
      pubBtcHeight: bigint;
    };
    expect(f6.published, "K7's publication lifts K6's blocks").to.equal(true);
    expect(Number(f6.fromKeystone)).to.equal(k7);
    expect(Number(f6.pubBtcHeight)).to.equal(h7);
    for (let i = 0; i < BUMP_AFTER_BLOCKS - 1; i++) await mineBtc([]);
    const repl6 = (await waitPops(k6, orig6)).map((p) => p.txid);
    expect(repl6.filter((t) => orig6.includes(t))).to.deep.equal([]);
    expect(
      (await mempoolPops()).filter((p) => orig6.includes(p.txid)),
      "replaced ones left the mempool",
    ).to.deep.equal([]);
    const h6 = await mineBtc();
    await waitProven(k6);
    const pub6 = await pubs(k6);
    expect(pub6.map((p) => p.txid).sort()).to.deep.equal(repl6.map((t) => displayToInternal(t)).sort());
    for (const t of orig6) {
      const gone = await btc.getRawTransaction(t, true).then(
        () => false,
        () => true,
      );
      expect(gone, `replaced transaction ${t} is nowhere`).to.equal(true);
    }
    f6 = await verifier.finalityDetails(k6 - 3);
    expect(Number(f6.fromKeystone), "K7's earlier publication still gives K6 its finality").to.equal(k7);
    expect(h6).to.be.greaterThan(h7);

    // --- C: fee cap. A block of 16 transactions paying 300 sat/vB lifts the node's estimate above the 100 sat/vB
    // cap: K8 waits (one log line per miner, no publication); once the block leaves the estimate's 6-block window,
    // the miners publish at the fallback rate.
    const own = keyOutput(funder, "p2wpkh").script;
    const highFee: string[] = [];
    for (const c of highFeeCoins) {
      const t = buildSignedTx({
        inputs: [{ ...c, script: own, key: funder }],
        outputs: [{ script: own, value: c.value - 33_000n }],
      });
      highFee.push(await btc.sendRawTransaction(t.toHex()));
    }
    await mineBtc(highFee);
    const est = await btc.estimateSmartFee(6);
    expect((est.feerate ?? 0) * 1e5, "estimate in sat/vB").to.be.greaterThan(MAX_FEE_RATE);
    const k8 = await nextKeystone();
    const capped = (l: Record<string, unknown>): boolean =>
      l.msg === "fee rate above POP_MAX_FEE_RATE: not publishing this keystone now; will retry" && l.keystone === k8;
    await Promise.all([r1.waitForLog(capped, 60_000), r2.waitForLog(capped, 60_000)]);
    await new Promise((r) => setTimeout(r, 1_500)); // several retries at POP_FEE_RETRY_MS
    expect(
      (await mempoolPops()).filter((p) => p.n === k8),
      "nothing published above the cap",
    ).to.deep.equal([]);
    expect(r1.logs.filter(capped).length + r2.logs.filter(capped).length, "one log line per miner").to.equal(2);
    for (let i = 0; i < 6; i++) await mineBtc([]);
    const p8 = await waitPops(k8);
    for (const p of p8) {
      const e = await btc.getMempoolEntry(p.txid);
      expect((e.fees.base * 1e8) / e.vsize).to.be.at.most(MAX_FEE_RATE);
    }
    await mineBtc();
    await waitProven(k8);

    // --- D: SIGKILL of miner A right after its broadcast, and again while it proves.
    const k9 = await nextKeystone();
    await r1.waitForLog((l) => l.msg === "PoP transaction broadcast" && l.keystone === k9, 60_000);
    r1.proc.kill("SIGKILL");
    await r1.exited;
    r1 = relayer(minerA, DEV_KEYS[1], "headers,keystones,pop,anchors");
    await r1.waitForLog((l) => l.msg === "relayer started", 120_000);
    const p9 = await waitPops(k9);
    expect(p9.filter((p) => p.publisher === idA)).to.have.length(1);
    await mineBtc();
    await r1.waitForLog(
      (l) => l.msg === "transaction sent" && String(l.key).startsWith(`pop-${idA.slice(0, 8)}-${k9}-`),
      60_000,
    );
    r1.proc.kill("SIGKILL");
    await r1.exited;
    r1 = relayer(minerA, DEV_KEYS[1], "headers,keystones,pop,anchors");
    await waitProven(k9);

    // --- E: a Bitcoin reorg removes K10's publications: its finality drops until they are mined and proven again.
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    const k10 = await nextKeystone();
    await waitPops(k10);
    const h10 = await mineBtc();
    await waitProven(k10);
    await mineBtc();
    await mineBtc();
    let f10 = (await verifier.finalityDetails(k10)) as {
      published: boolean;
      effectiveConfirmations: bigint;
      pubBtcHeight: bigint;
    };
    expect(f10.published).to.equal(true);
    expect(f10.effectiveConfirmations).to.equal(2n);
    await btc.invalidateBlock(await btc.getBlockHash(h10));
    for (let i = 0; i < 4; i++) await btc.generateBlock(payTo, []);
    await lcSynced();
    await checkK1();
    f10 = await verifier.finalityDetails(k10);
    expect(f10.published, "the reorg removed K10's only publications").to.equal(false);
    expect(f10.effectiveConfirmations).to.equal(0n);
    await waitPops(k10);
    const h10b = await mineBtc();
    await waitProven(k10, h10b);
    f10 = await verifier.finalityDetails(k10);
    expect(Number(f10.pubBtcHeight)).to.equal(h10b);
    const [, tipNow] = (await lc.bestBlock()) as [string, bigint];
    expect(f10.effectiveConfirmations).to.equal(tipNow - BigInt(h10b));
    ks.push(k6, k7, k8, k9, k10);

    // Finality of K1 rose one by one with each block and turned superfinal exactly at 10.
    const effs = k1Seen.map((s) => s.eff);
    for (let i = 1; i < effs.length; i++) expect(effs[i] - effs[i - 1]).to.be.oneOf([0, 1]);
    expect(k1Seen.find((s) => s.eff === 9)?.superfinal).to.equal(false);
    expect(k1Seen.find((s) => s.eff === 10)?.superfinal).to.equal(true);

    // Ten keystones, each proven by both miners; on Bitcoin no miner published a keystone twice.
    expect(ks).to.have.length(10);
    for (const n of ks) expect(new Set((await pubs(n)).map((p) => p.miner))).to.deep.equal(new Set([evmA, evmB]));
    const chain = await new PublicationIndex(btc).scan(1);
    const perMiner = new Map<string, number>();
    for (const p of chain.publications) {
      const key = `${p.abbrev}:${p.publisher}`;
      perMiner.set(key, (perMiner.get(key) ?? 0) + 1);
    }
    expect(
      [...perMiner.values()].every((c) => c === 1),
      "one publication per keystone and miner",
    ).to.equal(true);
    expect(perMiner.size).to.equal(20);

    // --- G: rewards follow the V2 scores (K1: both at delay 0; K5: B at 0, A at 2; K6: only the replacements).
    const payer = new Wallet(DEV_KEYS[0], provider);
    const paid = async (n: number): Promise<Map<string, { amount: bigint; delay: number; txid: string }>> => {
      const rc = await (await (rewards.connect(payer) as Contract).getFunction("payout")(n)).wait();
      const m = new Map<string, { amount: bigint; delay: number; txid: string }>();
      for (const l of rc.logs as EventLog[]) {
        const ev = rewards.interface.parseLog(l);
        if (ev?.name === "PopRewardPaid") {
          m.set(ev.args.miner as string, {
            amount: ev.args.amount as bigint,
            delay: Number(ev.args.delay),
            txid: ev.args.txid as string,
          });
        }
      }
      return m;
    };
    const r1Paid = await paid(ks[0]);
    expect(r1Paid.get(evmA)?.amount).to.equal(POOL / 2n);
    expect(r1Paid.get(evmB)?.amount).to.equal(POOL / 2n);
    const r5Paid = await paid(k5);
    expect(r5Paid.get(evmB)).to.include({ amount: (POOL * 100_000n) / 125_000n, delay: 0 });
    expect(r5Paid.get(evmA)).to.include({ amount: (POOL * 25_000n) / 125_000n, delay: 2 });
    const r6Paid = await paid(k6);
    expect([...r6Paid.values()].map((v) => v.txid).sort()).to.deep.equal(repl6.map((t) => displayToInternal(t)).sort());

    // --- F: verify-anchors passes on the honest chain, the relayer's anchors check agrees.
    const honest = await verifyAnchors();
    expect(honest.code, honest.out).to.equal(0);
    expect(honest.report.ok).to.equal(true);
    const checked = honest.report.keystones as { l2BlockNumber: number; anchored: boolean; inLedger: boolean }[];
    for (const n of ks)
      expect(checked.find((k) => k.l2BlockNumber === n && k.inLedger)?.anchored, `keystone ${n}`).to.equal(true);
    const healthy = await fetch(`http://127.0.0.1:${r2Ops}/healthz`);
    expect(healthy.status).to.equal(200);

    // A keystone recorded with a false state root (directly, with the sequencer key; the keystones role stopped).
    r1.proc.kill("SIGTERM");
    await r1.exited;
    const k11 = k10 + Number(await ledger.interval());
    await mineEvm(Math.max(1, k11 + 1 - (await provider.getBlockNumber())));
    const [, best] = (await lc.bestBlock()) as [string, bigint];
    const lie = await keystoneAtBlock(provider, k11, Number(await ledger.interval()), Number(best));
    lie.stateRoot = randomBytes(32);
    await (
      await (ledger.connect(sequencer.connect(provider)) as Contract).getFunction("recordKeystone")(encodeKeystone(lie))
    ).wait();
    const lied = await verifyAnchors();
    expect(lied.code, lied.out).to.equal(1);
    const liedIssues = lied.report.contradictions as { kind: string; l2BlockNumber: number; message: string }[];
    expect(liedIssues.map((i) => `${i.kind}@${i.l2BlockNumber}`)).to.deep.equal([`state-root-mismatch@${k11}`]);
    await waitFor(
      "the relayer's /healthz to report the false state root",
      async () => {
        const res = await fetch(`http://127.0.0.1:${r2Ops}/healthz`);
        const body = (await res.json()) as {
          checks: { anchors: { ok: boolean; detail: { contradictions?: string[] } } };
        };
        return (
          res.status === 503 &&
          (body.checks.anchors.detail.contradictions ?? []).some((m) => m.includes("false state root"))
        );
      },
      15_000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${r2Ops}/metrics`)).text();
    expect(metrics).to.match(/^hemi_fabric_anchors_contradictions 1$/m);

    // The EVM history rewritten after anchoring: back to before K10's block, a different chain mined.
    expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
    const other = new Wallet(DEV_KEYS[0], provider);
    await (await other.sendTransaction({ to: Wallet.createRandom().address, value: 1n })).wait();
    await mineEvm(40);
    const rewritten = await verifyAnchors();
    expect(rewritten.code, rewritten.out).to.equal(1);
    const rwIssues = rewritten.report.contradictions as { kind: string; l2BlockNumber: number; message: string }[];
    expect(
      rwIssues.some((i) => i.kind === "evm-hash-mismatch" && i.l2BlockNumber === k10 && /rewritten/.test(i.message)),
    ).to.equal(true);
    console.log(`      scenario took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
