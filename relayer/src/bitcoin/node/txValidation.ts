/**
 * Transaction validity as Bitcoin Core checks it: context-free rules (CheckTransaction), input rules
 * against a coin view (CheckTxInputs, coinbase maturity, finality) and signatures. Failures are
 * TxRejectedError with Core's reject reasons and RPC codes.
 */
import { Transaction } from "bitcoinjs-lib";
import { COINBASE_MATURITY, formatMoney, MAX_MONEY } from "./consensus";
import { RpcCode, TxRejectedError } from "./rpcError";
import { ScriptError, verifyInput, type Prevout } from "./scriptVerify";
import { outpointKey, type Coin } from "./utxoSet";

/** Where validation looks up the coins a transaction spends. */
export interface CoinView {
  getCoin(key: string): Coin | undefined;
}

function reject(reason: string, code: number = RpcCode.VERIFY_REJECTED): never {
  throw new TxRejectedError(code, reason);
}

/** Display-order txid of an input's previous output. */
export function prevTxid(input: { hash: Uint8Array }): string {
  return Buffer.from(input.hash).reverse().toString("hex");
}

/** Context-free checks (Bitcoin Core's CheckTransaction). */
export function checkTransaction(tx: Transaction): void {
  if (tx.ins.length === 0) reject("bad-txns-vin-empty");
  if (tx.outs.length === 0) reject("bad-txns-vout-empty");
  if (tx.byteLength(false) * 4 > 4_000_000) reject("bad-txns-oversize");
  let total = 0n;
  for (const out of tx.outs) {
    if (out.value < 0n) reject("bad-txns-vout-negative");
    if (out.value > MAX_MONEY) reject("bad-txns-vout-toolarge");
    total += out.value;
    if (total > MAX_MONEY) reject("bad-txns-txouttotal-toolarge");
  }
  const seen = new Set<string>();
  for (const input of tx.ins) {
    const key = outpointKey(prevTxid(input), input.index);
    if (seen.has(key)) reject("bad-txns-inputs-duplicate");
    seen.add(key);
  }
  if (tx.isCoinbase()) {
    const len = tx.ins[0].script.length;
    if (len < 2 || len > 100) reject("bad-cb-length");
  } else {
    for (const input of tx.ins) if (Transaction.isCoinbaseHash(input.hash)) reject("bad-txns-prevout-null");
  }
}

/** Bitcoin Core's IsFinalTx for a transaction to be included in a block at `height` with median time past `mtp`. */
export function isFinalTx(tx: Transaction, height: number, mtp: number): boolean {
  if (tx.locktime === 0) return true;
  const limit = tx.locktime < 500_000_000 ? height : mtp;
  if (tx.locktime < limit) return true;
  return tx.ins.every((i) => i.sequence === 0xffffffff);
}

export interface InputCheckOptions {
  /** Height of the block the transaction would be in. */
  spendHeight: number;
  /** Median time past of the chain it would extend (for time locks). */
  mtp: number;
  /** Verify signatures (blocks the node itself built skip this; their transactions were checked on entry). */
  verifyScripts: boolean;
}

/** Checks a non-coinbase transaction's inputs against `view`; returns its prevouts and fee. */
export function checkInputs(
  tx: Transaction,
  view: CoinView,
  opts: InputCheckOptions,
): { fee: bigint; prevouts: Prevout[]; coins: Coin[] } {
  const coins: Coin[] = [];
  for (const input of tx.ins) {
    const coin = view.getCoin(outpointKey(prevTxid(input), input.index));
    if (coin === undefined) reject("bad-txns-inputs-missingorspent", RpcCode.VERIFY_ERROR);
    coins.push(coin);
  }
  if (!isFinalTx(tx, opts.spendHeight, opts.mtp)) reject("non-final");
  let valueIn = 0n;
  for (const coin of coins) {
    if (coin.coinbase && opts.spendHeight - coin.height < COINBASE_MATURITY)
      reject(
        `bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth ${opts.spendHeight - coin.height}`,
      );
    valueIn += coin.value;
    if (coin.value < 0n || coin.value > MAX_MONEY || valueIn > MAX_MONEY) reject("bad-txns-inputvalues-outofrange");
  }
  const valueOut = tx.outs.reduce((s, o) => s + o.value, 0n);
  if (valueIn < valueOut)
    reject(`bad-txns-in-belowout, value in (${formatMoney(valueIn)}) < value out (${formatMoney(valueOut)})`);
  const prevouts = coins.map((c) => ({ script: c.script, value: c.value }));
  if (opts.verifyScripts) {
    for (let i = 0; i < tx.ins.length; i++) {
      try {
        verifyInput(tx, i, prevouts);
      } catch (err) {
        if (err instanceof ScriptError) reject(`mandatory-script-verify-flag-failed (${err.message})`);
        throw err;
      }
    }
  }
  return { fee: valueIn - valueOut, prevouts, coins };
}
