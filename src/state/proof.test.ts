import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { encode } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";
import { EMPTY_HASH, type HashFn } from "./hashing.js";
import { MemoryNodeStore } from "./memory-store.js";
import { decodeProof, encodeProof, type StateProof } from "./proof.js";
import { deepHash, HASHES } from "./test-support.js";
import { StateTrie } from "./trie.js";
import { verifyStateProof } from "./verify.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function build(hash: HashFn, n: number, extra: Uint8Array[] = []) {
  const store = new MemoryNodeStore();
  const trie = new StateTrie(hash, store);
  const changes: Array<{ key: Uint8Array; value: Uint8Array }> = Array.from({ length: n }, (_, i) => ({
    key: enc(`key-${i}`),
    value: enc(`value-${i}`),
  }));
  for (const key of extra) changes.push({ key, value: key });
  const up = trie.update(null, 1, changes);
  store.apply(up, 1);
  return { trie, root: up.root, rootKey: up.rootNodeKey, changes };
}

const isBadProof = (e: unknown) => e instanceof InvalidInputError && e.code === "STATE_BAD_PROOF";

/** verify after decode; a decode failure counts as rejection. */
function verifyBytes(
  hash: HashFn,
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | null,
  bytes: Uint8Array,
): boolean {
  let proof: StateProof;
  try {
    proof = decodeProof(bytes);
  } catch (e) {
    assert.ok(isBadProof(e), "decodeProof must throw STATE_BAD_PROOF");
    return false;
  }
  return verifyStateProof(hash, root, key, value, proof);
}

describe("state proofs", () => {
  for (const [name, hash] of HASHES) {
    it(`inclusion proofs verify; any single-byte tamper fails (${name})`, () => {
      const { trie, root, rootKey, changes } = build(hash, 64);
      for (const { key, value } of changes.slice(0, 6)) {
        const proof = trie.prove(rootKey, key);
        assert.ok(verifyStateProof(hash, root, key, value, proof));
        const bytes = encodeProof(proof);
        assert.deepEqual(decodeProof(bytes), proof);
        assert.ok(verifyBytes(hash, root, key, value, bytes));
        for (let i = 0; i < bytes.length; i++) {
          const t = bytes.slice();
          t[i] = (t[i] as number) ^ (1 << (i % 8));
          assert.equal(verifyBytes(hash, root, key, value, t), false, `proof byte ${i}`);
        }
        for (let i = 0; i < value.length; i++) {
          const v = value.slice();
          v[i] = (v[i] as number) ^ 0x01;
          assert.equal(verifyStateProof(hash, root, key, v, proof), false);
        }
        assert.equal(verifyStateProof(hash, root, key, Uint8Array.of(...value, 0), proof), false);
        for (let i = 0; i < root.length; i++) {
          const r = root.slice();
          r[i] = (r[i] as number) ^ 0x80;
          assert.equal(verifyStateProof(hash, r, key, value, proof), false);
        }
        // A present key is not provably absent, and not provably mapped to another value.
        assert.equal(verifyStateProof(hash, root, key, null, proof), false);
        assert.equal(verifyStateProof(hash, root, key, enc("other"), proof), false);
      }
    });

    it(`non-inclusion proofs verify for absent keys and fail for present ones (${name})`, () => {
      const { trie, root, rootKey, changes } = build(hash, 64);
      let atEmpty = 0;
      let atLeaf = 0;
      for (let i = 0; i < 150; i++) {
        const key = enc(`absent-${i}`);
        const proof = trie.prove(rootKey, key);
        if (proof.leaf === null) atEmpty++;
        else atLeaf++;
        assert.ok(verifyStateProof(hash, root, key, null, proof));
        assert.ok(verifyBytes(hash, root, key, null, encodeProof(proof)));
        assert.equal(verifyStateProof(hash, root, key, enc("x"), proof), false);
        const bytes = encodeProof(proof);
        for (let j = 0; j < bytes.length; j += 3) {
          const t = bytes.slice();
          t[j] = (t[j] as number) ^ 0x04;
          assert.equal(verifyBytes(hash, root, key, null, t), false);
        }
        // Reusing an absent key's proof for a present key must fail.
        const present = changes[i % changes.length] as { key: Uint8Array; value: Uint8Array };
        assert.equal(verifyStateProof(hash, root, present.key, null, proof), false);
      }
      assert.ok(atEmpty > 0 && atLeaf > 0, `both terminal kinds exercised (${atEmpty}/${atLeaf})`);
    });
  }

  it("proves deep paths (keys sharing 255 bits) and the empty tree", () => {
    const keys = [Uint8Array.of(0xee, 0, 0), Uint8Array.of(0xee, 0, 1), Uint8Array.of(0xee, 0, 3)];
    const { trie, root, rootKey } = build(deepHash, 5, keys);
    for (const key of keys) {
      const proof = trie.prove(rootKey, key);
      assert.ok(verifyStateProof(deepHash, root, key, key, proof));
    }
    assert.equal(trie.prove(rootKey, Uint8Array.of(0xee, 0, 0)).siblings.length, 256);
    const absent = Uint8Array.of(0xee, 0, 2);
    assert.ok(verifyStateProof(deepHash, root, absent, null, trie.prove(rootKey, absent)));
    const [, sha] = HASHES[0] as [string, HashFn];
    const empty = new StateTrie(sha, new MemoryNodeStore()).prove(null, enc("k"));
    assert.deepEqual(empty, { siblings: [], leaf: null });
    assert.ok(verifyStateProof(sha, EMPTY_HASH, enc("k"), null, empty));
    assert.equal(verifyStateProof(sha, EMPTY_HASH, enc("k"), enc("v"), empty), false);
  });

  it("decodeProof rejects malformed and non-canonical input with STATE_BAD_PROOF", () => {
    const h = new Uint8Array(32).fill(1);
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      encode([]),
      encode({ siblings: [], leaf: null, extra: 1 }),
      encode({ siblings: [new Uint8Array(31)], leaf: null }),
      encode({ siblings: [], leaf: { keyHash: h } }),
      encode({ siblings: [], leaf: { keyHash: h, valueHash: new Uint8Array(33) } }),
      encode({ siblings: Array.from({ length: 257 }, () => h), leaf: null }),
      encode({ siblings: "x", leaf: null }),
      Uint8Array.of(0xa2, 0x68, ...enc("siblings"), 0x80, 0x64, ...enc("leaf"), 0xf6), // keys out of order
      Uint8Array.of(...encode({ siblings: [], leaf: null }), 0x00), // trailing byte
    ];
    for (const b of bad) assert.throws(() => decodeProof(b), isBadProof);
    assert.throws(
      () => encodeProof({ siblings: [h], leaf: { keyHash: h } } as unknown as StateProof),
      isBadProof,
    );
  });

  it("verifyStateProof never throws on arbitrary input", () => {
    const [, sha] = HASHES[0] as [string, HashFn];
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true }), fc.anything({ withTypedArray: true }), (a, b) => {
        const r1 = verifyStateProof(sha, EMPTY_HASH, Uint8Array.of(1), null, a as StateProof);
        const r2 = verifyStateProof(sha, a as Uint8Array, b as Uint8Array, a as Uint8Array, b as StateProof);
        assert.equal(typeof r1, "boolean");
        assert.equal(typeof r2, "boolean");
      }),
      { numRuns: 300 },
    );
    const throwing: HashFn = () => {
      throw new Error("boom");
    };
    assert.equal(
      verifyStateProof(throwing, EMPTY_HASH, Uint8Array.of(1), null, { siblings: [], leaf: null }),
      false,
    );
  });

  it("verify.js is browser-safe: no node: or third-party imports except cborg, transitively", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const queue = [resolve(here, "verify.js")];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(
        /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(/g,
      )) {
        const spec = m[1] ?? m[2];
        assert.ok(spec !== undefined, `dynamic require in ${file}`);
        if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
        else assert.equal(spec, "cborg", `${file} imports ${spec}`);
      }
    }
    assert.ok(seen.size >= 4);
  });
});
