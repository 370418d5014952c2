import { z } from "zod";
import { parseCustodyKey } from "../roles/withdrawals/custodyKey";
import { HVM_LAYOUTS, type HvmLayout } from "../hvm/precompiles";

/** Accepts a string of digits (environment variables are strings) or a number; yields an integer. */
function intField(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().int().min(min).max(max);
}

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: "must be an http:// or https:// URL" });

const redisUrl = z
  .string()
  .url()
  .refine((u) => /^rediss?:\/\//.test(u), { message: "must be a redis:// or rediss:// URL" });

const privateKey = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, { message: "must be 32 bytes of hex (64 hex digits, optional 0x)" });

/** VAULT_CUSTODY_KEY: hex or WIF, checked to be a usable secp256k1 key (the message never echoes it). */
const custodyKey = z.string().superRefine((v, ctx) => {
  try {
    parseCustodyKey(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { message: "must be a 0x-prefixed 20-byte address" });

/**
 * Every setting of the relayer and of `deploy`, named exactly as its environment variable.
 * A config file (JSON) uses the same names; environment variables win over the file.
 */
const configShape = z.object({
  EVM_RPC_URL: httpUrl.default("http://127.0.0.1:8545"),
  BITCOIN_RPC_URL: httpUrl.describe("bitcoind JSON-RPC URL with credentials, e.g. http://user:pass@127.0.0.1:18443"),
  BITCOIN_RPC_COOKIE_FILE: z.string().min(1).optional(),
  BITCOIN_RPC_TIMEOUT_MS: intField(100).default(15_000),
  REDIS_URL: redisUrl.optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, { message: "may hold only letters, digits, ':', '_' and '-'" })
    .optional(),
  RELAYER_PRIVATE_KEY: privateKey.optional(),
  RELAYER_KEYSTORE: z.string().min(1).optional(),
  RELAYER_KEYSTORE_PASSWORD: z.string().optional(),
  DEPLOYMENTS_DIR: z.string().min(1).default("deployments"),
  DEPLOYMENT_FILE: z.string().min(1).optional(),
  LIGHT_CLIENT_ADDRESS: address.optional(),
  HEADERS_BATCH_SIZE: intField(1, 2_000).default(200),
  HEADERS_MAX_BATCH_GAS: intField(100_000).default(12_000_000),
  HEADERS_GAS_PER_HEADER: intField(1_000).default(30_000),
  BITCOIN_POLL_INTERVAL_MS: intField(50).default(2_000),
  STARTUP_RETRIES: intField(0, 100).default(5),
  STARTUP_RETRY_DELAY_MS: intField(10).default(1_000),
  JOB_ATTEMPTS: intField(1, 1_000).default(10),
  JOB_BACKOFF_MS: intField(10).default(1_000),
  JOB_LOCK_MS: intField(1_000).default(30_000),
  JOB_STALLED_INTERVAL_MS: intField(500).default(15_000),
  LOCK_TTL_MS: intField(1_000).default(15_000),
  SHUTDOWN_TIMEOUT_MS: intField(100).default(30_000),
  TX_RECEIPT_TIMEOUT_MS: intField(500).default(60_000),
  TX_FEE_BUMP_PERCENT: intField(10, 1_000).default(20),
  TX_MAX_REPLACEMENTS: intField(0, 100).default(5),
  TX_MAX_FEE_GWEI: z.coerce.number().positive().default(500),
  METRICS_PORT: intField(0, 65_535).default(9464),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
  DEPLOY_ANCHOR_HEIGHT: intField(0).optional(),
  DEPLOY_ANCHOR_MARGIN: intField(0).default(6),
  /** BitcoinTunnel address (default: from the deployment file). */
  TUNNEL_ADDRESS: address.optional(),
  /** Custody key of the operator's vault (hex or WIF): deploy creates the vault, the withdrawals role pays from it. */
  VAULT_CUSTODY_KEY: custodyKey.optional(),
  /** Terms of the vault deploy creates (VaultTerms; fees within the tunnel's limits: 500 bps, 100,000 sat). */
  VAULT_CONFIRMATIONS: intField(1, 1_000).default(6),
  VAULT_MIN_DEPOSIT: intField(0).default(10_000),
  VAULT_DEPOSIT_FEE_BPS: intField(0, 5_000).default(0),
  VAULT_DEPOSIT_FLAT_FEE: intField(0).default(0),
  VAULT_WITHDRAWAL_FEE_BPS: intField(0, 5_000).default(0),
  VAULT_WITHDRAWAL_FLAT_FEE: intField(0).default(0),
  /** deposits role: most Bitcoin blocks scanned per poll. */
  DEPOSITS_SCAN_BLOCKS: intField(1, 10_000).default(100),
  /** deposits role: most deposits in one confirmDepositsInBlock transaction. */
  DEPOSITS_MAX_BATCH: intField(1, 1_000).default(100),
  /** withdrawals role: withdrawals handled at once (payouts are serialised per custody key regardless). */
  WITHDRAWALS_CONCURRENCY: intField(1, 100).default(8),
  /** withdrawals role: estimatesmartfee confirmation target of payouts. */
  WITHDRAWAL_FEE_TARGET: intField(1, 1_008).default(2),
  /** withdrawals role: fallback payout fee rate (sat/vB) when the node has no estimate. */
  WITHDRAWAL_FALLBACK_FEE_RATE: z.coerce.number().positive().default(2),
  /** withdrawals role: recent blocks searched for an existing payout of a withdrawal before a new one is built. */
  WITHDRAWAL_SEARCH_DEPTH: intField(1, 10_000).default(144),
  /** deploy: the hVM's 0x42 answer layout ("current": op-geth's newest; "bitcoinkit-2024": what Hemi's BitcoinKit parses). */
  HVM_LAYOUT: z.enum(HVM_LAYOUTS as [HvmLayout, ...HvmLayout[]]).default("current"),
  /** deploy: the hVM's tip lag in Bitcoin blocks (Hemi: 2). */
  HVM_LAG: intField(0, 1_000).default(2),
  /**
   * hvm-index role: largest Bitcoin block (transactions) indexed whole in one EVM transaction; larger blocks enter
   * transaction by transaction with SPV proofs (60 fit EIP-7825's 16.7M gas cap: MAX_WHOLE_BLOCK_TXS in hvm/indexer).
   */
  HVM_INDEX_MAX_WHOLE_TXS: intField(1, 10_000).default(60),
  /** deploy: keystone interval of the KeystoneLedger it deploys (Hemi: 25 EVM blocks). */
  KEYSTONE_INTERVAL: intField(1, 1_000_000).default(25),
  /** deploy: EVM blocks after a keystone before PopRewards pays it (Hemi: 200). */
  POP_PAYOUT_DELAY: intField(0, 1_000_000).default(200),
  /** deploy: also grant the ledger's SEQUENCER_ROLE to this address (the keystones role's signer, if not the deployer). */
  POP_SEQUENCER_ADDRESS: address.optional(),
  /** keystones role: KeystoneLedger address (default: from the deployment file). */
  KEYSTONE_LEDGER_ADDRESS: address.optional(),
  /** pop role: PopVerifier address (default: from the deployment file). */
  POP_VERIFIER_ADDRESS: address.optional(),
  /** keystones role: how often the EVM head is polled for new keystone blocks. */
  KEYSTONES_POLL_INTERVAL_MS: intField(50).default(1_000),
  /** pop role: the PoP miner's Bitcoin key (hex or WIF); it pays from the key's P2PKH address. */
  POP_MINER_KEY: custodyKey.optional(),
  /** pop role: highest fee rate (sat/vB) a PoP transaction may pay; above it the miner waits and retries (popm: 100). */
  POP_MAX_FEE_RATE: z.coerce.number().positive().default(100),
  /** pop role: estimatesmartfee confirmation target (popm: 6). */
  POP_FEE_TARGET: intField(1, 1_008).default(6),
  /** pop role: fee rate (sat/vB) used when the node has no estimate. */
  POP_FALLBACK_FEE_RATE: z.coerce.number().positive().default(1),
  /** pop role: wait before pricing a keystone again after the fee rate was above POP_MAX_FEE_RATE (popm: 5 min). */
  POP_FEE_RETRY_MS: intField(50).default(300_000),
  /** pop role: only the newest N recorded keystones are mined (popm: 12). */
  POP_KEYSTONE_WINDOW: intField(1, 1_000).default(12),
  /** pop role: keystones recorded longer ago than this (EVM block time) are stale and not mined (popm: 4 h). */
  POP_KEYSTONE_MAX_AGE_S: intField(1).default(4 * 3600),
  /**
   * pop role: which keystones to publish. "unpublished" (popm): skip a keystone already in a block of the best
   * Bitcoin chain (anyone's publication); transactions of other miners still in the mempool do not count, so
   * miners racing for the same block both publish. "always": publish every keystone in the window.
   */
  POP_PUBLISH: z.enum(["unpublished", "always"]).default("unpublished"),
  /** pop role: a PoP transaction still unconfirmed after this many new Bitcoin blocks is replaced with a higher fee. */
  POP_BUMP_AFTER_BLOCKS: intField(1, 1_000).default(3),
  /** pop role: fee-rate increase of a replacement, in percent (at least +1 sat/vB, as BIP125 requires). */
  POP_BUMP_PERCENT: intField(1, 1_000).default(25),
  /** pop role: recent Bitcoin blocks scanned for HEMI publications (the keystone index). */
  POP_SCAN_BLOCKS: intField(1, 10_000).default(144),
  /** pop role: a proven publication is followed (and proven again after a reorg) until it has this depth. */
  POP_SETTLE_DEPTH: intField(1, 1_000).default(10),
  /** anchors check (role anchors): interval between two checks. */
  ANCHORS_CHECK_INTERVAL_MS: intField(100).default(30_000),
  /** anchors role: the continuous check covers the newest N keystones (verify-anchors checks them all). */
  ANCHORS_CHECK_KEYSTONES: intField(1, 1_000_000).default(500),
});

export const configSchema = configShape
  .refine((c) => c.RELAYER_KEYSTORE === undefined || c.RELAYER_KEYSTORE_PASSWORD !== undefined, {
    message: "RELAYER_KEYSTORE_PASSWORD is required when RELAYER_KEYSTORE is set",
    path: ["RELAYER_KEYSTORE_PASSWORD"],
  })
  .refine((c) => c.RELAYER_PRIVATE_KEY === undefined || c.RELAYER_KEYSTORE === undefined, {
    message: "set RELAYER_PRIVATE_KEY or RELAYER_KEYSTORE, not both",
    path: ["RELAYER_PRIVATE_KEY"],
  });

/** The validated configuration. */
export type FabricConfig = z.infer<typeof configSchema>;

/** Names of every setting, i.e. the environment variables that the schema reads. */
export const CONFIG_KEYS: readonly string[] = Object.keys(configShape.shape);
