import { expect } from "chai";
import { spawn } from "node:child_process";
import path from "node:path";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";

describe("hemi-fabric btc-node (CLI)", () => {
  it("serves JSON-RPC on 127.0.0.1 with the given credentials and exits cleanly on SIGTERM", async () => {
    const bin = path.join(__dirname, "..", "..", "bin", "hemi-fabric.js");
    const child = spawn(
      process.execPath,
      [bin, "btc-node", "--port", "0", "--rpcuser", "alice", "--rpcpassword", "s3cret"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`no URL printed; stdout: ${out}`)), 60_000);
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /http:\/\/\S+/.exec(out);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[0]);
          }
        });
        child.on("exit", (code) => reject(new Error(`btc-node exited early with ${code}`)));
      });
      expect(url).to.match(/^http:\/\/alice:s3cret@127\.0\.0\.1:\d+$/);
      const rpc = new BitcoinRpcClient({ url });
      const [hash] = await rpc.generateToAddress(1, await rpc.getNewAddress());
      expect(await rpc.getBestBlockHash()).to.equal(hash);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("rejects bad options with exit code 2", async () => {
    const bin = path.join(__dirname, "..", "..", "bin", "hemi-fabric.js");
    const child = spawn(process.execPath, [bin, "btc-node", "--port", "99999"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).to.equal(2);
    expect(err).to.include("--port must be 0..65535");
  });
});
