import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { Transaction, address, networks } from "bitcoinjs-lib";
import { reverseHex } from "../../relayer/src/bitcoin/byteOrder";
import type { RawTransactionInfo } from "../../relayer/src/bitcoin/rpcTypes";
import { HVM_LAYOUTS, hvmDeploymentFields, parseHvmRecord, type HvmLayout } from "../../relayer/src/hvm";
import { hvmChain, type HvmChain } from "./fixture";
import {
  be,
  decodeHeaderRecord,
  decodeTxByTxid,
  expectedHeaderRecord,
  expectedTxByTxid,
  readNodeTx,
  sats,
  servedOutputs,
  isUnspendable,
  type Flags,
  type NodeTx,
} from "./reference";

const ANCHOR = 101;

/** Raw STATICCALL-equivalent to a precompile address (eth_call). */
async function call(to: string, data: string): Promise<string> {
  return ethers.provider.call({ to, data });
}

const hex = (s: string) => "0x" + Buffer.from(s, "ascii").toString("hex");

describe("hVM precompiles: conformance on real regtest data", function () {
  let c: HvmChain;
  let top: number;
  let best: number;
  const nodeTx = new Map<string, NodeTx>();
  const indexed = (h: number) => h >= ANCHOR && h <= top;
  const at = (layout: HvmLayout, key: "0x42") => (layout === "current" ? c.current : c.legacy).precompiles[key];

  before(async function () {
    c = await hvmChain();
    const [, b, tp] = await c.index.tipView();
    best = Number(b);
    top = Number(tp);
    const ids = [...c.txids.wallet, c.txids.fan, c.txids.pkh, c.txids.tr, c.txids.many, c.txids.coinbaseB2];
    for (const id of ids) nodeTx.set(id, await readNodeTx(c.t.rpc, id, indexed));
  });

  it("are installed at 0x40..0x49 with the emulators' code (current layout), as plain contracts for the other", async () => {
    expect(c.current.installedWith).to.equal("hardhat_setCode");
    for (const [key, addr] of Object.entries(c.current.precompiles)) {
      expect(addr).to.equal("0x" + key.slice(2).padStart(40, "0"));
      expect(await ethers.provider.getCode(addr)).to.equal(
        await ethers.provider.getCode(c.current.emulators[key as "0x40"]),
      );
    }
    expect(c.legacy.precompiles).to.deep.equal(c.legacy.emulators);
    expect(best).to.equal(await c.t.rpc.getBlockCount());
    expect(top).to.equal(best - 2);
  });

  it("the deployment record (layout, lag, addresses) round-trips through the deployment file schema", () => {
    for (const d of [c.current, c.legacy]) {
      const fields = hvmDeploymentFields(d);
      const json = JSON.parse(JSON.stringify(fields.hvm));
      expect(parseHvmRecord(json)).to.deep.equal(d);
      expect(fields.contracts).to.deep.equal({ BitcoinTxIndex: d.index, BitcoinKit: d.bitcoinKit });
    }
    expect(() => parseHvmRecord({ ...c.current, layout: "2023" })).to.throw();
  });

  describe("0x42 btcTxByTxid", () => {
    const named: [string, (c: HvmChain) => string][] = [
      ["FAN (44 outputs, 150-byte script, 80-byte OP_RETURN)", (x) => x.txids.fan],
      ["PKH (P2PKH scriptSig, small OP_RETURN)", (x) => x.txids.pkh],
      ["TR (taproot witness)", (x) => x.txids.tr],
      ["MANY (40 witness inputs)", (x) => x.txids.many],
      ["a wallet payment (sources not indexed)", (x) => x.txids.wallet[0]],
      ["a coinbase", (x) => x.txids.coinbaseB2],
    ];
    const bitcoinKitFlags: Record<HvmLayout, Flags[]> = {
      // getTransactionByTxId's flags as each BitcoinKit sends them, and transactionExists'.
      current: [
        { f1: 0x7f, f2: 0xbc, f3: 0x2d, f4: 0x0a },
        { f1: 0x04, f2: 0x00, f3: 0x2d, f4: 0x0a },
      ],
      "bitcoinkit-2024": [
        { f1: 0x7f, f2: 0xfe, f3: 0x2d, f4: 0x0a },
        { f1: 0x04, f2: 0x00, f3: 0x2d, f4: 0x0a },
      ],
    };

    async function check(layout: HvmLayout, id: string, f: Flags): Promise<void> {
      const n = nodeTx.get(id) as NodeTx;
      const input = "0x" + id + be(f.f1, 1) + be(f.f2, 1) + be(f.f3, 1) + be(f.f4, 1);
      const answer = await call(at(layout, "0x42"), input);
      const exp = expectedTxByTxid(n, f, layout);
      // Nothing asked of a found transaction is zero bytes on the wire, like "empty".
      const expected = exp !== "empty" && exp.length === 0 ? "empty" : exp;
      const actual = decodeTxByTxid(answer, f, layout, servedOutputs(n, f, layout));
      expect(actual, `${layout} flags ${JSON.stringify(f)} tx ${id}`).to.deep.equal(expected);
    }

    for (const layout of HVM_LAYOUTS)
      for (const [name, pick] of named)
        it(`${layout}: ${name}, BitcoinKit's flag sets, field by field`, async () => {
          for (const f of bitcoinKitFlags[layout]) await check(layout, pick(c), f);
        });

    it("both layouts: random flag sets (fast-check) on every transaction, field by field", async () => {
      const ids = [c.txids.fan, c.txids.pkh, c.txids.tr, c.txids.many, c.txids.coinbaseB2];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ids),
          fc.constantFrom(...HVM_LAYOUTS),
          fc.record({ f1: fc.nat(255), f2: fc.nat(255), f3: fc.nat(255), f4: fc.nat(255) }),
          async (id, layout, f) => check(layout, id, f),
        ),
        { numRuns: 40 },
      );
    });

    it("the test data covers what it claims: truncation, many inputs/outputs, OP_RETURN, unspendable, spent", () => {
      const fan = nodeTx.get(c.txids.fan) as NodeTx;
      const many = nodeTx.get(c.txids.many) as NodeTx;
      const pkh = nodeTx.get(c.txids.pkh) as NodeTx;
      expect(fan.info.vout.length).to.equal(43);
      expect(fan.info.vout.some((o) => o.scriptPubKey.hex.length / 2 > 128)).to.equal(true);
      expect(fan.info.vout.filter((o) => isUnspendable(Buffer.from(o.scriptPubKey.hex, "hex")))).to.have.length(1);
      expect(fan.unspent.slice(0, 40).every((u) => !u)).to.equal(true); // spent by MANY
      expect(fan.unspent[40]).to.equal(true);
      expect(many.info.vin.length).to.equal(40);
      expect(Buffer.from(pkh.info.vin[0].scriptSig?.hex ?? "", "hex").length).to.be.greaterThan(64);
    });
  });

  it("0x43 btcTxConfirmations: best - height + 1, counted from the light client's tip (never below lag + 1)", async () => {
    for (const id of [c.txids.fan, c.txids.many, c.txids.wallet[1], c.txids.coinbaseB2]) {
      const n = nodeTx.get(id) as NodeTx;
      const answer = await call(c.current.precompiles["0x43"], "0x" + id);
      expect(answer).to.equal("0x" + be(n.info.confirmations as number, 4));
      expect(answer).to.equal("0x" + be(best - n.height + 1, 4));
    }
  });

  it("0x44 btcLastHeader: the record of the header at best - lag, any input", async () => {
    const expected = await expectedHeaderRecord(c.t.rpc, top);
    for (const input of ["0x", "0x00", "0x" + "ff".repeat(40)])
      expect(decodeHeaderRecord(await call(c.current.precompiles["0x44"], input))).to.deep.equal(expected);
  });

  it("0x45 btcHeaderN: the record of each indexed height up to best - lag, field by field", async () => {
    for (let h = ANCHOR; h <= top; h++)
      expect(decodeHeaderRecord(await call(c.current.precompiles["0x45"], "0x" + be(h, 4)))).to.deep.equal(
        await expectedHeaderRecord(c.t.rpc, h),
      );
  });

  it("0x40 btcBalAddr: the sum of the address's unspent outputs in the view", async () => {
    for (const addr of [c.addresses.w, c.addresses.sink, c.addresses.many, c.addresses.p]) {
      const scan = await c.t.rpc.scanTxOutSet([`addr(${addr})`]);
      const total = scan.unspents.filter((u) => indexed(u.height)).reduce((s, u) => s + sats(u.amount), 0n);
      expect(await call(c.current.precompiles["0x40"], hex(addr)), addr).to.equal("0x" + be(total, 8));
    }
    expect(await call(c.current.precompiles["0x40"], hex(c.addresses.many))).to.equal("0x" + be(0, 8));
  });

  it("0x41 btcUtxosAddrList: records in internal txid order, with item offset and count (0 = 10)", async () => {
    const addr = c.addresses.w;
    const scan = await c.t.rpc.scanTxOutSet([`addr(${addr})`]);
    const list = scan.unspents
      .filter((u) => indexed(u.height))
      .map((u) => ({ key: reverseHex(u.txid), rec: u.txid + be(u.vout, 2) + be(sats(u.amount), 8), vout: u.vout }))
      .sort((a, b) => (a.key === b.key ? a.vout - b.vout : a.key < b.key ? -1 : 1));
    expect(list.length).to.be.greaterThan(2);
    for (const [start, count] of [
      [0, 0],
      [0, 1],
      [1, 2],
      [2, 255],
      [list.length, 3],
    ]) {
      const answer = await call(c.current.precompiles["0x41"], hex(addr) + be(start, 3) + be(count, 1));
      const page = list.slice(start, start + (count === 0 ? 10 : count));
      expect(answer, `start ${start} count ${count}`).to.equal(
        "0x" + be(page.length, 1) + page.map((p) => p.rec).join(""),
      );
    }
  });

  it("0x46 btcAddrToScript: bitcoinjs-lib's scriptPubKey for P2WPKH, P2PKH, P2TR addresses", async () => {
    for (const addr of [c.addresses.w, c.addresses.p, c.addresses.t]) {
      const script = Buffer.from(address.toOutputScript(addr, networks.regtest)).toString("hex");
      expect(await call(c.current.precompiles["0x46"], hex(addr))).to.equal("0x" + script);
    }
  });

  it("0x47 btcInputByTxid: every input of MANY, PKH and TR with several cut lengths", async () => {
    for (const id of [c.txids.many, c.txids.pkh, c.txids.tr]) {
      const n = nodeTx.get(id) as NodeTx;
      for (let i = 0; i < n.info.vin.length; i += 7) {
        const vin = n.info.vin[i];
        const sig = Buffer.from(vin.scriptSig?.hex ?? "", "hex");
        for (const max of [0, 16, 200]) {
          const answer = await call(c.current.precompiles["0x47"], "0x" + id + be(i, 2) + be(max, 2));
          const expected =
            be((vin.txinwitness ?? []).length, 2) +
            be(n.inValues[i] as bigint, 8) +
            vin.txid +
            be(Math.min(vin.vout as number, 0xffff), 2) +
            be(sig.length, 2) +
            sig.subarray(0, max).toString("hex") +
            be(vin.sequence, 4);
          expect(answer, `${id} input ${i} max ${max}`).to.equal("0x" + expected);
        }
      }
    }
  });

  it("0x48 btcOutputByTxid: outputs of FAN (spent, unspent, long script, OP_RETURN) field by field", async () => {
    const n = nodeTx.get(c.txids.fan) as NodeTx;
    for (const v of [0, 39, 40, 41, 42]) {
      const script = Buffer.from(n.info.vout[v].scriptPubKey.hex, "hex");
      for (const max of [0, 64, 1000]) {
        const answer = await call(c.current.precompiles["0x48"], "0x" + c.txids.fan + be(v, 2) + be(max, 2));
        expect(answer, `vout ${v} max ${max}`).to.equal(
          "0x" +
            be(sats(n.info.vout[v].value), 8) +
            be(script.length, 2) +
            script.subarray(0, max).toString("hex") +
            (n.unspent[v] ? "01" : "00"),
        );
      }
    }
  });

  it("0x49 btcTxGetInputWitness: each witness item of MANY and TR, cut", async () => {
    for (const id of [c.txids.many, c.txids.tr]) {
      const n = nodeTx.get(id) as NodeTx;
      for (let i = 0; i < n.info.vin.length; i += 13) {
        const wit = n.info.vin[i].txinwitness ?? [];
        for (let k = 0; k < wit.length; k++) {
          const item = Buffer.from(wit[k], "hex");
          for (const max of [5, 100]) {
            const answer = await call(c.current.precompiles["0x49"], "0x" + id + be(i, 2) + be(k, 2) + be(max, 2));
            expect(answer).to.equal("0x" + be(item.length, 2) + item.subarray(0, max).toString("hex"));
          }
        }
      }
    }
  });

  it("the sizes in 0x42 come from the full serialization the node serves", async () => {
    const raw = (await c.t.rpc.getRawTransaction(c.txids.many, false)) as string;
    const tx = Transaction.fromHex(raw);
    const info = (await c.t.rpc.getRawTransaction(c.txids.many, true)) as RawTransactionInfo;
    expect(tx.byteLength()).to.equal(info.size);
    const answer = await call(c.current.precompiles["0x42"], "0x" + c.txids.many + "10000000");
    expect(answer).to.equal("0x" + be(tx.byteLength(), 4) + be(tx.byteLength(false), 4));
  });
});
