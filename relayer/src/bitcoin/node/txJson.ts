/** Transactions and blocks as Bitcoin Core's RPC shows them (TxToUniv, blockheaderToJSON, blockToJSON). */
import { Transaction } from "bitcoinjs-lib";
import type {
  BlockHeaderInfo,
  BlockInfo,
  BlockInfoWithTxs,
  BlockTransactionInfo,
  DecodedTransaction,
  TxInputInfo,
} from "../rpcTypes";
import type { BlockEntry, ChainState } from "./chainState";
import { bitsToTarget, difficulty, hash256, satsToBtc, txidOf } from "./consensus";
import { scriptPubKeyJson, scriptToAsm } from "./script";

export function hex64(n: bigint): string {
  return n.toString(16).padStart(64, "0");
}

export function decodeTx(tx: Transaction): DecodedTransaction {
  const vin: TxInputInfo[] = tx.ins.map((input) => {
    const witness =
      input.witness.length > 0 ? { txinwitness: input.witness.map((w) => Buffer.from(w).toString("hex")) } : {};
    if (tx.isCoinbase())
      return { coinbase: Buffer.from(input.script).toString("hex"), ...witness, sequence: input.sequence };
    return {
      txid: Buffer.from(input.hash).reverse().toString("hex"),
      vout: input.index,
      scriptSig: { asm: scriptToAsm(input.script, true), hex: Buffer.from(input.script).toString("hex") },
      ...witness,
      sequence: input.sequence,
    };
  });
  const weight = tx.weight();
  return {
    txid: txidOf(tx).reverse().toString("hex"),
    hash: hash256(tx.toBuffer()).reverse().toString("hex"),
    version: tx.version,
    size: tx.byteLength(),
    vsize: Math.ceil(weight / 4),
    weight,
    locktime: tx.locktime,
    vin,
    vout: tx.outs.map((o, n) => ({ value: satsToBtc(o.value), n, scriptPubKey: scriptPubKeyJson(o.script) })),
  };
}

export function headerJson(chain: ChainState, e: BlockEntry): BlockHeaderInfo {
  const next = chain.isActive(e) ? chain.atHeight(e.height + 1) : undefined;
  return {
    hash: e.hash,
    confirmations: chain.confirmations(e),
    height: e.height,
    version: e.version,
    versionHex: (e.version >>> 0).toString(16).padStart(8, "0"),
    merkleroot: e.merkleRoot,
    time: e.time,
    mediantime: e.mtp,
    nonce: e.nonce,
    bits: (e.bits >>> 0).toString(16).padStart(8, "0"),
    target: hex64(bitsToTarget(e.bits)),
    difficulty: difficulty(e.bits),
    chainwork: hex64(e.chainWork),
    nTx: e.txs.length,
    ...(e.prev !== undefined ? { previousblockhash: e.prev.hash } : {}),
    ...(next !== undefined ? { nextblockhash: next.hash } : {}),
  };
}

export function blockJson(chain: ChainState, e: BlockEntry): BlockInfo {
  const h = headerJson(chain, e);
  const { previousblockhash, nextblockhash, ...rest } = h;
  return {
    ...rest,
    strippedsize: e.strippedSize,
    size: e.size,
    weight: e.weight,
    tx: e.txids.slice(),
    ...(previousblockhash !== undefined ? { previousblockhash } : {}),
    ...(nextblockhash !== undefined ? { nextblockhash } : {}),
  };
}

/**
 * getblock verbosity 2, or 3 with `prevout` on every non-coinbase input (Bitcoin Core shows fees and prevouts only
 * while it has the block's undo data: here, while the block is connected).
 */
export function blockJsonWithTxs(chain: ChainState, e: BlockEntry, withPrevout = false): BlockInfoWithTxs {
  const b = blockJson(chain, e);
  let spent = 0;
  const tx: BlockTransactionInfo[] = e.txs.map((t, i) => {
    const decoded = decodeTx(t);
    if (withPrevout && i > 0 && e.undo !== undefined) {
      for (const input of decoded.vin) {
        const u = e.undo[spent++];
        input.prevout = {
          generated: u.coin.coinbase,
          height: u.coin.height,
          value: satsToBtc(u.coin.value),
          scriptPubKey: scriptPubKeyJson(u.coin.script),
        };
      }
    }
    return {
      ...decoded,
      hex: Buffer.from(t.toBuffer()).toString("hex"),
      ...(i > 0 && e.fees !== undefined ? { fee: satsToBtc(e.fees[i]) } : {}),
    };
  });
  return { ...b, tx };
}
