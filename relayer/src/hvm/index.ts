/**
 * hVM on a local chain: Hemi's Bitcoin precompiles 0x40..0x49 and BitcoinKit (hBK), answered trustlessly from a
 * BitcoinLightClient and a BitcoinTxIndex. This module is the stable TypeScript API for deploying and feeding it.
 *
 * Deploy and install:
 *
 *     const hvm = await deployHvm(signer, { lightClient, network: "regtest", layout: "current", lag: 2 });
 *     // hvm.index, hvm.bitcoinKit, hvm.emulators["0x42"], hvm.precompiles["0x42"] (0x…42 when installed),
 *     // hvm.installedWith ("hardhat_setCode" | "anvil_setCode" | null), hvm.layout, hvm.lag, hvm.network
 *
 * `deployHvm` deploys BitcoinTxIndex(lightClient, lag), the ten emulators (0x42 with its layout), installs their
 * runtime code (immutables baked in) at 0x40..0x49 when the node has `hardhat_setCode` / `anvil_setCode`
 * (`install: "auto" | "required" | "never"`), then BitcoinKit pointed at wherever 0x40..0x46 answer.
 * `installHvmPrecompiles(provider, hvm)` installs again (after `hardhat_reset`, or on a fresh snapshot).
 * `hvmDeploymentFields(hvm)` gives what goes into deployments/<chainId>.json (`contracts.BitcoinTxIndex`,
 * `contracts.BitcoinKit`, and the `hvm` object, validated by `hvmRecordSchema`).
 *
 * Feed the index (the light client must already hold the headers):
 *
 *     await indexBlock(index, rpc, blockHashDisplay);      // one block, proven complete; idempotent (above
 *                                                          // MAX_WHOLE_BLOCK_TXS: tx by tx with SPV proofs)
 *     await syncIndex(index, rpc, { onBlock });            // every canonical block not yet indexed, in order
 *     await indexTxWithProof(index, rpc, txidDisplay);     // one transaction with an SPV proof
 *
 * `index` is a typechain `BitcoinTxIndex` (BitcoinTxIndex__factory.connect(hvm.index, signer)); `rpc` a
 * BitcoinRpcClient. Reorgs need nothing special: the index answers from the light client's canonical chain at query
 * time, so after the light client follows a reorg, `syncIndex` indexes the new canonical blocks and the records of
 * orphaned blocks stop counting.
 */
export { deployHvm, type DeployHvmOptions, type HvmDeployment } from "./deploy";
export { installHvmPrecompiles, detectSetCode, type EvmRpc, type SetCodeMethod } from "./install";
export {
  indexBlock,
  isBlockIndexed,
  MAX_WHOLE_BLOCK_TXS,
  syncIndex,
  type IndexBlockResult,
  type SyncIndexOptions,
  type SyncIndexResult,
} from "./indexer";
export { indexTxWithProof } from "./proveTx";
export { readBlockForIndex, type BlockForIndex } from "./blockData";
export { hvmDeploymentFields, hvmRecordSchema, parseHvmRecord } from "./record";
export {
  PRECOMPILES,
  HVM_LAYOUTS,
  DEFAULT_HVM_LAG,
  layoutEnum,
  type HvmLayout,
  type PrecompileKey,
  type PrecompileInfo,
  type EmulatorName,
} from "./precompiles";
