/**
 * A small single-keystore wallet for faucet use: new addresses (bech32 P2WPKH, legacy P2PKH, bech32m
 * P2TR), its unspent outputs and balance read from the UTXO set and the mempool, and sendtoaddress
 * with largest-first coin selection and change. Keys persist in DATADIR/wallet.json when a datadir is set.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { Transaction } from "bitcoinjs-lib";
import type { UnspentOutput } from "../rpcTypes";
import {
  buildSignedTxWithChange,
  keyFromPrivate,
  keyOutput,
  randomKey,
  type KeyPair,
  type SpendType,
  type UtxoToSpend,
} from "../txBuilder";
import type { ChainState } from "./chainState";
import { COINBASE_MATURITY, satsToBtc } from "./consensus";
import { dustThreshold, type Mempool } from "./mempool";
import { RpcCode, RpcMethodError } from "./rpcError";
import { addressToScript, withChecksum } from "./script";
import { outpointKey, parseOutpointKey } from "./utxoSet";

/** Bitcoin Core's address type names. */
export type AddressType = "bech32" | "legacy" | "bech32m" | "p2sh-segwit";

const TYPE_OF: Record<AddressType, SpendType> = {
  bech32: "p2wpkh",
  legacy: "p2pkh",
  bech32m: "p2tr",
  "p2sh-segwit": "p2sh-p2wpkh",
};

interface WalletKey {
  key: KeyPair;
  type: SpendType;
  address: string;
  script: Buffer;
  label: string;
  change: boolean;
}

/** Default fee rate of sendtoaddress, sat/vB (regtest has no fee estimates; Core needs -fallbackfee). */
export const WALLET_DEFAULT_FEE_RATE = 10;

interface WalletCoin extends UnspentOutput {
  value: bigint;
  wk: WalletKey;
}

export class Wallet {
  private readonly keys: WalletKey[] = [];
  private readonly byScript = new Map<string, WalletKey>();
  /** Transactions this wallet created; their unconfirmed change counts as trusted. */
  private readonly sent = new Set<string>();

  constructor(
    private readonly chain: ChainState,
    private readonly mempool: Mempool,
    private readonly file?: string,
  ) {
    if (file !== undefined && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, "utf8")) as {
        keys: { priv: string; type: SpendType; label: string; change?: boolean }[];
      };
      for (const k of saved.keys) this.addKey(keyFromPrivate(k.priv), k.type, k.label, k.change ?? false);
    }
  }

  private addKey(key: KeyPair, type: SpendType, label: string, change: boolean): WalletKey {
    const { address, script } = keyOutput(key, type);
    const wk: WalletKey = { key, type, address, script, label, change };
    this.keys.push(wk);
    this.byScript.set(script.toString("hex"), wk);
    return wk;
  }

  /** Writes the wallet file now (a new wallet exists on disk before its first key). */
  persist(): void {
    this.save();
  }

  private save(): void {
    if (this.file === undefined) return;
    const keys = this.keys.map((k) => ({
      priv: Buffer.from(k.key.privateKey ?? []).toString("hex"),
      type: k.type,
      label: k.label,
      change: k.change,
    }));
    // Write a temporary file and rename it over the old one, so a crash mid-write never leaves a torn wallet.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ keys }, null, 1), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  newAddress(label = "", addressType: string = "bech32", change = false): string {
    if (!(addressType in TYPE_OF))
      throw new RpcMethodError(RpcCode.INVALID_ADDRESS_OR_KEY, `Unknown address type '${addressType}'`);
    const wk = this.addKey(randomKey(), TYPE_OF[addressType as AddressType], label, change);
    this.save();
    return wk.address;
  }

  isMine(scriptHex: string): boolean {
    return this.byScript.has(scriptHex);
  }

  private descriptor(wk: WalletKey): string {
    const pub = Buffer.from(wk.key.publicKey).toString("hex");
    if (wk.type === "p2wpkh") return withChecksum(`wpkh(${pub})`);
    if (wk.type === "p2pkh") return withChecksum(`pkh(${pub})`);
    if (wk.type === "p2sh-p2wpkh") return withChecksum(`sh(wpkh(${pub}))`);
    return withChecksum(`tr(${pub.slice(2)})`);
  }

  /** Spendable wallet coins: confirmed (mature coinbase at depth >= 101, as Core's wallet) and mempool outputs, not spent in the mempool. */
  private coins(): WalletCoin[] {
    const out: WalletCoin[] = [];
    const tip = this.chain.height;
    for (const wk of this.keys) {
      const scriptHex = wk.script.toString("hex");
      for (const key of this.chain.utxo.keysForScript(scriptHex)) {
        if (this.mempool.spender(key) !== undefined) continue;
        const coin = this.chain.utxo.get(key);
        if (coin === undefined) continue;
        const confirmations = tip - coin.height + 1;
        if (coin.coinbase && confirmations < COINBASE_MATURITY + 1) continue;
        out.push(this.toUnspent(key, coin.value, scriptHex, confirmations, true, wk));
      }
    }
    for (const e of this.mempool.all()) {
      e.tx.outs.forEach((o, vout) => {
        const scriptHex = Buffer.from(o.script).toString("hex");
        const wk = this.byScript.get(scriptHex);
        const key = outpointKey(e.txid, vout);
        if (wk === undefined || this.mempool.spender(key) !== undefined) return;
        out.push(this.toUnspent(key, o.value, scriptHex, 0, this.sent.has(e.txid), wk));
      });
    }
    return out;
  }

  private toUnspent(
    key: string,
    value: bigint,
    scriptHex: string,
    confirmations: number,
    safe: boolean,
    wk: WalletKey,
  ): WalletCoin {
    const { txid, vout } = parseOutpointKey(key);
    return {
      txid,
      vout,
      address: wk.address,
      label: wk.label,
      scriptPubKey: scriptHex,
      amount: satsToBtc(value),
      confirmations,
      spendable: true,
      solvable: true,
      desc: this.descriptor(wk),
      parent_descs: [],
      safe,
      value,
      wk,
    };
  }

  listUnspent(minconf = 1, maxconf = 9_999_999, addresses: string[] = []): UnspentOutput[] {
    return this.coins()
      .filter((c) => c.confirmations >= minconf && c.confirmations <= maxconf)
      .filter((c) => addresses.length === 0 || addresses.includes(c.address))
      .map(({ value: _v, wk: _w, ...u }) => u);
  }

  /** Trusted balance in satoshis: confirmed coins with at least `minconf` confirmations plus own unconfirmed change. */
  balance(minconf = 0): bigint {
    return this.coins()
      .filter((c) => c.safe && c.confirmations >= minconf)
      .reduce((s, c) => s + c.value, 0n);
  }

  /** Builds, signs and submits a payment; returns the transaction. */
  send(address: string, sats: bigint, feeRate = WALLET_DEFAULT_FEE_RATE): Transaction {
    // Bitcoin Core's CreateTransaction refuses a dust recipient before selecting coins; sendtoaddress reports it as -6.
    if (sats < dustThreshold(addressToScript(address)))
      throw new RpcMethodError(RpcCode.WALLET_INSUFFICIENT_FUNDS, "Transaction amount too small");
    const available = this.coins()
      .filter((c) => c.safe)
      .sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
    const chosen: WalletCoin[] = [];
    let lastError: string;
    const change = this.newAddress("", "bech32", true);
    for (const c of available) {
      chosen.push(c);
      const inputs: UtxoToSpend[] = chosen.map((x) => ({
        txid: x.txid,
        vout: x.vout,
        value: x.value,
        script: x.scriptPubKey,
        key: x.wk.key,
      }));
      try {
        const { tx } = buildSignedTxWithChange({
          inputs,
          outputs: [{ address, value: sats }],
          changeScript: this.scriptOf(change),
          feeRate,
        });
        this.mempool.accept(tx);
        this.sent.add(tx.getId());
        return tx;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        if (!lastError.startsWith("insufficient funds")) throw new RpcMethodError(RpcCode.WALLET_ERROR, lastError);
      }
    }
    throw new RpcMethodError(RpcCode.WALLET_INSUFFICIENT_FUNDS, "Insufficient funds");
  }

  private scriptOf(address: string): Buffer {
    const wk = this.keys.find((k) => k.address === address);
    if (wk === undefined) throw new Error(`not a wallet address: ${address}`);
    return wk.script;
  }
}
