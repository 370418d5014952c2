/**
 * Hemi's finality interfaces on real parts: the embedded regtest node (real proof of work), the PoP contracts on
 * the test's Hardhat network served over HTTP, real PoP transactions mined and proven with submitPop. BFG's
 * `GET /v2/keystonefinality/{hash}` and the JSON-RPC proxy (optimism_btcFinalityByBlockHash, kss_getKeystone,
 * kss_getLatestKeystones, and everything else passed through to Hardhat byte for byte).
 */
import http from "node:http";
import type { Socket } from "node:net";
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { ContractFactory, JsonRpcProvider, Network, Wallet, randomBytes, hexlify } from "ethers";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { internalToDisplay } from "../../relayer/src/bitcoin/byteOrder";
import { loadArtifact } from "../../relayer/src/evm/artifacts";
import { startFinalityServices, type RunningFinalityServices } from "../../relayer/src/finality/finalityServices";
import { encodeKeystone, keystoneIdDisplay, type Keystone } from "../../relayer/src/pop/keystone";
import { mineBtc, PopMiner, proofOf, recordNext, startPopChain, type PopChain } from "../pop/popChain";

const L2_KEYS = [
  "version",
  "l1_block_number",
  "l2_block_number",
  "parent_ep_hash",
  "prev_ep_keystone_hash",
  "state_root",
  "ep_hash",
];
const HEX32 = /^[0-9a-f]{64}$/;

interface HttpAnswer {
  status: number;
  type: string | null;
  text: string;
}

async function get(url: string): Promise<HttpAnswer> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}

async function post(url: string, body: string): Promise<HttpAnswer> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}

/** Asserts Hemi's L2Keystone JSON shape (field names, order, types) and returns it. */
function expectL2Keystone(k: Record<string, unknown>): void {
  expect(Object.keys(k)).to.deep.equal(L2_KEYS);
  expect(k.version).to.equal(1);
  expect(k.l1_block_number).to.be.a("number");
  expect(k.l2_block_number).to.be.a("number");
  for (const f of L2_KEYS.slice(3)) expect(k[f]).to.match(HEX32);
}

/** The display-order id of a Hemi JSON keystone (its abbreviation hashed), to check it names what was asked. */
function idOfJson(k: Record<string, unknown>): string {
  const h = (f: string, n: number): Buffer => Buffer.from(k[f] as string, "hex").subarray(0, n);
  const ks: Keystone = {
    version: k.version as number,
    btcHeight: k.l1_block_number as number,
    l2BlockNumber: k.l2_block_number as number,
    parentEPHash: h("parent_ep_hash", 11),
    prevKeystoneEPHash: h("prev_ep_keystone_hash", 12),
    stateRoot: h("state_root", 32),
    epHash: h("ep_hash", 12),
  };
  return keystoneIdDisplay(encodeKeystone(ks));
}

describe("finality: Hemi's finality interfaces (BFG endpoint, op-node/op-geth methods, RPC proxy)", function () {
  this.timeout(120_000);
  let c: PopChain;
  let evm: EvmNode;
  let svc: RunningFinalityServices;
  let known: { n: number; abbrev: Buffer; display: string };
  let pending: { n: number; abbrev: Buffer; display: string };
  let earlier: { n: number; abbrev: Buffer; display: string };
  let pubHeight: number;
  let pubBlockDisplay: string;

  const bfg = (hash: string): Promise<HttpAnswer> => get(`${svc.bfgUrl}/v2/keystonefinality/${hash}`);
  const rpc = async (url: string, method: string, params: unknown[]): Promise<Record<string, unknown>> =>
    JSON.parse((await post(url, JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }))).text) as Record<
      string,
      unknown
    >;
  const btcTip = async (): Promise<number> => c.t.rpc.getBlockCount();

  before(async () => {
    c = await startPopChain({ interval: 25 });
    evm = await startEvmNode({ provider: network.provider });
    svc = await startFinalityServices({
      evmUrl: evm.url,
      chainId: 31337,
      pop: { keystoneLedger: c.dep.keystoneLedger, popVerifier: c.dep.popVerifier },
      rpcPort: 0,
      bfgPort: 0,
    });
    const k0 = await recordNext(c);
    earlier = { ...k0, display: keystoneIdDisplay(k0.abbrev) };
    const k1 = await recordNext(c);
    const k2 = await recordNext(c);
    known = { ...k1, display: keystoneIdDisplay(k1.abbrev) };
    pending = { ...k2, display: keystoneIdDisplay(k2.abbrev) };
    const miner = await PopMiner.funded(c);
    const pop = await miner.publish(known.abbrev);
    [pubBlockDisplay] = await mineBtc(c, 1);
    pubHeight = await btcTip();
    await (await c.verifier.submitPop(await proofOf(c, pop.txid))).wait();
  });

  after(async () => {
    await svc?.close();
    await evm?.close();
    await c?.t.running.close();
  });

  it("BFG: a publication in the tip block (0 confirmations) is not counted yet, as BFG does", async () => {
    expect(await btcTip()).to.equal(pubHeight);
    const a = await bfg(known.display);
    expect(a.status).to.equal(200);
    const body = JSON.parse(a.text) as Record<string, unknown>;
    expect(Object.keys(body)).to.deep.equal(["l2_keystone", "block_hash", "block_height", "effective_confirmations"]);
    expect(body.effective_confirmations).to.equal(0);
    // The on-chain view counts it (published, 0 confirmations); BFG's answer starts from 0 and keeps only more.
    const onChain = await svc.view.onChainFinality("0x" + idHex(known.display), await svc.view.head());
    expect(onChain.published).to.equal(true);
    expect(onChain.effectiveConfirmations).to.equal(0);
  });

  it("BFG: a known keystone answers BFG's fields and types; confirmations rise with Bitcoin blocks; superfinal at 10", async () => {
    const seen: { conf: number; sf: boolean }[] = [];
    for (const blocks of [1, 8, 1, 1]) {
      await mineBtc(c, blocks);
      const a = await bfg(known.display);
      expect(a.status).to.equal(200);
      expect(a.type).to.equal("text/plain; charset=utf-8"); // Go's sniffed type: BFG sets none on success
      expect(a.text.endsWith("}\n")).to.equal(true); // json.Encoder's trailing newline
      const body = JSON.parse(a.text) as Record<string, unknown>;
      expect(Object.keys(body)).to.deep.equal([
        "l2_keystone",
        "block_hash",
        "block_height",
        "effective_confirmations",
        "super_finality",
      ]);
      const k = body.l2_keystone as Record<string, unknown>;
      expectL2Keystone(k);
      expect(idOfJson(k)).to.equal(known.display);
      const blk = await ethers.provider.getBlock(known.n);
      const prev = await ethers.provider.getBlock(known.n - 25);
      expect(k.l2_block_number).to.equal(known.n);
      expect(k.l1_block_number).to.equal(known.abbrev.readUInt32BE(1));
      expect("0x" + (k.ep_hash as string)).to.equal(blk?.hash);
      expect("0x" + (k.parent_ep_hash as string)).to.equal(blk?.parentHash);
      expect("0x" + (k.prev_ep_keystone_hash as string)).to.equal(prev?.hash);
      const raw = (await network.provider.send("eth_getBlockByNumber", ["0x" + known.n.toString(16), false])) as {
        stateRoot: string;
      };
      expect("0x" + (k.state_root as string)).to.equal(raw.stateRoot);
      expect(body.block_hash).to.equal(internalToDisplay(pubBlockDisplay)); // internal order = reversed display
      expect(body.block_height).to.equal(pubHeight);
      expect(body.effective_confirmations).to.equal((await btcTip()) - pubHeight);
      expect(body.super_finality).to.be.a("boolean");
      seen.push({ conf: body.effective_confirmations as number, sf: body.super_finality as boolean });
    }
    expect(seen).to.deep.equal([
      { conf: 1, sf: false },
      { conf: 9, sf: false },
      { conf: 10, sf: true },
      { conf: 11, sf: true },
    ]);
  });

  it("BFG: an unpublished keystone inherits the finality of a later published one (its own l2_keystone)", async () => {
    const a = await bfg(earlier.display);
    const mine = JSON.parse((await bfg(known.display)).text) as Record<string, unknown>;
    const body = JSON.parse(a.text) as Record<string, unknown>;
    expect(idOfJson(body.l2_keystone as Record<string, unknown>)).to.equal(earlier.display);
    expect((body.l2_keystone as Record<string, unknown>).l2_block_number).to.equal(earlier.n);
    expect({ ...body, l2_keystone: null }).to.deep.equal({ ...mine, l2_keystone: null });
    expect(body.effective_confirmations).to.equal((await btcTip()) - pubHeight);
  });

  it("BFG: a pending keystone (recorded, not published) answers 200 with no publication and no super_finality", async () => {
    const a = await bfg(pending.display);
    expect(a.status).to.equal(200);
    const body = JSON.parse(a.text) as Record<string, unknown>;
    expect(Object.keys(body)).to.deep.equal(["l2_keystone", "block_hash", "block_height", "effective_confirmations"]);
    expectL2Keystone(body.l2_keystone as Record<string, unknown>);
    expect(idOfJson(body.l2_keystone as Record<string, unknown>)).to.equal(pending.display);
    expect(body.block_hash).to.equal("");
    expect(body.block_height).to.equal(0);
    expect(body.effective_confirmations).to.equal(0);
  });

  it("BFG: an unknown keystone answers 404 with BFG's error body; a bad hash 400; other paths Go's 404", async () => {
    const unknown = hexlify(randomBytes(32)).slice(2);
    const a = await bfg(unknown);
    expect(a.status).to.equal(404);
    expect(a.type).to.equal("application/json; charset=utf-8");
    const body = JSON.parse(a.text) as Record<string, unknown>;
    expect(Object.keys(body)).to.deep.equal(["timestamp", "trace", "error"]);
    expect(body.timestamp).to.be.a("number");
    expect(Math.abs((body.timestamp as number) - Date.now() / 1000)).to.be.below(60);
    expect(body.trace).to.match(/^[0-9a-f]{16}$/);
    expect(body.error).to.match(
      new RegExp(`^unknown keystone: keystone not found: ${unknown} \\[[0-9a-f]{16}:\\d+\\]$`),
    );
    const bad = await bfg("zz" + unknown);
    expect(bad.status).to.equal(400);
    expect((JSON.parse(bad.text) as Record<string, unknown>).error).to.equal("invalid keystone length");
    const escaped = await bfg("%zz");
    expect(escaped.status).to.equal(400);
    const other = await get(`${svc.bfgUrl}/v2/nothing`);
    expect([other.status, other.text]).to.deep.equal([404, "404 page not found\n"]);
  });

  it("kss_getKeystone / kss_getLatestKeystones: op-geth's shapes for known, unknown and bad arguments", async () => {
    const one = await rpc(svc.rpcUrl, "kss_getKeystone", [known.display, 10]);
    expect(Object.keys(one)).to.deep.equal(["jsonrpc", "id", "result"]);
    const r = one.result as { keystones: Record<string, unknown>[] };
    expect(Object.keys(r)).to.deep.equal(["keystones"]);
    expect(r.keystones.map((k) => k.l2_block_number)).to.deep.equal([known.n, pending.n]);
    r.keystones.forEach(expectL2Keystone);
    expect(r.keystones.map(idOfJson)).to.deep.equal([known.display, pending.display]);
    const bfgKeystone = (JSON.parse((await bfg(known.display)).text) as { l2_keystone: unknown }).l2_keystone;
    expect(r.keystones[0]).to.deep.equal(bfgKeystone);
    const zero = (await rpc(svc.rpcUrl, "kss_getKeystone", [known.display, 0])).result as { keystones: unknown[] };
    expect(zero.keystones).to.have.length(1);

    const unknown = hexlify(randomBytes(32)).slice(2);
    const miss = (await rpc(svc.rpcUrl, "kss_getKeystone", [unknown, 10])).result as Record<string, unknown>;
    expect(Object.keys(miss)).to.deep.equal(["keystones", "error"]);
    expect(miss.keystones).to.equal(null);
    const err = miss.error as Record<string, unknown>;
    expect(Object.keys(err)).to.deep.equal(["timestamp", "trace", "message"]);
    expect(err.message).to.equal(`keystone not found: ${unknown}`);
    const big = (await rpc(svc.rpcUrl, "kss_getKeystone", [known.display, 51])).result as Record<string, unknown>;
    expect((big.error as Record<string, unknown>).message).to.equal("count too large");
    const neg = await rpc(svc.rpcUrl, "kss_getKeystone", [known.display, -1]);
    expect(neg.error).to.deep.equal({
      code: -32602,
      message: "invalid argument 1: json: cannot unmarshal number -1 into Go value of type uint",
    });

    const latest = (await rpc(svc.rpcUrl, "kss_getLatestKeystones", [5])).result as {
      keystones: Record<string, unknown>[];
    };
    expect(latest.keystones.map((k) => k.l2_block_number)).to.deep.equal([pending.n, known.n, earlier.n]);
    expect(latest.keystones[1]).to.deep.equal(bfgKeystone);
    const latest1 = (await rpc(svc.rpcUrl, "kss_getLatestKeystones", [1])).result as { keystones: unknown[] };
    expect(latest1.keystones).to.have.length(1);
    const tooMany = await rpc(svc.rpcUrl, "kss_getLatestKeystones", [1, 2]);
    expect((tooMany.error as { code: number }).code).to.equal(-32602);
  });

  it("optimism_btcFinalityByBlockHash: block N -> keystone N or the next multiple; BFG's struct; errors as op-node", async () => {
    const blockIn = await ethers.provider.getBlock(known.n - 3);
    const atKeystone = await ethers.provider.getBlock(known.n);
    const viaRpc = await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [blockIn?.hash]);
    const direct = JSON.parse((await bfg(known.display)).text) as Record<string, unknown>;
    expect(viaRpc.result).to.deep.equal(direct);
    expect((await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [atKeystone?.hash])).result).to.deep.equal(direct);
    const pendingBlock = await ethers.provider.getBlock(known.n + 1);
    const pend = (await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [pendingBlock?.hash])).result;
    expect(pend).to.deep.equal(JSON.parse((await bfg(pending.display)).text));
    expect(Object.keys(pend as object)).to.not.include("super_finality");

    const head = await ethers.provider.getBlock("latest");
    const notYet = await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [head?.hash]);
    const next = Math.ceil(((head?.number ?? 0) + 1) / 25) * 25;
    expect(notYet.error).to.deep.equal({
      code: -32000,
      message: `keystone ${next} providing finality for block ${head?.number} not yet produced, L2 tip = ${head?.number}`,
    });
    const unknown = await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [hexlify(randomBytes(32))]);
    expect(unknown.error).to.deep.equal({ code: -32000, message: "not found" });
    // A block reorganised away (evm_revert) is not canonical any more: rejected.
    const snap = (await network.provider.send("evm_snapshot", [])) as string;
    await network.provider.send("evm_mine", []);
    const gone = (await ethers.provider.getBlock("latest"))?.hash;
    await network.provider.send("evm_revert", [snap]);
    expect((await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", [gone])).error).to.deep.equal({
      code: -32000,
      message: "not found",
    });
    const bad = await rpc(svc.rpcUrl, "optimism_btcFinalityByBlockHash", ["1234"]);
    expect(bad.error).to.deep.equal({
      code: -32602,
      message:
        "invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type common.Hash",
    });
  });

  it("pass-through: a standard ethers JsonRpcProvider on the proxy deploys, calls, sends and batches", async () => {
    const provider = new JsonRpcProvider(svc.rpcUrl, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    try {
      const wallet = new Wallet(DEV_KEYS[2], provider);
      const art = loadArtifact("KeystoneLedger");
      const factory = new ContractFactory(art.abi, art.bytecode, wallet);
      const ledger = await factory.deploy(await c.lc.getAddress(), 25, wallet.address);
      await ledger.waitForDeployment();
      const addr = await ledger.getAddress();
      expect(await ethers.provider.getCode(addr)).to.equal(await provider.getCode(addr));
      expect(await ledger.getFunction("interval")()).to.equal(25n);
      const role = (await ledger.getFunction("SEQUENCER_ROLE")()) as string;
      const other = Wallet.createRandom().address;
      await (await ledger.getFunction("grantRole")(role, other)).wait();
      expect(await ledger.getFunction("hasRole")(role, other)).to.equal(true);
      // ethers batches calls made in one tick into one JSON-RPC batch.
      const [n, bal, code] = await Promise.all([
        provider.getBlockNumber(),
        provider.getBalance(wallet.address),
        provider.getCode(addr),
      ]);
      expect(n).to.equal(await ethers.provider.getBlockNumber());
      expect(bal).to.equal(await ethers.provider.getBalance(wallet.address));
      expect(code.length).to.be.above(2);
    } finally {
      provider.destroy();
    }
  });

  it("pass-through is byte-faithful: errors (a reverting eth_call), batches, invalid requests, bad JSON", async () => {
    const ledger = c.ledger;
    const data = ledger.interface.encodeFunctionData("recordKeystone", ["0x12"]);
    const revert = JSON.stringify({
      jsonrpc: "2.0",
      id: "r",
      method: "eth_call",
      params: [{ to: await ledger.getAddress(), data, from: Wallet.createRandom().address }, "latest"],
    });
    const direct = await post(evm.url, revert);
    expect(JSON.parse(direct.text)).to.have.property("error");
    expect(await post(svc.rpcUrl, revert)).to.deep.equal(direct);
    for (const body of [
      `[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","method":"eth_chainId"},{"id":2,"method":"nope_nothing","jsonrpc":"2.0","params":[]}, ${revert}]`,
      `{"jsonrpc":"2.0","id":3,"method":"eth_blockNumber","params":[]}`,
      `{"jsonrpc":"2.0","method":"kss_getLatestKeystones","params":[1]}`,
      `{bad json`,
      `[]`,
    ]) {
      expect(await post(svc.rpcUrl, body), body).to.deep.equal(await post(evm.url, body));
    }
  });

  it("pass-through: WebSocket connections are tunnelled to Hardhat", async () => {
    const msg = `{"jsonrpc":"2.0","id":5,"method":"eth_chainId","params":[]}`;
    const viaProxy = await wsRoundTrip(svc.rpcUrl, msg);
    expect(viaProxy).to.equal(await wsRoundTrip(evm.url, msg));
    expect(JSON.parse(viaProxy)).to.deep.equal({ jsonrpc: "2.0", id: 5, result: "0x7a69" });
  });

  it("a mixed batch: Hemi entries answered here, the others as Hardhat answers them, in request order", async () => {
    const e0 = `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`;
    const hemi = `{"jsonrpc":"2.0","id":"b","method":"kss_getLatestKeystones","params":[2]}`;
    const e2 = `{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["0x0000000000000000000000000000000000000001","latest"]}`;
    const note = `{"jsonrpc":"2.0","method":"kss_getKeystone","params":["00",1]}`;
    const mixed = await post(svc.rpcUrl, `[${e0}, ${hemi},${e2},${note}]`);
    const plain = await post(evm.url, `[${e0},${e2},${note}]`);
    const m = JSON.parse(mixed.text) as Record<string, unknown>[];
    const p = JSON.parse(plain.text) as Record<string, unknown>[];
    expect(m).to.have.length(4);
    expect([m[0], m[2], m[3]]).to.deep.equal(p);
    expect(mixed.text).to.include(JSON.stringify(p[0])).and.include(JSON.stringify(p[1]));
    const single = await rpc(svc.rpcUrl, "kss_getLatestKeystones", [2]);
    expect(m[1]).to.deep.equal({ ...single, id: "b" });
    expect(mixed.type).to.equal(plain.type);
  });

  // Last: it records and publishes later keystones, which changes the finality of the ones above.
  it("BFG: the lookup goes on from the highest published later keystone (beyond the first 10), as BFG does", async () => {
    const ks: { n: number; abbrev: Buffer }[] = [];
    for (let i = 0; i < 13; i++) ks.push(await recordNext(c));
    const miner = await PopMiner.funded(c);
    const popFar = await miner.publish(ks[12].abbrev);
    const [farBlock] = await mineBtc(c, 1);
    const farHeight = await btcTip();
    await mineBtc(c, 2);
    const popNear = await miner.publish(ks[10].abbrev);
    await mineBtc(c, 1);
    for (const p of [popFar, popNear]) await (await c.verifier.submitPop(await proofOf(c, p.txid))).wait();
    const head = await svc.view.head();
    const onChain = await svc.view.onChainFinality("0x" + idHex(keystoneIdDisplay(ks[0].abbrev)), head);
    expect(onChain.fromKeystone).to.equal(ks[10].n); // the on-chain view scans 10 later keystones only
    const body = JSON.parse((await bfg(keystoneIdDisplay(ks[0].abbrev))).text) as Record<string, unknown>;
    expect((body.l2_keystone as Record<string, unknown>).l2_block_number).to.equal(ks[0].n);
    expect(body.block_height).to.equal(farHeight);
    expect(body.block_hash).to.equal(internalToDisplay(farBlock));
    expect(body.effective_confirmations).to.equal((await btcTip()) - farHeight);
  });
});

function idHex(display: string): string {
  return Buffer.from(display, "hex").reverse().toString("hex");
}

/** One masked WebSocket text frame (client to server, payload < 126 bytes). */
function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Opens a WebSocket to `url`, sends `text` and returns the first text frame's payload (server frames are unmasked). */
function wsRoundTrip(url: string, text: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      hostname: u.hostname,
      port: u.port,
      path: "/",
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytesB64(),
      },
    });
    req.on("upgrade", (_res, socket: Socket) => {
      let buf = Buffer.alloc(0);
      socket.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + len) return;
        socket.destroy();
        resolve(buf.subarray(off, off + len).toString());
      });
      socket.write(wsFrame(text));
    });
    req.on("response", (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.setTimeout(5_000, () => req.destroy(new Error("no WebSocket answer within 5 s")));
    req.on("error", reject);
    req.end();
  });
}

function randomBytesB64(): string {
  return Buffer.from(randomBytes(16)).toString("base64");
}
