/**
 * Stand-alone verification of state proofs (ADR 0004 §Spec "Verification"). Pure and
 * browser-safe: no `node:` imports, directly or transitively. Published as `zhenglian/verify`.
 */
import {
  bitAt,
  bytesEqual,
  EMPTY_HASH,
  type HashFn,
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
    // Canonical form: a leaf or EMPTY terminal never has an EMPTY sibling below the root
    // (the leaf would have been lifted; the parent would not exist).
    if (depth > 0 && isEmptyHash(siblings[depth - 1] as Uint8Array)) return false;

    for (let i = depth - 1; i >= 0; i--) {
      const s = siblings[i] as Uint8Array;
      h = bitAt(keyHash, i) === 0 ? internalHash(hash, h, s) : internalHash(hash, s, h);
    }
    return bytesEqual(h, root);
  } catch {
    return false;
  }
}
