import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { buildTxProof } from "../../relayer/src/bitcoin/txProof";
import { redactUrl } from "../../relayer/src/config/load";
import { TunnelClient } from "../../relayer/src/sdk";
import { DEV_KEYS, startEvmNode, type EvmNode } from "../../scripts/lib/evmNode";
import { startTunnelStack, type TunnelStack } from "./helpers";

const BIN = path.resolve(__dirname, "..", "..", "bin", "hemi-fabric.js");

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/hemi-fabric.js <args>` with a clean environment plus `env`. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env } });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, stdout, stderr })));
}

/** Starts the CLI and resolves the first stdout match of `re` while it runs; `done` resolves at exit. */
function cliStreaming(
  args: string[],
  env: Record<string, string>,
  re: RegExp,
): { match: Promise<RegExpExecArray>; done: Promise<CliResult> } {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env } });
  let stdout = "";
  let stderr = "";
  let onMatch: (m: RegExpExecArray) => void = () => undefined;
  const match = new Promise<RegExpExecArray>((resolve) => (onMatch = resolve));
  proc.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    const m = re.exec(stdout);
    if (m !== null) onMatch(m);
  });
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => proc.once("exit", (code) => resolve({ code, stdout, stderr })));
  return { match: Promise.race([match, done.then((r) => Promise.reject(new Error(`exited: ${r.stderr}`)))]), done };
}

describe("CLI deposit / withdraw / status", function () {
  this.timeout(180_000);

  describe("bad input (no network needed)", () => {
    const env = { BITCOIN_RPC_URL: "http://u:p@127.0.0.1:1", STARTUP_RETRIES: "0" };
    it("rejects malformed amounts, recipients, ids and options with exit code 2 and a clear message", async () => {
      const cases: [string[], RegExp][] = [
        [["deposit", "--amount", "abc", "--recipient", "0x" + "11".repeat(20)], /"abc" is not an amount/],
        [["deposit", "--recipient", "0x" + "11".repeat(20)], /--amount is required/],
        [["deposit", "--amount", "0.1"], /--recipient is required/],
        [["withdraw", "--amount", "0.1"], /--to is required/],
        [["withdraw", "--amount", "0.000000001", "--to", "x"], /more than 8 decimals/],
        [["status", "--withdrawal", "0"], /--withdrawal must be a withdrawal id/],
        [["status", "--deposit", "xyz"], /--deposit must be a txid/],
        [["status", "--bogus"], /unknown option --bogus/],
        // Paying from the node's wallet is what `deposit` does; there is no flag for it.
        [
          ["deposit", "--from-wallet", "--amount", "0.1", "--recipient", "0x" + "11".repeat(20)],
          /unknown option --from-wallet/,
        ],
      ];
      const results = await Promise.all(cases.map(([args]) => cli(args, env)));
      results.forEach((r, i) => {
        expect(r.code, cases[i][0].join(" ")).to.equal(2);
        expect(r.stderr, cases[i][0].join(" ")).to.match(cases[i][1]);
      });
    });
  });

  describe("against a running setup (Hardhat node over HTTP, embedded Bitcoin node, deployed tunnel)", () => {
    let evm: EvmNode;
    let provider: JsonRpcProvider;
    let stack: TunnelStack;
    let env: Record<string, string>;
    let client: TunnelClient;
    const user = new Wallet(DEV_KEYS[1]);
    const operator = new Wallet(DEV_KEYS[0]);

    before(async () => {
      evm = await startEvmNode();
      provider = new JsonRpcProvider(evm.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
      const admin = new Wallet(DEV_KEYS[0], provider);
      stack = await startTunnelStack(admin);
      const dir = mkdtempSync(path.join(tmpdir(), "hf-sdk-cli-"));
      const file = path.join(dir, "31337.json");
      const genesis = await stack.rpc.getBlockHash(0);
      writeFileSync(
        file,
        JSON.stringify({
          chainId: 31337,
          contracts: {
            BitcoinLightClient: await stack.lc.getAddress(),
            BitcoinTunnel: await stack.tunnel.getAddress(),
            HemiBTC: await stack.token.getAddress(),
          },
          anchor: {
            height: 0,
            hash: genesis,
            header: await stack.rpc.getBlockHeaderHex(genesis),
            epochStartTimestamp: (await stack.rpc.getBlockHeader(genesis)).time,
            network: "regtest",
          },
          blockNumber: stack.deployBlock,
        }),
      );
      env = { EVM_RPC_URL: evm.url, BITCOIN_RPC_URL: stack.node.url, DEPLOYMENT_FILE: file, STARTUP_RETRIES: "1" };
      client = new TunnelClient({
        provider,
        signer: admin,
        bitcoin: stack.rpc,
        tunnel: await stack.tunnel.getAddress(),
        network: "regtest",
        fromBlock: stack.deployBlock,
      });
    });

    after(async () => {
      provider?.destroy();
      await evm?.close();
      await stack?.close();
    });

    it("status --json shows the vault and an empty tunnel", async () => {
      const r = await cli(["status", "--json"], env);
      expect(r.code, r.stderr).to.equal(0);
      const s = JSON.parse(r.stdout) as {
        network: string;
        vaults: { id: number; status: string }[];
        totalSupply: string;
      };
      expect(s.network).to.equal("regtest");
      expect(s.vaults.map((v) => [v.id, v.status])).to.deep.equal([[1, "Live"]]);
      expect(s.totalSupply).to.equal("0");
    });

    it("refuses a Bitcoin node whose network is not the deployment's (exit 2, naming BITCOIN_RPC_URL)", async () => {
      const file = env.DEPLOYMENT_FILE;
      const other = path.join(path.dirname(file), "mainnet-anchor.json");
      const d = JSON.parse(readFileSync(file, "utf8")) as { anchor: { network: string } };
      writeFileSync(other, JSON.stringify({ ...d, anchor: { ...d.anchor, network: "mainnet" } }));
      const r = await cli(["status"], { ...env, DEPLOYMENT_FILE: other });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include(
        `BITCOIN_RPC_URL: the Bitcoin node at ${redactUrl(stack.node.url)} is on regtest (chain "regtest"), but the tunnel's ` +
          `light client in ${other} follows mainnet`,
      );
      expect(r.stdout).to.equal("");
    });

    it("deposit --instructions-only prints the custody address and the OP_RETURN", async () => {
      const r = await cli(["deposit", "--instructions-only", "--recipient", user.address, "--amount", "0.1"], env);
      expect(r.code, r.stderr).to.equal(0);
      const ins = await client.depositInstructions(user.address);
      expect(r.stdout).to.include(`pay 0.10000000 BTC to ${ins.address} (vault 1)`);
      expect(r.stdout).to.include(`script 6a14${user.address.slice(2).toLowerCase()}`);
      expect(r.stdout).to.include("tunnel fee 10100 sat");
    });

    it("deposit pays from the node's wallet; status --deposit follows it to the mint", async () => {
      const r = await cli(["deposit", "--amount", "0.2", "--recipient", user.address, "--json"], env);
      expect(r.code, r.stderr).to.equal(0);
      const sent = JSON.parse(r.stdout) as { txid: string; vout: number; amountSats: string };
      expect(sent.amountSats).to.equal("20000000");
      let st = await cli(["status", "--deposit", sent.txid], env);
      expect(st.stdout).to.match(/in the mempool \(vault 1\)/);
      await stack.mine(6);
      st = await cli(["status", "--deposit", sent.txid], env);
      expect(st.stdout).to.match(/mined in block 102, 6\/6 confirmations, light client 6\/6 \(ready to mint\)/);
      await client.proveDeposit(sent.txid);
      st = await cli(["status", "--deposit", sent.txid, "--json"], env);
      const s = JSON.parse(st.stdout) as { stage: string; sequence: string; minted: string; recipient: string };
      expect([s.stage, s.sequence, s.minted, s.recipient]).to.deep.equal(["minted", "1", "19979900", user.address]);
    });

    it("withdraw refuses another network's address (exit 2) and requests one to a regtest address", async () => {
      const bad = await cli(
        [
          "withdraw",
          "--amount",
          "0.01",
          "--to",
          "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
          "--private-key",
          DEV_KEYS[1],
        ],
        env,
      );
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.match(/is a mainnet address, but this tunnel is on regtest/);
      // The operator (DEV_KEYS[0]) deposits too; the vault's collateral covers both.
      const own = await client.sendDepositFromNodeWallet({ amountSats: 10_000_000n, recipient: operator.address });
      await stack.mine(6);
      await client.proveDeposit(own.txid);
      const to = await stack.rpc.getNewAddress();
      const ok = await cli(["withdraw", "--amount", "1000000sat", "--to", to], {
        ...env,
        USER_PRIVATE_KEY: DEV_KEYS[1],
      });
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.match(
        /withdrawal 1 requested from vault 1: burned 0.01000000 hemiBTC, payout 0.00999800 BTC/,
      );
      const st = await cli(["status", "--withdrawal", "1"], env);
      expect(st.code, st.stderr).to.equal(0);
      expect(st.stdout).to.include(`to ${to}): requested from vault 1, waiting for the operator's payout`);
      const sum = await cli(["status"], env);
      expect(sum.stdout).to.match(/deposits minted 2, withdrawals requested 1/);
      expect(sum.stdout).to.match(/withdrawal 1 Pending 0.01000000/);
    });

    it("bond posts collateral to the signer's vault (minting the local test token) and explains itself", async () => {
      const help = await cli(["bond", "--help"], env);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.match(/--amount <tokens>/);
      expect(help.stdout).to.match(/--vault <N> .*\(default: /);
      const before = (await stack.tunnel.vault(1)).collateral;
      const ok = await cli(["bond", "--amount", "25.5", "--mint", "--private-key", DEV_KEYS[0]], env);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.match(/posting 25.5 collateral to vault 1/);
      expect(ok.stdout).to.match(/vault 1: collateral \d+\.5 \(worth [\d.]+ BTC\) for [\d.]+ BTC of custody; backed/);
      expect((await stack.tunnel.vault(1)).collateral).to.equal(before + 255n * 10n ** 17n);
      // Bad input changes nothing: exit 2 for usage, 1 for a signer without the tokens.
      const bad = await cli(["bond", "--amount", "-1"], env);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.match(/--amount must be/);
      const poor = await cli(["bond", "--amount", "5", "--private-key", DEV_KEYS[2]], env);
      expect(poor.code).to.equal(1);
      expect(poor.stderr).to.match(/collateral of 5000000000000000000 units needs that much .* holds 0/);
      expect((await stack.tunnel.vault(1)).collateral).to.equal(before + 255n * 10n ** 17n);
    });

    it("deposit --wait follows the deposit until it is minted", async () => {
      const run = cliStreaming(
        ["deposit", "--amount", "25000sat", "--recipient", user.address, "--wait", "--timeout", "60"],
        { ...env, STARTUP_RETRIES: "1" },
        // The first tracking line: mining before it would skip the mempool state.
        /deposit ([0-9a-f]{64}):0 0\.00025000 BTC for 0x[0-9a-fA-F]{40}: in the mempool/,
      );
      const txid = (await run.match)[1];
      await stack.mine(6);
      await client.proveDeposit(txid);
      const r = await run.done;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`deposit ${txid}:0 0.00025000 BTC for ${user.address}: in the mempool (vault 1)`);
      expect(r.stdout).to.match(/minted 0\.00024875 hemiBTC to 0x[0-9a-fA-F]{40}, sequence 3/);
    });

    it("deposit refuses an amount under the vault minimum with --instructions-only as the paying path does", async () => {
      const args = ["deposit", "--amount", "9999sat", "--recipient", user.address];
      const [ins, pay] = await Promise.all([cli([...args, "--instructions-only"], env), cli(args, env)]);
      for (const r of [ins, pay]) {
        expect(r.code, r.stderr).to.equal(1);
        expect(r.stderr).to.include(
          "deposit of 9999 sat is below vault 1's minimum of 10000 sat: it would never be minted",
        );
        expect(r.stdout).to.equal("");
      }
    });

    it("a withdrawal the tunnel refuses names the custom error (UnsupportedWithdrawalScript), not raw data", async () => {
      const r = await cli(
        ["withdraw", "--amount", "1000000sat", "--to", `0x${stack.custodyScript}`, "--private-key", DEV_KEYS[1]],
        env,
      );
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/reverted: UnsupportedWithdrawalScript\(0x0014[0-9a-f]{40}\)/);
    });

    describe("on a Bitcoin node without -txindex (getrawtransaction finds confirmed transactions only by block)", () => {
      before(() => void (stack.node.node.txindex = false));
      after(() => void (stack.node.node.txindex = true));

      it("status --deposit and deposit --wait find a minted deposit from the tunnel's record", async () => {
        const run = cliStreaming(
          ["deposit", "--amount", "40000sat", "--recipient", user.address, "--wait", "--timeout", "90"],
          env,
          /deposit ([0-9a-f]{64}):0 0\.00040000 BTC for 0x[0-9a-fA-F]{40}: in the mempool/,
        );
        const txid = (await run.match)[1];
        const height = (await stack.rpc.getBlockCount()) + 1;
        await stack.mine(6);
        // Mined: the node no longer serves it by txid.
        const lost = await cli(["status", "--deposit", txid], env);
        expect(lost.stdout).to.include("not known to the Bitcoin node");
        // Minted by anyone (here the test, with a proof built from the block).
        const proof = await buildTxProof(stack.rpc, txid, await stack.rpc.getBlockHash(height));
        const admin = new Wallet(DEV_KEYS[0], provider);
        await (await stack.tunnel.connect(admin).getFunction("confirmDeposit")(proof, 0)).wait();
        const r = await run.done;
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(
          new RegExp(
            `deposit ${txid}:0 0\\.00040000 BTC: minted 0\\.0003\\d+ hemiBTC to ${user.address}, sequence \\d+`,
          ),
        );
        const st = await cli(["status", "--deposit", txid, "--json"], env);
        expect(st.code, st.stderr).to.equal(0);
        const s = JSON.parse(st.stdout) as {
          stage: string;
          vout: number;
          recipient: string;
          sats: string;
          blockHeight: number;
        };
        expect([s.stage, s.vout, s.recipient, s.sats, s.blockHeight]).to.deep.equal([
          "minted",
          0,
          user.address,
          "40000",
          height,
        ]);
      });
    });
  });
});
