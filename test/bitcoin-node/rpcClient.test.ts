import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { BitcoinRpcClient, BitcoinRpcError, BitcoinTransportError } from "../../relayer/src/bitcoin/rpcClient";
import { startTestNode, type TestNode } from "./helpers";

async function freePortThatIsClosed(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * A tiny JSON-RPC server on `port` (0: any free one) that records the method of every request it
 * receives and answers `<method>-<n>` after `delayMs(n)` (n counts requests from 1).
 */
async function recordingServer(
  port: number,
  delayMs: (n: number) => number,
): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const msg = JSON.parse(body) as { id: number; method: string };
      seen.push(msg.method);
      const n = seen.length;
      setTimeout(() => {
        if (!res.destroyed) res.end(JSON.stringify({ result: `${msg.method}-${n}`, error: null, id: msg.id }));
      }, delayMs(n));
    });
  });
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

describe("bitcoind JSON-RPC client against the embedded node (real HTTP)", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode({}, 10);
  });
  after(async () => {
    await t.running.close();
  });

  it("reads the chain with typed wrappers; hashes are display order", async () => {
    expect(await t.rpc.getBlockCount()).to.equal(10);
    const genesis = await t.rpc.getBlockHash(0);
    expect(genesis).to.equal("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    const best = await t.rpc.getBestBlockHash();
    expect(best).to.equal(await t.rpc.getBlockHash(10));
    const h = await t.rpc.getBlockHeader(best);
    expect(h).to.include({ hash: best, height: 10, confirmations: 1, bits: "207fffff", nTx: 1 });
    expect(h.previousblockhash).to.equal(await t.rpc.getBlockHash(9));
    const info = await t.rpc.getBlockchainInfo();
    expect(info).to.include({ chain: "regtest", blocks: 10, bestblockhash: best });
    expect(info.chainwork).to.equal((22).toString(16).padStart(64, "0")); // 11 blocks, work 2 each
  });

  it("batches getblockhash + getblockheader in getRawHeaders and links the headers", async () => {
    const headers = await t.rpc.getRawHeaders(0, 50);
    expect(headers.map((h) => h.height)).to.deep.equal([...Array(11).keys()]);
    for (let i = 1; i < headers.length; i++) {
      const prevInternal = Buffer.from(headers[i].header, "hex").subarray(4, 36);
      expect(Buffer.from(prevInternal).reverse().toString("hex")).to.equal(headers[i - 1].hash);
    }
    const [count, best] = await t.rpc.batch<number | string>([
      { method: "getblockcount" },
      { method: "getbestblockhash" },
    ]);
    expect(count).to.equal(10);
    expect(best).to.equal(headers[10].hash);
  });

  it("turns JSON-RPC error objects into BitcoinRpcError with bitcoind codes, also inside a batch", async () => {
    const err1 = await t.rpc.getBlockHash(9999).catch((e: unknown) => e);
    expect(err1).to.be.instanceOf(BitcoinRpcError);
    expect(err1).to.include({ code: -8, method: "getblockhash", rpcMessage: "Block height out of range" });
    const err2 = await t.rpc.getBlockHeader("00".repeat(32)).catch((e: unknown) => e);
    expect(err2).to.include({ code: -5, rpcMessage: "Block not found" });
    const err3 = await t.rpc.call("nosuchmethod").catch((e: unknown) => e);
    expect(err3).to.include({ code: -32601, rpcMessage: "Method not found" });
    // Bitcoin Core's ParseHashV checks the length first, then the hex digits.
    const err4 = await t.rpc.getBlockHeader("xyz").catch((e: unknown) => e);
    expect(err4).to.include({ code: -8, rpcMessage: "blockhash must be of length 64 (not 3, for 'xyz')" });
    const err4b = await t.rpc.getBlockHeader("zz".repeat(32)).catch((e: unknown) => e);
    expect(err4b).to.include({
      code: -8,
      rpcMessage: `blockhash must be hexadecimal string (not '${"zz".repeat(32)}')`,
    });
    const err5 = await t.rpc
      .batch([{ method: "getblockcount" }, { method: "getblockhash", params: [-1] }])
      .catch((e: unknown) => e);
    expect(err5).to.be.instanceOf(BitcoinRpcError);
    expect(err5).to.include({ code: -8, method: "getblockhash" });
  });

  it("accepts named parameters like bitcoind", async () => {
    const res = await fetch(`http://127.0.0.1:${t.running.port}/`, {
      method: "POST",
      headers: { Authorization: "Basic " + Buffer.from("hemi:hemi").toString("base64") },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "getblockhash", params: { height: 0 } }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { result: string; id: number };
    expect(body.result).to.equal("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206");
    expect(body.id).to.equal(7);
  });

  it("reports a wrong password as an authentication failure, without retrying", async () => {
    const bad = new BitcoinRpcClient({ url: `http://hemi:wrong@127.0.0.1:${t.running.port}`, retries: 3 });
    const err = await bad.getBlockCount().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BitcoinTransportError);
    expect(err).to.include({ status: 401, attempts: 1, method: "getblockcount" });
    expect((err as Error).message).to.match(/authentication failed \(HTTP 401\)/);
    expect((err as Error).message).to.not.include("wrong"); // the password is not leaked into the message
  });

  it("fails with a clear error after bounded retries when the node is down", async () => {
    const port = await freePortThatIsClosed();
    const down = new BitcoinRpcClient({ url: `http://hemi:hemi@127.0.0.1:${port}`, retries: 2, retryDelayMs: 50 });
    const started = Date.now();
    const err = await down.getBlockCount().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BitcoinTransportError);
    expect(err).to.include({ attempts: 3, method: "getblockcount" });
    expect((err as Error).message).to.match(/ECONNREFUSED/);
    expect((err as Error).message).to.match(/after 3 attempts/);
    expect(Date.now() - started).to.be.lessThan(5_000);
  });

  it("times out a request that gets no answer", async () => {
    const srv = createServer(() => undefined); // accepts and never answers
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      const slow = new BitcoinRpcClient({
        url: `http://u:p@127.0.0.1:${port}`,
        timeoutMs: 200,
        retries: 1,
        retryDelayMs: 10,
      });
      const err = await slow.getBlockCount().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BitcoinTransportError);
      expect(err).to.include({ attempts: 2 });
      expect((err as Error).message).to.match(/timed out after 200 ms/);
    } finally {
      srv.close();
    }
  });

  it("authenticates with Bitcoin Core's cookie file in the datadir", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hemi-btc-cookie-"));
    const n = await startTestNode({ datadir: dir }, 0);
    try {
      expect(n.running.cookieFile).to.equal(path.join(dir, ".cookie"));
      const viaCookie = new BitcoinRpcClient({
        url: `http://127.0.0.1:${n.running.port}`,
        cookieFile: n.running.cookieFile,
      });
      expect(await viaCookie.getBlockCount()).to.equal(0);
      const noAuth = new BitcoinRpcClient({ url: `http://127.0.0.1:${n.running.port}`, retries: 0 });
      const err = await noAuth.getBlockCount().catch((e: unknown) => e);
      expect(err).to.include({ status: 401 });
    } finally {
      await n.running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("does not repeat sendtoaddress after a timeout (the node may have run it); a read is retried", async () => {
    const srv = await recordingServer(0, (n) => (n === 1 || n === 2 ? 500 : 0));
    try {
      const c = new BitcoinRpcClient({ url: `http://u:p@127.0.0.1:${srv.port}`, timeoutMs: 200, retryDelayMs: 10 });
      const err = await c.sendToAddress("bcrt1qexample", 1).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BitcoinTransportError);
      expect(err).to.include({ attempts: 1, method: "sendtoaddress" });
      expect((err as Error).message).to.match(/timed out after 200 ms.*not retried/);
      await new Promise((r) => setTimeout(r, 600)); // time for a (wrong) retry to arrive
      expect(srv.seen).to.deep.equal(["sendtoaddress"]);
      // The same timeout on an idempotent call is retried (request 2 is slow too, request 3 answers).
      expect(await c.getBlockCount()).to.equal("getblockcount-3");
      expect(srv.seen).to.deep.equal(["sendtoaddress", "getblockcount", "getblockcount"]);
    } finally {
      await srv.close();
    }
  });

  it("retries sendtoaddress when the connection was refused (nothing reached the node)", async () => {
    const port = await freePortThatIsClosed();
    const c = new BitcoinRpcClient({ url: `http://u:p@127.0.0.1:${port}`, retries: 3, retryDelayMs: 150 });
    const pending = c.sendToAddress("bcrt1qexample", 1);
    await new Promise((r) => setTimeout(r, 50)); // the first attempt is refused; the node comes up before the retry
    const srv = await recordingServer(port, () => 0);
    try {
      expect(await pending).to.equal("sendtoaddress-1");
      expect(srv.seen).to.deep.equal(["sendtoaddress"]);
    } finally {
      await srv.close();
    }
  });

  it("rejects a batch reply that is not an array of one entry per call", async () => {
    let body = "";
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end(body));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const c = new BitcoinRpcClient({
        url: `http://u:p@127.0.0.1:${(srv.address() as { port: number }).port}`,
        retries: 0,
      });
      const calls = [
        { method: "getblockhash", params: [0] },
        { method: "getblockhash", params: [1] },
      ];
      body = JSON.stringify({ result: "00".repeat(32), error: null, id: 1 }); // one object for two calls
      let err = await c.batch<string>(calls).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BitcoinTransportError);
      expect((err as Error).message).to.match(/not an array/);
      body = JSON.stringify([{ result: "00".repeat(32), error: null, id: 3 }]); // one entry for two calls
      err = await c.batch<string>(calls).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BitcoinTransportError);
      expect((err as Error).message).to.match(/1 entries for 2 calls/);
      body = JSON.stringify({ result: null, error: { code: -32700, message: "Parse error" }, id: null });
      err = await c.batch<string>(calls).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BitcoinRpcError);
      expect(err).to.include({ code: -32700, rpcMessage: "Parse error" });
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
