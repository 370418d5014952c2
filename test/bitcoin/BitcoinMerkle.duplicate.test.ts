import { expect } from "chai";
import { REGTEST_GENESIS, hash256, hex0x, mineRegtestHeader, smallRawTx } from "../helpers/bitcoinData";
import { deployRegtestClient } from "../helpers/headerTree";

const pair = (a: Buffer, b: Buffer): Buffer => Buffer.from(hash256(Buffer.concat([a, b])));

/**
 * CVE-2012-2459: in a block with an odd number of transactions the last one is paired with itself, so the same
 * root also "contains" that transaction at the next (non-existent) position. The light client must refuse a proof
 * for such a phantom position (a second deposit from the same transaction, for example).
 */
describe("BitcoinMerkle duplicate-node check (CVE-2012-2459), through verifyTx", function () {
  it("accepts the last of three transactions at its real index 2 and refuses its duplicate at index 3", async function () {
    const txs = [smallRawTx(), smallRawTx(), smallRawTx()];
    const [t0, t1, t2] = txs.map((t) => Buffer.from(hash256(t)));
    const left = pair(t0, t1);
    const root = pair(left, pair(t2, t2));
    const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
    const header = mineRegtestHeader(Buffer.from(hash256(genesis)), root, genesis.readUInt32LE(68) + 600);
    const client = await deployRegtestClient();
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
