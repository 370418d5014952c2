#!/usr/bin/env node
// Entry point of the `hemi-fabric` command: runs the TypeScript CLI through ts-node (type-checked by `npm run typecheck`).
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");

// The CLI takes the contracts' ABIs and types from `hardhat compile` (artifacts/, typechain-types/). `npm ci` compiles
// them (the `prepare` script); a checkout without them is compiled here, once, before the first command runs.
const root = path.join(__dirname, "..");
if (!fs.existsSync(path.join(root, "typechain-types", "index.ts"))) {
  console.error("hemi-fabric: compiling the contracts first (npx hardhat compile)...");
  const hardhat = require.resolve("hardhat/internal/cli/cli", { paths: [root] });
  const r = spawnSync(process.execPath, [hardhat, "compile", "--force", "--quiet"], {
    cwd: root,
    stdio: ["ignore", 2, 2],
  });
  if (r.status !== 0) {
    console.error("hemi-fabric: `npx hardhat compile` failed; fix the error above and run it again");
    process.exit(1);
  }
}
require("ts-node").register({
  project: path.join(__dirname, "..", "tsconfig.json"),
  transpileOnly: true,
});
require("../relayer/src/cli/main.ts")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(`hemi-fabric: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
