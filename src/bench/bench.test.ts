/**
 * `zl bench --json` end to end on a small load: the real CLI spawns a durable node process, loads
 * it over HTTP and prints one JSON object with the fields every benchmark report relies on. This
 * checks the benchmark works and reports what it measured; it asserts no speed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import type { BlockPathResult } from "./block-path.js";
import type { BenchResult } from "./single-node.js";
import { ZL_BIN } from "./spawn-node.js";

const execFileP = promisify(execFile);

describe("zl bench", () => {
  it("reports throughput, latency at three loads and the verification rates, all transactions committed", async () => {
    const txs = 300;
    const warmup = 100;
    const { stdout } = await execFileP(
      process.execPath,
      // --latency-base fixes the paced loads: a tenth, a quarter and half of 1,000 tx/s.
      [
        ZL_BIN,
        "bench",
        "--suite",
        "intl",
        "--txs",
        String(txs),
        "--senders",
        "20",
        "--latency-base",
        "1000",
        "--warmup",
        String(warmup),
        "--json",
      ],
      { timeout: 120_000 },
    );
    const r = JSON.parse(stdout) as BenchResult;
    assert.equal(r.warmup_txs, warmup);
    assert.equal(r.bench, "single-node");
    assert.equal(r.suite, "intl");
    assert.equal(r.nodes, 1);
    assert.equal(r.txs, txs);
    assert.equal(r.committed, txs, "every flood transaction commits, the warm-up's not counted");
    assert.ok(r.tps > 0 && Number.isFinite(r.tps));
    assert.ok(r.blocks >= 1);
    assert.equal(r.latency_by_load.length, 3);
    assert.deepEqual(
      r.latency_by_load.map((l) => l.load_tps),
      [100, 250, 500],
    );
    for (const l of r.latency_by_load) assert.ok(l.p50_ms > 0 && l.p50_ms <= l.p99_ms);
    // The headline latency is the one at the highest load.
    assert.equal(r.p50_ms, r.latency_by_load[2]!.p50_ms);
    assert.equal(r.latency_load_tps, r.latency_by_load[2]!.load_tps);
    assert.ok(r.sig_verify_per_s > 0 && r.sig_verify_warm_per_s > 0);
    // Every transaction was verified and executed in the node: that costs CPU there.
    assert.ok(r.node_cpu_us_per_tx !== null && r.node_cpu_us_per_tx > 0);
    assert.ok(r.client_cpu_us_per_tx > 0);
  });

  it("bench block reports the block path's cost per transaction, every stage measured", async () => {
    const { stdout } = await execFileP(
      process.execPath,
      [ZL_BIN, "bench", "block", "--suite", "gm", "--block-txs", "50", "--blocks", "3", "--json"],
      { timeout: 120_000 },
    );
    const r = JSON.parse(stdout) as BlockPathResult;
    assert.deepEqual([r.bench, r.suite, r.block_txs, r.blocks], ["block-path", "gm", 50, 3]);
    for (const v of [r.decode_us_per_tx, r.prepare_us_per_tx, r.commit_sync_us_per_tx, r.cpu_us_per_tx])
      assert.ok(v > 0 && Number.isFinite(v));
    // Until durable includes the synchronous part of the commit.
    assert.ok(r.commit_total_us_per_tx >= r.commit_sync_us_per_tx);
  });

  it("refuses a count that is not a positive whole number, with a coded error", async () => {
    await assert.rejects(
      execFileP(process.execPath, [ZL_BIN, "bench", "--txs", "ten", "--json"], { timeout: 30_000 }),
      (err: { stderr?: string }) => /BENCH_BAD_COUNT/.test(err.stderr ?? ""),
    );
    await assert.rejects(
      execFileP(process.execPath, [ZL_BIN, "bench", "--warmup", "1.5", "--json"], { timeout: 30_000 }),
      (err: { stderr?: string }) => /BENCH_BAD_COUNT.*--warmup/.test(err.stderr ?? ""),
    );
  });
});
