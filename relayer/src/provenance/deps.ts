/**
 * The readers a provenance check needs, built from a deployment file's addresses and the two nodes (for callers that
 * hold a deployment, such as the live view and the benchmark; the CLI builds them from its settings).
 */
import { Contract, type JsonRpcProvider } from "ethers";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { loadArtifact } from "../evm/artifacts";
import type { Deployment } from "../evm/deployment";
import { LightClientReader } from "../evm/lightClient";
import { KeystoneLedgerClient, PopVerifierClient } from "../pop/popContracts";
import { PublicationIndex } from "../pop/publicationIndex";
import type { ProvenanceDeps } from "./types";

/** Throws when the deployment has no tunnel or no PoP contracts (nothing to check a chain of trust against). */
export async function provenanceDepsOf(
  provider: JsonRpcProvider,
  bitcoin: BitcoinRpcClient,
  deployment: Deployment,
): Promise<ProvenanceDeps> {
  const pop = deployment.pop;
  const tunnelAddress = deployment.contracts.BitcoinTunnel as string | undefined;
  if (pop === undefined || tunnelAddress === undefined)
    throw new Error("the deployment has no PoP contracts or no tunnel: no provenance");
  const lc = new LightClientReader(deployment.contracts.BitcoinLightClient, provider);
  return {
    provider,
    bitcoin,
    lc,
    lightClient: new Contract(lc.address, loadArtifact("BitcoinLightClient").abi, provider),
    tunnel: new Contract(tunnelAddress, loadArtifact("BitcoinTunnel").abi, provider),
    ledger: new KeystoneLedgerClient(pop.keystoneLedger, provider),
    verifier: new PopVerifierClient(pop.popVerifier, provider),
    evmFromBlock: deployment.blockNumber ?? 0,
    index: new PublicationIndex(bitcoin),
    bitcoinFromHeight: (await lc.anchorHeight()) + 1,
  };
}
