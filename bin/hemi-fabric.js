#!/usr/bin/env node
// Entry point of the `hemi-fabric` command: runs the TypeScript CLI through ts-node (type-checked by `npm run typecheck`).
"use strict";
const path = require("node:path");
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
