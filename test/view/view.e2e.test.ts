/**
 * The live view in a real headless Chromium (Debian's, installed by scripts/setup-browser.sh when missing) against a
 * real devnet started in this process (embedded Bitcoin node, Hardhat node, shared Redis under the devnet's own
 * prefix, the contracts, the relayer's roles, a Bitcoin block every second): the page loads without a console
 * error, a deposit appears and reaches minted, a keystone reaches superfinal, and the deposit's chain of trust opens
 * with its four links ✔. Screenshots are written to test-output/ (view-dashboard.png, view.png; not committed).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Network, Wallet, parseUnits } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { loadOrCreateKeys } from "../../relayer/src/devnet/accounts";
import { fastDevnetOptions } from "../../scripts/lib/fastDevnet";
import { startDevnet, type RunningDevnet } from "../../relayer/src/devnet/devnet";
import { addCollateralFromBalance, mintTestCollateral } from "../../relayer/src/evm/tunnelVault";
import { coveringKeystone } from "../../relayer/src/pop/keystone";
import { TunnelClient } from "../../relayer/src/sdk/tunnelClient";
import type { ProvenanceReport } from "../../relayer/src/provenance/types";
import type { ViewState } from "../../relayer/src/view/types";
import { startViewServer } from "../../relayer/src/view/viewServer";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = path.resolve(__dirname, "..", "..");
const SCREENSHOT = path.join(ROOT, "test-output", "view.png");
const DASHBOARD_SCREENSHOT = path.join(ROOT, "test-output", "view-dashboard.png");
const WITHDRAWAL_SCREENSHOT = path.join(ROOT, "test-output", "view-withdrawal.png");
/** Chromium's flags on a machine without a network: no background connections, no GPU, no sandbox (root). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Installs Debian's chromium through the project's setup script when it is missing. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "setup-browser.sh")], { stdio: "inherit" });
  if (r.status !== 0 || !existsSync(CHROMIUM))
    throw new Error(`scripts/setup-browser.sh could not install ${CHROMIUM} (exit ${r.status}); see its output above`);
}

describe("the live view in headless Chromium (devnet, deposit, keystone, provenance)", function () {
  this.timeout(240_000);
  let dir: string;
  let devnet: RunningDevnet;
  let browser: Browser;
  let page: Page;
  let provider: JsonRpcProvider;
  let miner: NodeJS.Timeout | undefined;
  const problems: string[] = [];

  before(async () => {
    ensureChromium();
    dir = mkdtempSync(path.join(tmpdir(), "hf-view-"));
    // Bitcoin blocks are mined by the test, so that the deposit is seen in the mempool first.
    devnet = await startDevnet(
      fastDevnetOptions(dir, { evmBlockIntervalMs: 1_000, logLevel: "info", progress: () => undefined }),
    );
    provider = new JsonRpcProvider(devnet.evm.hardhatUrl, Network.from(devnet.evm.chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  });

  after(async () => {
    clearInterval(miner);
    await browser?.close();
    provider?.destroy();
    await devnet?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("serves only 127.0.0.1, its own files and JSON, and names bad provenance queries", async () => {
    expect(devnet.viewUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const html = await (await fetch(devnet.viewUrl)).text();
    expect(html).to.include('src="/view.js"').and.include('href="/view.css"');
    expect(html, "no address outside the page's own server").to.not.match(/(src|href)="(https?:)?\/\//);
    const t0 = Date.now();
    const state = (await (await fetch(`${devnet.viewUrl}api/state`)).json()) as ViewState;
    const readMs = Date.now() - t0;
    const t1 = Date.now();
    await fetch(`${devnet.viewUrl}api/state`);
    const cachedMs = Date.now() - t1;
    await new Promise((r) => setTimeout(r, 800));
    const t2 = Date.now();
    await fetch(`${devnet.viewUrl}api/state`);
    console.log(
      `      /api/state: first read ${readMs} ms, next read ${Date.now() - t2} ms, from its cache ${cachedMs} ms`,
    );
    expect(state.chainId).to.equal(devnet.evm.chainId);
    expect(state.bitcoin.tipHeight).to.be.greaterThan(100);
    expect(state.errors).to.deep.equal([]);
    const bad = await fetch(`${devnet.viewUrl}api/provenance/nonsense`);
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.include("is not a deposit txid");
    const none = await fetch(`${devnet.viewUrl}api/provenance/${"ab".repeat(32)}`);
    expect(none.status).to.equal(404);
    expect(((await none.json()) as { error: string }).error).to.include("no minted deposit matches");
    // A malformed percent-escape is the caller's mistake too (400), not a failure of the view (it was a 502).
    expect((await fetch(`${devnet.viewUrl}api/provenance/%E0`)).status).to.equal(400);
    const badId = await fetch(`${devnet.viewUrl}api/provenance/withdrawal/abc`);
    expect(badId.status).to.equal(400);
    expect(((await badId.json()) as { error: string }).error).to.include("withdrawal id");
    const noWithdrawal = await fetch(`${devnet.viewUrl}api/provenance/withdrawal/99`);
    expect(noWithdrawal.status).to.equal(404);
    expect((await fetch(`${devnet.viewUrl}api/state`, { method: "POST" })).status).to.equal(405);
    // A request naming another host (a page elsewhere reaching in through DNS rebinding) is refused.
    const foreign = await new Promise<number>((resolve, reject) =>
      http
        .get(`${devnet.viewUrl}api/state`, { headers: { host: "fabric.example" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on("error", reject),
    );
    expect(foreign).to.equal(403);
    // A second view on the same port is refused with the option named.
    const port = Number(new URL(devnet.viewUrl).port);
    let refused = "";
    await startViewServer({
      provider,
      bitcoin: new BitcoinRpcClient({ url: devnet.bitcoin.url }),
      deployment: devnet.deployment,
      port,
    }).then(
      (v) => v.close(),
      (err: Error) => (refused = err.message),
    );
    expect(refused).to.equal(`live view (--view-port): cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  });

  it("shows a deposit reach minted, a withdrawal finalized, a keystone superfinal, and the deposit's chain of trust", async () => {
    const started = Date.now();
    await page.goto(devnet.viewUrl);
    // Every state the page shows for a deposit or a withdrawal row, in order (read every 50 ms; the page redraws
    // every second).
    // (A script string: the test's TypeScript has no DOM types.)
    await page.evaluate(`(() => {
      const seen = (window.seenStates = {});
      setInterval(() => {
        for (const r of document.querySelectorAll("tr[data-state]")) {
          const id = r.dataset.testid + "/" + (r.dataset.id ?? r.dataset.key);
          const list = (seen[id] ??= []);
          if (list[list.length - 1] !== r.dataset.state) list.push(r.dataset.state);
        }
      }, 50);
    })()`);
    const seenStates = (): Promise<Record<string, string[]>> =>
      page.evaluate<Record<string, string[]>>("window.seenStates");
    await page.locator('[data-testid="live"][data-state="live"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="lc-match"][data-state="match"]').waitFor({ timeout: 20_000 });

    // The operator posts collateral, then a deposit is paid from the Bitcoin node's wallet.
    const { keys } = loadOrCreateKeys(path.join(dir, "data"));
    const operator = new Wallet(keys.operator, provider);
    const tunnelAddress = devnet.deployment.contracts.BitcoinTunnel as string;
    const vaultId = devnet.deployment.vaults?.[0]?.id ?? 1;
    await mintTestCollateral(operator, tunnelAddress, parseUnits("100", 18));
    await addCollateralFromBalance(operator, tunnelAddress, vaultId, parseUnits("100", 18));
    const client = TunnelClient.fromDeployment(devnet.deployment, {
      provider,
      bitcoin: new BitcoinRpcClient({ url: devnet.bitcoin.url }),
    });
    // The operator is the recipient, so that it can withdraw the hemiBTC afterwards.
    const sent = await client.sendDepositFromNodeWallet({
      amountSats: 25_000_000n,
      recipient: operator.address,
      feeRate: 2,
    });
    const key = `${sent.txid}:${sent.vout}`;
    const row = page.locator(`[data-testid="deposit-row"][data-key="${key}"]`);

    // No block is mined yet: the deposit shows in the mempool, with its vault's confirmations to come.
    await page.locator(`[data-testid="deposit-row"][data-key="${key}"][data-state="mempool"]`).waitFor({
      timeout: 10_000,
    });
    expect(await row.locator("td").nth(1).textContent()).to.equal("0.25 BTC");
    expect(await row.locator("td").nth(3).textContent()).to.equal("0 / 1");
    // From now on a Bitcoin block every second.
    let mining = false;
    miner = setInterval(() => {
      if (mining) return;
      mining = true;
      devnet
        .mine(1)
        .catch(() => undefined)
        .finally(() => (mining = false));
    }, 1_000);
    await page.locator(`[data-testid="deposit-row"][data-key="${key}"][data-state="minted"]`).waitFor({
      timeout: 40_000,
    });
    const mintedState = (await (await fetch(`${devnet.viewUrl}api/state`)).json()) as ViewState;
    const minted = mintedState.deposits.find((d) => d.key === key);
    expect(minted?.sequence).to.equal(1);
    expect(await row.locator("td").nth(4).textContent()).to.equal("1");

    // The keystone covering the mint: published by the devnet's PoP miner, then ten Bitcoin blocks on top.
    // A withdrawal of part of it: requested, paid by the relayer's withdrawals role, then finalized by its proof.
    const payTo = await new BitcoinRpcClient({ url: devnet.bitcoin.url }).getNewAddress("view-test");
    const signed = TunnelClient.fromDeployment(devnet.deployment, {
      provider,
      signer: operator,
      bitcoin: new BitcoinRpcClient({ url: devnet.bitcoin.url }),
    });
    const w = await signed.requestWithdrawal({ to: payTo, sats: 5_000_000n });
    const wRow = (state: string): string => `[data-testid="withdrawal-row"][data-id="${w.id}"][data-state="${state}"]`;
    await page.locator(`[data-testid="withdrawal-row"][data-id="${w.id}"]`).waitFor({ timeout: 10_000 });

    const interval = mintedState.keystones.interval;
    const covering = coveringKeystone(minted?.evmBlock ?? 0, interval, mintedState.keystones.first);
    const published = page.locator(`[data-testid="keystone-row"][data-number="${covering}"][data-stage="published"]`);
    await published.waitFor({ timeout: 40_000 });
    await devnet.mine(10);
    const superfinal = page.locator(`[data-testid="keystone-row"][data-number="${covering}"][data-stage="superfinal"]`);
    await superfinal.waitFor({ timeout: 30_000 });
    await page.locator(wRow("finalized")).waitFor({ timeout: 30_000 });
    const wState = ((await (await fetch(`${devnet.viewUrl}api/state`)).json()) as ViewState).withdrawals.find(
      (x) => x.id === w.id.toString(),
    );
    expect(wState?.payoutTxid, "the payout's txid").to.match(/^[0-9a-f]{64}$/);
    expect(wState?.paid).to.equal((w.sats - w.fee).toString());
    // The states came in their order, none skipped back.
    const seen = await seenStates();
    const inOrder = (states: string[], order: string[]): boolean =>
      states.every((x, i) => order.includes(x) && (i === 0 || order.indexOf(x) > order.indexOf(states[i - 1])));
    const depositStates = seen[`deposit-row/${key}`];
    const withdrawalStates = seen[`withdrawal-row/${w.id}`];
    console.log(`      deposit shown ${depositStates.join(" → ")}; withdrawal shown ${withdrawalStates.join(" → ")}`);
    expect(depositStates[0]).to.equal("mempool");
    expect(inOrder(depositStates, ["mempool", "confirming", "minted"]), depositStates.join()).to.equal(true);
    // The relayer may pay within the second of the request: the first state shown is requested or paid.
    expect(inOrder(withdrawalStates, ["requested", "paid", "finalized"]), withdrawalStates.join()).to.equal(true);

    expect(await page.locator('[data-testid="ks-superfinal"]').textContent()).to.match(/superfinal up to \d+/);
    // The API names the same deposit by its sequence and by the EVM transaction that minted it.
    for (const q of ["1", minted?.evmTxHash ?? ""]) {
      const r = (await (await fetch(`${devnet.viewUrl}api/provenance/${q}`)).json()) as ProvenanceReport;
      expect(`${r.deposit.txid}:${r.deposit.vout}`, q).to.equal(key);
    }
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: DASHBOARD_SCREENSHOT, fullPage: true });

    // The chain of trust of the deposit: four links, each ✔.
    await row.click();
    await page.locator('[data-testid="provenance-status"][data-status="superfinal"]').waitFor({ timeout: 30_000 });
    for (const name of ["bitcoin", "order", "keystone", "pop"]) {
      const link = page.locator(`[data-testid="provenance-link-${name}"]`);
      expect(await link.getAttribute("data-status"), name).to.equal("pass");
      expect(await link.locator('[data-testid="provenance-mark"]').textContent(), name).to.equal("✔");
    }
    expect(await page.locator('[data-testid="provenance-link-bitcoin"]').textContent()).to.include(
      sent.txid.slice(0, 10),
    );

    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The way back: the withdrawal's chain of trust (burn, payout on Bitcoin, finalization ✔; its anchoring passes
    // or is pending, depending on whether the keystone covering the finalization is published yet).
    await page.keyboard.press("Escape");
    await page.locator(`[data-testid="withdrawal-row"][data-id="${w.id}"]`).click();
    await page.locator('[data-testid="provenance-link-finalization"][data-status="pass"]').waitFor({ timeout: 30_000 });
    for (const name of ["burn", "payout", "finalization"])
      expect(await page.locator(`[data-testid="provenance-link-${name}"]`).getAttribute("data-status"), name).to.equal(
        "pass",
      );
    for (const name of ["keystone", "pop"]) {
      const link = page.locator(`[data-testid="provenance-link-${name}"]`);
      expect(await link.getAttribute("data-status"), `${name}: ${await link.textContent()}`).to.be.oneOf([
        "pass",
        "pending",
      ]);
    }
    expect(await page.locator('[data-testid="provenance-title"]').textContent()).to.include(`withdrawal ${w.id}`);
    await page.screenshot({ path: WITHDRAWAL_SCREENSHOT, fullPage: true });
    console.log(
      `      screenshots: ${DASHBOARD_SCREENSHOT}, ${SCREENSHOT} and ${WITHDRAWAL_SCREENSHOT} (${((Date.now() - started) / 1000).toFixed(1)} s in the browser)`,
    );
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
