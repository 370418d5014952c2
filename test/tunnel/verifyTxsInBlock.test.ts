import { expect } from "chai";
import { ethers } from "hardhat";
import type { BitcoinLightClient } from "../../typechain-types";
import { TunnelBitcoinChain, depositTx, randomP2wpkh, txidOf } from "../helpers/tunnelChain";
import { hex0x } from "../helpers/bitcoinData";

/** BitcoinLightClient.verifyTxsInBlock, the batch form the tunnel uses: same checks as verifyTx, block once. */
describe("BitcoinLightClient.verifyTxsInBlock", function () {
  let btc: TunnelBitcoinChain;
  let client: BitcoinLightClient;

  beforeEach(async function () {
    btc = await TunnelBitcoinChain.deploy();
    client = btc.client;
  });

  it("returns the txids of several transactions of one block, as verifyTx does for each", async function () {
    const txs = [0, 1, 2].map(() => depositTx(randomP2wpkh(), 10_000n, ethers.ZeroAddress));
    const block = await btc.mineConfirmed(txs, 3);
    const items = txs.map((t) => btc.inBlock(block, t));
    const txids = await client.verifyTxsInBlock(hex0x(block.header), block.height, 3, items);
    expect(txids).to.deep.equal(txs.map(txidOf));
    for (const t of txs) expect(await client.verifyTx(btc.proof(block, t), 3)).to.equal(txidOf(t));
    expect(await client.verifyTxsInBlock(hex0x(block.header), block.height, 1, [])).to.deep.equal([]);
  });

  it("rejects the block (length, canonical, confirmations) and each bad transaction", async function () {
    const txs = [0, 1].map(() => depositTx(randomP2wpkh(), 10_000n, ethers.ZeroAddress));
    const block = await btc.mineConfirmed(txs, 2);
    const items = txs.map((t) => btc.inBlock(block, t));
    const header = hex0x(block.header);
    await expect(client.verifyTxsInBlock(header, block.height, 3, items))
      .to.be.revertedWithCustomError(client, "InsufficientConfirmations")
      .withArgs(2, 3);
    await expect(client.verifyTxsInBlock(header, block.height - 1, 1, items))
      .to.be.revertedWithCustomError(client, "BlockNotCanonical")
      .withArgs(block.hash, block.height - 1);
    await expect(client.verifyTxsInBlock(header + "00", block.height, 1, items)).to.be.revertedWithCustomError(
      client,
      "InvalidHeaderLength",
    );
    // The second item carries the first's merkle path.
    await expect(
      client.verifyTxsInBlock(header, block.height, 1, [items[0], { ...items[1], merkleProof: items[0].merkleProof }]),
    ).to.be.revertedWithCustomError(client, "MerkleRootMismatch");
    await expect(
      client.verifyTxsInBlock(header, block.height, 1, [items[0], { ...items[1], rawTx: hex0x(Buffer.alloc(64, 1)) }]),
    ).to.be.revertedWithCustomError(client, "RawTxIs64Bytes");
    await expect(
      client.verifyTxsInBlock(header, block.height, 1, [{ ...items[0], rawTx: items[0].rawTx + "00" }]),
    ).to.be.revertedWithCustomError(client, "TxTrailingBytes");
    await expect(
      client.verifyTxsInBlock(header, block.height, 1, [{ ...items[0], txIndex: items[0].txIndex + 8 }]),
    ).to.be.revertedWithCustomError(client, "MerkleIndexOutOfRange");
  });
});
