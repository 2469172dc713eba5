/**
 * Paged storage (ADR 0019) under keys whose hashes share long prefixes: canonical shape, exact
 * stale tracking, no-op updates, collapsing deletes, proofs equal to the binary specification's,
 * historical reads and pruning.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { bitAt, compareBytes, EMPTY_HASH, type HashFn, internalHash, leafHash } from "./hashing.js";
import { MemoryNodeStore } from "./memory-store.js";
import { nodeKeyVersion } from "./node.js";
import { applyModel, hex, type Model, reachable, referenceRoot, sha256 } from "./test-support.js";
import { type StateChange, type StateProof, StateTrie } from "./trie.js";
import { verifyStateProof } from "./verify.js";

/** Bit positions that carry the 4 bits of `a` for family f (all other bits 0 after the family byte). */
const FAMILY_BITS: number[][] = [
  [16, 17, 18, 19], // one nibble: up to 16 keys in one page at depth 16
  [20, 27, 36, 40], // chains of single-slot pages, splits inside a page
  [23, 100, 252, 255], // down to depth 256
  [10, 11, 33, 44], // splits at depths 10 and 11, inside the page at depth 8
];

/** Keys [0xEF, f, a] hash to 0x5A ‖ f ‖ zeros with a's bits at FAMILY_BITS[f]; others: SHA-256. */
const prefixHash: HashFn = (d) => {
  if (d.length !== 3 || d[0] !== 0xef) return sha256(d);
  const f = d[1] as number;
  const a = d[2] as number;
  const out = new Uint8Array(32);
  out[0] = 0x5a;
  out[1] = f << 6; // families differ at bits 8..9
  (FAMILY_BITS[f] as number[]).forEach((pos, i) => {
    if ((a >> (3 - i)) & 1) out[pos >> 3] = (out[pos >> 3] as number) | (1 << (7 - (pos & 7)));
  });
  return out;
};

const KEYS: Uint8Array[] = [];
for (let f = 0; f < 4; f++) for (let a = 0; a < 16; a++) KEYS.push(Uint8Array.of(0xef, f, a));
for (let i = 0; i < 4; i++) KEYS.push(new TextEncoder().encode(`k${i}`));
assert.equal(new Set(KEYS.map((k) => hex(prefixHash(k)))).size, KEYS.length);

const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.oneof(
  { arbitrary: fc.constant(null), weight: 2 },
  { arbitrary: fc.constantFrom(Uint8Array.of(1), Uint8Array.of(2), new Uint8Array(0)), weight: 3 },
);
const batchArb = fc.oneof(
  fc.array(fc.record({ key: keyArb, value: valueArb }), { maxLength: 14 }),
  // Whole-family batches: fill or empty a cluster at once.
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), valueArb)
    .map(([f, value]) => KEYS.filter((k) => k[0] === 0xef && k[1] === f).map((key) => ({ key, value }))),
);
const batchesArb = fc.array(batchArb, { minLength: 1, maxLength: 10 });

/** Proofs as the binary specification (ADR 0004) defines them, computed from the key set. */
function referenceProver(hash: HashFn, model: Model): (key: Uint8Array) => StateProof {
  const items = [...model.values()].map(([k, v]) => ({ kh: hash(k), vh: hash(v) }));
  items.sort((a, b) => compareBytes(a.kh, b.kh));
  const memo = new Map<string, Uint8Array>();
  /** Sorted items[lo, hi) share `depth` bits; returns the index of the first with bit `depth` = 1. */
  const split = (depth: number, lo: number, hi: number): number => {
    let mid = lo;
    while (mid < hi && bitAt((items[mid] as (typeof items)[0]).kh, depth) === 0) mid++;
    return mid;
  };
  const nodeHash = (depth: number, lo: number, hi: number): Uint8Array => {
    if (hi === lo) return EMPTY_HASH;
    const it = items[lo] as (typeof items)[0];
    if (hi - lo === 1) return leafHash(hash, it.kh, it.vh);
    const id = `${depth},${lo},${hi}`;
    let h = memo.get(id);
    if (h === undefined) {
      const mid = split(depth, lo, hi);
      h = internalHash(hash, nodeHash(depth + 1, lo, mid), nodeHash(depth + 1, mid, hi));
      memo.set(id, h);
    }
    return h;
  };
  return (key) => {
    const kh = hash(key);
    const siblings: Uint8Array[] = [];
    let [lo, hi] = [0, items.length];
    for (let depth = 0; ; depth++) {
      if (hi === lo) return { siblings, leaf: null };
      const it = items[lo] as (typeof items)[0];
      if (hi - lo === 1) return { siblings, leaf: { keyHash: it.kh, valueHash: it.vh } };
      const mid = split(depth, lo, hi);
      if (bitAt(kh, depth) === 0) [siblings[depth], hi] = [nodeHash(depth + 1, mid, hi), mid];
      else [siblings[depth], lo] = [nodeHash(depth + 1, lo, mid), mid];
    }
  };
}

function checkReads(
  trie: StateTrie,
  rootKey: Uint8Array | null,
  root: Uint8Array,
  model: Model,
  proofs = true,
): void {
  const referenceProof = proofs ? referenceProver(prefixHash, model) : null;
  KEYS.forEach((key, i) => {
    const expected = model.get(hex(key))?.[1];
    assert.deepEqual(trie.get(rootKey, key), expected, `get ${hex(key)}`);
    if (referenceProof === null) return;
    const proof = trie.prove(rootKey, key);
    assert.deepEqual(proof, referenceProof(key), `proof of ${hex(key)}`);
    if (i % 5 === 0) assert.ok(verifyStateProof(prefixHash, root, key, expected ?? null, proof));
  });
}

const sameValue = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && hex(a) === hex(b);
const setOf = (keys: Iterable<Uint8Array>): Set<string> => new Set([...keys].map(hex));
const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

function run(batches: StateChange[][]) {
  const store = new MemoryNodeStore();
  const trie = new StateTrie(prefixHash, store);
  let rootKey: Uint8Array | null = null;
  let model: Model = new Map();
  const history: Array<{ rootKey: Uint8Array | null; root: Uint8Array; model: Model }> = [
    { rootKey, root: EMPTY_HASH, model },
  ];
  const live = new Set<string>();
  batches.forEach((batch, i) => {
    const version = i + 1;
    const up = trie.update(rootKey, version, batch);
    const next = applyModel(model, batch);
    assert.deepEqual(up.root, referenceRoot(prefixHash, next), "root");
    const base = reachable(prefixHash, store, rootKey);
    const stale = setOf(up.staleNodeKeys);
    assert.equal(stale.size, up.staleNodeKeys.length, "a stale key reported twice");
    const fresh = setOf(up.newNodes.map(([k]) => k));
    assert.equal(fresh.size, up.newNodes.length, "a record written twice");
    for (const [k] of up.newNodes) {
      assert.equal(nodeKeyVersion(k), version);
      assert.ok(!store.hasNode(k), "node key reused");
    }
    store.apply(up, version);
    const now = reachable(prefixHash, store, up.rootNodeKey); // shape, stored hashes, slots
    assert.deepEqual([...stale].sort(), minus(base, now), "stale = base records not in the new tree");
    assert.deepEqual([...fresh].sort(), minus(now, base), "new records = new tree records not in base");
    const same = next.size === model.size && [...next].every(([k, [, v]]) => sameValue(model.get(k)?.[1], v));
    if (same) {
      assert.equal(up.newNodes.length, 0, "no-op wrote records");
      assert.equal(up.staleNodeKeys.length, 0, "no-op reported stale records");
      assert.deepEqual(up.rootNodeKey, rootKey);
    }
    for (const k of now) live.add(k);
    assert.equal(store.size, live.size, "leaked records");
    rootKey = up.rootNodeKey;
    model = next;
    history.push({ rootKey, root: up.root, model });
    checkReads(trie, rootKey, up.root, model);
  });
  return { store, trie, history };
}

describe("StateTrie pages: shared key-hash prefixes", () => {
  it("keeps canonical pages, exact stale sets, spec proofs, history and pruning", () => {
    fc.assert(
      fc.property(batchesArb, fc.nat(), (batches, hSeed) => {
        const { store, trie, history } = run(batches);
        for (const h of history) checkReads(trie, h.rootKey, h.root, h.model);
        const h = hSeed % history.length;
        store.pruneThrough(h);
        const kept = new Set<string>();
        for (const entry of history.slice(h)) {
          reachable(prefixHash, store, entry.rootKey, kept);
          checkReads(trie, entry.rootKey, entry.root, entry.model, false);
        }
        assert.equal(store.size, kept.size, "pruning kept or lost records");
      }),
      { numRuns: 60 },
    );
  });

  it("lifts a lone leaf out of a chain of pages to the root and back; no-ops write nothing", () => {
    const c = (f: number, a: number, v: number | null): StateChange => ({
      key: Uint8Array.of(0xef, f, a),
      value: v === null ? null : Uint8Array.of(v),
    });
    const absent: StateChange = { key: new TextEncoder().encode("zz"), value: null };
    run([
      [c(2, 0, 1), c(2, 1, 1)], // a chain of pages down to depth 252 (split at bit 255)
      [c(2, 2, 1)], // another slot of the page at 252
      [c(2, 1, null), c(2, 2, null)], // the chain dissolves: a root leaf
      [c(2, 0, 1), absent], // no-op on the root leaf
      [c(2, 1, 1), c(0, 3, 2)],
      [c(2, 0, 1), absent], // no-op
      [c(2, 0, null), c(2, 1, null), c(0, 3, null)],
    ]);
  });
});
