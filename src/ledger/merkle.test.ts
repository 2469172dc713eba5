/**
 * Tests for the RFC 6962 / RFC 9162 Merkle tree (src/ledger/merkle.ts).
 *
 * 1. Every value of src/ledger/test-vectors/rfc6962.json (published vectors transcribed from
 *    transparency-dev/merkle; provenance inside the file). Unknown sections or fields make the
 *    test fail, so nothing in the file can be silently skipped.
 * 2. fast-check properties against an independent recursive transcription of the RFC 9162
 *    definitions (MTH, PATH, SUBPROOF), with SHA-256 and with SM3.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import {
  consistencyProof,
  emptyRoot,
  type HashFn,
  inclusionProof,
  leafHash,
  merkleRoot,
  merkleRootFromLeafHashes,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
  verifyInclusionByLeafHash,
} from "./merkle.js";

const sha256: HashFn = (d) => new Uint8Array(createHash("sha256").update(d).digest());
const sm3: HashFn = (d) => new Uint8Array(createHash("sm3").update(d).digest());

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
function unhex(s: string): Uint8Array {
  assert.match(s, /^([0-9a-f]{2})*$/, `not lowercase hex: ${s}`);
  return new Uint8Array(Buffer.from(s, "hex"));
}
const unhexAll = (xs: string[]): Uint8Array[] => xs.map(unhex);

// ---------------------------------------------------------------------------------------------
// Vector file: schema (exhaustive — anything not listed here fails the test)
// ---------------------------------------------------------------------------------------------

type Json = unknown;
interface VectorFile {
  description: string;
  provenance: Record<string, Json>;
  hasherVectors: Array<Record<string, Json>>;
  leafInputs: string[];
  nodeHashes: { note: string; levels: string[][] };
  rootHashes: { note: string; bySize: string[] };
  inclusionProofs: Array<{ leafNumber1Based: number; leafIndex: number; treeSize: number; proof: string[] }>;
  consistencyProofs: Array<{ size1: number; size2: number; proof: string[] }>;
  generated: {
    inclusion: Array<{
      file: string;
      leafIndex: number | string;
      treeSize: number;
      root: string;
      leafHash: string;
      proof: string[];
      desc: string;
      wantErr: boolean;
    }>;
    consistency: Array<{
      file: string;
      size1: number;
      size2: number;
      root1: string;
      root2: string;
      proof: string[];
      desc: string;
      wantErr: boolean;
    }>;
  };
}

const VECTOR_PATH = join(process.cwd(), "src/ledger/test-vectors/rfc6962.json");
const raw = JSON.parse(readFileSync(VECTOR_PATH, "utf8")) as Record<string, Json>;
const V = raw as unknown as VectorFile;

function assertKeys(where: string, obj: unknown, keys: string[]): void {
  assert.ok(obj !== null && typeof obj === "object" && !Array.isArray(obj), `${where}: expected an object`);
  assert.deepEqual(
    Object.keys(obj as object).sort(),
    [...keys].sort(),
    `${where}: unknown or missing fields — extend the test rather than skip them`,
  );
}

/** JSON paths of the values the tests below have compared; the last test demands all of them. */
const checked = new Set<string>();
/** Marks `base.field` (and every element when it is an array) as checked. */
function seen(base: string, ...fields: string[]): void {
  const obj = getPath(base);
  for (const f of fields.length ? fields : [""]) {
    const path = f === "" ? base : `${base}.${f}`;
    checked.add(path);
    const v = f === "" ? obj : (obj as Record<string, unknown>)[f];
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) checked.add(`${path}[${i}]`);
  }
}

function getPath(path: string): unknown {
  let cur: unknown = raw;
  for (const part of path.match(/[^.[\]]+/g) ?? []) cur = (cur as Record<string, unknown>)[part];
  return cur;
}

/** Paths of all scalar values (and of empty arrays/objects) below `x`. */
function leafPaths(x: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(x) && x.length > 0) for (const [i, y] of x.entries()) leafPaths(y, `${path}[${i}]`, out);
  else if (x !== null && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length > 0)
    for (const [k, y] of Object.entries(x)) leafPaths(y, path ? `${path}.${k}` : k, out);
  else out.push(path);
  return out;
}

/** Leaf index of a generated vector: numbers, or decimal strings for values above 2^53 − 1. */
function vectorIndex(x: number | string): number {
  if (typeof x === "number") return x;
  assert.match(x, /^[0-9]+$/);
  const big = BigInt(x);
  assert.ok(big > BigInt(Number.MAX_SAFE_INTEGER), "string indices are only used above 2^53-1");
  return Number(big); // not a safe integer: the verifier must reject it
}

describe("RFC 6962 vector file (transparency-dev/merkle)", () => {
  test("file has exactly the known sections and provenance", () => {
    assertKeys("top level", raw, [
      "description",
      "provenance",
      "hasherVectors",
      "leafInputs",
      "nodeHashes",
      "rootHashes",
      "inclusionProofs",
      "consistencyProofs",
      "generated",
    ]);
    assertKeys("generated", V.generated, ["inclusion", "consistency"]);
    assertKeys("nodeHashes", V.nodeHashes, ["note", "levels"]);
    assertKeys("rootHashes", V.rootHashes, ["note", "bySize"]);
    assert.equal(typeof V.description, "string");
    const prov = V.provenance as { repository?: unknown; commit?: unknown; files?: unknown };
    assert.equal(prov.repository, "https://github.com/transparency-dev/merkle");
    assert.match(String(prov.commit), /^[0-9a-f]{40}$/);
    // Every section is attributed to a source file.
    const given = new Set<string>();
    for (const f of Object.values(prov.files as Record<string, { gives: string[] }>))
      for (const g of f.gives) given.add(g);
    for (const s of [
      "hasherVectors",
      "leafInputs",
      "nodeHashes",
      "rootHashes",
      "inclusionProofs",
      "consistencyProofs",
      "generated.inclusion",
      "generated.consistency",
    ])
      assert.ok(given.has(s), `provenance does not attribute ${s}`);
  });

  test("RFC 6962 §2.1 hasher vectors: empty tree HASH(), leaf HASH(0x00||d), node HASH(0x01||l||r)", () => {
    assert.equal(V.hasherVectors.length, 4);
    const kinds = new Set<string>();
    for (const [j, v] of V.hasherVectors.entries()) {
      const at = `hasherVectors[${j}]`;
      const kind = v.kind as string;
      kinds.add(kind);
      switch (kind) {
        case "emptyRoot":
          assertKeys(String(v.desc), v, ["desc", "kind", "want"]);
          assert.equal(hex(emptyRoot(sha256)), v.want, String(v.desc));
          assert.equal(hex(merkleRoot(sha256, [])), v.want, String(v.desc));
          assert.equal(hex(merkleRootFromLeafHashes(sha256, [])), v.want, String(v.desc));
          seen(at, "desc", "kind", "want");
          break;
        case "leaf":
          assertKeys(String(v.desc), v, ["desc", "kind", "inputHex", "want"]);
          assert.equal(hex(leafHash(sha256, unhex(v.inputHex as string))), v.want, String(v.desc));
          assert.equal(hex(merkleRoot(sha256, [unhex(v.inputHex as string)])), v.want, String(v.desc));
          seen(at, "desc", "kind", "inputHex", "want");
          break;
        case "node":
          assertKeys(String(v.desc), v, ["desc", "kind", "leftHex", "rightHex", "want"]);
          assert.equal(
            hex(nodeHash(sha256, unhex(v.leftHex as string), unhex(v.rightHex as string))),
            v.want,
            String(v.desc),
          );
          seen(at, "desc", "kind", "leftHex", "rightHex", "want");
          break;
        default:
          assert.fail(`unhandled hasher vector kind ${JSON.stringify(kind)}`);
      }
    }
    assert.deepEqual([...kinds].sort(), ["emptyRoot", "leaf", "node"]);
  });

  const leaves = unhexAll(V.leafInputs);

  test("RFC 6962 §2.1 leaf and subtree hashes of the 8 reference leaves (nodeHashes)", () => {
    assert.equal(leaves.length, 8);
    seen("leafInputs");
    assert.equal(V.nodeHashes.levels.length, 4);
    assert.equal(typeof V.nodeHashes.note, "string");
    seen("nodeHashes", "note");
    V.nodeHashes.levels.forEach((level, k) => {
      const width = 2 ** k;
      assert.equal(level.length, 8 / width);
      level.forEach((want, i) => {
        const sub = leaves.slice(i * width, (i + 1) * width);
        if (k === 0) assert.equal(hex(leafHash(sha256, sub[0] as Uint8Array)), want, `leaf ${i}`);
        assert.equal(hex(merkleRoot(sha256, sub)), want, `level ${k} node ${i}`);
        seen(`nodeHashes.levels[${k}][${i}]`);
      });
    });
  });

  test("RFC 6962 §2.1 MTH for tree sizes 0..8 (rootHashes)", () => {
    assert.equal(V.rootHashes.bySize.length, 9);
    assert.equal(typeof V.rootHashes.note, "string");
    seen("rootHashes", "note");
    V.rootHashes.bySize.forEach((want, n) => {
      const sub = leaves.slice(0, n);
      assert.equal(hex(merkleRoot(sha256, sub)), want, `size ${n}`);
      assert.equal(
        hex(
          merkleRootFromLeafHashes(
            sha256,
            sub.map((d) => leafHash(sha256, d)),
          ),
        ),
        want,
        `size ${n}`,
      );
      assert.equal(hex(refMTH(sha256, sub)), want, `reference, size ${n}`);
      seen(`rootHashes.bySize[${n}]`);
    });
  });

  test("RFC 9162 §2.1.3 inclusion proofs (audit paths) are generated and verified exactly", () => {
    assert.equal(V.inclusionProofs.length, 5);
    for (const [j, v] of V.inclusionProofs.entries()) {
      assertKeys("inclusionProofs entry", v, ["leafNumber1Based", "leafIndex", "treeSize", "proof"]);
      assert.equal(v.leafNumber1Based, v.leafIndex + 1);
      const sub = leaves.slice(0, v.treeSize);
      const root = unhex(V.rootHashes.bySize[v.treeSize] as string);
      const got = inclusionProof(sha256, sub, v.leafIndex).map(hex);
      assert.deepEqual(got, v.proof, `PATH(${v.leafIndex}, D[${v.treeSize}])`);
      assert.ok(
        verifyInclusion(
          sha256,
          leaves[v.leafIndex] as Uint8Array,
          v.leafIndex,
          v.treeSize,
          unhexAll(v.proof),
          root,
        ),
      );
      seen(`inclusionProofs[${j}]`, "leafNumber1Based", "leafIndex", "treeSize", "proof");
    }
  });

  test("RFC 9162 §2.1.4 consistency proofs are generated and verified exactly", () => {
    assert.equal(V.consistencyProofs.length, 5);
    for (const [j, v] of V.consistencyProofs.entries()) {
      assertKeys("consistencyProofs entry", v, ["size1", "size2", "proof"]);
      const got = consistencyProof(sha256, leaves.slice(0, v.size2), v.size1).map(hex);
      assert.deepEqual(got, v.proof, `PROOF(${v.size1}, D[${v.size2}])`);
      const r1 = unhex(V.rootHashes.bySize[v.size1] as string);
      const r2 = unhex(V.rootHashes.bySize[v.size2] as string);
      assert.ok(verifyConsistency(sha256, v.size1, v.size2, r1, r2, unhexAll(v.proof)));
      seen(`consistencyProofs[${j}]`, "size1", "size2", "proof");
    }
  });

  test("RFC 9162 §2.1.3.2 generated inclusion cases: happy paths verify, every negative case is rejected", () => {
    assert.equal(V.generated.inclusion.length, 98);
    let positives = 0;
    for (const [j, v] of V.generated.inclusion.entries()) {
      assertKeys(v.file, v, [
        "file",
        "leafIndex",
        "treeSize",
        "root",
        "leafHash",
        "proof",
        "desc",
        "wantErr",
      ]);
      assert.equal(typeof v.wantErr, "boolean", v.file);
      const index = vectorIndex(v.leafIndex);
      const ok = verifyInclusionByLeafHash(
        sha256,
        unhex(v.leafHash),
        index,
        v.treeSize,
        unhexAll(v.proof),
        unhex(v.root),
      );
      assert.equal(ok, !v.wantErr, `${v.file} (${v.desc}): wantErr=${v.wantErr} but verify returned ${ok}`);
      if (!v.wantErr) {
        positives++;
        // Reproduce the proof when the leaf is one of the reference leaves.
        const i = V.nodeHashes.levels[0]?.indexOf(v.leafHash) ?? -1;
        if (i === index && v.treeSize <= 8 && v.root === V.rootHashes.bySize[v.treeSize]) {
          assert.deepEqual(
            inclusionProof(sha256, leaves.slice(0, v.treeSize), index).map(hex),
            v.proof,
            v.file,
          );
          assert.ok(
            verifyInclusion(
              sha256,
              leaves[index] as Uint8Array,
              index,
              v.treeSize,
              unhexAll(v.proof),
              unhex(v.root),
            ),
          );
        }
      }
      seen(
        `generated.inclusion[${j}]`,
        "file",
        "leafIndex",
        "treeSize",
        "root",
        "leafHash",
        "proof",
        "desc",
        "wantErr",
      );
    }
    assert.equal(positives, 6);
  });

  test("RFC 9162 §2.1.4.2 generated consistency cases: happy paths verify, every negative case is rejected", () => {
    assert.equal(V.generated.consistency.length, 98);
    let positives = 0;
    for (const [j, v] of V.generated.consistency.entries()) {
      assertKeys(v.file, v, ["file", "size1", "size2", "root1", "root2", "proof", "desc", "wantErr"]);
      assert.equal(typeof v.wantErr, "boolean", v.file);
      const ok = verifyConsistency(
        sha256,
        v.size1,
        v.size2,
        unhex(v.root1),
        unhex(v.root2),
        unhexAll(v.proof),
      );
      assert.equal(ok, !v.wantErr, `${v.file} (${v.desc}): wantErr=${v.wantErr} but verify returned ${ok}`);
      if (!v.wantErr) {
        positives++;
        if (
          v.size1 > 0 &&
          v.size2 <= 8 &&
          v.root1 === V.rootHashes.bySize[v.size1] &&
          v.root2 === V.rootHashes.bySize[v.size2]
        )
          assert.deepEqual(
            consistencyProof(sha256, leaves.slice(0, v.size2), v.size1).map(hex),
            v.proof,
            v.file,
          );
      }
      seen(
        `generated.consistency[${j}]`,
        "file",
        "size1",
        "size2",
        "root1",
        "root2",
        "proof",
        "desc",
        "wantErr",
      );
    }
    assert.equal(positives, 6);
  });

  test("every value of the vector file was checked (nothing skipped)", () => {
    // Runs last in this describe block. `description` and `provenance` are metadata, checked above.
    const all = Object.entries(raw)
      .filter(([k]) => k !== "description" && k !== "provenance")
      .flatMap(([k, v]) => leafPaths(v, k, []));
    const missed = all.filter((p) => !checked.has(p));
    assert.deepEqual(missed, [], "vector values no test compared");
    assert.ok(all.length > 1000, `expected the full file, saw ${all.length} values`);
  });
});

// ---------------------------------------------------------------------------------------------
// Independent reference: the RFC 9162 §2.1 definitions, transcribed recursively.
// ---------------------------------------------------------------------------------------------

function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function refMTH(h: HashFn, d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return h(new Uint8Array(0));
  if (d.length === 1) return h(Uint8Array.from([0, ...(d[0] as Uint8Array)]));
  const k = largestPow2Below(d.length);
  return h(Uint8Array.from([1, ...refMTH(h, d.slice(0, k)), ...refMTH(h, d.slice(k))]));
}

function refPATH(h: HashFn, m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = largestPow2Below(d.length);
  return m < k
    ? [...refPATH(h, m, d.slice(0, k)), refMTH(h, d.slice(k))]
    : [...refPATH(h, m - k, d.slice(k)), refMTH(h, d.slice(0, k))];
}

/** Which side each audit-path element sits on (true = left sibling), leaf upwards. */
function refPathShape(m: number, n: number): boolean[] {
  if (n <= 1) return [];
  const k = largestPow2Below(n);
  return m < k ? [...refPathShape(m, k), false] : [...refPathShape(m - k, n - k), true];
}

function refSUBPROOF(h: HashFn, m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [refMTH(h, d)];
  const k = largestPow2Below(n);
  return m <= k
    ? [...refSUBPROOF(h, m, d.slice(0, k), b), refMTH(h, d.slice(k))]
    : [...refSUBPROOF(h, m - k, d.slice(k), false), refMTH(h, d.slice(0, k))];
}

// ---------------------------------------------------------------------------------------------
// Properties (fast-check), for both hashes the chain may use.
// ---------------------------------------------------------------------------------------------

/**
 * Distinct leaves (so that no two positions hold the same data), with the count drawn explicitly
 * from [min, max]: fast-check's default "small" size would otherwise rarely exceed ~10 leaves.
 */
const leafSet = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) =>
    fc.uniqueArray(fc.uint8Array({ minLength: 0, maxLength: 24 }), {
      minLength: n,
      maxLength: n,
      selector: (u) => hex(u),
    }),
  );

function flipByte(b: Uint8Array, at: number, mask: number): Uint8Array {
  const c = b.slice();
  if (c.length === 0) return Uint8Array.from([mask]);
  const i = at % c.length;
  c[i] = (c[i] as number) ^ mask;
  return c;
}

const HASHES: Array<[string, HashFn, number]> = [
  ["SHA-256", sha256, 40],
  ["SM3", sm3, 25],
];

test('SM3 via node:crypto is GB/T 32905 SM3 (sample 1: "abc")', () => {
  assert.equal(
    hex(sm3(new TextEncoder().encode("abc"))),
    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
  );
});

for (const [name, H, runs] of HASHES) {
  describe(`RFC 9162 properties with ${name}`, () => {
    test(`MTH equals the recursive RFC 9162 §2.1.1 definition (0..200 leaves, ${name})`, () => {
      fc.assert(
        fc.property(leafSet(0, 200), (ls) => {
          const want = hex(refMTH(H, ls));
          assert.equal(hex(merkleRoot(H, ls)), want);
          assert.equal(
            hex(
              merkleRootFromLeafHashes(
                H,
                ls.map((d) => leafHash(H, d)),
              ),
            ),
            want,
          );
        }),
        { numRuns: runs },
      );
    });

    test(`every index's RFC 9162 §2.1.3.1 audit path matches PATH(m, D[n]) and verifies (${name})`, () => {
      fc.assert(
        fc.property(leafSet(0, 200), (ls) => {
          const root = merkleRoot(H, ls);
          // The recursive reference is O(n) hashes per index: compare it on a spread of indices.
          const step = Math.max(1, Math.floor(ls.length / 16));
          for (let i = 0; i < ls.length; i++) {
            const proof = inclusionProof(H, ls, i);
            if (i % step === 0 || i === ls.length - 1)
              assert.deepEqual(proof.map(hex), refPATH(H, i, ls).map(hex), `index ${i} of ${ls.length}`);
            assert.ok(
              verifyInclusion(H, ls[i] as Uint8Array, i, ls.length, proof, root),
              `index ${i} of ${ls.length}`,
            );
          }
        }),
        { numRuns: runs },
      );
    });

    test(`RFC 9162 §2.1.3.2 rejects a flipped byte in proof, leaf or root, and a changed index (${name})`, () => {
      fc.assert(
        fc.property(
          leafSet(1, 200),
          fc.nat(),
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (ls, iSeed, which, at, mask) => {
            const n = ls.length;
            const i = iSeed % n;
            const leaf = ls[i] as Uint8Array;
            const root = merkleRoot(H, ls);
            const proof = inclusionProof(H, ls, i);
            assert.ok(verifyInclusion(H, leaf, i, n, proof, root));
            // leaf
            assert.equal(verifyInclusion(H, flipByte(leaf, at, mask), i, n, proof, root), false, "leaf byte");
            // root
            assert.equal(verifyInclusion(H, leaf, i, n, proof, flipByte(root, at, mask)), false, "root byte");
            // every proof element, and every byte position of one of them
            for (let p = 0; p < proof.length; p++) {
              const bad = proof.slice();
              bad[p] = flipByte(proof[p] as Uint8Array, at, mask);
              assert.equal(verifyInclusion(H, leaf, i, n, bad, root), false, `proof[${p}] byte`);
            }
            if (proof.length > 0) {
              const p = which % proof.length;
              for (let byte = 0; byte < (proof[p] as Uint8Array).length; byte++) {
                const bad = proof.slice();
                bad[p] = flipByte(proof[p] as Uint8Array, byte, mask);
                assert.equal(verifyInclusion(H, leaf, i, n, bad, root), false, `proof[${p}][${byte}]`);
              }
            }
            // every other index (same data, same proof)
            for (let j = 0; j < n; j++)
              if (j !== i)
                assert.equal(verifyInclusion(H, leaf, j, n, proof, root), false, `index ${j} for ${i}`);
            // out-of-range and non-integer indices and sizes
            for (const [idx, size] of [
              [n, n],
              [-1, n],
              [i, 0],
              [i + 0.5, n],
              [i, n + 0.5],
              [Number.NaN, n],
              [i, Number.POSITIVE_INFINITY],
              [2 ** 53, 2 ** 53 + 2],
            ] as const)
              assert.equal(
                verifyInclusion(H, leaf, idx, size, proof, root),
                false,
                `index ${idx}, size ${size}`,
              );
            // extra / missing proof elements
            assert.equal(verifyInclusion(H, leaf, i, n, [...proof, root], root), false, "trailing element");
            assert.equal(verifyInclusion(H, leaf, i, n, [root, ...proof], root), false, "leading element");
            if (proof.length > 0)
              assert.equal(
                verifyInclusion(H, leaf, i, n, proof.slice(0, -1), root),
                false,
                "dropped element",
              );
          },
        ),
        { numRuns: runs * 3 },
      );
    });

    test(`RFC 9162 §2.1.3.2 with a changed tree size accepts only when the audit path has the same shape (${name})`, () => {
      // The verifier binds the tree size only through the path's length and left/right pattern:
      // e.g. PATH(0, D[5]) = [h1, h23, h4] also "verifies" as a proof for leaf 0 of a 6..8 leaf
      // tree with the same root, since RFC 9162 §2.1.3.2 performs identical steps. Any size whose
      // path shape differs must be rejected.
      fc.assert(
        fc.property(leafSet(1, 120), fc.nat(), (ls, iSeed) => {
          const n = ls.length;
          const i = iSeed % n;
          const root = merkleRoot(H, ls);
          const proof = inclusionProof(H, ls, i);
          const shape = JSON.stringify(refPathShape(i, n));
          for (let size = i + 1; size <= 2 * n + 2; size++) {
            if (size === n) continue;
            const sameShape = JSON.stringify(refPathShape(i, size)) === shape;
            assert.equal(
              verifyInclusion(H, ls[i] as Uint8Array, i, size, proof, root),
              sameShape,
              `index ${i}: proof for size ${n} checked as size ${size}`,
            );
          }
        }),
        { numRuns: runs },
      );
    });

    test(`RFC 9162 §2.1.4 consistency proofs between random sizes match SUBPROOF and verify (${name})`, () => {
      fc.assert(
        fc.property(
          leafSet(1, 200),
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (ls, mSeed, at, mask) => {
            const n = ls.length;
            const m = 1 + (mSeed % n);
            const oldRoot = merkleRoot(H, ls.slice(0, m));
            const newRoot = merkleRoot(H, ls);
            const proof = consistencyProof(H, ls, m);
            assert.deepEqual(proof.map(hex), refSUBPROOF(H, m, ls, true).map(hex), `PROOF(${m}, D[${n}])`);
            assert.ok(verifyConsistency(H, m, n, oldRoot, newRoot, proof), `PROOF(${m}, D[${n}])`);
            // tampering
            assert.equal(
              verifyConsistency(H, m, n, flipByte(oldRoot, at, mask), newRoot, proof),
              false,
              "old root",
            );
            assert.equal(
              verifyConsistency(H, m, n, oldRoot, flipByte(newRoot, at, mask), proof),
              false,
              "new root",
            );
            for (let p = 0; p < proof.length; p++) {
              const bad = proof.slice();
              bad[p] = flipByte(proof[p] as Uint8Array, at, mask);
              assert.equal(verifyConsistency(H, m, n, oldRoot, newRoot, bad), false, `proof[${p}]`);
            }
            if (m < n) {
              assert.equal(verifyConsistency(H, m, n, newRoot, oldRoot, proof), false, "swapped roots");
              assert.equal(verifyConsistency(H, m, n, oldRoot, newRoot, []), false, "empty proof");
              assert.equal(
                verifyConsistency(H, m, n, oldRoot, newRoot, [...proof, newRoot]),
                false,
                "trailing",
              );
              assert.equal(verifyConsistency(H, m, n, oldRoot, newRoot, proof.slice(1)), false, "truncated");
            } else {
              assert.equal(
                verifyConsistency(H, m, n, oldRoot, newRoot, [newRoot]),
                false,
                "non-empty for equal sizes",
              );
            }
            // From every other old size the same proof and roots must fail (the old root is wrong).
            for (let m2 = 0; m2 <= n + 1; m2++)
              if (m2 !== m)
                assert.equal(verifyConsistency(H, m2, n, oldRoot, newRoot, proof), false, `size1 ${m2}`);
            assert.equal(
              verifyConsistency(H, 0, n, H(new Uint8Array(0)), newRoot, []),
              false,
              "from empty tree",
            );
            assert.equal(verifyConsistency(H, m, n + 0.5, oldRoot, newRoot, proof), false, "fractional size");
            assert.equal(verifyConsistency(H, n, m - 1, newRoot, oldRoot, proof), false, "size1 > size2");
          },
        ),
        { numRuns: runs * 2 },
      );
    });

    test(`consistency proofs chain: every prefix is consistent with every longer prefix (${name})`, () => {
      fc.assert(
        fc.property(leafSet(1, 40), (ls) => {
          const roots = ls.map((_, k) => merkleRoot(H, ls.slice(0, k + 1)));
          for (let b = 1; b <= ls.length; b++)
            for (let a = 1; a <= b; a++) {
              const proof = consistencyProof(H, ls.slice(0, b), a);
              assert.ok(
                verifyConsistency(H, a, b, roots[a - 1] as Uint8Array, roots[b - 1] as Uint8Array, proof),
              );
            }
        }),
        { numRuns: Math.ceil(runs / 4) },
      );
    });
  });
}

describe("API contract", () => {
  test("verifiers never throw on garbage input (RFC 9162 §2.1.3.2 / §2.1.4.2 say: fail the verification)", () => {
    const throwing: HashFn = () => {
      throw new Error("boom");
    };
    const junk = [undefined, null, 0, "x", {}, [1], [new Uint8Array(3)], new Uint8Array(32)] as unknown[];
    for (const a of junk)
      for (const b of junk) {
        assert.equal(
          verifyInclusion(sha256, a as Uint8Array, 0, 1, b as Uint8Array[], new Uint8Array(32)),
          false,
        );
        assert.equal(
          verifyInclusion(sha256, new Uint8Array(0), 0, 1, a as Uint8Array[], b as Uint8Array),
          false,
        );
        assert.equal(verifyConsistency(sha256, 1, 2, a as Uint8Array, b as Uint8Array, []), false);
        assert.equal(
          verifyConsistency(sha256, 1, 2, new Uint8Array(32), new Uint8Array(32), a as Uint8Array[]),
          false,
        );
      }
    assert.equal(verifyInclusion(throwing, new Uint8Array(0), 0, 1, [], new Uint8Array(32)), false);
    assert.equal(
      verifyConsistency(throwing, 1, 2, new Uint8Array(32), new Uint8Array(32), [new Uint8Array(32)]),
      false,
    );
  });

  test("generators reject out-of-range indices and sizes with RangeError", () => {
    const ls = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
    for (const i of [-1, 3, 1.5, Number.NaN]) assert.throws(() => inclusionProof(sha256, ls, i), RangeError);
    assert.throws(() => inclusionProof(sha256, [], 0), RangeError);
    for (const m of [0, -1, 4, 1.5, Number.NaN])
      assert.throws(() => consistencyProof(sha256, ls, m), RangeError);
    assert.deepEqual(consistencyProof(sha256, ls, 3), []);
  });

  test("root of 10,000 and 100,001 leaves is computed iteratively and matches the recursive MTH", () => {
    for (const n of [10_000, 100_001]) {
      const ls = Array.from({ length: n }, (_, i) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setUint32(0, i);
        return b;
      });
      const t0 = performance.now();
      const root = merkleRoot(sha256, ls);
      const ms = performance.now() - t0;
      assert.ok(ms < 5000, `merkleRoot(${n}) took ${ms.toFixed(0)} ms`);
      assert.equal(
        hex(root),
        hex(
          merkleRootFromLeafHashes(
            sha256,
            ls.map((d) => leafHash(sha256, d)),
          ),
        ),
      );
      if (n === 10_000) {
        assert.equal(hex(root), hex(refMTH(sha256, ls)));
        for (const i of [0, 1, 4095, 8191, 8192, 9998, 9999]) {
          const proof = inclusionProof(sha256, ls, i);
          assert.ok(verifyInclusion(sha256, ls[i] as Uint8Array, i, n, proof, root), `index ${i}`);
        }
        for (const m of [1, 2, 3, 4096, 8191, 8192, 8193, 9999]) {
          const proof = consistencyProof(sha256, ls, m);
          assert.ok(
            verifyConsistency(sha256, m, n, merkleRoot(sha256, ls.slice(0, m)), root, proof),
            `size1 ${m}`,
          );
        }
      }
    }
  });

  test("merkleRootFromLeafHashes does not mutate its input", () => {
    const hs = [1, 2, 3].map((i) => leafHash(sha256, new Uint8Array([i])));
    const copy = hs.map(hex);
    merkleRootFromLeafHashes(sha256, hs);
    assert.deepEqual(hs.map(hex), copy);
  });
});
