/** Prometheus metrics of a node (served at /metrics). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "zl_" });
  }
}
