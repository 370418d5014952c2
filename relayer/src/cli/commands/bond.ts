/**
 * `hemi-fabric bond`: an operator posts collateral to its vault. Collateral is the tunnel's collateral ERC-20 (not
 * hemiBTC); every satoshi a vault holds must be backed by collateral worth the tunnel's collateral ratio of it, so a
 * vault without enough takes no new deposits and cannot serve withdrawals beyond what its collateral covers.
 */
import { Wallet, formatUnits, parseUnits, type Provider } from "ethers";
import { ConfigError } from "../../config/load";
import { loadSigner } from "../../config/signer";
import { errorMessage } from "../../core/logger";
import { deploymentPath, readDeployment } from "../../evm/deployment";
import { connectEvm } from "../../evm/provider";
import { tunnelAt } from "../../evm/tunnelAbi";
import { addCollateralFromBalance, mintTestCollateral } from "../../evm/tunnelVault";
import { formatBtc } from "../../sdk/amounts";
import type { Command } from "../main";
import { fail, intOption, loadCliConfig, parseArgs, toJson } from "./tunnelCommon";

const USAGE = "bond --amount <tokens> [--vault N] [--mint] [--private-key 0x...] [--json] [--config file.json]";

const HELP = `Usage: npx hemi-fabric ${USAGE}

Posts collateral to a vault of the tunnel (approve + addCollateral), pulled from the signer's balance of the
tunnel's collateral token. Every satoshi a vault holds must be backed by collateral worth the tunnel's collateral
ratio (default 150%) at the governance price; without it the vault takes no new deposits and serves no withdrawal
its collateral does not cover. Collateral is returned to the operator only as the vault's custody drains.

Options:
  --amount <tokens>      collateral to post, in whole tokens (18 decimals), e.g. 150 or 12.5 (required)
  --vault N              the vault (default: the deployment file's vault operated by the signer, else 1)
  --mint                 mint the amount first from the local TestCollateral token (local deployments only)
  --private-key 0x...    EVM key that pays (default: RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE, the deploy key)
  --json                 print the result as JSON
  --config file.json     configuration file (EVM_RPC_URL, DEPLOYMENT_FILE / DEPLOYMENTS_DIR, ...)
  --help                 show this help`;

/** The vault the signer operates according to the deployment file, if any. */
function defaultVault(vaults: { id: number; operator: string }[] | undefined, signer: string): number {
  const mine = vaults?.find((v) => v.operator.toLowerCase() === signer.toLowerCase());
  return mine?.id ?? 1;
}

export const bondCommand: Command = {
  name: "bond",
  summary: `post collateral to a vault: ${USAGE}`,
  help: {
    usage: `hemi-fabric ${USAGE}`,
    description:
      "Posts collateral to a vault of the tunnel (approve + addCollateral), pulled from the signer's balance of the " +
      "tunnel's collateral token. Every satoshi a vault holds must be backed by collateral worth the tunnel's " +
      "collateral ratio (default 150%) at the governance price; without it the vault takes no new deposits and serves " +
      "no withdrawal its collateral does not cover. Collateral is returned only as the vault's custody drains.",
    options: [
      {
        name: "amount",
        value: "tokens",
        description: "collateral to post, in whole tokens (18 decimals), e.g. 150 (required)",
      },
      {
        name: "vault",
        value: "N",
        description: "the vault",
        default: "the deployment's vault operated by the signer, else 1",
      },
      {
        name: "mint",
        description: "mint the amount first from the local TestCollateral token (local deployments only)",
      },
      {
        name: "private-key",
        value: "0x...",
        description: "EVM key that pays",
        default: "RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE",
      },
      { name: "json", description: "print the result as JSON" },
      { name: "config", value: "file.json", description: "settings file (same names as the environment variables)" },
    ],
  },
  async run(args: string[]): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(HELP);
      return 0;
    }
    let parsed;
    let cfg;
    let units: bigint;
    try {
      parsed = parseArgs(args, ["amount", "vault", "private-key", "config"], ["mint", "json"]);
      const a = parsed.values.get("amount");
      if (a === undefined) throw new ConfigError(`--amount is required (usage: ${USAGE})`, ["amount"]);
      try {
        units = parseUnits(a, 18);
      } catch {
        throw new ConfigError(`--amount must be a number of tokens (up to 18 decimals), got "${a}"`, ["amount"]);
      }
      if (units <= 0n) throw new ConfigError(`--amount must be positive, got "${a}"`, ["amount"]);
      cfg = loadCliConfig(parsed);
    } catch (err) {
      console.error(`hemi-fabric bond: ${errorMessage(err)}`);
      return 2;
    }
    let provider: Provider | undefined;
    try {
      const evm = await connectEvm(cfg.EVM_RPC_URL, cfg.STARTUP_RETRIES, cfg.STARTUP_RETRY_DELAY_MS);
      provider = evm.provider;
      const file = cfg.DEPLOYMENT_FILE ?? deploymentPath(cfg.DEPLOYMENTS_DIR, evm.chainId);
      const deployment = readDeployment(file);
      const tunnelAddress = cfg.TUNNEL_ADDRESS ?? deployment.contracts.BitcoinTunnel;
      if (tunnelAddress === undefined) throw new ConfigError(`${file} has no BitcoinTunnel`, ["DEPLOYMENT_FILE"]);
      const key = parsed.values.get("private-key");
      const signer =
        key === undefined
          ? await loadSigner(cfg, evm.provider)
          : new Wallet(key.startsWith("0x") ? key : `0x${key}`, evm.provider);
      const me = await signer.getAddress();
      const vaultId = intOption(parsed, "vault", 1, 2 ** 32 - 1) ?? defaultVault(deployment.vaults, me);
      const tunnel = tunnelAt(tunnelAddress, signer);
      if (Number(await tunnel.vaultCount()) < vaultId) {
        throw new ConfigError(`vault ${vaultId} does not exist on the tunnel at ${tunnelAddress}`, ["vault"]);
      }
      if (parsed.flags.has("mint")) {
        if (!parsed.flags.has("json")) console.log(`minting ${formatUnits(units, 18)} test collateral to ${me}...`);
        await mintTestCollateral(signer, tunnelAddress, units);
      }
      if (!parsed.flags.has("json")) console.log(`posting ${formatUnits(units, 18)} collateral to vault ${vaultId}...`);
      const total = await addCollateralFromBalance(signer, tunnelAddress, vaultId, units);
      const b = await tunnel.vaultBacking(vaultId);
      const v = await tunnel.vault(vaultId);
      const result = {
        vaultId,
        posted: units,
        collateral: total,
        collateralSats: b.collateralSats,
        custody: v.custody,
        backed: b.backed,
        depositCapacity: b.depositCapacity,
      };
      if (parsed.flags.has("json")) {
        console.log(toJson(result));
      } else {
        console.log(
          `vault ${vaultId}: collateral ${formatUnits(total, 18)} (worth ${formatBtc(b.collateralSats)} BTC) for ` +
            `${formatBtc(v.custody)} BTC of custody; ${b.backed ? "backed" : "SHORT of collateral"}, room for ` +
            `${formatBtc(b.depositCapacity)} BTC more deposits`,
        );
      }
      return 0;
    } catch (err) {
      return fail("bond", err);
    } finally {
      provider?.destroy();
    }
  },
};
