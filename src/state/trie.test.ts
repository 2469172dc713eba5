import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InvalidInputError } from "../errors/index.js";
import { EMPTY_HASH, type HashFn } from "./hashing.js";
import { MemoryNodeStore } from "./memory-store.js";
import {
  decodeNode,
  encodeLeaf,
  encodePage,
  innerInternalMask,
  KIND_EMPTY,
  KIND_INTERNAL,
  KIND_LEAF,
  makeNodeKey,
  nodeKeyVersion,
  pageSize,
  parsePage,
  popcount16,
  slotNodeKey,
  slotVersion,
  writePageRecord,
} from "./node.js";
import {
  applyModel,
  deepHash,
  HASHES,
  hex,
  type Model,
  reachable,
  referenceRoot,
  sha256,
} from "./test-support.js";
import { type StateChange, StateTrie } from "./trie.js";
import { verifyStateProof } from "./verify.js";

/** Key space small enough to produce overwrites and deletes; 0xEE-prefixed keys go deep under deepHash. */
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((i) => new TextEncoder().encode(`k${i}`)),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
    .map(([a, b]) => new Uint8Array([0xee, a, b])),
);
const valueArb = fc.option(fc.uint8Array({ minLength: 0, maxLength: 6 }), { nil: null, freq: 3 });
const changeArb = fc.record({ key: keyArb, value: valueArb });
const batchesArb = fc.array(fc.array(changeArb, { maxLength: 25 }), { minLength: 1, maxLength: 8 });

const ALL_HASHES: Array<[string, HashFn]> = [...HASHES, ["deep", deepHash]];

/** Runs the batches at versions 1..n; returns roots, models and the store. */
function run(hash: HashFn, batches: StateChange[][]) {
  const store = new MemoryNodeStore();
  const trie = new StateTrie(hash, store);
  let rootKey: Uint8Array | null = null;
  let model: Model = new Map();
  const history: Array<{ rootKey: Uint8Array | null; root: Uint8Array; model: Model }> = [
    { rootKey: null, root: EMPTY_HASH, model },
  ];
  batches.forEach((batch, i) => {
    const version = i + 1;
    const up = trie.update(rootKey, version, batch);
    // Stale keys must be live nodes of the base tree; new keys carry this version and are fresh.
    const base = reachable(hash, store, rootKey);
    for (const k of up.staleNodeKeys) assert.ok(base.has(hex(k)), "stale key not in base tree");
    assert.equal(
      new Set(up.staleNodeKeys.map(hex)).size,
      up.staleNodeKeys.length,
      "stale key reported twice",
    );
    for (const [k] of up.newNodes) {
      assert.equal(nodeKeyVersion(k), version);
      assert.ok(!store.hasNode(k), "node key reused");
    }
    store.apply(up, version);
    rootKey = up.rootNodeKey;
    model = applyModel(model, batch);
    history.push({ rootKey, root: up.root, model });
  });
  return { store, trie, history };
}

describe("StateTrie", () => {
  for (const [name, hash] of ALL_HASHES) {
    it(`matches the naive reference across random batches (${name})`, () => {
      fc.assert(
        fc.property(batchesArb, fc.boolean(), (generated, deleteAll) => {
          let batches: StateChange[][] = generated;
          if (deleteAll) {
            const keys = new Map<string, Uint8Array>();
            for (const b of batches) for (const c of b) keys.set(hex(c.key), c.key);
            batches = [...batches, [...keys.values()].map((key) => ({ key, value: null }))];
          }
          const { store, trie, history } = run(hash, batches);
          const live = new Set<string>();
          for (const h of history) {
            assert.deepEqual(h.root, referenceRoot(hash, h.model));
            if (h.rootKey !== null) assert.deepEqual(trie.rootHash(h.rootKey), h.root);
            reachable(hash, store, h.rootKey, live);
          }
          // Nothing leaks: every stored node belongs to some version's tree.
          assert.equal(store.size, live.size);
          const last = history[history.length - 1] as (typeof history)[number];
          for (const [, [k, v]] of last.model) assert.deepEqual(trie.get(last.rootKey, k), v);
          if (deleteAll) {
            assert.deepEqual(last.root, EMPTY_HASH);
            assert.equal(last.rootKey, null);
          }
        }),
        { numRuns: 60 },
      );
    });
  }

  it("serves historical reads and proofs at old versions after later updates", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const { trie, history } = run(sha256, batches);
        for (const h of history) {
          for (let i = 0; i <= 40; i += 3) {
            const key = new TextEncoder().encode(`k${i}`);
            const expected = h.model.get(hex(key))?.[1];
            assert.deepEqual(trie.get(h.rootKey, key), expected);
            const proof = trie.prove(h.rootKey, key);
            assert.ok(verifyStateProof(sha256, h.root, key, expected ?? null, proof));
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("pruning stale nodes through height h keeps every root at heights >= h readable", () => {
    fc.assert(
      fc.property(batchesArb, fc.nat(), (batches, hSeed) => {
        const { store, trie, history } = run(sha256, batches);
        const h = hSeed % history.length;
        store.pruneThrough(h);
        const live = new Set<string>();
        for (let v = h; v < history.length; v++) {
          const entry = history[v] as (typeof history)[number];
          reachable(sha256, store, entry.rootKey, live); // throws on any missing node
          for (const [, [k, val]] of entry.model) assert.deepEqual(trie.get(entry.rootKey, k), val);
        }
        // Exactly the nodes of the retained trees remain.
        assert.equal(store.size, live.size);
      }),
      { numRuns: 60 },
    );
  });

  it("old versions become unreadable once pruned, with a coded error", () => {
    const store = new MemoryNodeStore();
    const trie = new StateTrie(sha256, store);
    const a = trie.update(null, 1, [
      { key: Uint8Array.of(1), value: Uint8Array.of(1) },
      { key: Uint8Array.of(2), value: Uint8Array.of(2) },
    ]);
    store.apply(a, 1);
    const b = trie.update(a.rootNodeKey, 2, [{ key: Uint8Array.of(1), value: Uint8Array.of(9) }]);
    store.apply(b, 2);
    assert.ok(store.pruneThrough(2) > 0);
    assert.deepEqual(trie.get(b.rootNodeKey, Uint8Array.of(1)), Uint8Array.of(9));
    assert.throws(() => trie.get(a.rootNodeKey, Uint8Array.of(1)), { code: "STATE_NODE_MISSING" });
  });

  it("is independent of insertion order and batching", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 4 }), {
          selector: hex,
          minLength: 1,
          maxLength: 60,
        }),
        fc.nat(),
        (keys, seed) => {
          const changes = keys.map((key) => ({ key, value: key.slice().reverse() }));
          const one = run(sha256, [changes]).history.at(-1)?.root as Uint8Array;
          const shuffled = [...changes].sort(
            (x, y) => ((hex(x.key).length * 31 + seed) % 7) - ((hex(y.key).length * 17 + seed) % 5),
          );
          const batches: StateChange[][] = [];
          for (let i = 0; i < shuffled.length; i += 1 + (seed % 5))
            batches.push(shuffled.slice(i, i + 1 + (seed % 5)));
          const many = run(sha256, batches).history.at(-1)?.root as Uint8Array;
          assert.deepEqual(one, many);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("handles thousands of keys: insert, overwrite, delete everything back to EMPTY", () => {
    const store = new MemoryNodeStore();
    const trie = new StateTrie(sha256, store);
    const keys = Array.from({ length: 3000 }, () => randomBytes(20));
    let rootKey: Uint8Array | null = null;
    let model: Model = new Map();
    let version = 0;
    const step = (changes: StateChange[]) => {
      const up = trie.update(rootKey, ++version, changes);
      store.apply(up, version);
      rootKey = up.rootNodeKey;
      model = applyModel(model, changes);
      assert.deepEqual(up.root, referenceRoot(sha256, model));
      return up;
    };
    step(keys.map((key) => ({ key, value: Uint8Array.of(1) })));
    step(keys.filter((_, i) => i % 3 === 0).map((key) => ({ key, value: Uint8Array.of(2) })));
    for (let i = 0; i < keys.length; i += 1000)
      step(keys.slice(i, i + 1000).map((key) => ({ key, value: null })));
    assert.equal(rootKey, null);
    assert.ok(store.pruneThrough(version) > 0);
    assert.equal(store.pruneThrough(version), 0); // idempotent
    assert.equal(store.size, 0);
  });

  it("last change wins for duplicate keys; no-op batches write nothing", () => {
    const store = new MemoryNodeStore();
    const trie = new StateTrie(sha256, store);
    const k = Uint8Array.of(7);
    const up = trie.update(null, 1, [
      { key: k, value: Uint8Array.of(1) },
      { key: Uint8Array.of(8), value: Uint8Array.of(8) },
      { key: k, value: null },
      { key: k, value: Uint8Array.of(3) },
    ]);
    store.apply(up, 1);
    assert.deepEqual(trie.get(up.rootNodeKey, k), Uint8Array.of(3));
    const noop = trie.update(up.rootNodeKey, 2, [
      { key: k, value: Uint8Array.of(3) },
      { key: Uint8Array.of(99), value: null },
    ]);
    assert.deepEqual(noop.root, up.root);
    assert.deepEqual(noop.rootNodeKey, up.rootNodeKey);
    assert.equal(noop.newNodes.length, 0);
    assert.equal(noop.staleNodeKeys.length, 0);
    const empty = trie.update(null, 1, [{ key: k, value: null }]);
    assert.deepEqual(empty, { root: EMPTY_HASH, rootNodeKey: null, newNodes: [], staleNodeKeys: [] });
  });

  it("rejects bad versions, root keys and changes with coded errors", () => {
    const store = new MemoryNodeStore();
    const trie = new StateTrie(sha256, store);
    const up = trie.update(null, 5, [{ key: Uint8Array.of(1), value: Uint8Array.of(1) }]);
    store.apply(up, 5);
    const code = (c: string) => (e: unknown) => e instanceof InvalidInputError && e.code === c;
    assert.throws(() => trie.update(up.rootNodeKey, 5, []), code("STATE_BAD_VERSION"));
    assert.throws(() => trie.update(null, -1, []), code("STATE_BAD_VERSION"));
    assert.throws(() => trie.update(null, 1.5, []), code("STATE_BAD_VERSION"));
    assert.throws(() => trie.get(Uint8Array.of(1, 2), Uint8Array.of(1)), code("STATE_BAD_ROOT_KEY"));
    assert.throws(
      () => trie.update(null, 6, [{ key: "x" as unknown as Uint8Array, value: null }]),
      code("STATE_BAD_CHANGE"),
    );
  });

  it("writes a page from hashes read in place out of another record, byte for byte as from arrays", () => {
    // Any canonical page: at least two keys below it, leaves a subset of the present slots.
    const pageArb = fc
      .tuple(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
      .map(([present, l]) => ({ present, leaves: l & present }))
      .filter(({ present, leaves }) => !(popcount16(present) === 1 && leaves === present));
    fc.assert(
      fc.property(pageArb, fc.integer({ min: 0, max: 40 }), ({ present, leaves }, shift) => {
        const innerMask = innerInternalMask(present, leaves);
        const slots = Array.from({ length: 16 }, (_, i) => {
          const bit = 0x8000 >>> i;
          const kind = (present & bit) === 0 ? KIND_EMPTY : (leaves & bit) !== 0 ? KIND_LEAF : KIND_INTERNAL;
          return { kind: kind as 0 | 1 | 2, hash: new Uint8Array(32).fill(i + 1), version: i * 1000 + 7 };
        });
        const inner: Uint8Array[] = [];
        for (let h = 1; h < 16; h++)
          if ((innerMask & (1 << h)) !== 0) inner[h] = new Uint8Array(32).fill(0x80 + h);
        const expected = encodePage(slots, inner);
        // The same parts, located inside one larger array at offsets, as an update finds them in
        // the record it replaces.
        const host = new Uint8Array(shift + expected.length);
        host.set(expected, shift);
        const page = parsePage(host.subarray(shift));
        const bytes = new Array<Uint8Array>(32).fill(host);
        const at = new Int32Array(32);
        const versions = new Float64Array(16);
        for (let i = 0; i < 16; i++) {
          const o = page.slotOffset[i] as number;
          if (o < 0) continue;
          at[16 + i] = shift + o;
          versions[i] = slotVersion(page, i);
        }
        for (let h = 1; h < 16; h++) at[h] = shift + Math.max(0, page.innerOffset[h] as number);
        const out = new Uint8Array(pageSize(present, innerMask));
        writePageRecord(out, present, leaves, bytes, at, versions);
        assert.equal(hex(out), hex(expected));
        assert.throws(
          () => writePageRecord(new Uint8Array(out.length + 1), present, leaves, bytes, at, versions),
          { code: "STATE_CORRUPT_NODE" },
        );
      }),
    );
  });

  it("encodes nodes and node keys as documented", () => {
    const nk = makeNodeKey(0x0102030405, 12, Uint8Array.of(0xff, 0xff, 0xff));
    assert.equal(hex(nk), "0000000102030405000cfff0");
    // Slot 0xa of the page at depth 12 whose path starts 0xfff: depth 16, path 0xfffa.
    assert.equal(hex(slotNodeKey(7, 12, Uint8Array.of(0xff, 0xf0), 0xa)), "00000000000000070010fffa");
    assert.equal(hex(encodeLeaf(Uint8Array.of(0xaa), Uint8Array.of(0xbb, 0xcc))), "0000000001aa00000002bbcc");
    // A page with leaves in slots 0 and 15: only its own binary node (1) is internal.
    const slots = Array.from({ length: 16 }, () => ({
      kind: KIND_EMPTY as 0 | 1 | 2,
      hash: EMPTY_HASH,
      version: 0,
    }));
    slots[0] = { kind: KIND_LEAF, hash: new Uint8Array(32).fill(7), version: 3 };
    slots[15] = { kind: KIND_LEAF, hash: new Uint8Array(32).fill(8), version: 4 };
    const inner: Uint8Array[] = [];
    inner[1] = new Uint8Array(32).fill(9);
    const enc = encodePage(slots, inner);
    assert.equal(
      hex(enc),
      `0280018001${"07".repeat(32)}0000000000000003${"08".repeat(32)}0000000000000004${"09".repeat(32)}`,
    );
    const page = decodeNode(enc);
    assert.equal(page.type, "page");
    const corrupt = { code: "STATE_CORRUPT_NODE" };
    assert.throws(() => decodeNode(enc.subarray(0, enc.length - 1)), corrupt); // length
    assert.throws(() => decodeNode(Uint8Array.of(2, 0x80, 0, 0x80, 0, ...enc.subarray(5, 45))), corrupt); // a lone leaf
    assert.throws(() => decodeNode(Uint8Array.of(2, 0x80, 0x01, 0x80, 0x02, ...enc.subarray(5))), corrupt); // leaf not present
    assert.throws(() => decodeNode(Uint8Array.of(1, 0)), corrupt); // the binary record of storage format 1
    assert.throws(() => decodeNode(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), corrupt);
  });
});
