/**
 * `verifyInclusion` (src/state/verify.ts) answers as `verifyStateProof` does for an inclusion,
 * with and without a `PathMemo`: a memo filled by valid proofs never makes a tampered one pass,
 * and a memo filled by tampered proofs never makes a valid one fail.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { HashFn } from "./hashing.js";
import { MemoryNodeStore } from "./memory-store.js";
import type { StateProof } from "./proof.js";
import { HASHES } from "./test-support.js";
import { StateTrie } from "./trie.js";
import { PathMemo, verifyInclusion, verifyStateProof } from "./verify.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function build(hash: HashFn, n: number) {
  const store = new MemoryNodeStore();
  const trie = new StateTrie(hash, store);
  const changes = Array.from({ length: n }, (_, i) => ({ key: enc(`key-${i}`), value: enc(`value-${i}`) }));
  const up = trie.update(null, 1, changes);
  store.apply(up, 1);
  return { trie, root: up.root, rootKey: up.rootNodeKey, changes };
}

/** The inclusion check three ways (the proof's leaf is of `key`): the reference, without a memo, with `memo`. */
function answers(
  hash: HashFn,
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  proof: StateProof,
  memo: PathMemo,
): [boolean, boolean, boolean] {
  const reference = verifyStateProof(hash, root, key, value, proof);
  const plain = verifyInclusion(hash, root, hash(key), hash(value), proof.siblings);
  const memoized = verifyInclusion(hash, root, hash(key), hash(value), proof.siblings, memo);
  return [reference, plain, memoized];
}

describe("verifyInclusion", () => {
  for (const [name, hash] of HASHES) {
    it(`agrees with verifyStateProof, with or without a memo, on valid and tampered proofs (${name})`, () => {
      const { trie, root, rootKey, changes } = build(hash, 300);
      const memo = new PathMemo(6);
      const proofs = changes.map((c) => ({ ...c, proof: trie.prove(rootKey, c.key) }));
      fc.assert(
        fc.property(
          fc.nat(proofs.length - 1),
          fc.option(fc.tuple(fc.nat(), fc.nat(31), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
          (i, tamper) => {
            const { key, value, proof } = proofs[i]!;
            let siblings = proof.siblings;
            if (tamper) {
              const [s, byte, x] = tamper;
              siblings = siblings.map((h) => h.slice());
              if (siblings.length > 0) siblings[s % siblings.length]![byte]! ^= x;
            }
            const [reference, plain, memoized] = answers(
              hash,
              root,
              key,
              value,
              { ...proof, siblings },
              memo,
            );
            assert.equal(reference, !tamper || siblings.length === 0);
            assert.equal(plain, reference);
            assert.equal(memoized, reference);
          },
        ),
        { numRuns: 1500 },
      );
      assert.ok(memo.size > 0 && memo.size <= 63, `memo holds ${memo.size} nodes`);
    });
  }

  it("refuses malformed input rather than throwing", () => {
    const [, hash] = HASHES[0]!;
    const { trie, root, rootKey, changes } = build(hash, 10);
    const { key, value } = changes[0]!;
    const proof = trie.prove(rootKey, key);
    const kh = hash(key);
    const vh = hash(value);
    assert.equal(verifyInclusion(hash, root, kh, vh, proof.siblings), true);
    assert.equal(verifyInclusion(hash, root.subarray(1), kh, vh, proof.siblings), false);
    assert.equal(verifyInclusion(hash, root, kh.subarray(1), vh, proof.siblings), false);
    assert.equal(verifyInclusion(hash, root, kh, vh, [...proof.siblings, new Uint8Array(31)]), false);
    assert.equal(verifyInclusion(hash, root, kh, vh, [...proof.siblings, new Uint8Array(32)]), false);
    const memo = new PathMemo(6);
    const caller = proof.siblings.map((s) => s.slice());
    assert.equal(verifyInclusion(hash, root, kh, vh, caller, memo), true);
    // The memo keeps its own copies: changing the caller's arrays afterwards changes nothing.
    for (const s of caller) s.fill(7);
    assert.equal(verifyInclusion(hash, root, kh, vh, caller, memo), false);
    assert.equal(verifyInclusion(hash, root, kh, vh, proof.siblings, memo), true);
  });
});
