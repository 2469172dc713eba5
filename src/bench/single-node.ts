/**
 * `zl bench`: a durable single-validator node in its own OS process, loaded over its HTTP API
 * by this process with real signed transactions (attestations from many enrolled accounts).
 *
 * Measures committed transactions per second (first submission to last commit), latency from
 * submission to the commit event (SSE) per transaction (p50/p99), and this machine's raw
 * single-core signature-verification rate in the same run — the physical limit of the design.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initTestnet } from "../cli/testnet.js";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { measureVerifyRate, measureWarmVerifyRate } from "../crypto/verify-pool.js";
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import { DEFAULT_CONFIG } from "../node/config.js";
import { homePaths, readPrivateKey } from "../node/home.js";
import { ZlClient } from "../sdk/client.js";
import { subscribeBlocks } from "../sdk/events.js";
import { Signer } from "../sdk/signer.js";
import { cpuMeter } from "./cpu.js";
import { enrolTxs, initBenchHome, submitUntilAccepted, waitCommitted } from "./load.js";
import { type NodeProcess, spawnNodes } from "./spawn-node.js";

export interface BenchOptions {
  suite: SuiteId;
  /** Validator processes: 0 (default) = a single-validator node; N ≥ 1 = an N-node Tendermint testnet. */
  nodes?: number;
  txs: number;
  senders: number;
  batch?: number;
  /** Rate (tx/s) whose shares pace the latency levels; default: the measured saturated throughput. */
  latencyBaseTps?: number;
  /** Transactions sent and committed before phase 1, not measured (default 0). */
  warmupTxs?: number;
  log?: (m: string) => void;
}

export interface BenchResult {
  bench: "single-node" | "network";
  suite: SuiteId;
  /** Validator processes (1 for the single-validator node). */
  nodes: number;
  txs: number;
  /** Transactions sent and committed before the measured phases. */
  warmup_txs: number;
  committed: number;
  tps: number;
  p50_ms: number;
  p99_ms: number;
  /** Offered load (tx/s) at which p50/p99 were measured: half the saturated throughput. */
  latency_load_tps: number;
  /** Submit-to-commit latency at a tenth, a quarter and half of the saturated throughput. */
  latency_by_load: Array<{ load_tps: number; p50_ms: number; p99_ms: number }>;
  /**
   * CPU time per committed transaction during phase 1, in µs: all validator processes together
   * (every thread: verification workers, LevelDB, GC), and the load generator. Unlike tps, this
   * hardly moves with what else the machine is doing. Null where /proc is not available.
   */
  node_cpu_us_per_tx: number | null;
  client_cpu_us_per_tx: number;
  /** Latency while the node is saturated (queueing included). */
  saturated_p50_ms: number;
  saturated_p99_ms: number;
  /** One-core verifications per second, every key new (no key cache helps): the cold case. */
  sig_verify_per_s: number;
  /** One-core verifications per second by known keys (as for enrolled senders): the node's case. */
  sig_verify_warm_per_s: number;
  blocks: number;
  block_interval_ms: number;
  senders: number;
  duration_s: number;
}

/** timeout_commit of the network benchmark: long enough for a block to gather transactions. */
const NETWORK_BLOCK_INTERVAL_MS = 100;

/** Loads, as shares of the saturated throughput, at which latency is measured (half is last). */
const LATENCY_LOAD_SHARES = [0.1, 0.25, 0.5];
const LATENCY_LEVEL_SECONDS = 3;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Signs attestations round-robin over the senders; `cursor` carries the nonces across calls. */
function signAttestations(
  chainId: string,
  senders: Signer[],
  count: number,
  cursor: { next: number },
): DecodedTx[] {
  const txs: DecodedTx[] = [];
  const now = Date.now();
  for (let j = 0; j < count; j++, cursor.next++) {
    const s = senders[cursor.next % senders.length]!;
    txs.push(
      s.sign(chainId, {
        module: "attest",
        call: "record",
        args: {
          digest: randomBytes(32),
          kind: "bench",
          provenance: { system: "zl-bench", generatedAt: now, method: "random" },
        },
        nonce: Math.floor(cursor.next / senders.length),
        expiry: 1_000_000,
      }),
    );
  }
  return txs;
}

interface PhaseResult {
  committed: number;
  tps: number;
  p50: number;
  p99: number;
  seconds: number;
}

/**
 * Sends `txs` in batches (at most `window` batches in flight; paced at `rate` tx/s if > 0),
 * waits for their commits, and reports throughput and submit-to-commit latency.
 */
async function sendAndWait(
  clients: ZlClient[],
  txs: DecodedTx[],
  batch: number,
  window: number,
  rate: number,
  committedAt: Map<string, number>,
): Promise<PhaseResult> {
  const ids = txs.map((t) => toHex(t.id));
  const submittedAt = new Map<string, number>();
  const committedBefore = committedAt.size;
  const start = performance.now();
  let rejected = 0;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < txs.length; i += batch) {
    if (rate > 0) {
      const due = start + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const chunk = txs.slice(i, i + batch);
    const t0 = performance.now();
    for (let k = i; k < i + chunk.length; k++) submittedAt.set(ids[k]!, t0);
    const p = submitUntilAccepted(clients[(i / batch) % clients.length]!, chunk)
      .then((n) => {
        rejected += n;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 120_000;
  // Each phase's transactions are new and a phase ends once its own are committed, so the map's
  // growth since the phase began counts them: no scan of every id every 50 ms, which took the
  // load generator's CPU from the same two cores as the node.
  while (committedAt.size - committedBefore < txs.length - rejected && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const latencies: number[] = [];
  let lastCommit = start;
  for (const id of ids) {
    const c = committedAt.get(id);
    if (c === undefined) continue;
    latencies.push(c - submittedAt.get(id)!);
    if (c > lastCommit) lastCommit = c;
  }
  latencies.sort((a, b) => a - b);
  const seconds = (lastCommit - start) / 1000;
  return {
    committed: latencies.length,
    tps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    seconds,
  };
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const suite = getSuite(o.suite);
  const batch = o.batch ?? 1000;
  const sigRate = measureVerifyRate(suite, 1000);
  const sigWarmRate = measureWarmVerifyRate(suite, 1000);
  log(
    `raw ${o.suite} signature verification on one core: ${sigRate.toFixed(0)}/s with new keys, ${sigWarmRate.toFixed(0)}/s with known keys`,
  );

  const home = mkdtempSync(join(tmpdir(), `zl-bench-${o.suite}-`));
  const nodes = o.nodes ?? 0;
  const blockIntervalMs = nodes > 0 ? NETWORK_BLOCK_INTERVAL_MS : DEFAULT_CONFIG.blockIntervalMs;
  // ZL_BENCH_LOG=debug keeps per-block logs; ZL_BENCH_KEEP=1 keeps the homes for inspection.
  const logLevel = (process.env.ZL_BENCH_LOG ?? "warn") as "warn";
  const config = { blockIntervalMs, logLevel };
  let homes: string[];
  if (nodes === 0) {
    initBenchHome(home, o.suite, { ...config, logFile: join(home, "node.log") });
    homes = [home];
  } else {
    // Random port bases keep concurrent runs on one machine apart.
    const base = 20_000 + Math.floor(Math.random() * 400) * 100;
    const m = initTestnet({
      dir: home,
      nodes,
      suite: o.suite,
      chainId: "zl-bench",
      p2pPort: base,
      apiPort: base + 50,
      config,
    });
    homes = m.nodes.map((n) => n.home);
  }
  const paths = homePaths(homes[0]!);
  const releaseHome = () => {
    if (process.env.ZL_BENCH_KEEP === "1") log(`kept ${home}`);
    else rmSync(home, { recursive: true, force: true });
  };
  let procs: NodeProcess[];
  try {
    procs = await spawnNodes(homes);
  } catch (err: unknown) {
    releaseHome(); // spawnNodes left no node running
    throw err;
  }
  const node = procs[0]!;
  try {
    // Load goes to every node in turn, as clients of different departments would send it.
    const clients = procs.map((p) => new ZlClient(p.api));
    const client = clients[0]!;
    const g = await client.trustedGenesis();
    const admin = new Signer(suite, readPrivateKey(suite, paths.key("admin")));
    const senders = Array.from({ length: o.senders }, () => Signer.generate(suite));
    // Enrol the senders as officials, in one batch from the organization's admin.
    const enrol = enrolTxs(admin, g.chainId, senders, ["official"]);
    await client.submitBatch(enrol.map((t) => t.bytes));
    await waitCommitted(client, enrol[enrol.length - 1]!);
    // Phase 1 sends `txs` as fast as the node takes them (throughput); then transactions are paced
    // at a tenth, a quarter and half of that throughput (latency at sustainable loads), each
    // level for about three seconds.
    const warmupTxs = o.warmupTxs ?? 0;
    log(`enrolled ${senders.length} sender accounts; signing ${warmupTxs + o.txs} transactions`);
    const cursor = { next: 0 };
    const warm = signAttestations(g.chainId, senders, warmupTxs, cursor);
    const flood = signAttestations(g.chainId, senders, o.txs, cursor);
    const committedAt = new Map<string, number>();
    let blocks = 0;
    // The filtered view: the load generator only needs to know what committed, and when.
    const sub = await subscribeBlocks(
      node.api,
      (b, at) => {
        blocks++;
        for (const t of b.txs) committedAt.set(t.id, at);
      },
      { view: "filtered" },
    );
    try {
      if (warm.length > 0) {
        log(`warm-up: ${warm.length} transactions as fast as accepted, not measured`);
        await sendAndWait(clients, warm, batch, 4, 0, committedAt);
      }
      log(`phase 1: ${flood.length} transactions as fast as accepted, in batches of ${batch}`);
      const blocksBefore = blocks;
      const readCpu = cpuMeter(procs.map((p) => p.child.pid ?? -1));
      const sat = await sendAndWait(clients, flood, batch, 4, 0, committedAt);
      const cpu = readCpu();
      const floodBlocks = blocks - blocksBefore;
      const levels: BenchResult["latency_by_load"] = [];
      for (const share of LATENCY_LOAD_SHARES) {
        const rate = Math.max(50, (o.latencyBaseTps ?? sat.tps) * share);
        const count = Math.max(500, Math.round(rate * LATENCY_LEVEL_SECONDS));
        const paced = signAttestations(g.chainId, senders, count, cursor);
        log(`latency: ${count} transactions paced at ${rate.toFixed(0)} tx/s`);
        const lat = await sendAndWait(
          clients,
          paced,
          Math.max(1, Math.round(rate / 100)),
          64,
          rate,
          committedAt,
        );
        levels.push({ load_tps: rate, p50_ms: lat.p50, p99_ms: lat.p99 });
      }
      const half = levels[levels.length - 1]!;
      return {
        bench: nodes > 0 ? "network" : "single-node",
        suite: o.suite,
        nodes: Math.max(1, nodes),
        txs: flood.length,
        warmup_txs: warm.length,
        committed: sat.committed,
        tps: sat.tps,
        p50_ms: half.p50_ms,
        p99_ms: half.p99_ms,
        latency_load_tps: half.load_tps,
        latency_by_load: levels,
        saturated_p50_ms: sat.p50,
        saturated_p99_ms: sat.p99,
        node_cpu_us_per_tx: cpu.nodes === undefined ? null : (cpu.nodes / sat.committed) * 1e6,
        client_cpu_us_per_tx: (cpu.client / sat.committed) * 1e6,
        sig_verify_per_s: sigRate,
        sig_verify_warm_per_s: sigWarmRate,
        blocks: floodBlocks,
        block_interval_ms: blockIntervalMs,
        senders: senders.length,
        duration_s: sat.seconds,
      };
    } finally {
      sub.close();
    }
  } finally {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));
    releaseHome();
  }
}
