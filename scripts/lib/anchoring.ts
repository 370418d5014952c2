/**
 * Follows one EVM block to superfinality and says what happens on the way: the keystone covering it recorded in
 * KeystoneLedger, published on Bitcoin by a PoP miner and proven to PopVerifier, then its effective confirmations
 * by BFG's rule as PopVerifier computes them (finalityDetails), until SUPERFINALITY_DEPTH.
 */
import type { JsonRpcProvider } from "ethers";
import { internalToDisplay } from "../../relayer/src/bitcoin/byteOrder";
import { SUPERFINALITY_DEPTH } from "../../relayer/src/pop/finality";
import { coveringKeystone } from "../../relayer/src/pop/keystone";
import type { KeystoneLedgerClient, PopVerifierClient, VerifierPublication } from "../../relayer/src/pop/popContracts";
import { PopVerifier__factory } from "../../typechain-types";

export interface AnchoringDeps {
  provider: JsonRpcProvider;
  ledger: KeystoneLedgerClient;
  verifier: PopVerifierClient;
}

/** What the wait saw: the keystone, where it was recorded and published, and the final confirmations. */
export interface Anchored {
  keystone: number;
  recordedAtBlock: number;
  /** The keystone whose publication gives the finality (the covering one, or a later one published earlier). */
  fromKeystone: number;
  publication: VerifierPublication;
  effectiveConfirmations: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until EVM block `evmBlock` is superfinal (PopVerifier.finalityDetails), printing each step once through
 * `say`; throws after `timeoutMs`, naming the step it was waiting for.
 */
export async function waitForSuperfinality(
  d: AnchoringDeps,
  evmBlock: number,
  say: (line: string) => void,
  opts: { timeoutMs: number; pollMs: number },
): Promise<Anchored> {
  const [interval, first] = await Promise.all([d.ledger.interval(), d.ledger.firstKeystoneNumber()]);
  const k = coveringKeystone(evmBlock, interval, first);
  say(
    `EVM block ${evmBlock} is covered by keystone ${k} (a keystone every ${interval} EVM blocks); EVM head ${await d.provider.getBlockNumber()}`,
  );
  const verifier = PopVerifier__factory.connect(d.verifier.address, d.provider);
  const deadline = Date.now() + opts.timeoutMs;
  let waitingFor = `keystone ${k} to be recorded`;
  let recordedAt: number | undefined;
  let published: { from: number; pub: VerifierPublication } | undefined;
  let shown = -1;
  for (;;) {
    if (recordedAt === undefined) {
      const ks = await d.ledger.keystoneAt(k);
      if (!/^0x0+$/.test(ks.id)) {
        recordedAt = ks.recordedAtBlock;
        say(`keystone ${k} recorded in KeystoneLedger at EVM block ${recordedAt} (id ${ks.id})`);
        waitingFor = `keystone ${k} to be published on Bitcoin and proven to PopVerifier`;
      }
    }
    if (recordedAt !== undefined) {
      const f = await verifier.finalityDetails(evmBlock);
      if (f.published) {
        const from = Number(f.fromKeystone);
        if (published === undefined || published.from !== from) {
          const pub = (await d.verifier.publications(from)).find(
            (p) => p.btcBlockHash.toLowerCase() === f.pubBtcBlockHash.toLowerCase(),
          );
          if (pub === undefined) throw new Error(`PopVerifier names no publication of keystone ${from} in its block`);
          published = { from, pub };
          say(
            `keystone ${from} published on Bitcoin in PoP tx ${internalToDisplay(pub.txid)}, block ${pub.btcHeight} ` +
              `(${internalToDisplay(pub.btcBlockHash)}); proven to PopVerifier at EVM block ${pub.submittedAtBlock} (miner ${pub.miner})`,
          );
          waitingFor = `${SUPERFINALITY_DEPTH} Bitcoin blocks on keystone ${from}'s publication`;
        }
        const conf = Number(f.effectiveConfirmations);
        if (conf !== shown) {
          shown = conf;
          say(
            `effective confirmations ${Math.min(conf, SUPERFINALITY_DEPTH)}/${SUPERFINALITY_DEPTH} ` +
              `(light client tip ${f.btcTipHeight}${conf > SUPERFINALITY_DEPTH ? `, ${conf} in all` : ""})`,
          );
        }
        if (f.superfinal) {
          say(
            `EVM block ${evmBlock} is superfinal (BFG's rule: ${SUPERFINALITY_DEPTH} Bitcoin blocks on the publication)`,
          );
          return {
            keystone: k,
            recordedAtBlock: recordedAt,
            fromKeystone: published.from,
            publication: published.pub,
            effectiveConfirmations: conf,
          };
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs / 1000} s waiting for ${waitingFor}`);
    await sleep(opts.pollMs);
  }
}
