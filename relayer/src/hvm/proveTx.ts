/** Enters one mined transaction into BitcoinTxIndex with an SPV proof (its witness data stays unproven). */
import type { ContractTransactionReceipt } from "ethers";
import type { BitcoinTxIndex } from "../../../typechain-types";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import { buildTxProof } from "../bitcoin/txProof";

/** Proves transaction `txid` (display order) into the index; returns the receipt. */
export async function indexTxWithProof(
  index: BitcoinTxIndex,
  rpc: BitcoinRpcClient,
  txid: string,
): Promise<ContractTransactionReceipt> {
  const proof = await buildTxProof(rpc, txid);
  const tx = await index.indexTx(proof);
  return (await tx.wait()) as ContractTransactionReceipt;
}
