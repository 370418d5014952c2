import { createHash } from "node:crypto";

/** Bitcoin Core's regtest genesis header (hash 0f9188f1…2206 in display order). */
export const REGTEST_GENESIS_HEADER =
  "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f2002000000";

function hash256(buf: Buffer): Buffer {
  return createHash("sha256").update(createHash("sha256").update(buf).digest()).digest();
}

/** Internal-order hash of a raw header, hex. */
export function headerHash(headerHex: string): string {
  return hash256(Buffer.from(headerHex, "hex")).toString("hex");
}

/**
 * Mines `n` regtest headers (nBits 0x207fffff, real proof of work at regtest difficulty) on top of `parentHex`.
 * `salt` changes the merkle root so that two calls build different branches.
 */
export function mineRegtestHeaders(parentHex: string, n: number, salt = 0): string[] {
  const out: string[] = [];
  let prev: Buffer = Buffer.from(headerHash(parentHex), "hex");
  let time = Buffer.from(parentHex, "hex").readUInt32LE(68);
  for (let i = 0; i < n; i++) {
    const h = Buffer.alloc(80);
    h.writeUInt32LE(0x20000000, 0);
    prev.copy(h, 4);
    createHash("sha256").update(`salt ${salt} block ${i}`).digest().copy(h, 36);
    time += 600;
    h.writeUInt32LE(time, 68);
    h.writeUInt32LE(0x207fffff, 72);
    for (let nonce = 0; ; nonce++) {
      h.writeUInt32LE(nonce, 76);
      const digest = hash256(h);
      // Target of 0x207fffff is 0x7fffff << 232: a most significant byte below 0x7f is always under it.
      if (digest[31] < 0x7f) break;
    }
    out.push(h.toString("hex"));
    prev = hash256(h);
  }
  return out;
}
