/**
 * A regtest miner on a timer: one block every `intervalMs` while started, like a fast miner; stopped, it mines
 * nothing, and `stop()` resolves once a block being mined is done (so the chain holds still afterwards).
 */
import type { BitcoinRpcClient } from "../../relayer/src/bitcoin/rpcClient";

export class IntervalMiner {
  /** Blocks mined so far. */
  mined = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly rpc: BitcoinRpcClient,
    private readonly address: string,
    readonly intervalMs: number,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.inFlight !== undefined) return;
      this.inFlight = this.rpc
        .generateToAddress(1, this.address)
        .then(() => void this.mined++)
        .catch(() => undefined) // a failed block is simply not counted; the next tick tries again
        .finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
