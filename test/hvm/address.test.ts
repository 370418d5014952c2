import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { address as btcAddress, networks, payments, type Network } from "bitcoinjs-lib";
import { randomBytes } from "node:crypto";
import type { BitcoinAddressHarness } from "../../typechain-types";
import { randomKey, xOnly } from "../../relayer/src/bitcoin/txBuilder";

const NETS: [string, number, Network][] = [
  ["mainnet", 0, networks.bitcoin],
  ["testnet", 1, networks.testnet],
  ["regtest", 2, networks.regtest],
];

const ascii = (s: string) => "0x" + Buffer.from(s, "ascii").toString("hex");

/** Every address kind of one fresh key or hash on `net`. */
function addressesOf(net: Network): string[] {
  const key = randomKey();
  return [
    payments.p2pkh({ pubkey: key.publicKey, network: net }).address as string,
    payments.p2sh({ hash: randomBytes(20), network: net }).address as string,
    payments.p2wpkh({ pubkey: key.publicKey, network: net }).address as string,
    payments.p2wsh({ hash: randomBytes(32), network: net }).address as string,
    payments.p2tr({ internalPubkey: xOnly(key.publicKey), network: net }).address as string,
  ];
}

describe("BitcoinAddress: address strings to scripts on chain (0x40/0x41/0x46 decoding)", function () {
  let h: BitcoinAddressHarness;
  before(async () => {
    h = (await (await ethers.getContractFactory("BitcoinAddressHarness")).deploy()) as unknown as BitcoinAddressHarness;
  });

  it("decodes P2PKH, P2SH, P2WPKH, P2WSH and P2TR of each network to bitcoinjs-lib's script (random keys)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...NETS), async ([, id, net]) => {
        for (const a of addressesOf(net)) {
          const [ok, script] = await h.toScript(ascii(a), id);
          expect(ok, a).to.equal(true);
          expect(script, a).to.equal("0x" + Buffer.from(btcAddress.toOutputScript(a, net)).toString("hex"));
        }
      }),
      { numRuns: 12 },
    );
  });

  it("accepts an all-upper-case bech32 address; refuses mixed case", async () => {
    const a = payments.p2wpkh({ pubkey: randomKey().publicKey, network: networks.regtest }).address as string;
    const [ok, script] = await h.toScript(ascii(a.toUpperCase()), 2);
    expect(ok).to.equal(true);
    expect(script).to.equal("0x" + Buffer.from(btcAddress.toOutputScript(a, networks.regtest)).toString("hex"));
    const mixed = a.slice(0, 10).toUpperCase() + a.slice(10);
    expect((await h.toScript(ascii(mixed), 2))[0]).to.equal(false);
  });

  it("refuses another network's address, except base58 between testnet and regtest (same version bytes)", async () => {
    const main = addressesOf(networks.bitcoin);
    for (const a of main) expect((await h.toScript(ascii(a), 2))[0], a).to.equal(false);
    const test = addressesOf(networks.testnet);
    expect((await h.toScript(ascii(test[0]), 2))[0]).to.equal(true); // m/n… P2PKH
    expect((await h.toScript(ascii(test[1]), 2))[0]).to.equal(true); // 2… P2SH
    for (const a of test.slice(2)) expect((await h.toScript(ascii(a), 2))[0], a).to.equal(false); // tb1 on regtest
  });

  it("refuses a wrong checksum, the wrong bech32 variant, witness versions above 1, bad lengths and garbage", async () => {
    const tr = payments.p2tr({ internalPubkey: xOnly(randomKey().publicKey), network: networks.bitcoin })
      .address as string;
    const wpkh = payments.p2wpkh({ pubkey: randomKey().publicKey, network: networks.bitcoin }).address as string;
    const pkh = payments.p2pkh({ pubkey: randomKey().publicKey }).address as string;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "q" ? "p" : "q") + s.slice(i + 1);
    const bad = [
      flip(wpkh, wpkh.length - 1),
      flip(tr, 10),
      pkh.slice(0, -1) + (pkh.endsWith("2") ? "3" : "2"),
      // Witness v0 with a bech32m checksum and v1 with a bech32 checksum (BIP-350 test vectors).
      "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
      "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
      // Witness v2 (valid bech32m, but btcutil supports only v0 and v1).
      "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
      // v0 with a 16-byte program.
      "bc1qr508d6qejxtdg4y5r3zarvaryvqyzf3du",
      "bc1" + "q".repeat(60),
      "1".repeat(30),
      "",
    ];
    for (const a of bad) expect((await h.toScript(ascii(a), 0))[0], a).to.equal(false);
  });

  it("BIP-350 valid vectors decode; a version-1 20-byte program gives P2WPKH, as btcutil does", async () => {
    const [ok, s] = await h.toScript(ascii("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"), 0);
    expect(ok).to.equal(true);
    expect(s).to.equal("0x512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    const prog = Buffer.alloc(20, 0x11);
    const v1short = btcAddress.toBech32(prog, 1, "bcrt");
    const [ok2, s2] = await h.toScript(ascii(v1short), 2);
    expect(ok2).to.equal(true);
    expect(s2).to.equal("0x0014" + prog.toString("hex"));
  });
});
