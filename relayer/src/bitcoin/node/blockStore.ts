/**
 * Optional persistence under a datadir: every block the node learns is appended to blocks.dat
 * (4-byte little-endian length, raw block), and the set of blocks invalidated on request is kept in
 * invalid.json. On start the blocks are replayed in arrival order, so a restart resumes the same chain.
 * The mempool is saved on shutdown to mempool.json (Bitcoin Core's mempool.dat) and revalidated on start.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";

/** One transaction of a saved mempool. */
export interface SavedMempoolTx {
  hex: string;
  /** Unix seconds when it entered the pool. */
  time: number;
}

export class BlockStore {
  private readonly blocksFile: string;
  private readonly invalidFile: string;
  private readonly mempoolFile: string;
  private fd: number | undefined;
  /** The file has been checked for a torn last record (and cut back to its last complete one). */
  private tailChecked = false;

  constructor(readonly datadir: string) {
    mkdirSync(datadir, { recursive: true });
    this.blocksFile = path.join(datadir, "blocks.dat");
    this.invalidFile = path.join(datadir, "invalid.json");
    this.mempoolFile = path.join(datadir, "mempool.json");
  }

  /**
   * Stored blocks in the order they arrived. A torn last record (a crash mid-write) is dropped and cut
   * off the file, so that the next append starts right after the last complete record.
   */
  readBlocks(): Buffer[] {
    if (!existsSync(this.blocksFile)) {
      this.tailChecked = true;
      return [];
    }
    const data = readFileSync(this.blocksFile);
    const out: Buffer[] = [];
    let off = 0;
    while (off + 4 <= data.length) {
      const len = data.readUInt32LE(off);
      if (off + 4 + len > data.length) break;
      out.push(data.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < data.length) {
      if (this.fd !== undefined)
        throw new Error(`${this.blocksFile}: torn record found while the file is open for appending`);
      truncateSync(this.blocksFile, off);
    }
    this.tailChecked = true;
    return out;
  }

  appendBlock(raw: Buffer): void {
    if (!this.tailChecked) this.readBlocks();
    if (this.fd === undefined) this.fd = openSync(this.blocksFile, "a");
    const len = Buffer.alloc(4);
    len.writeUInt32LE(raw.length, 0);
    writeSync(this.fd, Buffer.concat([len, raw]));
  }

  readInvalid(): string[] {
    if (!existsSync(this.invalidFile)) return [];
    return JSON.parse(readFileSync(this.invalidFile, "utf8")) as string[];
  }

  writeInvalid(hashes: readonly string[]): void {
    const tmp = this.invalidFile + ".tmp";
    writeFileSync(tmp, JSON.stringify(hashes));
    renameSync(tmp, this.invalidFile);
  }

  /** The saved mempool (Bitcoin Core's mempool.dat): raw transactions, parents first, with their entry times. */
  readMempool(): SavedMempoolTx[] {
    if (!existsSync(this.mempoolFile)) return [];
    const saved = JSON.parse(readFileSync(this.mempoolFile, "utf8")) as { version?: unknown; txs?: unknown };
    if (saved.version !== 1 || !Array.isArray(saved.txs))
      throw new Error(`${this.mempoolFile}: not a version 1 mempool file`);
    return saved.txs as SavedMempoolTx[];
  }

  /** Writes the mempool atomically (a temporary file renamed over the old one); returns the file name. */
  writeMempool(txs: readonly SavedMempoolTx[]): string {
    const tmp = this.mempoolFile + ".tmp";
    writeFileSync(tmp, JSON.stringify({ version: 1, txs }));
    renameSync(tmp, this.mempoolFile);
    return this.mempoolFile;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
