/**
 * The provenance report of one minted deposit: four links (Bitcoin lock, tunnel order, EVM block and keystone,
 * PoP anchoring), each checked against the nodes and the contracts. A link passes (✔), fails (✘) or is pending
 * (the deposit is not anchored yet: not a failure).
 */
import type { Contract, JsonRpcProvider } from "ethers";
import type { BitcoinRpcClient } from "../bitcoin/rpcClient";
import type { LightClientReader } from "../evm/lightClient";
import type { KeystoneLedgerClient, PopVerifierClient } from "../pop/popContracts";
import type { PublicationIndex } from "../pop/publicationIndex";

export type LinkStatus = "pass" | "fail" | "pending";

/** A named finding of a link: an error fails the link, a note is evidence worth reading. */
export interface LinkIssue {
  severity: "error" | "note";
  kind: string;
  message: string;
}

/** One link of the chain of trust with its evidence (values a user can check by hand). */
export interface ProvenanceLink {
  /** A deposit's links: bitcoin, order, keystone, pop; a withdrawal's: burn, payout, finalization, keystone, pop. */
  name: "bitcoin" | "order" | "keystone" | "pop" | "burn" | "payout" | "finalization";
  title: string;
  status: LinkStatus;
  evidence: Record<string, string | number | boolean | null>;
  issues: LinkIssue[];
}

/** The deposit every link is about (from its DepositConfirmed event). */
export interface MintedDeposit {
  /** Display order. */
  txid: string;
  vout: number;
  sequence: number;
  recipient: string;
  sats: string;
  minted: string;
  /** The EVM transaction and block that minted it. */
  evmTxHash: string;
  evmBlock: number;
}

/** The EVM transaction whose block the keystone and PoP links anchor: a deposit's mint, a withdrawal's finalization. */
export interface AnchoredTx {
  evmTxHash: string;
  evmBlock: number;
}

/** How the keystone link names the anchored transaction, and the failure when it left the EVM chain. */
export interface AnchorRole {
  noun: string;
  reorgKind: string;
}
export const MINT: AnchorRole = { noun: "minting", reorgKind: "mint-reorganised" };
export const FINALIZE: AnchorRole = { noun: "finalizing", reorgKind: "finalize-reorganised" };

/** The whole report. `status`: failed when a link fails, pending when one is pending, else anchored/superfinal. */
export interface ProvenanceReport {
  status: "superfinal" | "anchored" | "pending" | "failed";
  checkedAt: string;
  deposit: MintedDeposit;
  links: ProvenanceLink[];
}

/** The withdrawal a withdrawal report is about: its terms (WithdrawalRequested, `withdrawal(id)`) and its events. */
export interface WithdrawalSubject {
  id: string;
  vaultId: number;
  requester: string;
  /** On-chain state now: Pending, Finalized or Challenged. */
  state: "Pending" | "Finalized" | "Challenged";
  /** The destination output script (hex, no 0x) and its address on the node's network (null: none). */
  btcScript: string;
  btcAddress: string | null;
  /** Satoshis burned, the vault's fee, and what the payout must pay (sats - fee). */
  sats: string;
  fee: string;
  payout: string;
  /** Confirmations the payout's block needs (the vault's at the request). */
  confirmations: number;
  /** EVM time (unix seconds) after which the withdrawal can be challenged. */
  deadline: number;
  requestTxHash: string;
  requestBlock: number;
  /** From WithdrawalFinalized (null before): the payout txid (display order) and the finalizing transaction. */
  payoutTxid: string | null;
  finalizeTxHash: string | null;
  finalizeBlock: number | null;
  /** From WithdrawalChallenged (null unless challenged). */
  challengeTxHash: string | null;
}

/**
 * The report of one withdrawal: five links (burn, payout on Bitcoin, finalization, EVM block and keystone of the
 * finalization, PoP anchoring). `subject` tells it from a deposit report (which has none).
 */
export interface WithdrawalProvenanceReport {
  subject: "withdrawal";
  status: ProvenanceReport["status"];
  checkedAt: string;
  withdrawal: WithdrawalSubject;
  links: ProvenanceLink[];
}

/** What the links read. */
export interface ProvenanceDeps {
  provider: JsonRpcProvider;
  bitcoin: BitcoinRpcClient;
  lc: LightClientReader;
  /** BitcoinLightClient with verifyTx (compiled ABI). */
  lightClient: Contract;
  /** BitcoinTunnel (compiled ABI). */
  tunnel: Contract;
  ledger: KeystoneLedgerClient;
  verifier: PopVerifierClient;
  /** First EVM block whose events are read (the deployment block). */
  evmFromBlock: number;
  /** HEMI publications on the Bitcoin node's best chain (for keystones published but no longer matching). */
  index: PublicationIndex;
  /** First Bitcoin height scanned for publications (the light client's anchor height + 1). */
  bitcoinFromHeight: number;
}

/** Builds a link from its findings: an error fails it; else `pending` makes it pending; else it passes. */
export function link(
  name: ProvenanceLink["name"],
  title: string,
  evidence: ProvenanceLink["evidence"],
  issues: LinkIssue[],
  pending = false,
): ProvenanceLink {
  const failed = issues.some((i) => i.severity === "error");
  return { name, title, status: failed ? "fail" : pending ? "pending" : "pass", evidence, issues };
}

/** The tunnel's record of a deposit output (BitcoinTunnel.depositRecord). */
export interface DepositRecordView {
  sequence: number;
  blockHeight: number;
  txIndex: number;
  vaultId: number;
  inBitcoinOrder: boolean;
}

/** Reads BitcoinTunnel.depositRecord for a display-order txid. */
export async function depositRecord(tunnel: Contract, txidInternal: string, vout: number): Promise<DepositRecordView> {
  const r = (await tunnel.depositRecord(txidInternal, vout)) as {
    sequence: bigint;
    blockHeight: bigint;
    txIndex: bigint;
    vaultId: bigint;
    inBitcoinOrder: boolean;
  };
  return {
    sequence: Number(r.sequence),
    blockHeight: Number(r.blockHeight),
    txIndex: Number(r.txIndex),
    vaultId: Number(r.vaultId),
    inBitcoinOrder: r.inBitcoinOrder,
  };
}

/** A link's list of findings and the helper that adds an error to it. */
export function findings(): { issues: LinkIssue[]; err: (kind: string, message: string) => void } {
  const issues: LinkIssue[] = [];
  return { issues, err: (kind, message) => void issues.push({ severity: "error", kind, message }) };
}
