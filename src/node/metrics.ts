/** Prometheus metrics of a node (served at /metrics). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What the storage gauges read at each scrape (ChainStore.stateKeyFilterStats()). */
export interface StoreGaugeSource {
  ready: boolean;
  keys: number;
  bytes: number;
  absentAnswers: number;
}

/** What the consensus gauges read at each scrape (ConsensusService.status()). */
export interface ConsensusGaugeSource {
  round: number;
  stalled: boolean;
  visiblePower: number;
  totalPower: number;
  quorumVisible: boolean;
  peers: number;
  lastCommitAgoMs: number;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly height = new Gauge({
    name: "zl_chain_height",
    help: "Height of the latest committed block",
    registers: [this.registry],
  });
  readonly txsCommitted = new Counter({
    name: "zl_txs_committed_total",
    help: "Transactions committed",
    registers: [this.registry],
  });
  readonly txsFailed = new Counter({
    name: "zl_txs_failed_total",
    help: "Committed transactions whose receipt is a failure",
    registers: [this.registry],
  });
  readonly equivocations = new Counter({
    name: "zl_consensus_equivocations_total",
    help: "Conflicting vote pairs by one validator seen by this node (see GET /v1/evidence)",
    registers: [this.registry],
  });
  readonly txsRejected = new Counter({
    name: "zl_txs_rejected_total",
    help: "Transactions refused at admission, by error code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly mempoolSize = new Gauge({
    name: "zl_mempool_txs",
    help: "Transactions waiting in the mempool",
    registers: [this.registry],
  });
  readonly blockSeconds = new Histogram({
    name: "zl_block_commit_seconds",
    help: "Time to build, execute and durably store a block",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly blockTxs = new Histogram({
    name: "zl_block_txs",
    help: "Transactions per block",
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });

  private consensusSource: (() => ConsensusGaugeSource | undefined) | undefined;
  private storeSource: (() => StoreGaugeSource) | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "zl_" });
    const metrics = this;
    /** Gauges read at each scrape from what `source` returns (nothing set while it is undefined). */
    const sourcedGauges =
      <S>(source: () => S | undefined) =>
      (name: string, help: string, read: (s: S) => number) =>
        new Gauge({
          name,
          help,
          registers: [this.registry],
          collect() {
            const s = source();
            if (s) this.set(read(s));
          },
        });
    const gauge = sourcedGauges(() => metrics.consensusSource?.());
    gauge(
      "zl_consensus_round",
      "Round of the height in progress (0 when heights decide at once)",
      (s) => s.round,
    );
    gauge(
      "zl_consensus_stalled",
      "1 when the height in progress has run longer than consensus.stallAfterMs",
      (s) => (s.stalled ? 1 : 0),
    );
    gauge(
      "zl_consensus_visible_power",
      "Voting power heard from in the last 5 s, this node included",
      (s) => s.visiblePower,
    );
    gauge("zl_consensus_total_power", "Total voting power of the current validator set", (s) => s.totalPower);
    gauge("zl_consensus_quorum_visible", "1 when more than two thirds of the voting power is visible", (s) =>
      s.quorumVisible ? 1 : 0,
    );
    gauge("zl_p2p_peers", "Peers connected", (s) => s.peers);
    const storeGauge = sourcedGauges(() => metrics.storeSource?.());
    storeGauge(
      "zl_state_key_filter_ready",
      "1 once the state-key filter holds every key on disk and answers lookups",
      (s) => (s.ready ? 1 : 0),
    );
    storeGauge("zl_state_key_filter_keys", "Keys added to the state-key filter", (s) => s.keys);
    storeGauge("zl_state_key_filter_bytes", "Memory held by the state-key filter", (s) => s.bytes);
    // A count since start: a counter, brought up to the store's figure at each scrape.
    let absentReported = 0;
    new Counter({
      name: "zl_state_absent_by_filter_total",
      help: "State lookups the key filter answered as absent without reading the database",
      registers: [this.registry],
      collect() {
        const s = metrics.storeSource?.();
        if (s && s.absentAnswers > absentReported) {
          this.inc(s.absentAnswers - absentReported);
          absentReported = s.absentAnswers;
        }
      },
    });
    gauge(
      "zl_consensus_last_commit_age_seconds",
      "Seconds since this node last committed a block",
      (s) => s.lastCommitAgoMs / 1000,
    );
  }

  /** Feeds the storage gauges. */
  observeStore(source: () => StoreGaugeSource): void {
    this.storeSource = source;
  }

  /** Feeds the consensus gauges (a node running Tendermint). */
  observeConsensus(source: () => ConsensusGaugeSource | undefined): void {
    this.consensusSource = source;
  }
}
