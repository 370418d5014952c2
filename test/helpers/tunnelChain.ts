/**
 * A regtest Bitcoin chain mined inside a test (real proof of work at regtest difficulty) and mirrored into a
 * BitcoinLightClient, plus builders for the tunnel's Bitcoin transactions (deposits and payouts), signed with
 * real keys by the relayer's tx builder. Everything is internal byte order on the contract side.
 */
import { randomBytes } from "node:crypto";
import type { Transaction } from "bitcoinjs-lib";
import { ethers } from "hardhat";
import type { BitcoinLightClient } from "../../typechain-types";
import { buildSignedTx, keyOutput, randomKey, type OutputSpec } from "../../relayer/src/bitcoin/txBuilder";
import type { TxInBlockArg, TxProofArg } from "../../relayer/src/evm/tunnel";
import { txidOf as txidBytes } from "../../relayer/src/bitcoin/node/consensus";
import { REGTEST_GENESIS, hash256, hex0x, merkleProof, mineRegtestHeader } from "./bitcoinData";

/** BitcoinLightClient.Network.Regtest. */
export const REGTEST_NETWORK = 2;

/** A block mined by the test. */
export interface MinedBlock {
  header: Buffer;
  hash: string; // 0x, internal order
  height: number;
  time: number;
  txids: Buffer[]; // internal order; index 0 is a filler "coinbase"
  rawTxs: Buffer[]; // non-witness serializations
}

/** The TxProof struct and the TxInBlock item as the contracts take them: the relayer's own types. */
export type { TxInBlockArg, TxProofArg };

/** The non-witness serialization of a transaction (what its txid commits to). */
export function nonWitness(tx: Transaction): Buffer {
  const c = tx.clone();
  c.stripWitnesses();
  return Buffer.from(c.toBuffer());
}

/** A random P2WPKH script (a fresh key). */
export function randomP2wpkh(): Buffer {
  return keyOutput(randomKey(), "p2wpkh").script;
}

/** `OP_RETURN PUSH(data)` built by hand, for exact-byte tests. */
export function opReturn(data: Buffer): Buffer {
  if (data.length > 75) throw new Error("direct push only");
  return Buffer.concat([Buffer.from([0x6a, data.length]), data]);
}

/** The payout OP_RETURN for withdrawal `id`: 0x6a08 || id as 8 bytes big-endian. */
export function withdrawalIdScript(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(id);
  return opReturn(b);
}

/** Builds and signs a transaction spending a fresh (made-up) P2WPKH outpoint into `outputs`. */
export function signedTx(outputs: OutputSpec[]): Transaction {
  const key = randomKey();
  const funding = keyOutput(key, "p2wpkh");
  const total = outputs.reduce((s, o) => s + ("value" in o && o.value !== undefined ? o.value : 0n), 0n);
  return buildSignedTx({
    inputs: [
      {
        txid: randomBytes(32).toString("hex"),
        vout: 0,
        value: total + 1_000n,
        script: funding.script,
        key,
      },
    ],
    outputs,
  });
}

/** A deposit: `sats` to `custodyScript`, then `OP_RETURN <recipient>` (or the given OP_RETURN / extra outputs). */
export function depositTx(
  custodyScript: Buffer,
  sats: bigint,
  recipient: string,
  opts: { opReturnScript?: Buffer | null; extra?: OutputSpec[] } = {},
): Transaction {
  const outputs: OutputSpec[] = [{ script: custodyScript, value: sats }];
  if (opts.opReturnScript !== null) {
    outputs.push({ script: opts.opReturnScript ?? opReturn(Buffer.from(recipient.slice(2), "hex")), value: 0n });
  }
  outputs.push(...(opts.extra ?? []));
  return signedTx(outputs);
}

/** The regtest chain and its light client. */
export class TunnelBitcoinChain {
  readonly blocks = new Map<string, MinedBlock>();
  readonly genesisHash: string;
  tip: MinedBlock;

  private constructor(
    readonly client: BitcoinLightClient,
    genesis: MinedBlock,
  ) {
    this.genesisHash = genesis.hash;
    this.blocks.set(genesis.hash, genesis);
    this.tip = genesis;
  }

  /** Deploys a light client anchored at Bitcoin Core's regtest genesis. */
  static async deploy(): Promise<TunnelBitcoinChain> {
    const header = Buffer.from(REGTEST_GENESIS.header, "hex");
    const time = header.readUInt32LE(68);
    const f = await ethers.getContractFactory("BitcoinLightClient");
    const client = (await f.deploy(hex0x(header), 0, time, REGTEST_NETWORK)) as unknown as BitcoinLightClient;
    await client.waitForDeployment();
    const genesis: MinedBlock = { header, hash: hex0x(hash256(header)), height: 0, time, txids: [], rawTxs: [] };
    return new TunnelBitcoinChain(client, genesis);
  }

  /** Mines a block holding `txs` (after a filler first transaction) on `parent` (default: the tip); not submitted. */
  mine(txs: Transaction[] = [], parent: MinedBlock = this.tip): MinedBlock {
    const filler = signedTx([{ script: randomP2wpkh(), value: 5_000_000_000n }]);
    const rawTxs = [filler, ...txs].map(nonWitness);
    const txids = rawTxs.map((r) => hash256(r));
    const root = merkleProof(txids, 0).root;
    const time = parent.time + 1;
    const header = mineRegtestHeader(Buffer.from(parent.hash.slice(2), "hex"), root, time);
    const block: MinedBlock = { header, hash: hex0x(hash256(header)), height: parent.height + 1, time, txids, rawTxs };
    this.blocks.set(block.hash, block);
    return block;
  }

  /** Submits blocks (parent first) to the light client; the last becomes the tip when it is the heaviest. */
  async submit(blocks: MinedBlock[]): Promise<void> {
    await (await this.client.submitHeaders(hex0x(Buffer.concat(blocks.map((b) => b.header))))).wait();
    const last = blocks[blocks.length - 1];
    if (last.height > this.tip.height) this.tip = last;
  }

  /** Mines and submits a block with `txs`, then `confirmations - 1` empty blocks on top; returns the first. */
  async mineConfirmed(txs: Transaction[], confirmations = 6): Promise<MinedBlock> {
    const blocks = [this.mine(txs)];
    for (let i = 1; i < confirmations; i++) blocks.push(this.mine([], blocks[blocks.length - 1]));
    await this.submit(blocks);
    return blocks[0];
  }

  /** Mines and submits `n` empty blocks on the tip. */
  async extend(n: number): Promise<void> {
    const blocks: MinedBlock[] = [];
    for (let i = 0; i < n; i++) blocks.push(this.mine([], blocks[blocks.length - 1] ?? this.tip));
    await this.submit(blocks);
  }

  /** Index in `block` of a transaction. */
  indexOf(block: MinedBlock, tx: Transaction): number {
    const id = txidBytes(tx);
    const i = block.txids.findIndex((t) => t.equals(id));
    if (i < 0) throw new Error("transaction not in block");
    return i;
  }

  /** The TxProof of `tx` in `block`. */
  proof(block: MinedBlock, tx: Transaction): TxProofArg {
    const i = this.indexOf(block, tx);
    return {
      rawTx: hex0x(block.rawTxs[i]),
      blockHeight: block.height,
      blockHeader: hex0x(block.header),
      txIndex: i,
      merkleProof: hex0x(Buffer.concat(merkleProof(block.txids, i).siblings)),
    };
  }

  /** The TxInBlock item of `tx` in `block`. */
  inBlock(block: MinedBlock, tx: Transaction): TxInBlockArg {
    const p = this.proof(block, tx);
    return { rawTx: p.rawTx, txIndex: p.txIndex, merkleProof: p.merkleProof };
  }
}

/** The txid (0x, internal order) of a transaction. */
export function txidOf(tx: Transaction): string {
  return hex0x(txidBytes(tx));
}
