import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startTestNode } from "./helpers";

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
});
