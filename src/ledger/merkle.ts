/**
 * Merkle trees in the construction of RFC 6962 §2.1 / RFC 9162 §2.1 (Certificate Transparency),
 * over an injected hash (SHA-256 or SM3, 32-byte output, chosen by the chain's crypto suite).
 *
 *   MTH({})      = HASH()                                   (empty tree: hash of the empty string)
 *   MTH({d(0)})  = HASH(0x00 || d(0))                       (leaf hash)
 *   MTH(D[n])    = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of two < n
 *
 * Browser-safe: no node: imports. Everything is iterative: a tree of n leaves costs n leaf hashes
 * plus n-1 node hashes, with no recursion over the leaves.
 *
 * Implementation note. Hashing level by level — pair neighbours (2j, 2j+1), carry an unpaired last
 * node up unchanged — yields exactly the RFC tree: the last node of every level covers the leaves
 * [j·2^L, n), and when it has two children the split falls on the largest power of two below its
 * width, as the RFC requires. Every subtree the RFC proof algorithms name ([a, b) with a a multiple
 * of 2^L, L = ceil(log2(b − a)), and either b − a = 2^L or b = n) is therefore node a / 2^L of level
 * L of that structure, which is how proofs are generated without recursion over leaf ranges.
 *
 * Indices and sizes are JavaScript numbers; anything that is not a non-negative safe integer is
 * rejected (generators throw RangeError, verifiers return false).
 */

/** Must not keep a reference to `data` (its buffer is reused) and must return a new array. */
export type HashFn = (data: Uint8Array) => Uint8Array;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
const EMPTY = new Uint8Array(0);

/**
 * The input of one leaf or node hash, in a buffer reused from call to call: a tree hashes
 * thousands of prefixed inputs, and a fresh array for each costs more than hashing it.
 */
let scratch = new Uint8Array(1024);
function hashInput(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 2 * scratch.length));
  return scratch.subarray(0, n);
}

/** HASH(0x00 || data) — RFC 6962 §2.1 / RFC 9162 §2.1.1 leaf hash. */
export function leafHash(hash: HashFn, data: Uint8Array): Uint8Array {
  const buf = hashInput(1 + data.length);
  buf[0] = LEAF_PREFIX;
  buf.set(data, 1);
  return hash(buf);
}

/** HASH(0x01 || left || right) — RFC 6962 §2.1 / RFC 9162 §2.1.1 interior node hash. */
export function nodeHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = hashInput(1 + left.length + right.length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return hash(buf);
}

/** HASH("") — the root of the empty tree. */
export function emptyRoot(hash: HashFn): Uint8Array {
  return hash(EMPTY);
}

/** Merkle Tree Hash of the raw leaf data (each leaf is hashed with the 0x00 prefix first). */
export function merkleRoot(hash: HashFn, leaves: Uint8Array[]): Uint8Array {
  const n = leaves.length;
  if (n === 0) return emptyRoot(hash);
  const work = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) work[i] = leafHash(hash, leaves[i] as Uint8Array);
  return reduceInPlace(hash, work);
}

/** Merkle Tree Hash given already-computed leaf hashes (HASH(0x00 || data) each). */
export function merkleRootFromLeafHashes(hash: HashFn, leafHashes: Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot(hash);
  return reduceInPlace(hash, leafHashes.slice());
}

/** Collapses a level array (mutated) to the root: O(n) hashes, no recursion. */
function reduceInPlace(hash: HashFn, level: Uint8Array[]): Uint8Array {
  let len = level.length;
  while (len > 1) {
    let w = 0;
    let i = 0;
    for (; i + 1 < len; i += 2)
      level[w++] = nodeHash(hash, level[i] as Uint8Array, level[i + 1] as Uint8Array);
    if (i < len) level[w++] = level[i] as Uint8Array; // unpaired right-border node moves up unchanged
    len = w;
  }
  return level[0] as Uint8Array;
}

/** All levels of the tree: levels[0] = leaf hashes, levels[top] = [root]. Requires n ≥ 1. */
function buildLevels(hash: HashFn, leaves: Uint8Array[]): Uint8Array[][] {
  let level = leaves.map((d) => leafHash(hash, d));
  const levels: Uint8Array[][] = [level];
  while (level.length > 1) {
    const next = new Array<Uint8Array>(Math.ceil(level.length / 2));
    let w = 0;
    let i = 0;
    for (; i + 1 < level.length; i += 2)
      next[w++] = nodeHash(hash, level[i] as Uint8Array, level[i + 1] as Uint8Array);
    if (i < level.length) next[w++] = level[i] as Uint8Array;
    levels.push(next);
    level = next;
  }
  return levels;
}

/** MTH(D[start:end]) for an RFC subtree (see the module note), looked up in the levels. */
function subtreeHash(levels: Uint8Array[][], start: number, end: number): Uint8Array {
  const width = end - start;
  let level = 0;
  let span = 1;
  while (span < width) {
    span *= 2;
    level++;
  }
  const node = levels[level]?.[start / span];
  if (node === undefined) throw new Error(`internal: no subtree [${start}, ${end})`);
  return node;
}

function isIndex(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Audit path for leaf `index` (RFC 9162 §2.1.3.1 PATH(m, D[n])): sibling hashes ordered from the
 * leaf's level up to just below the root. Throws RangeError unless 0 ≤ index < leaves.length.
 */
export function inclusionProof(hash: HashFn, leaves: Uint8Array[], index: number): Uint8Array[] {
  if (!isIndex(index) || index >= leaves.length)
    throw new RangeError(`leaf index ${index} out of range for a tree of ${leaves.length} leaves`);
  const levels = buildLevels(hash, leaves);
  const path: Uint8Array[] = [];
  let idx = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l] as Uint8Array[];
    const sibling = idx % 2 === 0 ? idx + 1 : idx - 1;
    // A right-border node without a sibling is carried up unchanged and contributes nothing.
    if (sibling < level.length) path.push(level[sibling] as Uint8Array);
    idx = Math.floor(idx / 2);
  }
  return path;
}

/**
 * Consistency proof between the first `oldSize` leaves and all of `leaves` (RFC 9162 §2.1.4.1
 * PROOF(m, D[n])). Empty when oldSize = n. Throws RangeError unless 0 < oldSize ≤ leaves.length:
 * a proof from the empty tree is meaningless (RFC 6962 §2.1.2 requires 0 < m) and
 * `verifyConsistency` rejects it.
 */
export function consistencyProof(hash: HashFn, leaves: Uint8Array[], oldSize: number): Uint8Array[] {
  const n = leaves.length;
  if (!isIndex(oldSize) || oldSize === 0 || oldSize > n)
    throw new RangeError(`old size ${oldSize} out of range (0, ${n}]`);
  if (oldSize === n) return [];
  const levels = buildLevels(hash, leaves);
  // SUBPROOF(m, D[start:end], b), unrolled: descend, collecting the sibling subtree at each split,
  // then emit in reverse (deepest first), as the recursive definition appends on the way back up.
  const collected: Uint8Array[] = [];
  let start = 0;
  let end = n;
  let m = oldSize;
  let wholeOldTreeIsSubtree = true; // the RFC's flag b
  while (m !== end - start) {
    let k = 1;
    while (k * 2 < end - start) k *= 2;
    if (m <= k) {
      collected.push(subtreeHash(levels, start + k, end));
      end = start + k;
    } else {
      collected.push(subtreeHash(levels, start, start + k));
      start += k;
      m -= k;
      wholeOldTreeIsSubtree = false;
    }
  }
  if (!wholeOldTreeIsSubtree) collected.push(subtreeHash(levels, start, end));
  return collected.reverse();
}

/**
 * RFC 9162 §2.1.3.2: verifies that `leafData` is leaf `index` of the tree of `treeSize` leaves
 * whose root is `root`. Never throws; false on any malformed input.
 */
export function verifyInclusion(
  hash: HashFn,
  leafData: Uint8Array,
  index: number,
  treeSize: number,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!(leafData instanceof Uint8Array)) return false;
    return verifyInclusionByLeafHash(hash, leafHash(hash, leafData), index, treeSize, proof, root);
  } catch {
    return false;
  }
}

/**
 * As `verifyInclusion`, but given the leaf hash HASH(0x00 || data) instead of the data (the form in
 * which logs usually hand out leaves). The leaf hash and every proof element must have the hash's
 * output length. Never throws.
 */
export function verifyInclusionByLeafHash(
  hash: HashFn,
  leafHashValue: Uint8Array,
  index: number,
  treeSize: number,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!isIndex(index) || !isIndex(treeSize) || index >= treeSize) return false;
    if (!(leafHashValue instanceof Uint8Array) || !(root instanceof Uint8Array) || !Array.isArray(proof))
      return false;
    const size = hashLength(hash);
    if (leafHashValue.length !== size || root.length !== size) return false;
    let fn = index;
    let sn = treeSize - 1;
    let r = leafHashValue;
    for (const p of proof) {
      if (!(p instanceof Uint8Array) || p.length !== size) return false;
      if (sn === 0) return false; // proof longer than the path
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(hash, p, r);
        if (fn % 2 === 0) {
          // fn is the right border with no right sibling at these levels: skip them
          while (fn % 2 === 0 && fn !== 0) {
            fn /= 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = nodeHash(hash, r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree of `oldSize` leaves with root `oldRoot` is a prefix of
 * the tree of `newSize` leaves with root `newRoot`. For oldSize = newSize the proof must be empty
 * and the roots equal; oldSize = 0 is always rejected (a proof from the empty tree proves nothing).
 * Never throws; false on any malformed input.
 */
export function verifyConsistency(
  hash: HashFn,
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  try {
    if (!isIndex(oldSize) || !isIndex(newSize) || oldSize === 0 || oldSize > newSize) return false;
    if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array) || !Array.isArray(proof))
      return false;
    if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
    if (proof.length === 0) return false; // step 1
    const size = hashLength(hash);
    for (const p of proof) if (!(p instanceof Uint8Array) || p.length !== size) return false;
    // step 2: when the old tree is a complete subtree its root is the implicit first element
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
    // step 3
    let fn = oldSize - 1;
    let sn = newSize - 1;
    // step 4
    while (fn % 2 === 1) {
      fn = (fn - 1) / 2;
      sn = Math.floor(sn / 2);
    }
    // step 5
    let fr = path[0] as Uint8Array;
    let sr = fr;
    // step 6
    for (let i = 1; i < path.length; i++) {
      const c = path[i] as Uint8Array;
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(hash, c, fr);
        sr = nodeHash(hash, c, sr);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn /= 2;
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        sr = nodeHash(hash, sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    // step 7
    return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
  } catch {
    return false;
  }
}

function isPowerOfTwo(x: number): boolean {
  let v = x;
  while (v > 1 && v % 2 === 0) v /= 2;
  return v === 1;
}

const lengthCache = new WeakMap<HashFn, number>();

/** Output length of the hash, learnt once per function by hashing the empty string. */
function hashLength(hash: HashFn): number {
  let len = lengthCache.get(hash);
  if (len === undefined) {
    len = hash(EMPTY).length;
    lengthCache.set(hash, len);
  }
  return len;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
