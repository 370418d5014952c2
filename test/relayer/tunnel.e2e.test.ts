import { expect } from "chai";
import { Queue } from "bullmq";
import { Contract, HDNodeWallet, JsonRpcProvider, Network, Wallet } from "ethers";
import { Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { displayToInternal, internalToDisplay } from "../../relayer/src/bitcoin/byteOrder";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { keyOutput, randomKey, type KeyPair, type SpendType } from "../../relayer/src/bitcoin/txBuilder";
import { readDeployment, type Deployment } from "../../relayer/src/evm/deployment";
import { HEMI_BTC_ABI, TUNNEL_ABI, WithdrawalStatus } from "../../relayer/src/evm/tunnel";
import { addCollateralFromBalance, createOperatorVault, mintTestCollateral } from "../../relayer/src/evm/tunnelVault";
import { custodyScriptOf, parseCustodyKey } from "../../relayer/src/roles/withdrawals/custodyKey";
import { buildPayout } from "../../relayer/src/roles/withdrawals/payoutBuilder";
import { PayoutStore } from "../../relayer/src/roles/withdrawals/payoutStore";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { removeTestKeys } from "./helpers/redisKeys";
import { spawnCli, waitFor, type CliProcess } from "./helpers/relayerProcess";
import { buildDeposit, fanOut, fundFromCoinbase, type Coin, type DepositPlan } from "./helpers/tunnelBitcoin";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const MNEMONIC = "test test test test test test test test test test test junk";
/** Hardhat accounts 2..6: deposit recipients and withdrawal requesters. */
const USERS = [2, 3, 4, 5, 6].map((i) => HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`));

/** Terms of the two vaults: vault 1 from deploy (VAULT_* settings), vault 2 created by the test. */
const TERMS = {
  1: { bps: 10n, flat: 100n, min: 10_000n, conf: 2 },
  2: { bps: 25n, flat: 0n, min: 10_000n, conf: 3 },
} as const;
const BOND_SATS = 5_000_000n;
/** Collateral the operator posts to vault 1 before withdrawals (300 tokens of 18 decimals). */
const COLLATERAL_UNITS = 300n * 10n ** 18n;
/** Signer of the second relayer (Hardhat account 7). */
const SECOND_KEY = HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'/0/7").privateKey;
const USER_DEPOSITS = 200;

interface MintedRow {
  sequence: number;
  txid: string;
  vout: number;
  height: number;
  txIndex: number;
  recipient: string;
  sats: bigint;
  minted: bigint;
}

/** The outcome of a deposit scenario, with chain-specific values (txids, heights) replaced by positions. */
interface ScenarioResult {
  rows: MintedRow[];
  shape: string[];
  tunnel: Contract;
  token: Contract;
  deployment: Deployment;
  prefix: string;
  file: string;
  custodyKey: KeyPair;
  custodyKeyHex: string;
  relayer: CliProcess;
  malformed: { txid: string; vout: number; why: RegExp }[];
  /** EVM transactions that minted the deposits. */
  evmTxs: number;
  /** Deposits minted when each SIGKILL of the scenario's relayer was sent. */
  killedAt: number[];
  /** Deposits the scenario mints in all. */
  total: number;
}

describe("relayer tunnel roles (end to end: Redis, Hardhat node, embedded Bitcoin node, relayer processes)", function () {
  this.timeout(300_000);
  let btcNode: RunningRegtestNode;
  let btc: BitcoinRpcClient;
  let evm: EvmNode;
  let provider: JsonRpcProvider;
  let funder: KeyPair;
  let coinbases: Coin[];
  let miner: string;
  const children: CliProcess[] = [];
  /** Redis prefixes the tests create (their keys are removed at the end). */
  const prefixes: string[] = [];
  let firstRun: Promise<ScenarioResult> | undefined;
  let bondRun: Promise<bigint> | undefined;

  /**
   * The first deposit scenario (a deployment with two vaults and 201 minted deposits, its relayer running), run once
   * by whichever test needs it first: every test also runs alone (`--grep`).
   */
  function firstScenario(): Promise<ScenarioResult> {
    firstRun ??= runScenario(coinbases[0], []);
    return firstRun;
  }

  /** The operator posts COLLATERAL_UNITS of the local TestCollateral to vault 1 of the first scenario (once). */
  function bondOnce(s: ScenarioResult): Promise<bigint> {
    bondRun ??= (async () => {
      const operator = new Wallet(DEV_KEYS[0], provider);
      await mintTestCollateral(operator, s.deployment.contracts.BitcoinTunnel, COLLATERAL_UNITS);
      return addCollateralFromBalance(operator, s.deployment.contracts.BitcoinTunnel, 1, COLLATERAL_UNITS);
    })();
    return bondRun;
  }

  /** Stops the first scenario's relayer if it still runs (a test that starts its own). */
  async function stopFirstRelayer(): Promise<void> {
    if (firstRun === undefined) return;
    const r = (await firstRun).relayer;
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill("SIGTERM");
      expect((await r.exited).code).to.equal(0);
    }
  }

  before(async () => {
    btcNode = await startRegtestNode();
    btc = new BitcoinRpcClient({ url: btcNode.url });
    miner = await btc.getNewAddress();
    funder = randomKey();
    coinbases = await fundFromCoinbase(btc, funder, 3);
    evm = await startEvmNode();
    provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    provider.destroy();
    await evm.close();
    await btcNode.close();
    await removeTestKeys(...prefixes);
  });

  function relayer(
    file: string,
    prefix: string,
    custodyKeyHex: string,
    opts: { key?: string; roles?: string } = {},
  ): CliProcess {
    const cli = spawnCli(["relayer", "--roles", opts.roles ?? "headers,deposits,withdrawals"], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      RELAYER_PRIVATE_KEY: opts.key ?? DEV_KEYS[1],
      VAULT_CUSTODY_KEY: custodyKeyHex,
      DEPLOYMENT_FILE: file,
      METRICS_PORT: "0",
      BITCOIN_POLL_INTERVAL_MS: "200",
      JOB_BACKOFF_MS: "200",
      JOB_LOCK_MS: "4000",
      JOB_STALLED_INTERVAL_MS: "1000",
      LOCK_TTL_MS: "3000",
      WITHDRAWAL_SEARCH_DEPTH: "30",
      LOG_LEVEL: "info",
    });
    children.push(cli);
    return cli;
  }

  /** Deploys light client + tunnel + vault 1 with the CLI (deployer and operator: dev account 0). */
  async function deploy(custodyKeyHex: string): Promise<{ file: string; deployment: Deployment }> {
    const dir = mkdtempSync(path.join(tmpdir(), "hf-tunnel-"));
    const cli = spawnCli(["deploy", "--out-dir", dir], {
      EVM_RPC_URL: evm.url,
      BITCOIN_RPC_URL: btcNode.url,
      RELAYER_PRIVATE_KEY: DEV_KEYS[0],
      DEPLOY_ANCHOR_MARGIN: "0",
      VAULT_CUSTODY_KEY: custodyKeyHex,
      VAULT_CONFIRMATIONS: String(TERMS[1].conf),
      VAULT_MIN_DEPOSIT: String(TERMS[1].min),
      VAULT_DEPOSIT_FEE_BPS: String(TERMS[1].bps),
      VAULT_DEPOSIT_FLAT_FEE: String(TERMS[1].flat),
      VAULT_WITHDRAWAL_FEE_BPS: "20",
      VAULT_WITHDRAWAL_FLAT_FEE: "200",
    });
    const { code } = await cli.exited;
    expect(code, cli.output()).to.equal(0);
    const file = cli.output().trim().split("\n").pop() ?? "";
    return { file, deployment: readDeployment(file) };
  }

  const fee = (vault: 1 | 2, sats: bigint): bigint => TERMS[vault].flat + (sats * TERMS[vault].bps) / 10_000n;

  /**
   * The deposit scenario: a fresh deployment with two vaults, a bond deposit for the operator and 200 user
   * deposits over 8 blocks (one to three per transaction, both vaults, OP_RETURN before or after the custody
   * outputs), plus two malformed deposits; mined a block at a time while the relayer runs. `kills`: minted counts
   * at which the relayer is SIGKILLed and restarted.
   */
  async function runScenario(coin: Coin, kills: number[], second = false): Promise<ScenarioResult> {
    const operator = new Wallet(DEV_KEYS[0], provider);
    const custodyKeyHex = randomBytes(32).toString("hex");
    const custodyKey = parseCustodyKey(custodyKeyHex);
    const { file, deployment } = await deploy(custodyKeyHex);
    expect(deployment.contracts.BitcoinTunnel).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(deployment.vaults?.[0]).to.include({ id: 1, custodyScript: custodyScriptOf(custodyKey) });
    const tunnel = new Contract(deployment.contracts.BitcoinTunnel, TUNNEL_ABI, provider);
    const token = new Contract(deployment.contracts.HemiBTC, HEMI_BTC_ABI, provider);
    const script1 = custodyScriptOf(custodyKey);
    const script2 = keyOutput(randomKey(), "p2wpkh").script.toString("hex");
    const v2 = await createOperatorVault({
      tunnel: deployment.contracts.BitcoinTunnel,
      operator,
      admin: operator,
      custodyScript: script2,
      terms: {
        depositFeeBps: Number(TERMS[2].bps),
        depositFlatFee: TERMS[2].flat,
        withdrawalFeeBps: 0,
        withdrawalFlatFee: 0n,
        minDeposit: TERMS[2].min,
      },
      confirmations: TERMS[2].conf,
    });
    expect(v2.id).to.equal(2);

    // The plan: deterministic, so that two runs can be compared position by position.
    const plans: DepositPlan[] = [{ pays: [{ script: script1, sats: BOND_SATS }], recipient: operator.address }];
    let n = 0;
    for (let i = 0; n < USER_DEPOSITS; i++) {
      const recipient = USERS[i % USERS.length].address;
      const sats = 100_000n + BigInt(i) * 37n;
      const kind = i % 9;
      if (kind === 4 && n + 2 <= USER_DEPOSITS) {
        plans.push({
          pays: [
            { script: script1, sats },
            { script: script2, sats: sats + 1n },
          ],
          recipient,
          opReturnAt: 1,
        });
        n += 2;
      } else if (kind === 7 && n + 3 <= USER_DEPOSITS) {
        const pays = [script2, script1, script2].map((s, j) => ({ script: s, sats: sats + BigInt(j) }));
        plans.push({ pays, recipient, opReturnAt: 0 });
        n += 3;
      } else {
        plans.push({ pays: [{ script: i % 3 === 0 ? script2 : script1, sats }], recipient });
        n += 1;
      }
    }
    const malformedPlans: DepositPlan[] = [
      { pays: [{ script: script1, sats: 50_000n }], recipient: null },
      { pays: [{ script: script1, sats: 5_000n }], recipient: USERS[0].address },
    ];
    const coins = await fanOut(btc, funder, coin, plans.length + malformedPlans.length, 10_000_000n);
    const txs = plans.map((p, i) => buildDeposit(funder, coins[i], p));
    const bad = malformedPlans.map((p, i) => buildDeposit(funder, coins[plans.length + i], p));
    const malformed = [
      { txid: bad[0].getId(), vout: 0, why: /MissingOpReturn/ },
      { txid: bad[1].getId(), vout: 0, why: /DepositBelowMinimum/ },
    ];

    const prefix = `hf-test-${randomBytes(4).toString("hex")}`;
    prefixes.push(prefix);
    let r = relayer(file, prefix, custodyKeyHex);
    await r.waitForLog((l) => l.msg === "relayer started", 60_000);
    // Optionally a second relayer (another signer) on the same Redis for the whole run.
    const other = second
      ? relayer(file, prefix, custodyKeyHex, { key: SECOND_KEY, roles: "headers,deposits" })
      : undefined;
    const minted = async (): Promise<number> => Number(((await tunnel.orderCursor()) as { count: bigint }).count);

    // 8 blocks of deposits (the malformed ones in blocks 2 and 5), a block every 1.5 s, then confirmations.
    const perBlock = Math.ceil(txs.length / 8);
    const killAt = [...kills];
    const killedAt: number[] = [];
    for (let b = 0; b < 8; b++) {
      const chunk = txs.slice(b * perBlock, (b + 1) * perBlock);
      if (b === 2) chunk.splice(3, 0, bad[0]);
      if (b === 5) chunk.push(bad[1]);
      const ids: string[] = [];
      for (const tx of chunk) ids.push(await btc.sendRawTransaction(tx.toHex()));
      await btc.generateBlock(miner, ids);
      if (b % 3 === 2) await btc.generateToAddress(1, miner);
      await new Promise((res) => setTimeout(res, 1_500));
      const now = await minted();
      if (killAt.length > 0 && now >= killAt[0]) {
        killAt.shift();
        killedAt.push(now);
        console.log(`      SIGKILL after Bitcoin block ${b + 1} of 8, ${now} minted`);
        r.proc.kill("SIGKILL");
        await r.exited;
        r = relayer(file, prefix, custodyKeyHex);
      }
    }
    await btc.generateToAddress(3, miner);
    const total = plans.reduce((s, p) => s + p.pays.length, 0);
    expect(total).to.equal(USER_DEPOSITS + 1);
    // Remaining kills: once the count passes each threshold while the relayer catches up.
    while (killAt.length > 0) {
      const target = killAt.shift() as number;
      await waitFor(`${target} deposits minted`, async () => (await minted()) >= target, 120_000);
      const now = await minted();
      killedAt.push(now);
      console.log(`      SIGKILL after all blocks were mined, ${now} minted`);
      r.proc.kill("SIGKILL");
      await r.exited;
      r = relayer(file, prefix, custodyKeyHex);
    }
    await waitFor(`all ${total} deposits minted`, async () => (await minted()) >= total, 150_000).catch(
      (err: unknown) => {
        throw new Error(`${(err as Error).message}; minted so far; relayer log tail:\n${r.output().slice(-6000)}`);
      },
    );

    // Malformed deposits: their jobs failed for good, with the contract's reason.
    const redis = new Redis(REDIS, { maxRetriesPerRequest: null });
    const queue = new Queue("deposits", { connection: redis, prefix });
    try {
      for (const m of malformed) {
        await waitFor(
          `deposit:${m.txid}:${m.vout} failed`,
          async () => (await (await queue.getJob(`deposit:${m.txid}:${m.vout}`))?.getState()) === "failed",
          30_000,
        );
        const job = await queue.getJob(`deposit:${m.txid}:${m.vout}`);
        expect(job?.failedReason).to.match(m.why);
        expect(job?.attemptsMade ?? 0).to.be.at.most(1);
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }

    // Every deposit minted exactly once, sequence 1..total, in Bitcoin order.
    const events = await tunnel.queryFilter(tunnel.filters.DepositConfirmed(), 0, "latest");
    const rows: MintedRow[] = [];
    for (const e of events) {
      const a = (e as unknown as { args: Record<string, unknown> }).args;
      const rec = (await tunnel.depositRecord(a.txid, a.vout)) as { blockHeight: bigint; txIndex: bigint };
      rows.push({
        sequence: Number(a.sequence as bigint),
        txid: internalToDisplay(a.txid as string),
        vout: Number(a.vout as bigint),
        height: Number(rec.blockHeight),
        txIndex: Number(rec.txIndex),
        recipient: a.recipient as string,
        sats: a.sats as bigint,
        minted: a.minted as bigint,
      });
    }
    expect(rows.length).to.equal(total);
    expect(new Set(rows.map((x) => `${x.txid}:${x.vout}`)).size).to.equal(total);
    rows.sort((x, y) => x.sequence - y.sequence);
    expect(rows.map((x) => x.sequence)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
    const bitcoinOrder = [...rows].sort((x, y) => x.height - y.height || x.txIndex - y.txIndex || x.vout - y.vout);
    expect(bitcoinOrder.map((x) => x.sequence)).to.deep.equal(rows.map((x) => x.sequence));
    // The planned deposits are exactly the minted set (and the malformed ones were not minted).
    const planned = new Set<string>();
    txs.forEach((tx) =>
      tx.outs.forEach(
        (o, vout) => o.value >= 10_000n && o.script.length === 22 && planned.add(`${tx.getId()}:${vout}`),
      ),
    );
    for (const x of rows) expect(planned.has(`${x.txid}:${x.vout}`), `${x.txid}:${x.vout}`).to.equal(true);
    for (const m of malformed) {
      const rec = (await tunnel.depositRecord(displayToInternal(m.txid), m.vout)) as { sequence: bigint };
      expect(rec.sequence).to.equal(0n);
    }

    // Balances: amount - fee of each deposit, by the vault it paid.
    const expected = new Map<string, bigint>();
    txs.forEach((tx, i) =>
      plans[i].pays.forEach((p) => {
        const vault = p.script === script1 ? 1 : 2;
        const to = plans[i].recipient as string;
        expected.set(to, (expected.get(to) ?? 0n) + p.sats - fee(vault, p.sats));
      }),
    );
    for (const [who, amount] of expected) expect((await token.balanceOf(who)) as bigint, who).to.equal(amount);
    for (const x of rows) {
      const vault = (await tunnel.depositRecord(displayToInternal(x.txid), x.vout)) as { vaultId: bigint };
      expect(x.minted).to.equal(x.sats - fee(Number(vault.vaultId) as 1 | 2, x.sats));
    }

    const evmTxs = new Set(events.map((e) => e.transactionHash));
    // No transaction was wasted: every one the relayers sent to the tunnel minted deposits.
    const signers = new Set([new Wallet(DEV_KEYS[1]).address, new Wallet(SECOND_KEY).address]);
    const sent: string[] = [];
    for (let n = deployment.blockNumber ?? 0; n <= (await provider.getBlockNumber()); n++) {
      const blk = await provider.getBlock(n, true);
      for (const tx of blk?.prefetchedTransactions ?? []) {
        if (tx.to?.toLowerCase() === tunnel.target.toString().toLowerCase() && signers.has(tx.from)) sent.push(tx.hash);
      }
    }
    expect(sent.sort()).to.deep.equal([...evmTxs].sort());
    if (other !== undefined) {
      other.proc.kill("SIGTERM");
      expect((await other.exited).code).to.equal(0);
    }
    const blocks = new Set(rows.map((x) => x.height));
    expect(blocks.size).to.equal(8);

    const base = rows[0].height;
    const shape = rows.map((x) => `${x.height - base}/${x.txIndex}/${x.vout}/${x.recipient}/${x.sats}/${x.minted}`);
    return {
      rows,
      shape,
      tunnel,
      token,
      deployment,
      prefix,
      file,
      custodyKey,
      custodyKeyHex,
      relayer: r,
      malformed,
      evmTxs: evmTxs.size,
      killedAt,
      total,
    };
  }

  it("mints 200 deposits over several blocks and two vaults exactly once each, in Bitcoin order, and fails malformed ones with their reason", async () => {
    const t0 = Date.now();
    const first = await firstScenario();
    console.log(
      `      ${first.rows.length} deposits minted in ${first.evmTxs} EVM transactions, ${Date.now() - t0} ms (incl. deploy and mining)`,
    );
    // Batching: one confirmDepositsInBlock per Bitcoin block.
    expect(first.evmTxs).to.equal(8);
    const started = first.relayer.logs.find((l) => l.msg === "relayer started");
    const metrics = await (await fetch(`http://127.0.0.1:${started?.opsPort as number}/metrics`)).text();
    expect(metrics).to.match(/^hemi_fabric_deposits_confirmed_total [1-9]/m);
    expect(metrics).to.match(/^hemi_fabric_deposits_pending 0$/m);
  });

  it("pays 20 withdrawals on Bitcoin exactly once each (across a SIGKILL and restart) and finalizes them on the EVM", async () => {
    const first = await firstScenario();
    const { tunnel } = first;
    // The operator posts collateral (the local TestCollateral) so that its vault serves withdrawals.
    expect(await bondOnce(first)).to.equal(COLLATERAL_UNITS);
    if (first.relayer.proc.exitCode !== null || first.relayer.proc.signalCode !== null) {
      first.relayer = relayer(first.file, first.prefix, first.custodyKeyHex);
    }
    const types: SpendType[] = ["p2wpkh", "p2tr", "p2pkh"];
    const requests: { id: bigint; script: string; paid: bigint }[] = [];
    const t0 = Date.now();
    await Promise.all(
      USERS.map(async (u, ui) => {
        const w = u.connect(provider);
        const t = tunnel.connect(w) as Contract;
        for (let k = 0; k < 4; k++) {
          const script = keyOutput(randomKey(), types[(ui + k) % 3]).script.toString("hex");
          const sats = 60_000n + BigInt(ui * 4 + k) * 1_000n;
          const receipt = await (await t["requestWithdrawalFrom(uint32,bytes,uint64)"](1, "0x" + script, sats)).wait();
          const ev = receipt.logs
            .map((l: { topics: string[]; data: string }) => tunnel.interface.parseLog(l))
            .find((e: { name: string } | null) => e?.name === "WithdrawalRequested");
          const id = ev.args.id as bigint;
          requests.push({ id, script, paid: sats - (200n + (sats * 20n) / 10_000n) });
        }
      }),
    );
    expect(requests.length).to.equal(20);
    const finalized = async (): Promise<number> => {
      let count = 0;
      for (const r of requests) {
        const w = (await tunnel.withdrawal(r.id)) as { status: bigint };
        if (Number(w.status) === WithdrawalStatus.Finalized) count++;
      }
      return count;
    };
    // SIGKILL the relayer once it has paid some withdrawals (before any payout confirms), then restart it.
    const startHeight = await btc.getBlockCount();
    const paidLogs = (c: CliProcess) => c.logs.filter((l) => l.msg === "withdrawal paid on Bitcoin").length;
    await waitFor("5 payouts broadcast", async () => paidLogs(first?.relayer as CliProcess) >= 5, 60_000);
    const killed = first.relayer;
    killed.proc.kill("SIGKILL");
    await killed.exited;
    console.log(`      SIGKILL after ${paidLogs(killed)} payouts broadcast`);
    first.relayer = relayer(first.file, first.prefix, first.custodyKeyHex);
    // Mine a block a second until every payout is confirmed and proven.
    await waitFor(
      "20 withdrawals finalized",
      async () => {
        await btc.generateToAddress(1, miner);
        return (await finalized()) === 20;
      },
      150_000,
    );
    console.log(`      20 withdrawals paid and finalized in ${Date.now() - t0} ms`);
    const events = await tunnel.queryFilter(tunnel.filters.WithdrawalFinalized(), 0, "latest");
    expect(events.length).to.equal(20);
    const payouts = new Set<string>();
    for (const e of events) {
      const a = (e as unknown as { args: { id: bigint; payoutTxid: string; paid: bigint } }).args;
      const req = requests.find((r) => r.id === a.id);
      expect(req, `withdrawal ${a.id}`).to.not.equal(undefined);
      expect(a.paid).to.equal(req?.paid);
      const txid = internalToDisplay(a.payoutTxid);
      payouts.add(txid);
      const tx = await btc.getRawTransaction(txid, true);
      expect(tx.confirmations ?? 0).to.be.at.least(TERMS[1].conf);
      const idHex = a.id.toString(16).padStart(16, "0");
      expect(tx.vout.filter((o) => o.scriptPubKey.hex === `6a08${idHex}`).length).to.equal(1);
      const pay = tx.vout.filter((o) => o.scriptPubKey.hex === req?.script);
      expect(pay.length).to.equal(1);
      expect(BigInt(Math.round(pay[0].value * 1e8))).to.equal(req?.paid);
      const others = tx.vout.filter((o) => o.scriptPubKey.hex !== req?.script && !o.scriptPubKey.hex.startsWith("6a"));
      for (const o of others) expect(o.scriptPubKey.hex).to.equal(custodyScriptOf(first.custodyKey));
    }
    expect(payouts.size).to.equal(20);
    // Paid exactly once each: one transaction per withdrawal id on the whole chain since the requests.
    const onChain = new Map<string, Set<string>>();
    for (let h = startHeight; h <= (await btc.getBlockCount()); h++) {
      const block = await btc.getBlock(await btc.getBlockHash(h), 2);
      for (const t of block.tx) {
        for (const o of t.vout) {
          if (!o.scriptPubKey.hex.startsWith("6a08")) continue;
          onChain.set(o.scriptPubKey.hex, (onChain.get(o.scriptPubKey.hex) ?? new Set()).add(t.txid));
        }
      }
    }
    expect(await btc.getRawMempool()).to.deep.equal([]);
    expect(onChain.size).to.equal(20);
    for (const [op, txids] of onChain) expect(txids.size, op).to.equal(1);
    expect(paidLogs(killed) + paidLogs(first.relayer)).to.be.at.most(20);
    const started = first.relayer.logs.find((l) => l.msg === "relayer started");
    const metrics = await (await fetch(`http://127.0.0.1:${started?.opsPort as number}/metrics`)).text();
    expect(metrics).to.match(/^hemi_fabric_withdrawals_finalized_total [1-9]/m);
    // The payouts' change to the custody script is not taken for (failed) deposits.
    expect(metrics).to.not.match(/^hemi_fabric_deposits_failed_total\{reason="MalformedOpReturn"\}/m);
    first.relayer.proc.kill("SIGTERM");
    expect((await first.relayer.exited).code).to.equal(0);
  });

  it("never pays a withdrawal twice: a payout journalled but not broadcast (crash) is broadcast as is; one already on the node (another relayer) is proven, not paid again", async () => {
    const first = await firstScenario();
    await bondOnce(first);
    await stopFirstRelayer();
    const { tunnel, prefix, file, custodyKey, custodyKeyHex } = first;
    const custody = custodyScriptOf(custodyKey);
    const user = USERS[0].connect(provider);
    const ids: bigint[] = [];
    const scripts = [0, 1].map(() => keyOutput(randomKey(), "p2wpkh").script.toString("hex"));
    for (const script of scripts) {
      const receipt = await (
        await (tunnel.connect(user) as Contract)["requestWithdrawalFrom(uint32,bytes,uint64)"](
          1,
          "0x" + script,
          80_000n,
        )
      ).wait();
      const ev = receipt.logs
        .map((l: { topics: string[]; data: string }) => tunnel.interface.parseLog(l))
        .find((e: { name: string } | null) => e?.name === "WithdrawalRequested");
      ids.push(ev.args.id as bigint);
    }
    const paid = 80_000n - (200n + (80_000n * 20n) / 10_000n);
    const scan = await btc.scanTxOutSet([`raw(${custody})`]);
    const utxos = scan.unspents
      .map((u) => ({ txid: u.txid, vout: u.vout, value: BigInt(Math.round(u.amount * 1e8)) }))
      .sort((x, y) => (x.value > y.value ? -1 : 1));
    const build = (i: number) =>
      buildPayout({
        id: ids[i],
        btcScript: scripts[i],
        amount: paid,
        utxos: [utxos[i]],
        key: custodyKey,
        custodyScript: custody,
        feeRate: 2,
      });
    // Withdrawal A: the relayer "crashed" after journalling its payout, before broadcasting it.
    const a = build(0);
    const redis = new Redis(REDIS, { maxRetriesPerRequest: null });
    try {
      await new PayoutStore(redis, prefix).savePayout(
        {
          id: ids[0].toString(),
          txid: a.tx.getId(),
          hex: a.tx.toHex(),
          inputs: [`${utxos[0].txid}:${utxos[0].vout}`],
          origin: "built",
          createdAt: Date.now(),
        },
        custody,
      );
    } finally {
      redis.disconnect();
    }
    // Withdrawal B: already paid by someone else (not in this relayer's Redis), in the mempool.
    const b = build(1);
    await btc.sendRawTransaction(b.tx.toHex());
    const heightBefore = await btc.getBlockCount();

    const r = relayer(file, prefix, custodyKeyHex);
    // No block before the relayer has seen both payouts: B must still be within its search depth when it looks.
    await r.waitForLog((l) => l.msg === "re-broadcast a journalled payout the node did not have", 60_000);
    await r.waitForLog((l) => l.msg === "found an existing payout of this withdrawal on the node; using it", 60_000);
    await waitFor(
      "both withdrawals finalized",
      async () => {
        await btc.generateToAddress(1, miner);
        const st = await Promise.all(
          ids.map(async (id) => Number(((await tunnel.withdrawal(id)) as { status: bigint }).status)),
        );
        return st.every((x) => x === WithdrawalStatus.Finalized);
      },
      60_000,
    );
    const events = await tunnel.queryFilter(tunnel.filters.WithdrawalFinalized(), 0, "latest");
    const payoutOf = (id: bigint) => {
      const e = events.find((x) => (x as unknown as { args: { id: bigint } }).args.id === id);
      return internalToDisplay((e as unknown as { args: { payoutTxid: string } }).args.payoutTxid);
    };
    expect(payoutOf(ids[0])).to.equal(a.tx.getId());
    expect(payoutOf(ids[1])).to.equal(b.tx.getId());
    // No other payout of either id anywhere on the chain since.
    for (let h = heightBefore + 1; h <= (await btc.getBlockCount()); h++) {
      const block = await btc.getBlock(await btc.getBlockHash(h), 2);
      for (const t of block.tx) {
        for (const [i, id] of ids.entries()) {
          if (t.vout.some((o) => o.scriptPubKey.hex === `6a08${id.toString(16).padStart(16, "0")}`)) {
            expect(t.txid).to.equal([a, b][i].tx.getId());
          }
        }
      }
    }
    expect(r.logs.filter((l) => l.msg === "withdrawal paid on Bitcoin").length).to.equal(0);
    expect(r.logs.some((l) => l.msg === "re-broadcast a journalled payout the node did not have")).to.equal(true);
    expect(r.logs.some((l) => l.msg === "found an existing payout of this withdrawal on the node; using it")).to.equal(
      true,
    );
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });

  it("the same deposit scenario with the relayer SIGKILLed twice mid-run and restarted, and a second relayer on the same Redis, ends identical", async () => {
    const first = await firstScenario();
    await stopFirstRelayer();
    const t0 = Date.now();
    const second = await runScenario(coinbases[1], [40, 120], true);
    console.log(
      `      ${second.rows.length} deposits minted in ${second.evmTxs} EVM transactions across 2 SIGKILLs, ${Date.now() - t0} ms`,
    );
    expect(second.shape).to.deep.equal(first.shape);
    // Both kills hit this scenario's relayer mid-run: some deposits minted, not all of them.
    expect(second.killedAt).to.have.length(2);
    for (const at of second.killedAt) expect(at).to.be.within(1, second.total - 1);
    second.relayer.proc.kill("SIGTERM");
    expect((await second.relayer.exited).code).to.equal(0);
  });

  it("follows a Bitcoin reorg: deposits of an orphaned block are found again at their new place and minted once, a double-spent one never", async () => {
    const custodyKeyHex = randomBytes(32).toString("hex");
    const { file, deployment } = await deploy(custodyKeyHex);
    const tunnel = new Contract(deployment.contracts.BitcoinTunnel, TUNNEL_ABI, provider);
    const script1 = custodyScriptOf(parseCustodyKey(custodyKeyHex));
    const coins = await fanOut(btc, funder, coinbases[2], 5, 1_000_000n);
    const deposit = (i: number, sats: bigint) =>
      buildDeposit(funder, coins[i], { pays: [{ script: script1, sats }], recipient: USERS[i].address });
    const [a, b, c, d] = [deposit(0, 20_000n), deposit(1, 30_000n), deposit(2, 40_000n), deposit(3, 50_000n)];
    // d' spends d's coin without paying the vault: on the new branch, d can never confirm.
    const dPrime = buildDeposit(funder, coins[3], { pays: [], recipient: null }, 3_000n);
    const prefix = `hf-test-${randomBytes(4).toString("hex")}`;
    prefixes.push(prefix);
    await stopFirstRelayer();
    const r = relayer(file, prefix, custodyKeyHex);
    await r.waitForLog((l) => l.msg === "relayer started", 60_000);

    for (const tx of [a, b, d]) await btc.sendRawTransaction(tx.toHex());
    const orphan = (await btc.generateBlock(miner, [a.getId(), b.getId(), d.getId()])).hash;
    const orphanHeight = await btc.getBlockCount();
    await r.waitForLog((l) => l.msg === "deposits found" && l.height === orphanHeight, 30_000);
    // Not yet confirmed enough (2 needed): the block leaves the chain; a, b go back to the mempool.
    await btc.invalidateBlock(orphan);
    await btc.sendRawTransaction(c.toHex());
    await btc.generateBlock(miner, []); // an empty block at the old height
    expect(await btc.getRawMempool()).to.include.members([a.getId(), b.getId(), c.getId(), d.getId()]);
    await btc.generateBlock(miner, [c.getId(), b.getId(), a.getId(), dPrime.toHex()]);
    const newHeight = await btc.getBlockCount();
    await r.waitForLog(
      (l) =>
        l.msg ===
        "Bitcoin reorg: rescanning deposits from the fork point (deposits of orphaned blocks wait to be found again)",
      30_000,
    );
    await btc.generateToAddress(2, miner);
    const minted = async (): Promise<number> => Number(((await tunnel.orderCursor()) as { count: bigint }).count);
    await waitFor("3 deposits minted", async () => (await minted()) >= 3, 60_000);
    await new Promise((res) => setTimeout(res, 2_000));
    expect(await minted()).to.equal(3);
    const events = await tunnel.queryFilter(tunnel.filters.DepositConfirmed(), 0, "latest");
    const got = events.map((e) => {
      const x = (e as unknown as { args: { txid: string; sequence: bigint } }).args;
      return { txid: internalToDisplay(x.txid), sequence: Number(x.sequence) };
    });
    // Minted in the order of the new block: c, b, a (txIndex 1, 2, 3 at the new height).
    expect(got.map((x) => x.txid)).to.deep.equal([c.getId(), b.getId(), a.getId()]);
    for (const [i, tx] of [c, b, a].entries()) {
      const rec = (await tunnel.depositRecord(displayToInternal(tx.getId()), 0)) as {
        blockHeight: bigint;
        txIndex: bigint;
      };
      expect([Number(rec.blockHeight), Number(rec.txIndex)]).to.deep.equal([newHeight, i + 1]);
    }
    const dRec = (await tunnel.depositRecord(displayToInternal(d.getId()), 0)) as { sequence: bigint };
    expect(dRec.sequence).to.equal(0n);
    // Nothing is left pending: d was dropped with its orphaned block and never found again.
    const started = r.logs.find((l) => l.msg === "relayer started");
    const metrics = await (await fetch(`http://127.0.0.1:${started?.opsPort as number}/metrics`)).text();
    expect(metrics).to.match(/^hemi_fabric_deposits_pending 0$/m);
    r.proc.kill("SIGTERM");
    expect((await r.exited).code).to.equal(0);
  });
});
