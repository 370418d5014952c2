import { expect } from "chai";
import path from "node:path";
import { ROOT, linkExampleDependencies, runIn } from "./exampleProject";

const EXAMPLE = path.join(ROOT, "examples", "btc-aware");

describe("examples/btc-aware: a separate Hardhat project using hemi-fabric/hardhat", function () {
  this.timeout(300_000);

  it("installs offline and its own tests pass through the packaged fixture", async () => {
    linkExampleDependencies(EXAMPLE);
    const t0 = Date.now();
    const run = await runIn(EXAMPLE, ["hardhat", "test"], 240_000);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    expect(run.code, run.output).to.equal(0);
    // Its own contract compiled with its own (offline) solc, and every one of its tests ran and passed.
    expect(run.output).to.match(/PaymentRelease \(BTC-aware/);
    expect(run.output).to.match(/\b3 passing\b/);
    expect(run.output).to.not.match(/\bfailing\b|\bpending\b/);
    console.log(`      example project: npx hardhat test in ${secs} s`);
  });

  it("type-checks against hemi-fabric/hardhat's types (tsc, the consumer's own tsconfig)", async () => {
    // Runs after the tests above compiled the example (its typechain types exist).
    const run = await runIn(EXAMPLE, ["tsc", "--noEmit", "-p", "."], 120_000);
    expect(run.code, run.output).to.equal(0);
  });
});
