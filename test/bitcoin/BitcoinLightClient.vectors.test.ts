import { expect } from "chai";
import { ethers } from "hardhat";
import type { BitcoinLightClient } from "../../typechain-types";
import {
  loadVector,
  type HeaderRangeVector,
  type RetargetCase,
  type SpvVectors,
  type SpvProofVector,
} from "../helpers/vectors";
import { concatHeaders, flipByte, hash256, headerBits, headerTime, hex0x, internal } from "../helpers/bitcoinData";

const MAINNET = 0;

async function deployClient(anchorHex: string, height: number, epochStart: number, network = MAINNET) {
  const factory = await ethers.getContractFactory("BitcoinLightClient");
  const client = (await factory.deploy("0x" + anchorHex, height, epochStart, network)) as unknown as BitcoinLightClient;
  await client.waitForDeployment();
  return client;
}

function proofArgs(p: SpvProofVector) {
  return {
    rawTx: "0x" + p.rawTx,
    blockHeight: p.blockHeight,
    blockHeader: "0x" + p.blockHeader,
    txIndex: p.txIndex,
    merkleProof: "0x" + p.merkleProof,
  };
}

describe("BitcoinLightClient on real mainnet data", function () {
  const range = loadVector<HeaderRangeVector>("mainnet-741793-741990-retarget.json");
  const reorg = loadVector<HeaderRangeVector>("mainnet-437466-437479-reorg-retarget.json");
  const orphan = loadVector<HeaderRangeVector>("mainnet-562621-562639-orphan.json");
  const retargets = loadVector<{ cases: RetargetCase[] }>("mainnet-retargets.json");
  const spv = loadVector<SpvVectors>("mainnet-spv-proofs.json");

  describe("198 headers across the 741888 retarget", function () {
    const anchor = range.headers[0];
    const rest = range.headers.slice(1);
    const epochStart = headerTime(range.epochStart!.header);

    it("the file really crosses a retarget (nBits changes at 741888)", function () {
      const before = range.headers.find((h) => h.height === 741887)!;
      const after = range.headers.find((h) => h.height === 741888)!;
      expect(headerBits(before.header)).to.not.equal(headerBits(after.header));
    });

    it("accepts all of them in one call", async function () {
      const client = await deployClient(anchor.header, anchor.height, epochStart);
      const tx = client.submitHeaders(concatHeaders(rest.map((h) => h.header)));
      await expect(tx).to.emit(client, "HeadersAdded").withArgs(internal(rest[0].hash), rest[0].height, rest.length);
      const last = rest[rest.length - 1];
      await expect(tx).to.emit(client, "NewBestBlock").withArgs(internal(last.hash), last.height);
      const [bestHash, bestHeight] = await client.bestBlock();
      expect(bestHash).to.equal(internal(last.hash));
      expect(bestHeight).to.equal(BigInt(last.height));
      for (const h of range.headers) {
        expect(await client.blockHashAt(h.height)).to.equal(internal(h.hash), `height ${h.height}`);
      }
      expect(await client.blockHashAt(last.height + 1)).to.equal(ethers.ZeroHash);
      expect(await client.blockHashAt(anchor.height - 1)).to.equal(ethers.ZeroHash);
    });

    it("accepts them in many calls of uneven sizes", async function () {
      const client = await deployClient(anchor.header, anchor.height, epochStart);
      const sizes = [1, 2, 7, 30, 50, 3, 94, 10];
      let i = 0;
      for (const size of sizes) {
        const chunk = rest.slice(i, i + size);
        if (chunk.length === 0) break;
        await (await client.submitHeaders(concatHeaders(chunk.map((h) => h.header)))).wait();
        i += chunk.length;
      }
      expect(i).to.equal(rest.length);
      const [bestHash, bestHeight] = await client.bestBlock();
      expect(bestHash).to.equal(internal(rest[rest.length - 1].hash));
      expect(bestHeight).to.equal(BigInt(rest[rest.length - 1].height));
      for (const h of rest) expect(await client.blockHashAt(h.height)).to.equal(internal(h.hash));
      // Confirmations count from the tip.
      expect(await client.confirmations(internal(rest[0].hash), rest[0].height)).to.equal(
        BigInt(rest[rest.length - 1].height - rest[0].height + 1),
      );
    });

    it("rejects a duplicate submission and keeps its state", async function () {
      const client = await deployClient(anchor.header, anchor.height, epochStart);
      await (await client.submitHeaders(concatHeaders(rest.slice(0, 5).map((h) => h.header)))).wait();
      await expect(client.submitHeaders(concatHeaders([rest[2].header])))
        .to.be.revertedWithCustomError(client, "HeaderAlreadyKnown")
        .withArgs(internal(rest[2].hash), rest[2].height);
      const [, height] = await client.bestBlock();
      expect(height).to.equal(BigInt(rest[4].height));
    });
  });

  describe("mutations of real headers", function () {
    const anchor = range.headers[0];
    const next = range.headers[1];
    const epochStart = headerTime(range.epochStart!.header);
    let client: BitcoinLightClient;

    before(async function () {
      client = await deployClient(anchor.header, anchor.height, epochStart);
    });

    const powFields: [string, number][] = [
      ["version", 0],
      ["merkle root", 40],
      ["timestamp", 68],
      ["nonce", 76],
    ];
    for (const [field, offset] of powFields) {
      it(`a changed ${field} breaks the proof of work`, async function () {
        await expect(client.submitHeaders("0x" + flipByte(next.header, offset))).to.be.revertedWithCustomError(
          client,
          "InsufficientProofOfWork",
        );
      });
    }

    it("a changed prev hash has no known parent", async function () {
      await expect(client.submitHeaders("0x" + flipByte(next.header, 10)))
        .to.be.revertedWithCustomError(client, "UnknownParent")
        .withArgs("0x" + flipByte(next.header, 10).slice(8, 72));
    });

    it("a changed nBits is not the required difficulty", async function () {
      await expect(client.submitHeaders("0x" + flipByte(next.header, 72)))
        .to.be.revertedWithCustomError(client, "UnexpectedBits")
        .withArgs(next.height, headerBits(next.header), headerBits(next.header) ^ 0x01);
    });

    it("a truncated header (and any length not a multiple of 80) is rejected", async function () {
      for (const len of [0, 1, 79, 81, 159]) {
        const data = (next.header + range.headers[2].header).slice(0, len * 2);
        await expect(client.submitHeaders("0x" + data))
          .to.be.revertedWithCustomError(client, "InvalidHeadersLength")
          .withArgs(len);
      }
    });

    it("headers out of order are rejected", async function () {
      const [h1, h2, h3] = range.headers.slice(1, 4);
      await expect(client.submitHeaders(concatHeaders([h2.header, h1.header]))).to.be.revertedWithCustomError(
        client,
        "UnknownParent",
      );
      await expect(client.submitHeaders(concatHeaders([h1.header, h3.header])))
        .to.be.revertedWithCustomError(client, "HeaderDoesNotLink")
        .withArgs(1, internal(h1.hash), internal(h2.hash));
    });

    it("a wrong retarget is rejected: the epoch start time decides the next nBits", async function () {
      const last = range.headers.find((h) => h.height === 741887)!;
      const first = range.headers.find((h) => h.height === 741888)!;
      const wrong = await deployClient(last.header, last.height, epochStart + 86400);
      await expect(wrong.submitHeaders("0x" + first.header)).to.be.revertedWithCustomError(wrong, "UnexpectedBits");
      const right = await deployClient(last.header, last.height, epochStart);
      await (await right.submitHeaders("0x" + first.header)).wait();
      expect((await right.bestBlock())[1]).to.equal(BigInt(first.height));
    });

    it("a header keeping the old nBits across the retarget is rejected", async function () {
      const last = range.headers.find((h) => h.height === 741887)!;
      const first = range.headers.find((h) => h.height === 741888)!;
      const c = await deployClient(last.header, last.height, epochStart);
      const b = Buffer.from(first.header, "hex");
      b.writeUInt32LE(headerBits(last.header), 72);
      await expect(c.submitHeaders("0x" + b.toString("hex")))
        .to.be.revertedWithCustomError(c, "UnexpectedBits")
        .withArgs(first.height, headerBits(first.header), headerBits(last.header));
    });

    it("rejects a bad anchor", async function () {
      const factory = await ethers.getContractFactory("BitcoinLightClient");
      await expect(factory.deploy("0x" + anchor.header.slice(0, 158), anchor.height, epochStart, MAINNET))
        .to.be.revertedWithCustomError(factory, "InvalidHeaderLength")
        .withArgs(79);
      await expect(
        factory.deploy("0x" + flipByte(anchor.header, 76), anchor.height, epochStart, MAINNET),
      ).to.be.revertedWithCustomError(factory, "InsufficientProofOfWork");
      await expect(
        factory.deploy("0x" + anchor.header, anchor.height, headerTime(anchor.header) + 1, MAINNET),
      ).to.be.revertedWithCustomError(factory, "InvalidEpochStart");
    });
  });

  describe("every real retarget case", function () {
    for (const c of retargets.cases) {
      it(`${c.epochLast.height} -> ${c.next.height} gives nBits ${c.expectedNextBits}`, async function () {
        const harness = await (await ethers.getContractFactory("BitcoinHeaderHarness")).deploy();
        const bits = await harness.retarget(
          headerBits(c.epochLast.header),
          headerTime(c.epochFirst.header),
          headerTime(c.epochLast.header),
        );
        expect(Number(bits).toString(16).padStart(8, "0")).to.equal(c.expectedNextBits);
        expect(headerBits(c.next.header)).to.equal(parseInt(c.expectedNextBits, 16));
        // And the light client accepts the real next header on that rule, where the file's epochLast is its parent.
        // (In the 68544 case the file's "epochLast" is block 66543, not 68543; the 4x clamp makes the rule give
        // the same nBits either way, so only the arithmetic is checked there.)
        const nextPrev = Buffer.from(c.next.header.slice(8, 72), "hex").reverse().toString("hex");
        if (nextPrev !== c.epochLast.hash) {
          expect(c.next.height - c.epochLast.height).to.not.equal(1);
          return;
        }
        const client = await deployClient(c.epochLast.header, c.epochLast.height, headerTime(c.epochFirst.header));
        await expect(client.submitHeaders("0x" + c.next.header))
          .to.emit(client, "NewBestBlock")
          .withArgs(internal(c.next.hash), c.next.height);
      });
    }
  });

  describe("real orphans", function () {
    for (const [name, v, epochStart] of [
      ["437478 (next to a retarget)", reorg, headerTime(reorg.epochStart!.header)],
      ["562630", orphan, headerTime(retargets.cases.find((c) => c.next.height === 562464)!.next.header)],
    ] as [string, HeaderRangeVector, number][]) {
      describe(name, function () {
        const anchor = v.headers[0];
        const o = v.orphans[0];
        const before = v.headers.filter((h) => h.height > anchor.height && h.height < o.height);
        const after = v.headers.filter((h) => h.height >= o.height);

        it("is stored as a fork and is not canonical", async function () {
          const client = await deployClient(anchor.header, anchor.height, epochStart);
          await (await client.submitHeaders(concatHeaders(v.headers.slice(1).map((h) => h.header)))).wait();
          await expect(client.submitHeaders("0x" + o.header))
            .to.emit(client, "HeadersAdded")
            .withArgs(internal(o.hash), o.height, 1)
            .and.not.to.emit(client, "Reorg");
          expect((await client.forkBlock(internal(o.hash))).height).to.equal(BigInt(o.height));
          expect(await client.isCanonical(internal(o.hash), o.height)).to.equal(false);
          expect(await client.confirmations(internal(o.hash), o.height)).to.equal(0n);
          expect(await client.blockHashAt(o.height)).to.equal(internal(after[0].hash));
          expect((await client.bestBlock())[0]).to.equal(internal(v.headers[v.headers.length - 1].hash));
        });

        it("submitted first, it is replaced by the heavier real branch with a Reorg event", async function () {
          const client = await deployClient(anchor.header, anchor.height, epochStart);
          await (await client.submitHeaders(concatHeaders(before.map((h) => h.header)))).wait();
          await (await client.submitHeaders("0x" + o.header)).wait();
          expect(await client.blockHashAt(o.height)).to.equal(internal(o.hash));
          // The real sibling alone has equal work: stored, but the first-seen block stays canonical.
          await expect(client.submitHeaders("0x" + after[0].header)).not.to.emit(client, "Reorg");
          expect(await client.blockHashAt(o.height)).to.equal(internal(o.hash));
          // Its child makes the real branch heavier.
          const tx = client.submitHeaders("0x" + after[1].header);
          await expect(tx)
            .to.emit(client, "Reorg")
            .withArgs(internal(o.hash), internal(after[1].hash), o.height - 1);
          await expect(tx).to.emit(client, "NewBestBlock").withArgs(internal(after[1].hash), after[1].height);
          expect(await client.blockHashAt(o.height)).to.equal(internal(after[0].hash));
          expect(await client.isCanonical(internal(o.hash), o.height)).to.equal(false);
          // The rest of the real chain extends the new tip.
          if (after.length > 2) {
            await (await client.submitHeaders(concatHeaders(after.slice(2).map((h) => h.header)))).wait();
          }
          for (const h of v.headers) expect(await client.blockHashAt(h.height)).to.equal(internal(h.hash));
        });
      });
    }
  });

  describe("SPV proofs", function () {
    const valid = spv.valid[0];
    let client: BitcoinLightClient;

    before(async function () {
      // Anchored at the proof's own block; its epoch start time only matters for a retarget.
      client = await deployClient(valid.blockHeader, valid.blockHeight, headerTime(valid.blockHeader) - 600);
    });

    it("the real proof verifies and returns its txid", async function () {
      expect(await client.verifyTx(proofArgs(valid), 1)).to.equal(internal(valid.txid));
    });

    it("too few confirmations are rejected", async function () {
      await expect(client.verifyTx(proofArgs(valid), 2))
        .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
        .withArgs(1, 2);
    });

    const expectedErrors: Record<string, string> = {
      "Bad Vin": "TxTruncated",
      "Bad Vout": "TxNoOutputs",
      "Bad TxID": "MerkleRootMismatch",
      "Bad Header -- Merkle Proof": "MerkleRootMismatch",
    };
    for (const bad of spv.bad) {
      it(`rejects the bad proof "${bad.why}"`, async function () {
        const errorName = expectedErrors[bad.why!];
        expect(errorName, `no expectation for ${bad.why}`).to.be.a("string");
        await expect(client.verifyTx(proofArgs(bad), 1)).to.be.revertedWithCustomError(client, errorName);
      });
    }

    it("rejects each badHeaders entry", async function () {
      for (const b of spv.badHeaders) {
        const header = b.header;
        if (b.why === "Bad Hash") {
          // The claimed hash is not this header's hash: that block is unknown to the client.
          expect(internal(b.claimedHash)).to.not.equal(internal(valid.blockHash));
          expect(await client.confirmations(internal(b.claimedHash), valid.blockHeight)).to.equal(0n);
          await expect(
            client.verifyTx({ ...proofArgs(valid), blockHeader: "0x" + flipByte(header, 0) }, 1),
          ).to.be.revertedWithCustomError(client, "BlockNotCanonical");
        } else if (b.why === "Bad MerkleRoot") {
          await expect(client.verifyTx({ ...proofArgs(valid), blockHeader: "0x" + flipByte(header, 36 + 5) }, 1))
            .to.be.revertedWithCustomError(client, "BlockNotCanonical")
            .withArgs(hex0x(hash256(Buffer.from(flipByte(header, 41), "hex"))), valid.blockHeight);
        } else if (b.why === "Bad Prevhash") {
          await expect(client.submitHeaders("0x" + flipByte(header, 4 + 3))).to.be.revertedWithCustomError(
            client,
            "UnknownParent",
          );
        } else {
          throw new Error(`unexpected badHeaders entry ${b.why}`);
        }
      }
    });

    it("rejects a 64-byte transaction, a proof length that does not fit, a wrong index and a wrong height", async function () {
      const p = proofArgs(valid);
      await expect(client.verifyTx({ ...p, rawTx: "0x" + "ab".repeat(64) }, 1)).to.be.revertedWithCustomError(
        client,
        "RawTxIs64Bytes",
      );
      await expect(client.verifyTx({ ...p, merkleProof: p.merkleProof.slice(0, -2) }, 1))
        .to.be.revertedWithCustomError(client, "InvalidMerkleProofLength")
        .withArgs(valid.merkleProof.length / 2 - 1);
      // Dropping the last sibling: a proof one level short for this block.
      await expect(
        client.verifyTx({ ...p, merkleProof: p.merkleProof.slice(0, -64) }, 1),
      ).to.be.revertedWithCustomError(client, "MerkleRootMismatch");
      const depth = valid.merkleProof.length / 64;
      await expect(client.verifyTx({ ...p, txIndex: valid.txIndex + 2 ** depth }, 1))
        .to.be.revertedWithCustomError(client, "MerkleIndexOutOfRange")
        .withArgs(valid.txIndex + 2 ** depth, depth);
      await expect(client.verifyTx({ ...p, txIndex: valid.txIndex ^ 1 }, 1)).to.be.revertedWithCustomError(
        client,
        "MerkleRootMismatch",
      );
      await expect(client.verifyTx({ ...p, blockHeight: valid.blockHeight + 1 }, 1)).to.be.revertedWithCustomError(
        client,
        "BlockNotCanonical",
      );
      await expect(client.verifyTx({ ...p, blockHeader: p.blockHeader.slice(0, -2) }, 1))
        .to.be.revertedWithCustomError(client, "InvalidHeaderLength")
        .withArgs(79);
    });
  });
});
