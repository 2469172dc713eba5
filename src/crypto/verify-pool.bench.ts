/**
 * Micro-benchmark of what signature verification costs a node's main thread: batches of
 * `--batch` signed 150-byte messages handed to a VerifyPool of `--threads` workers, one batch every
 * `--gap` ms (as HTTP submissions arrive), and the main thread's busy time per batch from the event
 * loop's utilization, less that of the same loop without batches. The workers' own time is not
 * counted: it runs on the other core.
 *
 * Run: npm run build && node dist/crypto/verify-pool.bench.js
 *        [--batch 40] [--batches 300] [--gap 10] [--threads 2] [--suite intl|gm] [--json]
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getSuite } from "./index.js";
import type { SignatureItem, SuiteId } from "./suite.js";
import { VerifyPool } from "./verify-pool.js";

const { values: opts } = parseArgs({
  options: {
    batch: { type: "string", default: "40" },
    batches: { type: "string", default: "300" },
    gap: { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
    suite: { type: "string", default: "intl" },
    json: { type: "boolean", default: false },
  },
});
const batch = Number(opts.batch);
const batches = Number(opts.batches);
const gapMs = Number(opts.gap);
const suiteId = opts.suite as SuiteId;
const suite = getSuite(suiteId);

const keys = Array.from({ length: 50 }, () => suite.generateKeyPair());
const items: SignatureItem[] = Array.from({ length: batch }, (_, i) => {
  const k = keys[i % keys.length] as (typeof keys)[number];
  const message = new Uint8Array(150).fill(i & 255);
  return { publicKey: k.publicKey, message, signature: suite.sign(k.privateKey, message) };
});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Main-thread busy µs per iteration of the paced loop, with or without a batch in each. */
async function busyPerIteration(pool: VerifyPool | undefined): Promise<number> {
  const pending: Promise<boolean[]>[] = [];
  const start = performance.eventLoopUtilization();
  for (let i = 0; i < batches; i++) {
    if (pool) pending.push(pool.verifyBatch(items));
    await sleep(gapMs);
  }
  const results = await Promise.all(pending);
  const elu = performance.eventLoopUtilization(start);
  if (results.some((r) => r.some((ok) => !ok))) throw new Error("a valid signature failed to verify");
  return (elu.active * 1000) / batches;
}

const pool = new VerifyPool(suiteId, Number(opts.threads));
try {
  await pool.verifyBatch(items); // workers load their code
  const idle = await busyPerIteration(undefined);
  const loaded = await busyPerIteration(pool);
  const perBatch = loaded - idle;
  const result = {
    suite: suiteId,
    batch,
    batches,
    gap_ms: gapMs,
    threads: pool.threads,
    main_us_per_batch: perBatch,
    main_us_per_signature: perBatch / batch,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `${suiteId}, batches of ${batch} every ${gapMs} ms on ${pool.threads} threads: ` +
        `${perBatch.toFixed(0)} µs of main-thread time per batch, ${(perBatch / batch).toFixed(2)} µs per signature\n`,
    );
} finally {
  await pool.close();
}
