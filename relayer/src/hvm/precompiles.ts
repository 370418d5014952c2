/**
 * The hVM precompile table: Hemi's addresses, op-geth names, the emulator contract for each, and Hemi's fixed gas
 * (HEMI-FACTS.md §1.1), plus the 0x42 layout switch.
 */

/** A precompile address as a short hex key: "0x40" … "0x49". */
export type PrecompileKey = "0x40" | "0x41" | "0x42" | "0x43" | "0x44" | "0x45" | "0x46" | "0x47" | "0x48" | "0x49";

/** The emulator contracts (names of their Hardhat artifacts / typechain factories). */
export type EmulatorName =
  | "HvmBtcBalAddr"
  | "HvmBtcUtxosAddrList"
  | "HvmBtcTxByTxid"
  | "HvmBtcTxConfirmations"
  | "HvmBtcLastHeader"
  | "HvmBtcHeaderN"
  | "HvmBtcAddrToScript"
  | "HvmBtcInputByTxid"
  | "HvmBtcOutputByTxid"
  | "HvmBtcTxGetInputWitness";

export interface PrecompileInfo {
  key: PrecompileKey;
  /** The 20-byte address Hemi uses, checksummed-free lower case. */
  address: string;
  /** op-geth's Go name. */
  goName: string;
  emulator: EmulatorName;
  /** Hemi's fixed gas for one call (op-geth params). */
  hemiGas: number;
}

function addr(byte: number): string {
  return "0x" + byte.toString(16).padStart(40, "0");
}

/** All ten, in address order. */
export const PRECOMPILES: readonly PrecompileInfo[] = [
  { key: "0x40", address: addr(0x40), goName: "btcBalAddr", emulator: "HvmBtcBalAddr", hemiGas: 50_000 },
  { key: "0x41", address: addr(0x41), goName: "btcUtxosAddrList", emulator: "HvmBtcUtxosAddrList", hemiGas: 100_000 },
  { key: "0x42", address: addr(0x42), goName: "btcTxByTxid", emulator: "HvmBtcTxByTxid", hemiGas: 25_000 },
  { key: "0x43", address: addr(0x43), goName: "btcTxConfirmations", emulator: "HvmBtcTxConfirmations", hemiGas: 5_000 },
  { key: "0x44", address: addr(0x44), goName: "btcLastHeader", emulator: "HvmBtcLastHeader", hemiGas: 5_000 },
  { key: "0x45", address: addr(0x45), goName: "btcHeaderN", emulator: "HvmBtcHeaderN", hemiGas: 6_000 },
  { key: "0x46", address: addr(0x46), goName: "btcAddrToScript", emulator: "HvmBtcAddrToScript", hemiGas: 25_000 },
  { key: "0x47", address: addr(0x47), goName: "btcInputByTxid", emulator: "HvmBtcInputByTxid", hemiGas: 15_000 },
  { key: "0x48", address: addr(0x48), goName: "btcOutputByTxid", emulator: "HvmBtcOutputByTxid", hemiGas: 15_000 },
  {
    key: "0x49",
    address: addr(0x49),
    goName: "btcTxGetInputWitness",
    emulator: "HvmBtcTxGetInputWitness",
    hemiGas: 15_000,
  },
];

/** The two 0x42 answer layouts (HEMI-FACTS.md §1.8, §7). */
export type HvmLayout = "current" | "bitcoinkit-2024";

export const HVM_LAYOUTS: readonly HvmLayout[] = ["current", "bitcoinkit-2024"];

/** The contracts' `TxByTxidLayout` enum value of a layout. */
export function layoutEnum(layout: HvmLayout): number {
  return layout === "current" ? 0 : 1;
}

/** Hemi's tip lag: the hVM answers for blocks up to best height - 2. */
export const DEFAULT_HVM_LAG = 2;
