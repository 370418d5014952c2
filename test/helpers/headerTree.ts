import { ethers } from "hardhat";
import { randomBytes } from "node:crypto";
import type { BitcoinLightClient } from "../../typechain-types";
import { REGTEST_GENESIS, hash256, hex0x, mineRegtestHeader } from "./bitcoinData";

/** Deploys a Regtest BitcoinLightClient anchored at Bitcoin Core's regtest genesis (height 0). */
export async function deployRegtestClient(): Promise<BitcoinLightClient> {
  const genesis = Buffer.from(REGTEST_GENESIS.header, "hex");
  const factory = await ethers.getContractFactory("BitcoinLightClient");
  const client = (await factory.deploy(
    hex0x(genesis),
    0,
    genesis.readUInt32LE(68),
    2,
  )) as unknown as BitcoinLightClient;
  await client.waitForDeployment();
  return client;
}

/** A tree of regtest headers mined in a test with real proof of work, kept by internal-order 0x hash. */
export class HeaderTree {
  readonly headers = new Map<string, { raw: Buffer; height: number; prev: string; time: number }>();
  constructor(readonly genesis: Buffer) {
    this.headers.set(hex0x(hash256(genesis)), { raw: genesis, height: 0, prev: "", time: genesis.readUInt32LE(68) });
  }
  /**
   * Mines `n` headers on top of `parent` (internal-order 0x hash), one second apart; `rootAt(i)` gives the merkle
   * root of the i-th (random by default). Returns their hashes.
   */
  extend(parent: string, n: number, rootAt: (i: number) => Buffer = () => randomBytes(32)): string[] {
    const out: string[] = [];
    let prev = parent;
    for (let i = 0; i < n; i++) {
      const p = this.headers.get(prev)!;
      const raw = mineRegtestHeader(Buffer.from(prev.slice(2), "hex"), rootAt(i), p.time + 1);
      const h = hex0x(hash256(raw));
      this.headers.set(h, { raw, height: p.height + 1, prev, time: p.time + 1 });
      out.push(h);
      prev = h;
    }
    return out;
  }
  /** The concatenated raw headers, as submitHeaders takes them. */
  calldata(hashes: string[]): string {
    return hex0x(Buffer.concat(hashes.map((h) => this.headers.get(h)!.raw)));
  }
}
