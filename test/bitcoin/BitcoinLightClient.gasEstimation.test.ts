import { expect } from "chai";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, internal } from "../helpers/bitcoinData";
import { HeaderTree, deployRegtestClient } from "../helpers/headerTree";

/** EIP-7825's cap on one transaction's gas, enforced by the local chain's hardfork (Osaka). */
const TX_GAS_CAP = 16_777_216n;
/**
 * A third of the cap: Hardhat's estimator, when a transaction needs more gas than it uses, first probes 3x the gas
 * used; above this that probe exceeds the cap (the failure this file guards against).
 */
const THIRD_OF_CAP = TX_GAS_CAP / 3n;

/**
 * Gas estimation of the light client's large fork and reorganisation transactions on the project's Hardhat
 * network. These transactions need slightly more gas than they use (an SSTORE needs more than 2,300 gas left; a
 * cleared slot's refund is paid back only at the end), so the estimator searches above the gas used.
 */
describe("BitcoinLightClient gas estimation on the local chain (fork batches and continueReorg above 5.6M gas)", function () {
  const genesisHash = internal(REGTEST_GENESIS.hash);
  let tree: HeaderTree;
  let client: BitcoinLightClient;
  let main: string[];
  let fork: string[];

  /** Estimates `submitHeaders(hashes)`, checks the estimate is under the cap, sends it with exactly that limit. */
  async function estimateAndSend(hashes: string[]): Promise<{ estimate: bigint; gasUsed: bigint }> {
    const data = tree.calldata(hashes);
    const estimate = await client.submitHeaders.estimateGas(data);
    expect(estimate <= TX_GAS_CAP, `estimate ${estimate} under the cap`).to.equal(true);
    const receipt = await (await client.submitHeaders(data, { gasLimit: estimate })).wait();
    expect(receipt!.status).to.equal(1);
    expect(receipt!.gasUsed <= estimate).to.equal(true);
    return { estimate, gasUsed: receipt!.gasUsed };
  }

  before(async function () {
    tree = new HeaderTree(Buffer.from(REGTEST_GENESIS.header, "hex"));
    client = await deployRegtestClient();
    main = tree.extend(genesisHash, 900); // heights 1..900
    for (let i = 0; i < main.length; i += 150) {
      await (await client.submitHeaders(tree.calldata(main.slice(i, i + 150)), { gasLimit: TX_GAS_CAP })).wait();
    }
    fork = tree.extend(main[9], 900); // heights 11..910, branching off height 10
  });

  it("estimates a lighter fork batch of 80 headers (about 6.7M gas) and the estimate suffices", async function () {
    const { estimate, gasUsed } = await estimateAndSend(fork.slice(0, 80));
    expect(gasUsed > THIRD_OF_CAP, `gas used ${gasUsed} above a third of the cap`).to.equal(true);
    expect(estimate > gasUsed).to.equal(true); // the transaction needs more than it uses: the search ran
    // The rest of the lighter branch (heights 91..900), in batches of 100 (about 8.2M gas each), by estimate too.
    for (let i = 80; i < 890; i += 100) {
      await estimateAndSend(fork.slice(i, Math.min(i + 100, 890)));
    }
    expect((await client.bestBlock())[0]).to.equal(main[899]);
  });

  it("estimates the heavier batch that starts a deep reorganisation, then a continueReorg step of 600+ blocks", async function () {
    // Heights 901..910 make the stored branch heavier: 10 headers + 256 stored blocks applied inline, the rest pending.
    await estimateAndSend(fork.slice(890));
    const pending = await client.pendingReorg();
    expect(pending.pending).to.equal(true);
    expect(Number(pending.cursorHeight) - 10).to.be.greaterThan(600); // blocks left to write

    const estimate = await client.continueReorg.estimateGas(2_000);
    expect(estimate <= TX_GAS_CAP, `estimate ${estimate} under the cap`).to.equal(true);
    const receipt = await (await client.continueReorg(2_000, { gasLimit: estimate })).wait();
    expect(receipt!.status).to.equal(1);
    expect(receipt!.gasUsed > THIRD_OF_CAP, `gas used ${receipt!.gasUsed} above a third of the cap`).to.equal(true);
    expect(await client.blockHashAt(11)).to.equal(fork[0]);
    expect(await client.bestBlock()).to.deep.equal([fork[899], 910n]);
  });
});
