/**
 * A tunnel stack for SDK tests: the embedded regtest node, BitcoinLightClient anchored at its genesis, BitcoinTunnel
 * (with its modules and a TestCollateral) with one collateralised vault whose custody key the test holds, a header relay done by the test, and a payout builder that plays
 * the vault operator (so that withdrawals are tested without the relayer).
 */
import { Contract, ContractFactory, type Signer } from "ethers";
import hre from "hardhat";
import { startRegtestNode, type RunningRegtestNode } from "../../relayer/src/bitcoin/node";
import { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";
import { buildSignedTxWithChange, keyOutput, randomKey, type KeyPair } from "../../relayer/src/bitcoin/txBuilder";
import { payoutOpReturnHex } from "../../relayer/src/sdk";
import { deployTunnel } from "../../relayer/src/evm/tunnelDeploy";
import { TestCollateral__factory, type BitcoinTunnel, type TestCollateral } from "../../typechain-types";

export const REGTEST_NETWORK = 2;

export interface VaultTermsArg {
  depositFeeBps: number;
  depositFlatFee: bigint;
  withdrawalFeeBps: number;
  withdrawalFlatFee: bigint;
  minDeposit: bigint;
}

export interface TunnelStack {
  node: RunningRegtestNode;
  rpc: BitcoinRpcClient;
  lc: Contract;
  tunnel: BitcoinTunnel;
  token: Contract;
  collateral: TestCollateral;
  vaultId: number;
  custodyKey: KeyPair;
  /** Hex without 0x. */
  custodyScript: string;
  /** A node-wallet address that mining pays (the faucet). */
  faucet: string;
  deployBlock: number;
  /** Submits every header the light client lacks. */
  relayHeaders(): Promise<void>;
  /** Mines `n` blocks to the faucet and relays them. */
  mine(n: number, relay?: boolean): Promise<void>;
  /**
   * Pays withdrawal `id` as the operator would: `paid` to `script` + OP_RETURN <id>, change to custody, from every
   * confirmed custody coin (or only the `only`-th). Returns the txid.
   */
  payOut(id: bigint, script: string, paid: bigint, only?: number): Promise<string>;
  close(): Promise<void>;
}

async function factory(name: string, signer: Signer): Promise<ContractFactory> {
  const a = await hre.artifacts.readArtifact(name);
  return new ContractFactory(a.abi, a.bytecode, signer);
}

/** Starts the node, mines 101 blocks to the faucet, deploys the contracts with `admin` and creates the vault. */
export async function startTunnelStack(
  admin: Signer,
  opts: { confirmations?: number; terms?: Partial<VaultTermsArg>; collateral?: bigint } = {},
): Promise<TunnelStack> {
  const node = await startRegtestNode({ port: 0 });
  const rpc = new BitcoinRpcClient({ url: node.url });
  try {
    const faucet = await rpc.getNewAddress();
    await rpc.generateToAddress(101, faucet);
    const genesisHash = await rpc.getBlockHash(0);
    const genesis = await rpc.getBlockHeaderHex(genesisHash);
    const time = (await rpc.getBlockHeader(genesisHash)).time;
    const lcF = await factory("BitcoinLightClient", admin);
    const lc = (await lcF.deploy("0x" + genesis, 0, time, REGTEST_NETWORK)) as Contract;
    const deployBlock = (await lc.deploymentTransaction()?.wait())?.blockNumber ?? 0;
    const me = await admin.getAddress();
    const deployed = await deployTunnel({ signer: admin, lightClient: await lc.getAddress(), admin: me });
    const tunnel = deployed.tunnel;
    const collateral = TestCollateral__factory.connect(deployed.CollateralToken, admin);
    await (await tunnel.grantRole(await tunnel.VAULT_MANAGER_ROLE(), me)).wait();
    await (await tunnel.grantRole(await tunnel.OPERATOR_ROLE(), me)).wait();
    const custodyKey = randomKey();
    const custodyScript = keyOutput(custodyKey, "p2wpkh").script.toString("hex");
    const terms: VaultTermsArg = {
      depositFeeBps: 10,
      depositFlatFee: 100n,
      withdrawalFeeBps: 0,
      withdrawalFlatFee: 200n,
      minDeposit: 10_000n,
      ...opts.terms,
    };
    await (await tunnel.createVault("0x" + custodyScript, terms)).wait();
    const vaultId = 1;
    if ((opts.confirmations ?? 6) !== 6)
      await (await tunnel.setVaultConfirmations(vaultId, opts.confirmations ?? 6)).wait();
    // Collateral for 10 BTC at the default price (1 tCOL = 1,000,000 sat): backs 6.67 BTC of custody at 150%.
    const units = opts.collateral ?? 1_000n * 10n ** 18n;
    if (units > 0n) {
      await (await collateral.mint(me, units)).wait();
      await (await collateral.approve(await tunnel.getAddress(), units)).wait();
      await (await tunnel.addCollateral(vaultId, units)).wait();
    }
    const tokenAbi = (await hre.artifacts.readArtifact("HemiBTC")).abi;
    const token = new Contract((await tunnel.token()) as string, tokenAbi, admin);

    const relayHeaders = async (): Promise<void> => {
      const [, best] = (await lc.bestBlock()) as [string, bigint];
      const tip = await rpc.getBlockCount();
      for (let from = Number(best) + 1; from <= tip; from += 500) {
        const rows = await rpc.getRawHeaders(from, Math.min(500, tip - from + 1));
        await (await lc.submitHeaders("0x" + rows.map((r) => r.header).join(""))).wait();
      }
    };
    await relayHeaders();
    const stack: TunnelStack = {
      node,
      rpc,
      lc,
      tunnel,
      token,
      collateral,
      vaultId,
      custodyKey,
      custodyScript,
      faucet,
      deployBlock,
      relayHeaders,
      async mine(n, relay = true) {
        await rpc.generateToAddress(n, faucet);
        if (relay) await relayHeaders();
      },
      async payOut(id, script, paid, only) {
        const scan = await rpc.scanTxOutSet([`raw(${custodyScript})`]);
        const coins = only === undefined ? scan.unspents : scan.unspents.slice(only, only + 1);
        const inputs = coins.map((u) => ({
          txid: u.txid,
          vout: u.vout,
          value: BigInt(Math.round(u.amount * 1e8)),
          script: custodyScript,
          key: custodyKey,
        }));
        const { tx } = buildSignedTxWithChange({
          inputs,
          outputs: [
            { script, value: paid },
            { script: payoutOpReturnHex(id), value: 0n },
          ],
          changeScript: custodyScript,
          feeRate: 2,
        });
        return rpc.sendRawTransaction(tx.toHex());
      },
      close: () => node.close(),
    };
    return stack;
  } catch (err) {
    await node.close();
    throw err;
  }
}

/** Polls `fn` until it is true (bounded). */
export async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Asserts that `p` rejects with a message matching `re`; returns the error. */
export async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof Error)) throw new Error(`expected a rejection matching ${re}, got ${String(caught)}`);
  if (!re.test(caught.message)) throw new Error(`expected a rejection matching ${re}, got: ${caught.message}`);
  return caught;
}
