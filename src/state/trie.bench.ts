/**
 * Micro-benchmark of the state trie as a block producer drives it: each block is one
 * `StateTrie.update` of `--txs` transactions × 2 keys (one new random key, as an attestation
 * writes, and one overwrite of a random existing key, as a nonce or record update does), over a
 * state grown first to `--keys` keys. Nodes are read through a real ChainStore (LevelDB plus its
 * node cache) in a temporary directory, and each block is committed as the node commits it.
 *
 * Run: npm run build && node dist/state/trie.bench.js
 *        [--keys 200000] [--blocks 10] [--txs 5000] [--hash sha256|sm3] [--memory] [--json]
 * `--memory` reads from a MemoryNodeStore instead (no cache misses, no LevelDB).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { digest } from "../crypto/digest.js";
import { ChainStore } from "../storage/chain-store.js";
import type { HashFn } from "./hashing.js";
import { MemoryNodeStore } from "./memory-store.js";
import { type StateChange, StateTrie, type TrieUpdate } from "./trie.js";

const { values: opts } = parseArgs({
  options: {
    keys: { type: "string", default: "200000" },
    blocks: { type: "string", default: "10" },
    txs: { type: "string", default: "5000" },
    hash: { type: "string", default: "sha256" },
    memory: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const initialKeys = Number(opts.keys);
const blocks = Number(opts.blocks);
const txs = Number(opts.txs);
const algorithm = opts.hash === "sm3" ? "sm3" : "sha256";
// As the suites do.
const hash: HashFn = (d) => digest(algorithm, d);

interface Backend {
  trie: StateTrie;
  commit(version: number, changes: StateChange[], up: TrieUpdate): Promise<void>;
  close(): Promise<void>;
}

async function openBackend(): Promise<Backend> {
  if (opts.memory) {
    const store = new MemoryNodeStore();
    return {
      trie: new StateTrie(hash, store),
      commit: async (version, _changes, up) => {
        store.apply(up, version);
        store.pruneThrough(version);
      },
      close: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "zl-trie-bench-"));
  const store = new ChainStore(dir);
  await store.open();
  const none = new Uint8Array(0);
  return {
    trie: new StateTrie(hash, { getNode: (k) => store.getNode(k) }),
    commit: (version, changes, up) =>
      store.commitBlock({
        height: version,
        blockBytes: none,
        commitBytes: none,
        receiptsBytes: none,
        txIds: [],
        changes,
        newNodes: up.newNodes,
        staleNodeKeys: up.staleNodeKeys,
        head: { height: version, blockHash: none, stateRoot: up.root, rootNodeKey: up.rootNodeKey, time: 0 },
      }),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const backend = await openBackend();
const existing: Uint8Array[] = [];
let rootKey: Uint8Array | null = null;
let version = 0;

async function apply(changes: StateChange[]): Promise<{ ms: number; up: TrieUpdate }> {
  const t0 = performance.now();
  const up = backend.trie.update(rootKey, ++version, changes);
  const ms = performance.now() - t0;
  await backend.commit(version, changes, up);
  rootKey = up.rootNodeKey;
  return { ms, up };
}

// Grow the state in blocks of 10,000 new keys.
while (existing.length < initialKeys) {
  const n = Math.min(10_000, initialKeys - existing.length);
  const changes: StateChange[] = [];
  for (let i = 0; i < n; i++) {
    const key = randomBytes(32);
    existing.push(key);
    changes.push({ key, value: randomBytes(64) });
  }
  await apply(changes);
}

const times: number[] = [];
let written = 0;
let writtenBytes = 0;
let stale = 0;
for (let b = 0; b < blocks; b++) {
  const changes: StateChange[] = [];
  const fresh: Uint8Array[] = [];
  for (let t = 0; t < txs; t++) {
    const key = randomBytes(32);
    fresh.push(key);
    changes.push({ key, value: randomBytes(80) });
    changes.push({
      key: existing[Math.floor(Math.random() * existing.length)] as Uint8Array,
      value: randomBytes(8),
    });
  }
  const { ms, up } = await apply(changes);
  for (const k of fresh) existing.push(k);
  times.push(ms);
  written += up.newNodes.length;
  for (const [, encoded] of up.newNodes) writtenBytes += encoded.length;
  stale += up.staleNodeKeys.length;
}
await backend.close();

const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] as number;
const result = {
  store: opts.memory ? "memory" : "chain-store",
  hash: algorithm,
  keys: existing.length,
  txsPerBlock: txs,
  blocks,
  medianBlockMs: Number(median.toFixed(1)),
  minBlockMs: Number((sorted[0] as number).toFixed(1)),
  usPerTx: Number(((median * 1000) / txs).toFixed(2)),
  newNodesPerBlock: Math.round(written / blocks),
  newBytesPerChange: Math.round(writtenBytes / (blocks * 2 * txs)),
  staleNodesPerBlock: Math.round(stale / blocks),
};
if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else
  process.stdout.write(
    `trie.update, ${result.store}, ${result.hash}, ${result.keys} keys: median ${result.medianBlockMs} ms per ` +
      `${txs}-tx block (${result.usPerTx} µs/tx), min ${result.minBlockMs} ms; ` +
      `${result.newNodesPerBlock} new / ${result.staleNodesPerBlock} stale records per block, ` +
      `${result.newBytesPerChange} bytes written per changed key\n`,
  );
