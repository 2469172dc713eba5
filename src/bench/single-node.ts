/**
 * `zl bench`: a durable single-validator node in its own OS process, loaded over its HTTP API
 * by this process with real signed transactions (attestations from many enrolled accounts).
 *
 * Measures committed transactions per second (first submission to last commit), latency from
 * submission to the commit event (SSE) per transaction (p50/p99), and this machine's raw
 * single-core signature-verification rate in the same run — the physical limit of the design.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome } from "../cli/init.js";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { measureVerifyRate } from "../crypto/verify-pool.js";
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import { homePaths, readPrivateKey } from "../node/home.js";
import { ZlClient } from "../sdk/client.js";
import { subscribeBlocks } from "../sdk/events.js";
import { Signer } from "../sdk/signer.js";
import { spawnNode } from "./spawn-node.js";

export interface BenchOptions {
  suite: SuiteId;
  txs: number;
  senders: number;
  batch?: number;
  log?: (m: string) => void;
}

export interface BenchResult {
  bench: "single-node";
  suite: SuiteId;
  txs: number;
  committed: number;
  tps: number;
  p50_ms: number;
  p99_ms: number;
  sig_verify_per_s: number;
  blocks: number;
  block_interval_ms: number;
  senders: number;
  duration_s: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const suite = getSuite(o.suite);
  const batch = o.batch ?? 1000;
  const sigRate = measureVerifyRate(suite, 1000);
  log(`raw ${o.suite} signature verification: ${sigRate.toFixed(0)}/s on one core`);

  const home = mkdtempSync(join(tmpdir(), `zl-bench-${o.suite}-`));
  const blockIntervalMs = 50;
  initHome({
    home,
    suite: o.suite,
    chainId: "zl-bench",
    orgId: "market",
    orgName: "Bench",
    orgCode: "11100000000000000X",
    port: 0,
  });
  const paths = homePaths(home);
  const cfg = JSON.parse(readFileSync(paths.config, "utf8"));
  writeFileSync(
    paths.config,
    JSON.stringify({ ...cfg, blockIntervalMs, logLevel: "warn", logFile: join(home, "node.log") }),
  );
  const node = await spawnNode(home);
  try {
    const client = new ZlClient(node.api);
    const g = await client.trustedGenesis();
    const admin = new Signer(suite, readPrivateKey(suite, paths.key("admin")));
    const senders = Array.from({ length: o.senders }, () => Signer.generate(suite));
    // Enrol the senders as officials, in one batch from the organization's admin.
    const enrol = senders.map((s, i) =>
      admin.sign(g.chainId, {
        module: "membership",
        call: "enroll",
        args: { publicKey: s.publicKey, roles: ["official"] },
        nonce: i,
        expiry: 1_000_000,
      }),
    );
    await client.submitBatch(enrol.map((t) => t.bytes));
    const last = enrol[enrol.length - 1]!;
    for (let i = 0; i < 400; i++) {
      const t = (await client.getTx(toHex(last.id)).catch(() => ({ status: "pending" }))) as {
        status: string;
      };
      if (t.status === "committed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    log(`enrolled ${senders.length} sender accounts; signing ${o.txs} transactions`);
    const perSender = Math.ceil(o.txs / senders.length);
    const txs: DecodedTx[] = [];
    const now = Date.now();
    for (let n = 0; n < perSender && txs.length < o.txs; n++)
      for (const s of senders) {
        if (txs.length >= o.txs) break;
        txs.push(
          s.sign(g.chainId, {
            module: "attest",
            call: "record",
            args: {
              digest: randomBytes(32),
              kind: "bench",
              provenance: { system: "zl-bench", generatedAt: now, method: "random" },
            },
            nonce: n,
            expiry: 1_000_000,
          }),
        );
      }

    const committedAt = new Map<string, number>();
    let blocks = 0;
    const sub = await subscribeBlocks(node.api, (b, at) => {
      blocks++;
      for (const t of b.txs) committedAt.set(t.id, at);
    });
    const submittedAt = new Map<string, number>();
    log(`sending ${txs.length} transactions in batches of ${batch}`);
    const start = performance.now();
    const blocksBefore = blocks;
    let rejected = 0;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < txs.length; i += batch) {
      const chunk = txs.slice(i, i + batch);
      const t0 = performance.now();
      for (const t of chunk) submittedAt.set(toHex(t.id), t0);
      const p = (async () => {
        for (;;) {
          try {
            const r = await client.submitBatch(chunk.map((t) => t.bytes));
            rejected += r.results.filter((x) => !x.ok).length;
            return;
          } catch (err: unknown) {
            if ((err as { status?: number }).status !== 503) throw err;
            await new Promise((r) => setTimeout(r, 20)); // back-pressure: the pool is full
          }
        }
      })().finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const deadline = performance.now() + 120_000;
    while (committedAt.size < txs.length - rejected && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    sub.close();
    const latencies: number[] = [];
    let lastCommit = start;
    for (const t of txs) {
      const id = toHex(t.id);
      const c = committedAt.get(id);
      if (c === undefined) continue;
      latencies.push(c - submittedAt.get(id)!);
      if (c > lastCommit) lastCommit = c;
    }
    latencies.sort((a, b) => a - b);
    const seconds = (lastCommit - start) / 1000;
    return {
      bench: "single-node",
      suite: o.suite,
      txs: txs.length,
      committed: latencies.length,
      tps: latencies.length / seconds,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      sig_verify_per_s: sigRate,
      blocks: blocks - blocksBefore,
      block_interval_ms: blockIntervalMs,
      senders: senders.length,
      duration_s: seconds,
    };
  } finally {
    node.child.kill("SIGTERM");
    await node.exited;
    rmSync(home, { recursive: true, force: true });
  }
}
