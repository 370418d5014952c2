import { expect } from "chai";
import { ethers } from "hardhat";
import { keystoneIdHex } from "../../relayer/src/pop/keystone";
import { scoreOf, v2Payout } from "../../relayer/src/pop/rewards";
import {
  mineBtc,
  mineEvmTo,
  PopMiner,
  proofOf,
  recordNext,
  startPopChain,
  syncLightClient,
  type PopChain,
} from "./popChain";

const POOL = 5n * 10n ** 18n;

describe("PoP: PopRewards (V2 scoring)", () => {
  let c: PopChain;
  let m: PopMiner[];
  const ks: { n: number; abbrev: Buffer }[] = [];
  before(async () => {
    c = await startPopChain({ interval: 25, payoutDelay: 200, poolPerKeystone: POOL });
    m = [await PopMiner.funded(c), await PopMiner.funded(c), await PopMiner.funded(c)];
    for (let i = 0; i < 3; i++) ks.push(await recordNext(c));
  });
  after(async () => {
    await c.t.running.close();
  });

  async function prove(txid: string): Promise<void> {
    await (await c.verifier.submitPop(await proofOf(c, txid))).wait();
  }

  it("has Hemi's V2 score table: 100000 / max(delay, 1)^2, nothing from 9 blocks on", async () => {
    const table = [100000, 100000, 25000, 11111, 6250, 4000, 2778, 2041, 1563, 0, 0];
    for (let d = 0; d < table.length; d++) {
      expect(await c.rewards.scoreOf(d)).to.equal(table[d]);
      expect(scoreOf(d)).to.equal(table[d]);
    }
    expect(await c.rewards.scoreOf(1000)).to.equal(0);
  });

  it("pays a keystone's canonical publications pro rata by score once it is 200 EVM blocks old, once", async () => {
    const k = ks[0];
    // delay 0: miners 0 and 1; delay 1: miner 2; delay 3: miner 2 again; delay 9: miner 0 again (scores 0).
    const txs = [await m[0].publish(k.abbrev), await m[1].publish(k.abbrev)];
    await mineBtc(c, 1);
    txs.push(await m[2].publish(k.abbrev));
    await mineBtc(c, 2);
    txs.push(await m[2].publish(k.abbrev));
    await mineBtc(c, 6);
    txs.push(await m[0].publish(k.abbrev));
    await mineBtc(c, 1);
    for (const t of txs) await prove(t.txid);
    const pubs = await c.verifier.publications(k.n);
    const first = Number(pubs[0].btcHeight);
    expect(pubs.map((p) => Number(p.btcHeight) - first)).to.deep.equal([0, 0, 1, 3, 9]);

    await mineEvmTo(k.n + 198);
    await expect(c.rewards.payout(k.n))
      .to.be.revertedWithCustomError(c.rewards, "PayoutTooEarly")
      .withArgs(k.n, k.n + 200, k.n + 199);
    await mineEvmTo(k.n + 199);

    const expected = v2Payout(
      pubs.map((p) => ({ miner: p.miner, btcHeight: Number(p.btcHeight) })),
      POOL,
    );
    expect(expected.totalScore).to.equal(100000 + 100000 + 100000 + 11111);
    const before = await Promise.all(m.map((x) => c.token.balanceOf(x.evmAddress)));
    const tx = c.rewards.payout(k.n);
    await expect(tx)
      .to.emit(c.rewards, "KeystoneRewarded")
      .withArgs(k.n, keystoneIdHex(k.abbrev), POOL, expected.totalScore, 5);
    for (let i = 0; i < 4; i++)
      await expect(tx)
        .to.emit(c.rewards, "PopRewardPaid")
        .withArgs(
          k.n,
          pubs[i].miner,
          pubs[i].txid,
          expected.shares[i].delay,
          expected.shares[i].score,
          expected.shares[i].amount,
        );
    const after = await Promise.all(m.map((x) => c.token.balanceOf(x.evmAddress)));
    const paid = after.map((a, i) => a - before[i]);
    // 100000/311111 of the pool to miners 0 and 1; 111111/311111 to miner 2; nothing for the delay-9 publication.
    expect(paid[0]).to.equal((POOL * 100000n) / 311111n);
    expect(paid[1]).to.equal((POOL * 100000n) / 311111n);
    expect(paid[2]).to.equal((POOL * 100000n) / 311111n + (POOL * 11111n) / 311111n);
    expect(await c.token.totalSupply()).to.equal(paid[0] + paid[1] + paid[2]);
    expect(await c.rewards.isPaid(k.n)).to.equal(true);

    await expect(c.rewards.payout(k.n)).to.be.revertedWithCustomError(c.rewards, "AlreadyPaid").withArgs(k.n);
  });

  it("counts only canonical publications: one reorganised away is not paid", async () => {
    const k = ks[1];
    const orphaned = await m[0].publish(k.abbrev);
    const [orphanBlock] = await mineBtc(c, 1);
    await prove(orphaned.txid);
    await c.t.rpc.invalidateBlock(orphanBlock);
    for (let i = 0; i < 3; i++) await c.t.rpc.generateBlock(c.t.minerAddress, []);
    await syncLightClient(c);
    const canonical = await m[1].publish(k.abbrev);
    await c.t.rpc.generateBlock(c.t.minerAddress, [canonical.txid]);
    await syncLightClient(c);
    await prove(canonical.txid);
    expect(await c.verifier.publicationCount(k.n)).to.equal(2);

    await mineEvmTo(k.n + 199);
    const before0 = await c.token.balanceOf(m[0].evmAddress);
    const before1 = await c.token.balanceOf(m[1].evmAddress);
    await expect(c.rewards.payout(k.n))
      .to.emit(c.rewards, "KeystoneRewarded")
      .withArgs(k.n, keystoneIdHex(k.abbrev), POOL, 100000, 1);
    expect((await c.token.balanceOf(m[0].evmAddress)) - before0).to.equal(0n);
    expect((await c.token.balanceOf(m[1].evmAddress)) - before1).to.equal(POOL);
  });

  it("refuses an unrecorded keystone and one with no canonical publication (payable later)", async () => {
    const k = ks[2];
    await mineEvmTo(k.n + 225);
    await expect(c.rewards.payout(k.n + 25))
      .to.be.revertedWithCustomError(c.rewards, "KeystoneNotRecorded")
      .withArgs(k.n + 25);
    await expect(c.rewards.payout(k.n))
      .to.be.revertedWithCustomError(c.rewards, "NoCanonicalPublications")
      .withArgs(k.n);
    expect(await c.rewards.isPaid(k.n)).to.equal(false);
  });

  it("lets only the admin set the pool, and only PopRewards mint the token", async () => {
    const [admin, other] = await ethers.getSigners();
    await expect(c.rewards.connect(other).setPoolPerKeystone(1n))
      .to.be.revertedWithCustomError(c.rewards, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, ethers.ZeroHash);
    await expect(c.rewards.connect(admin).setPoolPerKeystone(7n)).to.emit(c.rewards, "PoolPerKeystoneSet").withArgs(7n);
    expect(await c.rewards.poolPerKeystone()).to.equal(7n);
    await expect(c.token.connect(admin).mint(admin.address, 1n))
      .to.be.revertedWithCustomError(c.token, "NotMinter")
      .withArgs(admin.address);
    expect(await c.token.minter()).to.equal(await c.rewards.getAddress());
  });
});
