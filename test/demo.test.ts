import { expect } from "chai";
import { spawn } from "node:child_process";
import path from "node:path";
import { freePort } from "../relayer/src/core/ports";
import { groupAlive, killGroup } from "./helpers/processGroup";

const ROOT = path.resolve(__dirname, "..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether any process of the demo's process group was still running after `npm` exited (then killed). */
  leftover: boolean;
}

const running = new Set<number>();

/**
 * Runs `npm run demo` as a child process in its own process group; after `timeoutMs` the whole group is killed
 * (killing npm alone would leave `hardhat run` and the demo, with its Hardhat and Bitcoin nodes, running).
 */
function runDemo(env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const proc = spawn("npm", ["run", "demo"], { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error("npm run demo did not start");
  running.add(pgid);
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => killGroup(pgid), timeoutMs);
  return new Promise((resolve) =>
    proc.once("exit", (code) => {
      clearTimeout(timer);
      // npm exits after its children; anything of the group still alive was left behind by the demo.
      const leftover = groupAlive(pgid);
      killGroup(pgid);
      running.delete(pgid);
      resolve({ code, stdout, stderr, leftover });
    }),
  );
}

describe("npm run demo (end to end, child process)", function () {
  this.timeout(240_000);

  after(() => {
    for (const pgid of running) killGroup(pgid);
  });

  it("tells the treasury story: 100 BTC locked, minted in Bitcoin order, anchored by PoP, superfinal, provenance ✔, withdrawn; exit 0", async () => {
    const r = await runDemo({}, 200_000);
    const out = r.stdout;
    expect(r.code, `${out}\n${r.stderr}`).to.equal(0);
    const user = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const treasury = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    const txid = "[0-9a-f]{64}";
    expect(out).to.match(/\[1\] embedded Bitcoin regtest node/);
    // The treasury: its own Bitcoin key, funded by three block rewards (50 BTC each on a fresh regtest chain).
    const btcAddr = new RegExp(
      `\\[4\\] treasury: Bitcoin key with P2WPKH address (bcrt1q[0-9a-z]+), EVM account ${treasury}`,
    ).exec(out)?.[1];
    expect(btcAddr, out).to.not.equal(undefined);
    expect(out).to.match(/holds 150\.00000000 BTC: the rewards of 3 blocks mined to it, matured by 100 more/);
    expect(out).to.match(/PoP miner: 0\.2 BTC from the faucet to \w+ \(P2PKH\), split into 20 coins/);
    expect(out).to.match(/\[5\] deployed \(anchored at Bitcoin block 206\)/);
    expect(out).to.match(/BitcoinTunnel +0x[0-9a-fA-F]{40}/);
    expect(out).to.match(/KeystoneLedger +0x[0-9a-fA-F]{40} \(a keystone every 10 EVM blocks\)/);
    expect(out).to.match(/PopVerifier +0x[0-9a-fA-F]{40}/);
    expect(out).to.match(/\[6\] relayer running in this process: roles headers, deposits, withdrawals, keystones, pop/);
    expect(out).to.match(
      /vault 1 collateral: 15300\.0 tCOL, worth 153\.00000000 BTC \(backs 102\.00000000 BTC of deposits/,
    );

    // The 100 BTC lock, followed to the mint; the user's 1 BTC beside it.
    expect(out).to.match(
      new RegExp(`treasury: deposit (${txid}):0 100\\.00000000 BTC: mined in block \\d+, [1-6]/6 confirmations`),
    );
    const tMint = new RegExp(
      `treasury: deposit (${txid}):0 100\\.00000000 BTC: minted 99\\.90000000 hemiBTC to ${treasury}, sequence ([12]), EVM tx`,
    ).exec(out);
    expect(tMint, out).to.not.equal(null);
    expect(out).to.match(
      new RegExp(`user: deposit ${txid}:0 1\\.00000000 BTC: minted 0\\.99900000 hemiBTC to ${user}, sequence [12]`),
    );
    expect(out).to.include("treasury hemiBTC balance: 99.90000000");

    // Bitcoin order: sequence 1 and 2 follow the deposits' positions on Bitcoin, both in order.
    const order = [
      ...out.matchAll(
        /sequence (\d): (treasury|user) +([\d.]+) BTC, Bitcoin block (\d+) tx (\d+) output (\d+), inBitcoinOrder (true|false)/g,
      ),
    ].map((m) => ({
      seq: Number(m[1]),
      who: m[2],
      btc: m[3],
      pos: [Number(m[4]), Number(m[5]), Number(m[6])],
      inOrder: m[7],
    }));
    expect(order.map((o) => o.seq)).to.deep.equal([1, 2]);
    expect(order.map((o) => o.who).sort()).to.deep.equal(["treasury", "user"]);
    expect(order.find((o) => o.who === "treasury")?.btc).to.equal("100.00000000");
    expect(order.find((o) => o.who === "treasury")?.seq).to.equal(Number(tMint?.[2]));
    expect(order.map((o) => o.inOrder)).to.deep.equal(["true", "true"]);
    const [a, b] = order.map((o) => o.pos);
    expect(
      a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2]))),
      `${a} before ${b}`,
    ).to.equal(true);

    // PoP: the keystone covering the minting block recorded, published on Bitcoin, proven; 10 blocks; superfinal.
    const mintBlock = Number(/the treasury's mint: EVM tx 0x[0-9a-f]{64} in EVM block (\d+)/.exec(out)?.[1]);
    const keystone = Math.ceil(mintBlock / 10) * 10;
    expect(out).to.include(
      `EVM block ${mintBlock} is covered by keystone ${keystone} (a keystone every 10 EVM blocks)`,
    );
    expect(out).to.match(new RegExp(`keystone ${keystone} recorded in KeystoneLedger at EVM block \\d+`));
    const pub = new RegExp(
      `keystone (\\d+) published on Bitcoin in PoP tx (${txid}), block (\\d+) \\(${txid}\\); proven to PopVerifier at EVM block \\d+`,
    ).exec(out);
    expect(pub, out).to.not.equal(null);
    expect(out).to.match(/effective confirmations [0-9]\/10 \(light client tip \d+/); // the first value seen
    expect(out).to.match(/effective confirmations 10\/10 \(light client tip \d+/);
    expect(out).to.include(`EVM block ${mintBlock} is superfinal`);

    // The provenance report of the treasury's deposit: every link ✔, superfinal, the same publication.
    const report = out.slice(out.indexOf("Provenance of deposit"), out.indexOf("provenance: OK"));
    expect(out).to.match(
      new RegExp(`Provenance of deposit ${tMint?.[1]}:0 \\(sequence ${tMint?.[2]}, minted in EVM tx`),
    );
    for (const l of ["✔ Bitcoin lock", "✔ Tunnel order", "✔ EVM block and keystone", "✔ PoP anchoring"])
      expect(report).to.include(l);
    expect(report).to.not.match(/✘|pending/);
    expect(report).to.match(/spvVerified +true/);
    expect(report).to.match(/inBitcoinOrder +true/);
    expect(report).to.match(new RegExp(`popTxid +${pub?.[2]}`));
    expect(report).to.match(/superfinal +true/);
    expect(out).to.include("provenance: OK, superfinal");

    // The withdrawal: 40 hemiBTC burned, 39.99999 BTC paid to the treasury's Bitcoin key and proven.
    expect(out).to.match(
      /withdrawal 1 from vault 1: burned 40\.00000000 hemiBTC, payout 39\.99999000 BTC \(fee 1000 sat\)/,
    );
    expect(out).to.match(new RegExp(`finalized, paid 39\\.99999000 BTC in ${txid}, EVM tx 0x[0-9a-f]{64}`));
    expect(out).to.include(`${btcAddr} received 39.99999000 BTC on Bitcoin`);
    const fin = /finalized, paid 39\.99999000 BTC in ([0-9a-f]{64}), EVM tx (0x[0-9a-f]{64})/.exec(out);

    // The way back, checked: the finalization's block superfinal, then the withdrawal's report, every link ✔.
    const finBlock = /PoP: the keystone covering the finalization \(EVM block (\d+)\)/.exec(out);
    expect(finBlock, out).to.not.equal(null);
    expect(out).to.include(`EVM block ${finBlock?.[1]} is superfinal`);
    const backAt = out.indexOf("Provenance of withdrawal 1 (");
    expect(backAt, out).to.be.greaterThan(0);
    const back = out.slice(backAt);
    const backEnd = back.indexOf("provenance: OK, superfinal");
    expect(backEnd, back).to.be.greaterThan(0);
    const backReport = back.slice(0, backEnd);
    for (const l of ["✔ Burn on the EVM chain", "✔ Payout on Bitcoin", "✔ Finalization", "✔ EVM block and keystone"])
      expect(backReport).to.include(l);
    expect(backReport).to.include("✔ PoP anchoring");
    expect(backReport).to.not.match(/✘|pending/);
    expect(backReport).to.match(new RegExp(`payoutTxid +${fin?.[1]}`));
    expect(backReport).to.match(new RegExp(`finalizeTx +${fin?.[2]}`));
    expect(backReport).to.match(/spvVerified +true/);
    expect(backReport).to.match(/superfinal +true/);
    expect(out).to.match(/hemiBTC supply 60\.89900000; deposits minted 2; withdrawals 1/);
    expect(out).to.include("treasury: 59.90000000 hemiBTC left, 39.99999000 BTC back on Bitcoin");
    const took = /demo complete in ([\d.]+) s/.exec(out);
    expect(took, out).to.not.equal(null);
    console.log(`      (the demo took ${took?.[1]} s after start-up)`);
    expect(r.leftover, "processes of the demo still running after npm exited").to.equal(false);
  });

  it("fails with a clear message and exit code 1 when Redis cannot be reached", async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const r = await runDemo({ REDIS_URL: dead }, 120_000);
    expect(r.code, r.stdout).to.equal(1);
    expect(r.stderr).to.match(/demo failed: Redis at redis:\/\/127\.0\.0\.1:\d+\/? does not answer \(REDIS_URL\)/);
    expect(r.stdout).to.not.match(/demo complete/);
    expect(r.leftover, "processes of the demo still running after npm exited").to.equal(false);
  });
});
