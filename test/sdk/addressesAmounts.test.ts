import { expect } from "chai";
import {
  AddressError,
  AmountError,
  addressToScriptHex,
  destinationScriptHex,
  formatBtc,
  networkOfChainName,
  parseAmount,
  payoutOpReturnHex,
  scriptHexToAddress,
  tunnelFee,
} from "../../relayer/src/sdk";

describe("SDK addresses and amounts", () => {
  // BIP173 / BIP350 test vectors and well-known base58 addresses.
  const P2WPKH_SCRIPT = "0014751e76e8199196d454941c45d1b3a323f1433bd6";

  it("converts addresses to scripts on each network (bech32, bech32m, base58) and back", () => {
    expect(addressToScriptHex("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mainnet")).to.equal(P2WPKH_SCRIPT);
    expect(addressToScriptHex("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet")).to.equal(P2WPKH_SCRIPT);
    expect(addressToScriptHex("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "regtest")).to.equal(P2WPKH_SCRIPT);
    expect(addressToScriptHex("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "mainnet")).to.equal(
      "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac",
    );
    expect(addressToScriptHex("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "mainnet")).to.equal(
      "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87",
    );
    // Testnet base58 addresses are valid on regtest (same version bytes).
    expect(addressToScriptHex("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "regtest")).to.match(/^76a914[0-9a-f]{40}88ac$/);
    const taproot = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0";
    expect(addressToScriptHex(taproot, "mainnet")).to.match(/^5120[0-9a-f]{64}$/);
    expect(scriptHexToAddress(P2WPKH_SCRIPT, "regtest")).to.equal("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080");
    expect(scriptHexToAddress("6a0401020304", "regtest")).to.equal(undefined);
  });

  it("names the problem with a bad address", () => {
    const cases: [string, "mainnet" | "testnet" | "regtest", RegExp][] = [
      ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "regtest", /is a mainnet address, but this tunnel is on regtest/],
      ["tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "mainnet", /is a testnet address, but this tunnel is on mainnet/],
      ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "testnet", /is a mainnet address/],
      ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "mainnet", /not a valid mainnet Bitcoin address/],
      ["hello", "regtest", /not a valid regtest Bitcoin address/],
      ["  ", "regtest", /empty Bitcoin address/],
    ];
    for (const [addr, net, re] of cases) {
      let caught: unknown;
      try {
        addressToScriptHex(addr, net);
      } catch (err) {
        caught = err;
      }
      expect(caught, addr).to.be.instanceOf(AddressError);
      expect((caught as Error).message, addr).to.match(re);
    }
    expect(destinationScriptHex("0x" + P2WPKH_SCRIPT, "mainnet")).to.equal(P2WPKH_SCRIPT);
  });

  it("parses BTC and satoshi amounts, refuses malformed ones, formats BTC", () => {
    expect(parseAmount("0.5")).to.equal(50_000_000n);
    expect(parseAmount("1btc")).to.equal(100_000_000n);
    expect(parseAmount("0.00000001 BTC")).to.equal(1n);
    expect(parseAmount("50000sat")).to.equal(50_000n);
    expect(parseAmount("1_000 sats")).to.equal(1_000n);
    expect(parseAmount("2.")).to.equal(200_000_000n);
    for (const bad of ["", "abc", "-1", "0", "0sat", "0.000000001", "1.5sat", "1e3", "21000001"]) {
      expect(() => parseAmount(bad), bad).to.throw(AmountError);
    }
    expect(formatBtc(150_000_000n)).to.equal("1.50000000");
    expect(formatBtc(1n)).to.equal("0.00000001");
    expect(formatBtc(-5n)).to.equal("-0.00000005");
  });

  it("computes the tunnel's fee and the payout OP_RETURN", () => {
    expect(tunnelFee(1_000_000n, 25, 500n)).to.equal(3_000n);
    expect(tunnelFee(100n, 0, 500n)).to.equal(100n); // capped at the amount
    expect(payoutOpReturnHex(1n)).to.equal("6a080000000000000001");
    expect(payoutOpReturnHex(0x0102030405060708n)).to.equal("6a080102030405060708");
    expect(() => payoutOpReturnHex(0n)).to.throw(/out of range/);
  });

  it("maps getblockchaininfo chain names to networks and refuses signet and unknown chains", () => {
    expect(networkOfChainName("main")).to.equal("mainnet");
    expect(networkOfChainName("test")).to.equal("testnet");
    expect(networkOfChainName("testnet4")).to.equal("testnet");
    expect(networkOfChainName("regtest")).to.equal("regtest");
    expect(() => networkOfChainName("signet")).to.throw(
      /"signet" is not supported \(the light client has no signet rules\)/,
    );
    expect(() => networkOfChainName("liquidv1")).to.throw(
      /unsupported Bitcoin chain "liquidv1" \(expected main, test, testnet4 or regtest\)/,
    );
  });
});
