/**
 * Records one keystone (the job `keystone-<n>`): reads block n (hash, parent hash, state root) and block
 * n - interval from the EVM node, takes the light client's best Bitcoin height (never below the previous
 * keystone's), builds the 76-byte abbreviation and sends recordKeystone through the serialised sender. Under the
 * sender's lock it re-reads the ledger first, so a replayed job (a crash, a restart, a second relayer) sends
 * nothing for a keystone that is already recorded.
 */
import type { JsonRpcProvider } from "ethers";
import type { Logger } from "pino";
import type { LightClientReader } from "../../evm/lightClient";
import { RevertError } from "../../evm/revertDecoder";
import type { EvmSender } from "../../evm/sender";
import { encodeKeystone, keystoneAtBlock } from "../../pop/keystone";
import type { KeystoneLedgerClient } from "../../pop/popContracts";

export interface KeystoneRecorderDeps {
  provider: JsonRpcProvider;
  ledger: KeystoneLedgerClient;
  lc: LightClientReader;
  sender: EvmSender;
  interval: number;
}

export interface RecordKeystoneResult {
  status: "recorded" | "already-recorded";
  l2BlockNumber: number;
  id?: string;
  btcHeight?: number;
  evmTx?: string;
  gasUsed?: string;
}

/** Keystone n cannot be recorded yet (its block does not exist, or the keystone before it is not recorded). */
export class KeystoneNotReadyError extends Error {
  constructor(n: number, why: string) {
    super(`keystone ${n} cannot be recorded yet: ${why}`);
    this.name = "KeystoneNotReadyError";
  }
}

/** Ledger reverts that a retry can fix: another recorder raced ahead, or the light client moved under the keystone. */
const TRANSIENT_REVERTS = new Set(["UnexpectedKeystoneNumber", "KeystoneBlockInFuture", "BtcHeightOutOfRange"]);

/** Records keystone n (see the module notes); a revert a retry can fix is rethrown as a transient error. */
export async function recordKeystone(
  d: KeystoneRecorderDeps,
  n: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<RecordKeystoneResult> {
  let abbrev = "";
  let btcHeight = 0;
  const sent = await d.sender
    .send({
      key: `keystone-${n}`,
      role: "keystones",
      signal,
      prepare: async () => {
        const last = await d.ledger.lastKeystoneNumber();
        const first = await d.ledger.firstKeystoneNumber();
        if (last >= n) return { skip: `keystone ${n} is already recorded (last recorded: ${last})` };
        const expected = last === 0 ? first : last + d.interval;
        if (n !== expected) throw new KeystoneNotReadyError(n, `the next keystone to record is ${expected}`);
        const head = await d.provider.getBlockNumber();
        if (head < n) throw new KeystoneNotReadyError(n, `the EVM head is ${head}`);
        const best = await d.lc.bestBlock();
        const minBtc = last === 0 ? 0 : (await d.ledger.keystoneAt(last)).btcHeight;
        if (best.height < minBtc) {
          throw new KeystoneNotReadyError(
            n,
            `the light client's best height ${best.height} is below the previous keystone's ${minBtc} (a reorg)`,
          );
        }
        btcHeight = best.height;
        abbrev = "0x" + encodeKeystone(await keystoneAtBlock(d.provider, n, d.interval, btcHeight)).toString("hex");
        return { to: d.ledger.address, data: d.ledger.encodeRecord(abbrev) };
      },
    })
    .catch((err: unknown) => {
      if (err instanceof RevertError && err.revert !== undefined && TRANSIENT_REVERTS.has(err.revert.name)) {
        throw new Error(`${err.message} (will retry)`);
      }
      throw err;
    });
  if (sent.status === "skipped") return { status: "already-recorded", l2BlockNumber: n };
  const ev = d.ledger.parseEvents(sent.receipt.logs).find((e) => e.name === "KeystoneRecorded");
  const id = ev === undefined ? undefined : (ev.args.id as string);
  log.info(
    { l2BlockNumber: n, id, btcHeight, evmTx: sent.hash, gasUsed: sent.gasUsed.toString() },
    "keystone recorded",
  );
  return {
    status: "recorded",
    l2BlockNumber: n,
    id,
    btcHeight,
    evmTx: sent.hash,
    gasUsed: sent.gasUsed.toString(),
  };
}
