/**
 * Optional persistence under a datadir: every block the node learns is appended to blocks.dat
 * (4-byte little-endian length, raw block), and the set of blocks invalidated on request is kept in
 * invalid.json. On start the blocks are replayed in arrival order, so a restart resumes the same chain.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export class BlockStore {
  private readonly blocksFile: string;
  private readonly invalidFile: string;
  private fd: number | undefined;

  constructor(readonly datadir: string) {
    mkdirSync(datadir, { recursive: true });
    this.blocksFile = path.join(datadir, "blocks.dat");
    this.invalidFile = path.join(datadir, "invalid.json");
  }

  /** Stored blocks in the order they arrived. A truncated last record (crash mid-write) is ignored. */
  readBlocks(): Buffer[] {
    if (!existsSync(this.blocksFile)) return [];
    const data = readFileSync(this.blocksFile);
    const out: Buffer[] = [];
    let off = 0;
    while (off + 4 <= data.length) {
      const len = data.readUInt32LE(off);
      if (off + 4 + len > data.length) break;
      out.push(data.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    return out;
  }

  appendBlock(raw: Buffer): void {
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
