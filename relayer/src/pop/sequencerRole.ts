/** KeystoneLedger's SEQUENCER_ROLE for the keystones role's signer when it is not the deployer. */
import { Contract, type Signer } from "ethers";
import type { Logger } from "pino";
import { loadArtifact } from "../evm/artifacts";

/** Grants SEQUENCER_ROLE of the ledger to `sequencer` (no-op when undefined or the signer itself). */
export async function grantSequencer(
  signer: Signer,
  ledgerAddress: string,
  sequencer: string | undefined,
  log?: Logger,
): Promise<void> {
  if (sequencer === undefined || sequencer.toLowerCase() === (await signer.getAddress()).toLowerCase()) return;
  const ledger = new Contract(ledgerAddress, loadArtifact("KeystoneLedger").abi, signer);
  const role = (await ledger.getFunction("SEQUENCER_ROLE").staticCall()) as string;
  const tx = (await ledger.getFunction("grantRole")(role, sequencer)) as { wait(): Promise<unknown> };
  await tx.wait();
  log?.info({ sequencer }, "KeystoneLedger SEQUENCER_ROLE granted (POP_SEQUENCER_ADDRESS)");
}
