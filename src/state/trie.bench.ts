/**
 * Micro-benchmark: batches of 1,000 random keys into a tree of 100,000 keys, SHA-256 (node:crypto).
 * Run: npx tsc -p tsconfig.json --outDir .build/state && node .build/state/state/trie.bench.js
 */
import { randomBytes } from "node:crypto";
import { MemoryNodeStore } from "./memory-store.js";
import { sha256 } from "./test-support.js";
import { StateTrie } from "./trie.js";

const store = new MemoryNodeStore();
const trie = new StateTrie(sha256, store);
let rootKey: Uint8Array | null = null;
let version = 0;
const existing: Uint8Array[] = [];
for (let i = 0; i < 100; i++) {
  const changes = Array.from({ length: 1000 }, () => {
    const key = randomBytes(32);
    existing.push(key);
    return { key, value: randomBytes(64) };
  });
  const up = trie.update(rootKey, ++version, changes);
  store.apply(up, version);
  store.pruneThrough(version);
  rootKey = up.rootNodeKey;
}
process.stdout.write(`tree: ${existing.length} keys, ${store.size} nodes\n`);

function bench(label: string, makeKey: () => Uint8Array): void {
  const batches = 50;
  let updateMs = 0;
  let written = 0;
  let stale = 0;
  for (let b = 0; b < batches; b++) {
    const changes = Array.from({ length: 1000 }, () => ({ key: makeKey(), value: randomBytes(64) }));
    const t0 = performance.now();
    const up = trie.update(rootKey, ++version, changes);
    updateMs += performance.now() - t0;
    written += up.newNodes.length;
    stale += up.staleNodeKeys.length;
    store.apply(up, version);
    store.pruneThrough(version - 1);
    rootKey = up.rootNodeKey;
  }
  const perSec = Math.round((batches * 1000) / (updateMs / 1000));
  process.stdout.write(
    `${label}: ${(updateMs / batches).toFixed(1)} ms per 1,000-key batch = ${perSec.toLocaleString("en-US")} updates/s; ` +
      `${Math.round(written / batches)} new nodes, ${Math.round(stale / batches)} stale nodes per batch\n`,
  );
}

bench("insert new random keys", () => randomBytes(32));
bench("overwrite existing keys", () => existing[Math.floor(Math.random() * existing.length)] as Uint8Array);
