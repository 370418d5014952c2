import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig, redactUrl } from "../../relayer/src/config/load";
import { parseRoles } from "../../relayer/src/config/roles";

const GOOD = {
  BITCOIN_RPC_URL: "http://user:secret@127.0.0.1:18443",
  RELAYER_PRIVATE_KEY: "0x" + "11".repeat(32),
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("relayer config", () => {
  it("applies defaults and coerces numbers from environment strings", () => {
    const cfg = loadConfig({ env: { ...GOOD, HEADERS_BATCH_SIZE: "50", BITCOIN_POLL_INTERVAL_MS: "250" }, cwd: "/x" });
    expect(cfg.HEADERS_BATCH_SIZE).to.equal(50);
    expect(cfg.BITCOIN_POLL_INTERVAL_MS).to.equal(250);
    expect(cfg.EVM_RPC_URL).to.equal("http://127.0.0.1:8545");
    expect(cfg.DEPLOYMENTS_DIR).to.equal("/x/deployments");
    expect(cfg.REDIS_URL).to.equal(undefined);
  });

  it("names every bad field without echoing secret values", () => {
    const err = configError(() =>
      loadConfig({
        env: {
          BITCOIN_RPC_URL: "ftp://user:hunter2@host",
          REDIS_URL: "http://127.0.0.1:6379",
          RELAYER_PRIVATE_KEY: "0x1234",
          HEADERS_BATCH_SIZE: "lots",
        },
      }),
    );
    expect(err.fields).to.include.members([
      "BITCOIN_RPC_URL",
      "REDIS_URL",
      "RELAYER_PRIVATE_KEY",
      "HEADERS_BATCH_SIZE",
    ]);
    expect(err.message).to.match(/BITCOIN_RPC_URL: .*http/);
    expect(err.message).to.match(/RELAYER_PRIVATE_KEY: must be 32 bytes/);
    expect(err.message).not.to.include("hunter2");
  });

  it("reports a missing required field as required", () => {
    const err = configError(() => loadConfig({ env: {} }));
    expect(err.fields).to.deep.equal(["BITCOIN_RPC_URL"]);
    expect(err.message).to.include("BITCOIN_RPC_URL: is required");
  });

  it("reads a JSON config file, lets the environment override it and rejects unknown keys", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hf-config-"));
    const file = path.join(dir, "relayer.json");
    writeFileSync(file, JSON.stringify({ ...GOOD, HEADERS_BATCH_SIZE: 7, EVM_RPC_URL: "http://10.0.0.1:8545" }));
    const cfg = loadConfig({ configFile: file, env: { EVM_RPC_URL: "http://127.0.0.1:9999" } });
    expect(cfg.HEADERS_BATCH_SIZE).to.equal(7);
    expect(cfg.EVM_RPC_URL).to.equal("http://127.0.0.1:9999");

    writeFileSync(file, JSON.stringify({ ...GOOD, HEADER_BATCH: 7 }));
    expect(configError(() => loadConfig({ configFile: file, env: {} })).message).to.include(
      "unknown setting(s) HEADER_BATCH",
    );
    writeFileSync(file, "{not json");
    expect(configError(() => loadConfig({ configFile: file, env: {} })).message).to.include("not valid JSON");
  });

  it("requires the keystore password with a keystore and refuses both key sources", () => {
    expect(
      configError(() => loadConfig({ env: { BITCOIN_RPC_URL: GOOD.BITCOIN_RPC_URL, RELAYER_KEYSTORE: "k.json" } }))
        .fields,
    ).to.deep.equal(["RELAYER_KEYSTORE_PASSWORD"]);
    expect(
      configError(() => loadConfig({ env: { ...GOOD, RELAYER_KEYSTORE: "k.json", RELAYER_KEYSTORE_PASSWORD: "pw" } }))
        .fields,
    ).to.deep.equal(["RELAYER_PRIVATE_KEY"]);
  });

  it("parses --roles and names an unknown role", () => {
    expect(parseRoles("headers")).to.deep.equal(["headers"]);
    expect(parseRoles(undefined)).to.deep.equal(["headers"]);
    expect(() => parseRoles("headers,pops")).to.throw(/unknown role "pops"/);
  });

  it("redacts credentials in URLs", () => {
    expect(redactUrl("http://user:secret@127.0.0.1:18443/")).to.equal("http://***:***@127.0.0.1:18443/");
  });
});
