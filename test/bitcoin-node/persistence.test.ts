import { expect } from "chai";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlockStore } from "../../relayer/src/bitcoin/node/blockStore";
import { mineBlock } from "../../relayer/src/bitcoin/node/miner";
import { buildSignedTx } from "../../relayer/src/bitcoin/txBuilder";
import {
  badSideBlock,
  blockHashOf,
  fundKey,
  rejection,
  startTestNode,
  utxoSnapshot,
  type BadSideBlock,
} from "./helpers";

describe("embedded regtest node: persistence with a datadir", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hemi-btc-data-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("resumes the same chain, UTXO set, invalidated blocks and wallet after a restart", async () => {
    const first = await startTestNode({ datadir: dir }, 110);
    const addr = await first.rpc.getNewAddress();
    const txid = await first.rpc.sendToAddress(addr, 3);
    await first.rpc.generateToAddress(1, first.minerAddress);
    const dropped = await first.rpc.generateToAddress(2, first.minerAddress);
    await first.rpc.invalidateBlock(dropped[0]);
    const [replacement] = await first.rpc.generateToAddress(1, first.minerAddress);
    const best = await first.rpc.getBestBlockHash();
    const height = await first.rpc.getBlockCount();
    const balance = await first.rpc.getBalance();
    const header = await first.rpc.getBlockHeaderHex(best);
    await first.running.close();
    // The wallet file is replaced whole (written aside, then renamed) and stays private.
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    expect(statSync(path.join(dir, "wallet.json")).mode & 0o777).to.equal(0o600);

    const second = await startTestNode({ datadir: dir }, 0);
    try {
      expect(await second.rpc.getBestBlockHash()).to.equal(best);
      expect(await second.rpc.getBlockCount()).to.equal(height);
      expect(best).to.equal(replacement);
      expect(await second.rpc.getBlockHeaderHex(best)).to.equal(header);
      expect((await second.rpc.getBlockHeader(dropped[1])).confirmations).to.equal(-1);
      expect((await second.rpc.getChainTips()).find((x) => x.hash === dropped[1])).to.include({ status: "invalid" });
      expect(await second.rpc.getTxOut(txid, 0)).to.not.equal(null);
      expect(await second.rpc.getBalance()).to.equal(balance);
      expect((await second.rpc.listUnspent(1, 9_999_999, [addr]))[0]).to.include({ txid, amount: 3 });
      const [next] = await second.rpc.generateToAddress(1, second.minerAddress);
      expect((await second.rpc.getBlockHeader(next)).previousblockhash).to.equal(best);
    } finally {
      await second.running.close();
    }
  });

  /**
   * A side branch that would be heavier than the active chain but whose first block has a bad signature:
   * S1 (sibling of the tip, bad script) and S2 on top of it. Returns the node's state to compare after a restart.
   */
  async function heavierBadBranch() {
    const first = await startTestNode({ datadir: dir }, 0);
    const side: BadSideBlock = await badSideBlock(first);
    expect(await first.rpc.submitBlock(side.raw.toString("hex"))).to.equal(null);
    const { raw: s2 } = mineBlock({
      prevHashDisplay: side.hash,
      height: side.height + 1,
      time: side.time + 1,
      payoutScript: side.payoutScript,
      txs: [],
      fees: 0n,
    });
    // S2 makes the side branch heavier; connecting it fails on S1's scripts.
    expect(await first.rpc.submitBlock(s2.toString("hex"))).to.not.equal(null);
    expect(await first.rpc.getBestBlockHash()).to.equal(side.tip);
    const state = {
      side,
      s2: blockHashOf(s2),
      tips: await first.rpc.getChainTips(),
      utxo: utxoSnapshot(first),
      invalid: first.running.node.chain.invalidHashes().sort(),
    };
    await first.running.close();
    return state;
  }

  it("persists blocks found invalid while activating another one; a restart follows the same chain", async () => {
    const before = await heavierBadBranch();
    expect(before.invalid).to.deep.equal([before.side.hash]);
    expect(new BlockStore(dir).readInvalid().sort()).to.deep.equal(before.invalid);
    const second = await startTestNode({ datadir: dir }, 0);
    try {
      expect(await second.rpc.getBestBlockHash()).to.equal(before.side.tip);
      expect(await second.rpc.getChainTips()).to.deep.equal(before.tips);
      expect(utxoSnapshot(second)).to.deep.equal(before.utxo);
      expect(await second.rpc.getTxOut(before.side.bad.getId(), 0, false)).to.equal(null);
    } finally {
      await second.running.close();
    }
  });

  it("verifies the scripts of stored blocks on replay, even without the invalid-block list", async () => {
    const before = await heavierBadBranch();
    rmSync(path.join(dir, "invalid.json"), { force: true }); // as after a crash before the list was written
    const second = await startTestNode({ datadir: dir }, 0);
    try {
      expect(await second.rpc.getBestBlockHash()).to.equal(before.side.tip);
      expect((await second.rpc.getChainTips()).find((x) => x.hash === before.s2)).to.include({ status: "invalid" });
      // What the replay found invalid is written back.
      expect(new BlockStore(dir).readInvalid().sort()).to.deep.equal(before.invalid);
      expect(utxoSnapshot(second)).to.deep.equal(before.utxo);
      expect(await second.rpc.getTxOut(before.side.bad.getId(), 0, false)).to.equal(null);
    } finally {
      await second.running.close();
    }
  });

  it("recovers from a torn last record in the block file: two restarts in a row resume the same chain", async () => {
    const first = await startTestNode({ datadir: dir }, 5);
    const firstBest = await first.rpc.getBestBlockHash();
    await first.running.close();
    const file = path.join(dir, "blocks.dat");
    const complete = statSync(file).size;
    // A crash in the middle of an append: a length prefix announcing 300 bytes, and only 50 of them.
    const partial = Buffer.alloc(4 + 50, 0xab);
    partial.writeUInt32LE(300, 0);
    appendFileSync(file, partial);

    const second = await startTestNode({ datadir: dir }, 0);
    let best: string;
    try {
      expect(await second.rpc.getBestBlockHash()).to.equal(firstBest);
      expect(await second.rpc.getBlockCount()).to.equal(5);
      expect(statSync(file).size).to.equal(complete); // the torn record is cut off
      await second.rpc.generateToAddress(3, second.minerAddress);
      best = await second.rpc.getBestBlockHash();
    } finally {
      await second.running.close();
    }

    const third = await startTestNode({ datadir: dir }, 0);
    try {
      expect(await third.rpc.getBlockCount()).to.equal(8);
      expect(await third.rpc.getBestBlockHash()).to.equal(best);
      expect((await third.rpc.getBlockHeader(best)).height).to.equal(8);
    } finally {
      await third.running.close();
    }
  });

  it("keeps the mempool across a restart (mempool.json, written atomically) and revalidates it on load", async () => {
    const first = await startTestNode({ datadir: dir }, 101);
    const utxo = await fundKey(first, "p2wpkh", 1);
    const kept = buildSignedTx({
      inputs: [utxo],
      outputs: [{ address: first.minerAddress, value: utxo.value - 1_000n }],
    });
    await first.rpc.sendRawTransaction(kept.toHex());
    const walletTx = await first.rpc.sendToAddress(await first.rpc.getNewAddress(), 0.5);
    const entryTime = (await first.rpc.getMempoolEntry(kept.getId())).time;
    expect(await first.rpc.call("savemempool")).to.deep.equal({ filename: path.join(dir, "mempool.json") });
    await first.running.close();
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);

    // A saved transaction that is no longer valid is dropped on load, not trusted: add a double spend of `kept`.
    const saved = JSON.parse(readFileSync(path.join(dir, "mempool.json"), "utf8")) as {
      version: number;
      txs: { hex: string; time: number }[];
    };
    const doubleSpend = buildSignedTx({
      inputs: [utxo],
      outputs: [{ address: first.minerAddress, value: utxo.value - 900n }],
    });
    saved.txs.push({ hex: doubleSpend.toHex(), time: 1 });
    writeFileSync(path.join(dir, "mempool.json"), JSON.stringify(saved));

    const second = await startTestNode({ datadir: dir }, 0);
    try {
      expect((await second.rpc.getRawMempool()).sort()).to.deep.equal([kept.getId(), walletTx].sort());
      expect((await second.rpc.getMempoolEntry(kept.getId())).time).to.equal(entryTime);
      await second.rpc.generateToAddress(1, second.minerAddress);
      expect(await second.rpc.getRawMempool()).to.deep.equal([]);
    } finally {
      await second.running.close();
    }
    // Closed with an empty mempool: a third start has none, and a node without a datadir has nothing to save.
    const third = await startTestNode({ datadir: dir }, 0);
    expect(await third.rpc.getRawMempool()).to.deep.equal([]);
    await third.running.close();
    const noDir = await startTestNode({}, 0);
    expect((await rejection(noDir.rpc.call("savemempool"))).code).to.equal(-1);
    await noDir.running.close();
  });
});
