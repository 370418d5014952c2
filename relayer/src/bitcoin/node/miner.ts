/**
 * Block assembly and real proof of work: a BIP34 coinbase paying subsidy plus fees, Bitcoin Core's
 * witness commitment (with the 32-byte zero witness reserved value), the merkle root over txids, and
 * a nonce search until the header hash meets the regtest target.
 */
import { Block, Transaction } from "bitcoinjs-lib";
import {
  blockSubsidy,
  grindNonce,
  heightPush,
  merkleRoot,
  REGTEST_BITS,
  serializeHeader,
  txidOf,
  WITNESS_COMMITMENT_PREFIX,
  witnessCommitment,
} from "./consensus";

/** Block version Bitcoin Core's regtest miner uses (version bits, no deployment signalled). */
export const BLOCK_VERSION = 0x20000000;

export interface BlockTemplate {
  prevHashDisplay: string;
  height: number;
  time: number;
  payoutScript: Buffer;
  /** Non-coinbase transactions in block order. */
  txs: Transaction[];
  /** Sum of their fees. */
  fees: bigint;
}

function varint(n: number): Buffer {
  if (n < 0xfd) return Buffer.from([n]);
  if (n <= 0xffff) {
    const b = Buffer.alloc(3);
    b[0] = 0xfd;
    b.writeUInt16LE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 0xfe;
  b.writeUInt32LE(n, 1);
  return b;
}

/** The coinbase Bitcoin Core's CreateNewBlock makes: scriptSig `<height> OP_0`, payout, witness commitment. */
export function buildCoinbase(height: number, payoutScript: Buffer, value: bigint): Transaction {
  const cb = new Transaction();
  cb.version = 2;
  cb.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, Buffer.concat([heightPush(height), Buffer.from([0x00])]));
  cb.addOutput(payoutScript, value);
  return cb;
}

/** Builds and mines a block on the template; returns the block and its full serialization. */
export function mineBlock(t: BlockTemplate, maxTries = 10_000_000): { block: Block; raw: Buffer } {
  const coinbase = buildCoinbase(t.height, t.payoutScript, blockSubsidy(t.height) + t.fees);
  const reserved = Buffer.alloc(32);
  coinbase.setWitness(0, [reserved]);
  const txs = [coinbase, ...t.txs];
  const commitment = witnessCommitment(txs, reserved);
  coinbase.addOutput(Buffer.concat([WITNESS_COMMITMENT_PREFIX, commitment]), 0n);
  const root = merkleRoot(txs.map((tx) => txidOf(tx)));
  const header = serializeHeader({
    version: BLOCK_VERSION,
    prevHash: Buffer.from(t.prevHashDisplay, "hex").reverse(),
    merkleRoot: root,
    time: t.time,
    bits: REGTEST_BITS,
    nonce: 0,
  });
  if (grindNonce(header, REGTEST_BITS, maxTries) === undefined)
    throw new Error(`no nonce found in ${maxTries} tries for block at height ${t.height}`);
  const body = Buffer.concat([varint(txs.length), ...txs.map((tx) => Buffer.from(tx.toBuffer()))]);
  const raw = Buffer.concat([header, body]);
  const block = new Block();
  block.version = BLOCK_VERSION;
  block.prevHash = header.subarray(4, 36);
  block.merkleRoot = root;
  block.timestamp = t.time;
  block.bits = REGTEST_BITS;
  block.nonce = header.readUInt32LE(76);
  block.transactions = txs;
  block.witnessCommit = commitment;
  return { block, raw };
}
