import { expect } from "chai";
import hre from "hardhat";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import { SOLC_VERSION } from "../hardhat.config";

const ROOT = path.join(__dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
};

describe("toolchain", function () {
  it("compiles with the local solc npm package, pinned to the configured version", async function () {
    const build = (await hre.run(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, { quiet: true, solcVersion: SOLC_VERSION })) as {
      compilerPath: string;
      isSolcJs: boolean;
      version: string;
      longVersion: string;
    };
    expect(build.isSolcJs).to.equal(true);
    expect(build.version).to.equal(SOLC_VERSION);
    expect(build.compilerPath).to.equal(path.join(ROOT, "node_modules", "solc", "soljson.js"));
    expect(build.longVersion.startsWith(SOLC_VERSION)).to.equal(true);
    expect(pkg.devDependencies.solc).to.equal(SOLC_VERSION);
  });

  it("fails with a clear message when another compiler version is asked for", async function () {
    let message = "";
    try {
      await hre.run(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, { quiet: true, solcVersion: "0.8.20" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/compiles with solc 0\.8\.28 only, but a compilation job asked for 0\.8\.20/);
  });

  it("the hemi-fabric bin prints help and its version", function () {
    const bin = path.join(ROOT, "bin", "hemi-fabric.js");
    const help = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(help).to.match(/Usage: npx hemi-fabric <command>/);
    expect(help).to.match(/btc-node/);
    const version = execFileSync(process.execPath, [bin, "version"], { encoding: "utf8" }).trim();
    expect(version).to.equal(pkg.version);
  });
});
