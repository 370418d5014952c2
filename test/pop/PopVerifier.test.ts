import { expect } from "chai";
import { ethers } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { displayToInternal } from "../../relayer/src/bitcoin/byteOrder";
import { script as btcScript, Transaction } from "bitcoinjs-lib";
import * as ecc from "tiny-secp256k1";
import { REGTEST } from "../../relayer/src/bitcoin/node/script";
import {
  buildSignedTx,
  ECPair,
  keyOutput,
  randomKey,
  type KeyPair,
  type UtxoToSpend,
} from "../../relayer/src/bitcoin/txBuilder";
import { blockFinality, type KeystoneFinality, type PublicationRecord } from "../../relayer/src/pop/finality";
import { keystoneIdHex } from "../../relayer/src/pop/keystone";
import { p2pkhScriptOf, popScript } from "../../relayer/src/pop/popTx";
import { fundKey } from "../bitcoin-node/helpers";
import {
  keystoneOf,
  mineBtc,
  PopMiner,
  proofOf,
  recordNext,
  startPopChain,
  syncLightClient,
  type PopChain,
} from "./popChain";

/** The same rule computed off-chain (relayer/src/pop/finality.ts) from the verifier's publications. */
async function offChain(c: PopChain, l2: number): Promise<KeystoneFinality> {
  const last = Number(await c.ledger.lastKeystoneNumber());
  const tip = Number((await c.lc.bestBlock())[1]);
  const pubs = new Map<number, PublicationRecord[]>();
  const canonical = new Map<string, boolean>();
  for (let k = c.dep.firstKeystone; k <= last; k += c.interval) {
    const list = await c.verifier.publications(k);
    pubs.set(
      k,
      list.map((p) => ({ keystoneNumber: k, btcHeight: Number(p.btcHeight), btcBlockHash: p.btcBlockHash })),
    );
    for (const p of list) canonical.set(p.btcBlockHash, (await c.lc.blockHashAt(p.btcHeight)) === p.btcBlockHash);
  }
  return blockFinality(l2, {
    interval: c.interval,
    firstKeystone: c.dep.firstKeystone,
    lastKeystone: last,
    tipHeight: tip,
    publicationsOf: (k) => pubs.get(k) ?? [],
    isCanonical: (p) => canonical.get(p.btcBlockHash) === true,
  });
}

/** On-chain finality of `l2`, checked equal to the off-chain computation. */
async function finality(c: PopChain, l2: number): Promise<{ eff: number; superfinal: boolean; from: number }> {
  const [eff, superfinal] = await c.verifier.finality(l2);
  const d = await c.verifier.finalityDetails(l2);
  const off = await offChain(c, l2);
  expect(Number(d.effectiveConfirmations)).to.equal(Number(eff));
  expect({
    published: off.published,
    eff: off.effectiveConfirmations,
    superfinal: off.superfinal,
    from: off.fromKeystone,
    pub: off.pubBtcHeight,
  }).to.deep.equal({
    published: d.published,
    eff: Number(eff),
    superfinal,
    from: Number(d.fromKeystone),
    pub: Number(d.pubBtcHeight),
  });
  return { eff: Number(eff), superfinal, from: Number(d.fromKeystone) };
}

/**
 * A PoP-shaped transaction spending a P2PKH output of `key` (compressed or not), its signature push ground to
 * `sigLen` bytes when given.
 */
function p2pkhPop(u: UtxoToSpend, key: KeyPair, abbrev: Buffer, sigLen?: number): Transaction {
  const prevScript = p2pkhScriptOf(key.publicKey);
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(Buffer.from(u.txid, "hex").reverse(), u.vout, 0xfffffffd);
  tx.addOutput(prevScript, u.value - 5_000n);
  tx.addOutput(popScript(abbrev), 0n);
  const hash = tx.hashForSignature(0, prevScript, Transaction.SIGHASH_ALL);
  for (let i = 0; i < 20_000; i++) {
    const entropy = Buffer.alloc(32);
    entropy.writeUInt32BE(i, 28);
    const sig = Buffer.from(
      btcScript.signature.encode(ecc.sign(hash, key.privateKey!, entropy), Transaction.SIGHASH_ALL),
    );
    if (sigLen !== undefined && sig.length !== sigLen) continue;
    tx.setInputScript(0, btcScript.compile([sig, key.publicKey]));
    return tx;
  }
  throw new Error(`no ${sigLen}-byte signature found`);
}

/** A miner whose compressed key starts with `prefix` (02: even y, 03: odd y). */
async function minerWithPrefix(c: PopChain, prefix: number): Promise<PopMiner> {
  for (;;) {
    const m = await PopMiner.funded(c, 1);
    if (m.key.publicKey[0] === prefix) return m;
  }
}

describe("PoP: PopVerifier (submitPop, BFG finality)", () => {
  let c: PopChain;
  let a: PopMiner;
  let b: PopMiner;
  const ks: { n: number; abbrev: Buffer }[] = [];
  before(async () => {
    c = await startPopChain({ interval: 25 });
    a = await minerWithPrefix(c, 0x02);
    b = await minerWithPrefix(c, 0x03);
    for (let i = 0; i < 4; i++) ks.push(await recordNext(c));
  });
  after(async () => {
    await c.t.running.close();
  });

  it("records a publication with the miner's EVM address, decompressed on chain from both key parities", async () => {
    const popA = await a.publish(ks[0].abbrev);
    const popB = await b.publish(ks[2].abbrev);
    const [blockHash] = await mineBtc(c, 1);
    const height = await c.t.rpc.getBlockCount();
    await expect(c.verifier.submitPop(await proofOf(c, popA.txid)))
      .to.emit(c.verifier, "PopSubmitted")
      .withArgs(
        keystoneIdHex(ks[0].abbrev),
        ks[0].n,
        a.evmAddress,
        displayToInternal(popA.txid),
        displayToInternal(blockHash),
        height,
        0,
      );
    await expect(c.verifier.submitPop(await proofOf(c, popB.txid)))
      .to.emit(c.verifier, "PopSubmitted")
      .withArgs(
        keystoneIdHex(ks[2].abbrev),
        ks[2].n,
        b.evmAddress,
        displayToInternal(popB.txid),
        displayToInternal(blockHash),
        height,
        0,
      );
    const [p] = await c.verifier.publications(ks[0].n);
    expect(p.miner).to.equal(a.evmAddress);
    expect(p.btcHeight).to.equal(height);
    expect(p.txid).to.equal(displayToInternal(popA.txid));
    expect(await c.verifier.isRecorded(p.txid, p.btcBlockHash)).to.equal(true);
    expect(await c.verifier.publicationCount(ks[0].n)).to.equal(1);
  });

  it("refuses a replayed proof (same transaction, same block)", async () => {
    const [p] = await c.verifier.publications(ks[0].n);
    const txid = Buffer.from(p.txid.slice(2), "hex").reverse().toString("hex");
    await expect(c.verifier.submitPop(await proofOf(c, txid)))
      .to.be.revertedWithCustomError(c.verifier, "PublicationAlreadyRecorded")
      .withArgs(p.txid, p.btcBlockHash);
    expect(await c.verifier.publicationCount(ks[0].n)).to.equal(1);
  });

  it("rises block by block and turns superfinal exactly at tip - publication >= 10 (BFG, no +1)", async () => {
    const pubHeight = Number((await c.verifier.publications(ks[0].n))[0].btcHeight);
    const inside = ks[0].n - 3; // a block covered by the first keystone
    for (let i = 0; ; i++) {
      const tip = Number((await c.lc.bestBlock())[1]);
      expect(tip - pubHeight).to.equal(i);
      for (const l2 of [inside, ks[0].n]) {
        const f = await finality(c, l2);
        expect(f.eff).to.equal(i);
        expect(f.superfinal).to.equal(i >= 10);
      }
      if (i === 11) break;
      await mineBtc(c, 1);
    }
    const byId = await c.verifier.keystoneFinality(keystoneIdHex(ks[0].abbrev));
    expect(byId.effectiveConfirmations).to.equal(11);
    expect(byId.superfinal).to.equal(true);
    expect(byId.fromKeystone).to.equal(ks[0].n);
    await expect(c.verifier.keystoneFinality(ethers.ZeroHash))
      .to.be.revertedWithCustomError(c.verifier, "UnknownKeystone")
      .withArgs(ethers.ZeroHash);
  });

  it("lets a later keystone's publication lift an earlier block's finality, and keeps the best", async () => {
    // ks[1] is not published; ks[2] was, in the first block.
    const pub2 = Number((await c.verifier.publications(ks[2].n))[0].btcHeight);
    const tip = Number((await c.lc.bestBlock())[1]);
    let f = await finality(c, ks[1].n - 1);
    expect(f.from).to.equal(ks[2].n);
    expect(f.eff).to.equal(tip - pub2);
    expect(f.superfinal).to.equal(true);
    // Its own, later publication does not lower it.
    const own = await b.publish(ks[1].abbrev);
    await mineBtc(c, 1);
    await (await c.verifier.submitPop(await proofOf(c, own.txid))).wait();
    f = await finality(c, ks[1].n);
    expect(f.from).to.equal(ks[2].n);
    expect(f.eff).to.equal(tip + 1 - pub2);
    // A keystone with no publication of its own or of a later keystone has none.
    f = await finality(c, ks[3].n);
    expect(f).to.deep.equal({ eff: 0, superfinal: false, from: 0 });
    // A block beyond the last recorded keystone: not recorded.
    const d = await c.verifier.finalityDetails(ks[3].n + 1);
    expect(d.recorded).to.equal(false);
    expect(d.keystoneNumber).to.equal(ks[3].n + 25);
  });

  it("refuses an unrecorded keystone, two HEMI outputs, a non-P2PKH input, two inputs, no HEMI output", async () => {
    const unrecorded = await keystoneOf(c, ks[3].n + 25);
    const popU = await a.publish(unrecorded);
    const k1 = randomKey();
    const u1 = await fundKey(c.t, "p2pkh", 0.1, k1);
    const u2 = await fundKey(c.t, "p2pkh", 0.1, k1);
    const w = await fundKey(c.t, "p2wpkh", 0.1);
    const hemi = (ab: Buffer) => ({ script: popScript(ab), value: 0n });
    const change = (v: bigint) => ({ script: keyOutput(k1, "p2pkh").script, value: v - 5_000n });
    const two = buildSignedTx({ inputs: [u1], outputs: [change(u1.value), hemi(ks[0].abbrev), hemi(ks[1].abbrev)] });
    const segwit = buildSignedTx({ inputs: [w], outputs: [change(w.value), hemi(ks[0].abbrev)] });
    const twoIn = buildSignedTx({
      inputs: [u2, { ...u1, txid: two.getId(), vout: 0, value: u1.value - 5_000n }],
      outputs: [change(u2.value + u1.value - 10_000n), hemi(ks[0].abbrev)],
    });
    for (const tx of [two, segwit, twoIn]) await c.t.rpc.sendRawTransaction(tx.toHex());
    const k2 = randomKey();
    const u3 = await fundKey(c.t, "p2pkh", 0.1, k2); // mines the three above too
    const none = buildSignedTx({
      inputs: [u3],
      outputs: [
        { script: keyOutput(k2, "p2pkh").script, value: u3.value - 5_000n },
        { opReturn: Buffer.concat([Buffer.from("HEMI"), ks[0].abbrev.subarray(0, 70)]) },
      ],
    });
    await c.t.rpc.sendRawTransaction(none.toHex());
    await mineBtc(c, 1);

    await expect(c.verifier.submitPop(await proofOf(c, popU.txid)))
      .to.be.revertedWithCustomError(c.verifier, "KeystoneNotRecorded")
      .withArgs(keystoneIdHex(unrecorded));
    await expect(c.verifier.submitPop(await proofOf(c, two.getId())))
      .to.be.revertedWithCustomError(c.verifier, "MultipleHemiOutputs")
      .withArgs(1, 2);
    await expect(c.verifier.submitPop(await proofOf(c, segwit.getId())))
      .to.be.revertedWithCustomError(c.verifier, "NotP2pkhInput")
      .withArgs("0x");
    await expect(c.verifier.submitPop(await proofOf(c, twoIn.getId())))
      .to.be.revertedWithCustomError(c.verifier, "PopInputCount")
      .withArgs(2);
    await expect(c.verifier.submitPop(await proofOf(c, none.getId()))).to.be.revertedWithCustomError(
      c.verifier,
      "NoHemiOutput",
    );
    // A proof that is not sound is the light client's error.
    const good = await proofOf(c, popU.txid);
    await expect(
      c.verifier.submitPop({ ...good, merkleProof: "0x" + "00".repeat((good.merkleProof.length - 2) / 2) }),
    ).to.be.revertedWithCustomError(c.lc, "MerkleRootMismatch");
  });

  it("refuses P2PKH spends outside popm's shape: a 70-byte signature push, an uncompressed key", async () => {
    const compressed = randomKey();
    const uncompressed = ECPair.makeRandom({ compressed: false, network: REGTEST });
    expect(uncompressed.publicKey.length).to.equal(65);
    const u1 = await fundKey(c.t, "p2pkh", 0.1, compressed);
    const u2 = await fundKey(c.t, "p2pkh", 0.1, uncompressed);
    const short = p2pkhPop(u1, compressed, ks[0].abbrev, 70);
    const long = p2pkhPop(u2, uncompressed, ks[0].abbrev);
    for (const tx of [short, long]) await c.t.rpc.sendRawTransaction(tx.toHex()); // valid Bitcoin spends
    await mineBtc(c, 1);
    await expect(c.verifier.submitPop(await proofOf(c, short.getId())))
      .to.be.revertedWithCustomError(c.verifier, "NotP2pkhInput")
      .withArgs("0x" + Buffer.from(short.ins[0].script).toString("hex"));
    expect(short.ins[0].script[0]).to.equal(70);
    await expect(c.verifier.submitPop(await proofOf(c, long.getId())))
      .to.be.revertedWithCustomError(c.verifier, "NotP2pkhInput")
      .withArgs("0x" + Buffer.from(long.ins[0].script).toString("hex"));
  });

  it("stops counting a publication whose block is reorganised away, and accepts it again at its new place", async () => {
    const k = ks[3];
    const pop = await a.publish(k.abbrev);
    const [orphan] = await mineBtc(c, 1);
    const h = await c.t.rpc.getBlockCount();
    const oldProof = await proofOf(c, pop.txid);
    await (await c.verifier.submitPop(oldProof)).wait();
    await mineBtc(c, 2);
    expect((await finality(c, k.n)).eff).to.equal(2);

    // Reorg: the publication's block is replaced by a heavier branch without it.
    await c.t.rpc.invalidateBlock(orphan);
    for (let i = 0; i < 4; i++) await c.t.rpc.generateBlock(c.t.minerAddress, []);
    await syncLightClient(c);
    expect(await c.lc.blockHashAt(h)).to.not.equal(displayToInternal(orphan));
    let f = await finality(c, k.n);
    expect(f).to.deep.equal({ eff: 0, superfinal: false, from: 0 });
    expect((await c.verifier.finalityDetails(k.n)).published).to.equal(false);
    expect((await c.verifier.firstCanonicalPublication(k.n)).found).to.equal(false);
    await expect(c.verifier.submitPop(oldProof)).to.be.revertedWithCustomError(c.lc, "BlockNotCanonical");

    // The transaction went back to the mempool: mined again, proven at its new place.
    const [again] = await mineBtc(c, 1);
    const newHeight = await c.t.rpc.getBlockCount();
    expect(newHeight).to.equal(h + 4);
    const newProof = await proofOf(c, pop.txid);
    await expect(c.verifier.submitPop(newProof))
      .to.emit(c.verifier, "PopSubmitted")
      .withArgs(
        keystoneIdHex(k.abbrev),
        k.n,
        a.evmAddress,
        displayToInternal(pop.txid),
        displayToInternal(again),
        newHeight,
        1,
      );
    await expect(c.verifier.submitPop(newProof)).to.be.revertedWithCustomError(
      c.verifier,
      "PublicationAlreadyRecorded",
    );
    f = await finality(c, k.n);
    expect(f.eff).to.equal(0);
    expect(f.from).to.equal(k.n);
    expect((await c.verifier.finalityDetails(k.n)).pubBtcHeight).to.equal(newHeight);
    await mineBtc(c, 10);
    expect(await c.verifier.finality(k.n)).to.deep.equal([10n, true]);
  });

  it("keeps at most 75 publications per keystone, reusing the slot of one reorganised away", async () => {
    const k = await recordNext(c);
    const blocks: string[] = [];
    for (const batch of [20, 20, 20, 15]) {
      const txids: string[] = [];
      for (let i = 0; i < batch; i++) txids.push((await a.publish(k.abbrev)).txid);
      blocks.push((await mineBtc(c, 1))[0]);
      for (const t of txids) await (await c.verifier.submitPop(await proofOf(c, t))).wait();
    }
    expect(await c.verifier.publicationCount(k.n)).to.equal(75);
    const extra = await b.publish(k.abbrev);
    await mineBtc(c, 1);
    await expect(c.verifier.submitPop(await proofOf(c, extra.txid)))
      .to.be.revertedWithCustomError(c.verifier, "TooManyPublications")
      .withArgs(k.n, 75);

    // The block of the last 15 is reorganised away (and the extra one with it); the extra one is mined again.
    await c.t.rpc.invalidateBlock(blocks[3]);
    for (let i = 0; i < 3; i++) await c.t.rpc.generateBlock(c.t.minerAddress, []);
    // Its locktime (the old tip) made it non-final right after the reorg, so the node dropped it: broadcast again.
    await c.t.rpc.sendRawTransaction(extra.hex);
    await c.t.rpc.generateBlock(c.t.minerAddress, [extra.txid]);
    await syncLightClient(c);
    await expect(c.verifier.submitPop(await proofOf(c, extra.txid)))
      .to.emit(c.verifier, "PopSubmitted")
      .withArgs(keystoneIdHex(k.abbrev), k.n, b.evmAddress, displayToInternal(extra.txid), anyValue, anyValue, 60);
    expect(await c.verifier.publicationCount(k.n)).to.equal(75);
    expect((await c.verifier.publications(k.n))[60].miner).to.equal(b.evmAddress);
  });
});
