/**
 * Micro-benchmark of looking up state keys that were never written (ADR 0023): a store is filled
 * with `--keys` keys through checkpointed blocks, then `--probes` random absent keys are looked
 * up through `ChainStore.getState` (answered by the key filter) and through the LevelDB read
 * `getState` made before the filter (`getSync` of `s`‖key), on the same open database.
 *
 * Run: npm run build && node dist/storage/absent-lookup.bench.js [--keys 100000] [--probes 20000]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ClassicLevel } from "classic-level";
import { ChainStore } from "./chain-store.js";

const { values: opts } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    probes: { type: "string", default: "20000" },
  },
});
const keys = Number(opts.keys);
const probes = Number(opts.probes);
if (!Number.isSafeInteger(keys) || keys < 5000 || !Number.isSafeInteger(probes) || probes < 1) {
  process.stderr.write(
    "--keys takes a whole number of at least 5000 (blocks of 5000), --probes one of at least 1\n",
  );
  process.exit(2);
}
const stateKey = () => new TextEncoder().encode(`attest/${randomBytes(32).toString("hex")}`);

const dir = mkdtempSync(join(tmpdir(), "zl-absent-"));
try {
  const store = new ChainStore(dir, { checkpointBlocks: 1 });
  await store.open();
  const tag = new Uint8Array(32);
  const head = (height: number) => ({
    height,
    blockHash: tag,
    stateRoot: tag,
    rootNodeKey: null,
    time: height,
  });
  await store.writeGenesis(tag, { height: 0, changes: [], newNodes: [], staleNodeKeys: [], head: head(0) });
  const perBlock = 5000;
  for (let h = 1; h * perBlock <= keys; h++)
    await store.commitBlock({
      height: h,
      blockBytes: Uint8Array.of(h),
      commitBytes: Uint8Array.of(h),
      receiptsBytes: Uint8Array.of(0x80),
      txIds: [],
      changes: Array.from({ length: perBlock }, () => ({ key: stateKey(), value: randomBytes(300) })),
      newNodes: [],
      staleNodeKeys: [],
      head: head(h),
    });
  await store.stateKeyFilterSettled();
  const absent = Array.from({ length: probes }, stateKey);
  // Five rounds over the same keys; the median is reported (the first round also compiles).
  const time = (label: string, lookup: (k: Uint8Array) => unknown) => {
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t0 = process.hrtime.bigint();
      for (const k of absent) lookup(k);
      rounds.push(Number(process.hrtime.bigint() - t0) / 1e3 / absent.length);
    }
    const median = [...rounds].sort((a, b) => a - b)[2] as number;
    process.stdout.write(
      `${label}: median ${median.toFixed(2)} µs per absent key (${rounds.map((r) => r.toFixed(2)).join(", ")})\n`,
    );
  };
  time("getState with the key filter", (k) => store.getState(k));
  const stats = store.stateKeyFilterStats();
  process.stdout.write(`filter: ${stats.keys} keys, ${stats.bytes} bytes, ${stats.absentAnswers} answers\n`);
  // The same read getState made before the filter, on the same open database (its memtable
  // holds what the blocks wrote, as a running node's does).
  const db = (store as unknown as { db: ClassicLevel<Uint8Array, Uint8Array> }).db;
  const sKey = (k: Uint8Array) => {
    const out = new Uint8Array(1 + k.length);
    out[0] = 0x73; // 's'
    out.set(k, 1);
    return out;
  };
  time("LevelDB getSync (before the filter)", (k) => db.getSync(sKey(k)));
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
