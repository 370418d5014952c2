import { expect } from "chai";
import { spawnCli } from "../relayer/helpers/relayerProcess";

describe("hemi-fabric provenance: command line", function () {
  this.timeout(120_000);

  it("answers --help with its links, settings and exit codes; bad arguments (--withdrawal too) exit 2, an unreachable node 3", async () => {
    const env = { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1", EVM_RPC_URL: "http://127.0.0.1:1", STARTUP_RETRIES: "0" };
    const runs = [
      spawnCli(["provenance", "--help"], {}),
      spawnCli(["provenance", "--json"], env),
      spawnCli(["provenance", "xyz"], env),
      spawnCli(["provenance", "1", "--bogus"], env),
      spawnCli(["provenance", "a".repeat(64) + ":0", "--json"], env),
      spawnCli(["provenance", "--withdrawal"], env),
      spawnCli(["provenance", "--withdrawal", "abc", "--json"], env),
      spawnCli(["provenance", "--withdrawal", "0"], env),
      spawnCli(["provenance", "--withdrawal", "1", "a".repeat(64)], env),
      spawnCli(["provenance", "--withdrawal", "3", "--json"], env),
    ];
    const [help, none, bad, bogus, down, wNone, wBad, wZero, wBoth, wDown] = await Promise.all(
      runs.map(async (c) => ({ ...(await c.exited), out: c.output() })),
    );
    expect(help.code, help.out).to.equal(0);
    for (const w of [
      "--json",
      "--config",
      "--withdrawal <id>",
      "payout txid",
      "burn",
      "finalization",
      "BITCOIN_RPC_URL",
      "DEPLOYMENT_FILE",
      "Exit codes",
      "pending",
      "verifyTx",
    ])
      expect(help.out).to.include(w);
    expect(none.code, none.out).to.equal(2);
    expect(none.out).to.include("name the deposit");
    expect(bad.code, bad.out).to.equal(2);
    expect(bad.out).to.include("is not a deposit txid[:vout]");
    expect(bogus.code, bogus.out).to.equal(2);
    expect(bogus.out).to.match(/unknown option --bogus/);
    expect(down.code, down.out).to.equal(3);
    expect(none.out).to.include("name the deposit or the withdrawal");
    expect(wNone.code, wNone.out).to.equal(2);
    expect(wNone.out).to.include("--withdrawal needs a value");
    expect(wBad.code, wBad.out).to.equal(2);
    expect(wBad.out).to.include('--withdrawal takes a withdrawal id (1, 2, ...), got "abc"');
    expect(wZero.code, wZero.out).to.equal(2);
    expect(wZero.out).to.include('got "0"');
    expect(wBoth.code, wBoth.out).to.equal(2);
    expect(wBoth.out).to.include("give a deposit or --withdrawal <id>, not both");
    expect(wDown.code, wDown.out).to.equal(3);
  });
});
