/**
 * What Hemi's finality interfaces read, taken from the chain: KeystoneLedger (which keystones exist), PopVerifier
 * (their publications and the on-chain finality view) and the EVM blocks the keystones are made of. Every read of
 * one answer is pinned to one EVM block (`at`), so an answer is a consistent snapshot.
 */
import type { JsonRpcProvider } from "ethers";
import { KEYSTONE_VERSION, encodeKeystone, keystoneFromBlock, keystoneId, type KeystoneBlock } from "../pop/keystone";
import { KeystoneLedgerClient, PopVerifierClient } from "../pop/popContracts";
import type { L2KeystoneJson } from "./hemiWire";

/** PopVerifier.Finality, decoded. Hashes are 0x-hex, internal order. */
export interface OnChainFinality {
  keystoneNumber: number;
  recorded: boolean;
  published: boolean;
  fromKeystone: number;
  pubBtcHeight: number;
  pubBtcBlockHash: string;
  btcTipHeight: number;
  effectiveConfirmations: number;
  superfinal: boolean;
}

/** The first canonical publication of one keystone (PopVerifier.firstCanonicalPublication). */
export interface FirstPublication {
  btcHeight: number;
  /** 0x-hex, internal order. */
  btcBlockHash: string;
}

const ZERO32 = "0x" + "00".repeat(32);

function strip0x(h: string): string {
  return (h.startsWith("0x") ? h.slice(2) : h).toLowerCase();
}

export class FinalityChainView {
  readonly ledger: KeystoneLedgerClient;
  readonly verifier: PopVerifierClient;
  private intervalCache: number | undefined;
  private firstCache: number | undefined;

  constructor(
    readonly provider: JsonRpcProvider,
    addresses: { keystoneLedger: string; popVerifier: string },
  ) {
    this.ledger = new KeystoneLedgerClient(addresses.keystoneLedger, provider);
    this.verifier = new PopVerifierClient(addresses.popVerifier, provider);
  }

  /** The EVM block number every read of one answer is pinned to. */
  async head(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  async interval(): Promise<number> {
    return (this.intervalCache ??= await this.ledger.interval());
  }

  async firstKeystone(): Promise<number> {
    return (this.firstCache ??= await this.ledger.firstKeystoneNumber());
  }

  async lastKeystone(at: number): Promise<number> {
    return Number((await this.ledger.contract.lastKeystoneNumber({ blockTag: at })) as bigint);
  }

  /** The keystone number recorded under `id` (0x-hex, internal order), or 0 when unknown. */
  async numberOf(id: string, at: number): Promise<number> {
    return Number((await this.ledger.contract.numberOf(id, { blockTag: at })) as bigint);
  }

  /** The ledger's record at `n`: its id and Bitcoin height field, or undefined when none is recorded there. */
  async recordAt(n: number, at: number): Promise<{ id: string; btcHeight: number } | undefined> {
    const k = (await this.ledger.contract.keystoneAt(n, { blockTag: at })) as { id: string; btcHeight: bigint };
    return k.id === ZERO32 ? undefined : { id: k.id.toLowerCase(), btcHeight: Number(k.btcHeight) };
  }

  /** PopVerifier.keystoneFinality(id): the on-chain finality view of a recorded keystone. */
  async onChainFinality(id: string, at: number): Promise<OnChainFinality> {
    const f = (await this.verifier.contract.keystoneFinality(id, { blockTag: at })) as {
      keystoneNumber: bigint;
      recorded: boolean;
      published: boolean;
      fromKeystone: bigint;
      pubBtcHeight: bigint;
      pubBtcBlockHash: string;
      btcTipHeight: bigint;
      effectiveConfirmations: bigint;
      superfinal: boolean;
    };
    return {
      keystoneNumber: Number(f.keystoneNumber),
      recorded: f.recorded,
      published: f.published,
      fromKeystone: Number(f.fromKeystone),
      pubBtcHeight: Number(f.pubBtcHeight),
      pubBtcBlockHash: f.pubBtcBlockHash.toLowerCase(),
      btcTipHeight: Number(f.btcTipHeight),
      effectiveConfirmations: Number(f.effectiveConfirmations),
      superfinal: f.superfinal,
    };
  }

  /** The first canonical publication of keystone `n` (lowest height), or undefined. */
  async firstPublication(n: number, at: number): Promise<FirstPublication | undefined> {
    const [found, pub] = (await this.verifier.contract.firstCanonicalPublication(n, { blockTag: at })) as [
      boolean,
      { btcHeight: bigint; btcBlockHash: string },
    ];
    return found ? { btcHeight: Number(pub.btcHeight), btcBlockHash: pub.btcBlockHash.toLowerCase() } : undefined;
  }

  /** EVM block `n` (number, hash, parent hash, state root), or undefined when it does not exist. */
  async block(n: number): Promise<KeystoneBlock | undefined> {
    const b = (await this.provider.send("eth_getBlockByNumber", ["0x" + n.toString(16), false])) as {
      number: string;
      hash: string;
      parentHash: string;
      stateRoot: string;
    } | null;
    return b === null
      ? undefined
      : { number: Number(b.number), hash: b.hash, parentHash: b.parentHash, stateRoot: b.stateRoot };
  }

  /**
   * Hemi's full keystone of the recorded keystone `n` (op-node's construction, §3.1: the block's parent hash,
   * the hash of block n - interval or zeros, its state root and hash; the L1 field = the ledger's Bitcoin height
   * field), or undefined when the ledger has none at `n` or the EVM chain no longer gives the recorded id.
   */
  async l2Keystone(n: number, at: number): Promise<L2KeystoneJson | undefined> {
    const rec = await this.recordAt(n, at);
    if (rec === undefined) return undefined;
    const k = await this.keystoneFromChain(n, rec.btcHeight);
    if (k === undefined || k.id !== rec.id) return undefined;
    return k.json;
  }

  /** Rebuilds keystone `n` from the EVM blocks with `btcHeight` in the L1 field: its JSON and id (0x, internal). */
  async keystoneFromChain(n: number, btcHeight: number): Promise<{ json: L2KeystoneJson; id: string } | undefined> {
    const interval = await this.interval();
    const block = await this.block(n);
    if (block === undefined) return undefined;
    const prev = n - interval >= 0 ? await this.block(n - interval) : undefined;
    if (n - interval >= 0 && prev === undefined) return undefined;
    const abbrev = encodeKeystone(keystoneFromBlock({ block, prevKeystoneHash: prev?.hash ?? null, btcHeight }));
    return {
      id: "0x" + keystoneId(abbrev).toString("hex"),
      json: {
        version: KEYSTONE_VERSION,
        l1_block_number: btcHeight,
        l2_block_number: n,
        parent_ep_hash: strip0x(block.parentHash),
        prev_ep_keystone_hash: prev === undefined ? "00".repeat(32) : strip0x(prev.hash),
        state_root: strip0x(block.stateRoot),
        ep_hash: strip0x(block.hash),
      },
    };
  }
}
