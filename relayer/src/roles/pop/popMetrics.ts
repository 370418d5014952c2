import { Counter, Gauge, type Registry } from "prom-client";

/** Metrics of the keystones, pop and anchors roles, registered in the relayer's registry. */
export class PopMetrics {
  readonly keystonesRecorded: Counter;
  readonly lastKeystone: Gauge;
  readonly keystonesDue: Gauge;
  readonly popPublished: Counter<"miner">;
  readonly popReplaced: Counter<"miner">;
  readonly popProven: Counter<"miner">;
  readonly popFeeWaits: Counter<"miner">;
  readonly popFeeRate: Gauge<"miner">;
  readonly popSkipped: Counter<"miner" | "reason">;
  readonly anchorsKeystones: Gauge;
  readonly anchorsAnchored: Gauge;
  readonly anchorsContradictions: Gauge;
  readonly anchorsWarnings: Gauge;
  readonly anchorsLastCheck: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.keystonesRecorded = new Counter({
      name: "hemi_fabric_keystones_recorded_total",
      help: "Keystones recorded in KeystoneLedger by this process",
      registers,
    });
    this.lastKeystone = new Gauge({
      name: "hemi_fabric_keystones_last_recorded",
      help: "EVM block number of the last keystone recorded in the ledger",
      registers,
    });
    this.keystonesDue = new Gauge({
      name: "hemi_fabric_keystones_due",
      help: "Keystone blocks that exist on the EVM node and are not recorded yet",
      registers,
    });
    const miner = ["miner"] as const;
    this.popPublished = new Counter({
      name: "hemi_fabric_pop_published_total",
      help: "PoP transactions broadcast on Bitcoin by this process (first broadcasts, not replacements)",
      labelNames: miner,
      registers,
    });
    this.popReplaced = new Counter({
      name: "hemi_fabric_pop_replaced_total",
      help: "Stuck PoP transactions replaced with a higher fee (BIP125)",
      labelNames: miner,
      registers,
    });
    this.popProven = new Counter({
      name: "hemi_fabric_pop_proven_total",
      help: "PoP publications proven on the EVM (PopVerifier.submitPop) by this process",
      labelNames: miner,
      registers,
    });
    this.popFeeWaits = new Counter({
      name: "hemi_fabric_pop_fee_cap_waits_total",
      help: "Times a keystone waited because the fee rate was above POP_MAX_FEE_RATE",
      labelNames: miner,
      registers,
    });
    this.popFeeRate = new Gauge({
      name: "hemi_fabric_pop_fee_rate_sat_vb",
      help: "Fee rate (sat/vB) of the last PoP transaction priced",
      labelNames: miner,
      registers,
    });
    this.popSkipped = new Counter({
      name: "hemi_fabric_pop_skipped_total",
      help: "Keystones the miner did not publish, by reason (published by another miner, stale)",
      labelNames: ["miner", "reason"] as const,
      registers,
    });
    this.anchorsKeystones = new Gauge({
      name: "hemi_fabric_anchors_keystones",
      help: "Keystones checked by the last anchors check (ledger and Bitcoin publications)",
      registers,
    });
    this.anchorsAnchored = new Gauge({
      name: "hemi_fabric_anchors_anchored",
      help: "Keystones with a publication canonical on the Bitcoin node and in the light client",
      registers,
    });
    this.anchorsContradictions = new Gauge({
      name: "hemi_fabric_anchors_contradictions",
      help: "Contradictions found by the last anchors check (EVM history or state root disagreeing with an anchor)",
      registers,
    });
    this.anchorsWarnings = new Gauge({
      name: "hemi_fabric_anchors_warnings",
      help: "Warnings of the last anchors check (e.g. a proven publication no longer canonical)",
      registers,
    });
    this.anchorsLastCheck = new Gauge({
      name: "hemi_fabric_anchors_last_check_timestamp_seconds",
      help: "Unix time of the last completed anchors check",
      registers,
    });
  }
}
