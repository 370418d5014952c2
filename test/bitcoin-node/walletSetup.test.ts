import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { ensureWallet, walletNameOf, walletUrl } from "../../relayer/src/bitcoin/walletSetup";
import { startTestNode, type TestNode } from "./helpers";

describe("ensureWallet: a wallet as Bitcoin Core needs one (no default wallet, /wallet/<name> with several)", () => {
  let t: TestNode;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hemi-btc-wallets-"));
    t = await startTestNode({ datadir: dir }, 101);
  });
  after(async () => {
    await t.running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses the only loaded wallet; creates, loads or uses the one the URL names; refuses to guess among several", async () => {
    const base = t.running.url;
    const only = await ensureWallet({ url: base });
    expect(only).to.include({ wallet: "", action: "in-use" });
    expect(walletNameOf(only.url)).to.equal("");

    const created = await ensureWallet({ url: walletUrl(base, "ops wallet") });
    expect(created).to.include({ wallet: "ops wallet", action: "created" });
    expect(created.url).to.match(/\/wallet\/ops%20wallet$/);
    const addr = await created.client.getNewAddress();
    const main = new BitcoinRpcClient({ url: walletUrl(base, ""), retries: 0 });
    await main.sendToAddress(addr, 1);
    await main.generateToAddress(1, await main.getNewAddress());
    await t.rpc.call("unloadwallet", ["ops wallet"]);
    const loaded = await ensureWallet({ url: created.url });
    expect(loaded).to.include({ wallet: "ops wallet", action: "loaded" });
    // The same wallet again: it owns the coin paid to its address.
    expect(await loaded.client.getBalance()).to.equal(1);
    expect(await ensureWallet({ url: created.url })).to.include({ action: "in-use" });

    // Two loaded ("" and "ops wallet"), none named and no "hemi-fabric": refuse, naming them.
    const err = await ensureWallet({ url: base }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/several wallets loaded \("", "ops wallet"\)/);
    // With the fallback name loaded too, that one is picked without a path.
    await t.rpc.createWallet("hemi-fabric");
    expect(await ensureWallet({ url: base })).to.include({ wallet: "hemi-fabric", action: "in-use" });
  });

  it("a created wallet is on disk: after a restart it is not loaded (as Core without load_on_startup) until loadwallet", async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), "hemi-btc-wallets-"));
    try {
      const first = await startTestNode({ datadir: d }, 101);
      const w = await ensureWallet({ url: walletUrl(first.running.url, "kept") });
      const addr = await w.client.getNewAddress();
      await new BitcoinRpcClient({ url: walletUrl(first.running.url, ""), retries: 0 }).sendToAddress(addr, 2);
      await first.rpc.generateToAddress(1, first.minerAddress);
      await first.running.close();
      const second = await startTestNode({ datadir: d }, 0);
      try {
        expect(await second.rpc.listWallets()).to.deep.equal([""]);
        const again = await ensureWallet({ url: walletUrl(second.running.url, "kept") });
        expect(again.action).to.equal("loaded");
        expect(await again.client.getBalance()).to.equal(2);
      } finally {
        await second.running.close();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
