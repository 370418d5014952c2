import { expect } from "chai";
import { ConfigError, loadConfig } from "../../relayer/src/config/load";
import { parseRoles } from "../../relayer/src/config/roles";
import { deployOptionsFromConfig } from "../../relayer/src/evm/deployFabric";

const BASE = { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:18443" };

describe("deploy's hVM settings and the hvm-index role name", () => {
  it("deploys the hVM by default with Hemi's layout choice and lag, and takes HVM_LAYOUT / HVM_LAG", () => {
    expect(deployOptionsFromConfig(loadConfig({ env: BASE })).hvm).to.deep.equal({ layout: "current", lag: 2 });
    const cfg = loadConfig({ env: { ...BASE, HVM_LAYOUT: "bitcoinkit-2024", HVM_LAG: "0" } });
    expect(deployOptionsFromConfig(cfg).hvm).to.deep.equal({ layout: "bitcoinkit-2024", lag: 0 });
  });

  it("refuses an unknown layout or a negative lag, naming the setting", () => {
    for (const env of [{ HVM_LAYOUT: "2023" }, { HVM_LAG: "-1" }]) {
      let err: unknown;
      try {
        loadConfig({ env: { ...BASE, ...env } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).fields).to.deep.equal(Object.keys(env));
    }
  });

  it("knows the hvm-index role", () => {
    expect(parseRoles("headers,hvm-index")).to.deep.equal(["headers", "hvm-index"]);
  });
});
