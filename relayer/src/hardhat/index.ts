/**
 * `hemi-fabric/hardhat`: a Bitcoin-aware fixture for Hardhat tests, for this project and for any other Hardhat
 * project that depends on hemi-fabric. TypeScript, run by the consumer's ts-node (as Hardhat runs its tests).
 *
 *     import { btcFixture } from "hemi-fabric/hardhat";
 *     const btc = await btcFixture();            // in before()
 *     await btc.sendBtc(address, 50_000n); await btc.mine(6); await btc.sync();
 *
 * The contracts come from hemi-fabric's own compiled artifacts (its `prepare` compiles them), not from the
 * consumer's compilation.
 */
export { btcFixture } from "./btcFixture";
export type { BtcFixture, BtcFixtureOptions, SentOutput } from "./btcFixture";
