import { expect } from "chai";
import { ethers } from "hardhat";
import { randomBytes } from "node:crypto";
import * as bitcoin from "bitcoinjs-lib";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, hash256, hex0x, mineRegtestHeader } from "../helpers/bitcoinData";

/** A small real transaction (one input, one OP_RETURN output), non-witness serialization. */
function rawTx(): Buffer {
  const tx = new bitcoin.Transaction();
  tx.version = 2;
  tx.addInput(randomBytes(32), 0);
  tx.addOutput(Buffer.concat([Buffer.from([0x6a, 0x14]), randomBytes(20)]), 1000n);
  return Buffer.from(tx.toBuffer());
}

const pair = (a: Buffer, b: Buffer): Buffer => Buffer.from(hash256(Buffer.concat([a, b])));

/**
 * CVE-2012-2459: in a block with an odd number of transactions the last one is paired with itself, so the same
 * root also "contains" that transaction at the next (non-existent) position. The light client must refuse a proof
 * for such a phantom position (a second deposit from the same transaction, for example).
 */
describe("BitcoinMerkle duplicate-node check (CVE-2012-2459), through verifyTx", function () {
  it("accepts the last of three transactions at its real index 2 and refuses its duplicate at index 3", async function () {
    const txs = [rawTx(), rawTx(), rawTx()];
    const [t0, t1, t2] = txs.map((t) => Buffer.from(hash256(t)));
    const left = pair(t0, t1);
    const root = pair(left, pair(t2, t2));
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    const header = mineRegtestHeader(Buffer.from(hash256(genesis)), root, genesis.readUInt32LE(68) + 600);
    const client = (await (
      await ethers.getContractFactory("BitcoinLightClient")
    ).deploy(hex0x(genesis), 0, genesis.readUInt32LE(68), 2)) as unknown as BitcoinLightClient;
    await (await client.submitHeaders(hex0x(header))).wait();
    const proof = (index: number) => ({
      rawTx: hex0x(txs[2]),
      blockHeight: 1,
      blockHeader: hex0x(header),
      txIndex: index,
      merkleProof: hex0x(Buffer.concat([t2, left])),
    });
    // The same siblings lead to the real root from both positions; only index 2 is a real transaction.
    expect(await client.verifyTx(proof(2), 1)).to.equal(hex0x(t2));
    await expect(client.verifyTx(proof(3), 1))
      .to.be.revertedWithCustomError(client, "MerkleDuplicateNode")
      .withArgs(0);
  });
});
