import { expect } from "chai";
import { spawnCli } from "../relayer/helpers/relayerProcess";

describe("hemi-fabric verify-anchors: command line", function () {
  this.timeout(120_000);

  it("answers --help with its options, settings and exit codes; refuses an unknown option with exit code 2", async () => {
    const help = spawnCli(["verify-anchors", "--help"], {});
    const bad = spawnCli(["verify-anchors", "--bogus"], { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1" });
    const [h, b] = await Promise.all([help.exited, bad.exited]);
    expect(h.code, help.output()).to.equal(0);
    for (const word of ["--json", "--config", "BITCOIN_RPC_URL", "KEYSTONE_LEDGER_ADDRESS", "Exit codes"]) {
      expect(help.output()).to.include(word);
    }
    expect(b.code, bad.output()).to.equal(2);
    expect(bad.output()).to.match(/unknown option --bogus/);
  });
});
