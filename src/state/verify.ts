/**
 * Stand-alone verification of state proofs (ADR 0004 §Spec "Verification"). Pure and
 * browser-safe: no `node:` imports, directly or transitively. Published as `zhenglian/verify`.
 */
import {
  bitAt,
  bytesEqual,
  EMPTY_HASH,
  HASH_BYTES,
  type HashFn,
  INTERNAL_PREFIX,
  internalHash,
  isEmptyHash,
  leafHash,
  sharesPrefix,
} from "./hashing.js";
import { isWellFormedProof, type StateProof } from "./proof.js";

export type { HashFn } from "./hashing.js";
export { EMPTY_HASH } from "./hashing.js";
export type { StateProof, StateProofLeaf } from "./proof.js";
export { decodeProof, encodeProof } from "./proof.js";

/**
 * True iff `proof` shows that, in the state whose root hash is `root`, `key` maps to `value`
 * (`value === null`: `key` is absent). Never throws: any malformed input yields false.
 */
export function verifyStateProof(
  hash: HashFn,
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | null,
  proof: StateProof,
): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.length !== 32) return false;
    if (!(key instanceof Uint8Array)) return false;
    if (value !== null && !(value instanceof Uint8Array)) return false;
    if (!isWellFormedProof(proof)) return false;
    const keyHash = hash(key);
    if (!(keyHash instanceof Uint8Array) || keyHash.length !== 32) return false;
    const { siblings, leaf } = proof;
    const depth = siblings.length;

    let h: Uint8Array;
    if (value !== null) {
      // Inclusion: the path must end at the leaf of this very key, holding this value.
      if (leaf === null || !bytesEqual(leaf.keyHash, keyHash)) return false;
      if (!bytesEqual(leaf.valueHash, hash(value))) return false;
      h = leafHash(hash, leaf.keyHash, leaf.valueHash);
    } else if (leaf === null) {
      h = EMPTY_HASH; // non-inclusion ending at an EMPTY subtree
    } else {
      // Non-inclusion ending at another key's leaf that occupies our path's position.
      if (bytesEqual(leaf.keyHash, keyHash)) return false;
      if (!sharesPrefix(leaf.keyHash, keyHash, depth)) return false;
      h = leafHash(hash, leaf.keyHash, leaf.valueHash);
    }
    return leadsToRoot(hash, root, keyHash, h, siblings);
  } catch {
    return false;
  }
}

/**
 * `verifyStateProof` for an inclusion, given H(key) and H(value) rather than the key and value
 * (a verifier that has hashed them already need not hash them twice). `siblings` must be 32-byte
 * hashes, at most 256 of them. Never throws: any malformed input yields false.
 */
export function verifyInclusion(
  hash: HashFn,
  root: Uint8Array,
  keyHash: Uint8Array,
  valueHash: Uint8Array,
  siblings: readonly Uint8Array[],
  memo?: PathMemo,
): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.length !== 32) return false;
    if (!(keyHash instanceof Uint8Array) || keyHash.length !== 32) return false;
    if (!(valueHash instanceof Uint8Array) || valueHash.length !== 32) return false;
    if (!isWellFormedProof({ siblings, leaf: null })) return false;
    return leadsToRoot(hash, root, keyHash, leafHash(hash, keyHash, valueHash), siblings, memo);
  } catch {
    return false;
  }
}

/** Hashes `terminal` (at depth siblings.length) up the path of `keyHash`; true iff that gives `root`. */
function leadsToRoot(
  hash: HashFn,
  root: Uint8Array,
  keyHash: Uint8Array,
  terminal: Uint8Array,
  siblings: readonly Uint8Array[],
  memo?: PathMemo,
): boolean {
  const depth = siblings.length;
  // Canonical form: a leaf or EMPTY terminal never has an EMPTY sibling below the root
  // (the leaf would have been lifted; the parent would not exist).
  if (depth > 0 && isEmptyHash(siblings[depth - 1] as Uint8Array)) return false;
  let h = terminal;
  const memoLevels = memo ? memo.levels : 0;
  for (let i = depth - 1; i >= 0; i--) {
    const s = siblings[i] as Uint8Array;
    const onLeft = bitAt(keyHash, i) === 0;
    const left = onLeft ? h : s;
    const right = onLeft ? s : h;
    h =
      i < memoLevels
        ? (memo as PathMemo).internal(hash, i, keyHash, left, right)
        : internalHash(hash, left, right);
  }
  return bytesEqual(h, root);
}

/**
 * Internal node hashes of the top `levels` levels of one state tree, kept across proofs against
 * the same root: proofs of different keys share their upper path, so a verifier that checks many
 * (offline license checks at one height) need not hash those nodes again. It only memoizes
 * H(0x01 ‖ left ‖ right): an entry is used when both children are byte-equal to those it was
 * computed from, so a proof verifies with a memo exactly when it does without one. Bounded:
 * at most 2^levels − 1 entries (one per position), the newest kept.
 */
export class PathMemo {
  private readonly nodes = new Map<number, { input: Uint8Array; hash: Uint8Array }>();
  readonly levels: number;
  constructor(levels = 6) {
    this.levels = Math.max(0, Math.min(24, Math.floor(levels)));
  }
  get size(): number {
    return this.nodes.size;
  }
  /** internalHash(hash, left, right) for the node at `depth` on the path of `keyHash`. */
  internal(
    hash: HashFn,
    depth: number,
    keyHash: Uint8Array,
    left: Uint8Array,
    right: Uint8Array,
  ): Uint8Array {
    if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) return internalHash(hash, left, right);
    // The position: 1 followed by the first `depth` bits of the key hash (a heap index).
    const top =
      (((keyHash[0] as number) << 16) | ((keyHash[1] as number) << 8) | (keyHash[2] as number)) >>> 0;
    const position = (1 << depth) + (top >>> (24 - depth));
    const known = this.nodes.get(position);
    if (known !== undefined && sameAt(known.input, 1, left) && sameAt(known.input, 1 + HASH_BYTES, right))
      return known.hash;
    // Our own copy of the children: the caller's arrays may change after this call.
    const input = new Uint8Array(1 + 2 * HASH_BYTES);
    input[0] = INTERNAL_PREFIX;
    input.set(left, 1);
    input.set(right, 1 + HASH_BYTES);
    const h = hash(input);
    this.nodes.set(position, { input, hash: h.slice() });
    return h;
  }
}

/** True iff `part` equals `whole` from `offset` on, for its length. */
function sameAt(whole: Uint8Array, offset: number, part: Uint8Array): boolean {
  for (let i = 0; i < part.length; i++) if (whole[offset + i] !== part[i]) return false;
  return true;
}
