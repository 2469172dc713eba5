/**
 * State proofs (ADR 0004 §Spec "Proof encoding"). Browser-safe: imports only the canonical CBOR
 * codec and the error classes.
 *
 * A proof walks the path of H(key) from the root down to a terminal position at depth
 * d = siblings.length:
 *   - `siblings[i]` is the hash of the sibling of the path node at depth i + 1 (i.e. the child of
 *     the depth-i node on the side NOT taken by bit i of the key hash); EMPTY = 32 zero bytes;
 *   - `leaf` is the terminal: null = EMPTY subtree; otherwise the leaf found there, given by its
 *     key hash and value hash (for an inclusion proof keyHash = H(key); for a non-inclusion proof
 *     it is a different key hash sharing the first d bits).
 *
 * CBOR (deterministic, RFC 8949 §4.2.1):
 *   { "leaf": null | { "keyHash": bstr(32), "valueHash": bstr(32) }, "siblings": [ bstr(32) * d ] }
 * with 0 <= d <= 256. No other map keys are allowed.
 */
import { type CborValue, decode, encode } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";

export interface StateProofLeaf {
  keyHash: Uint8Array;
  valueHash: Uint8Array;
}

export interface StateProof {
  siblings: Uint8Array[];
  leaf: StateProofLeaf | null;
}

export const MAX_PROOF_DEPTH = 256;
/** Upper bound of an encoded proof: 256 siblings * 34 bytes + leaf + headers. */
export const MAX_PROOF_BYTES = 16 * 1024;

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === 32;
}

function hasExactKeys(o: object, keys: string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

/** Shape check of a proof object (never throws). */
export function isWellFormedProof(p: unknown): p is StateProof {
  try {
    if (typeof p !== "object" || p === null || Array.isArray(p)) return false;
    if (!hasExactKeys(p, ["leaf", "siblings"])) return false;
    const { siblings, leaf } = p as { siblings: unknown; leaf: unknown };
    if (!Array.isArray(siblings) || siblings.length > MAX_PROOF_DEPTH) return false;
    for (const s of siblings) if (!isHash(s)) return false;
    if (leaf === null) return true;
    if (typeof leaf !== "object" || Array.isArray(leaf)) return false;
    if (!hasExactKeys(leaf, ["keyHash", "valueHash"])) return false;
    const l = leaf as { keyHash: unknown; valueHash: unknown };
    return isHash(l.keyHash) && isHash(l.valueHash);
  } catch {
    return false;
  }
}

function bad(message: string): never {
  throw new InvalidInputError("STATE_BAD_PROOF", message);
}

export function encodeProof(proof: StateProof): Uint8Array {
  if (!isWellFormedProof(proof)) bad("malformed state proof");
  const value: CborValue = {
    leaf: proof.leaf === null ? null : { keyHash: proof.leaf.keyHash, valueHash: proof.leaf.valueHash },
    siblings: proof.siblings.slice(),
  };
  return encode(value);
}

export function decodeProof(bytes: Uint8Array): StateProof {
  if (!(bytes instanceof Uint8Array)) bad("proof must be a byte array");
  let value: CborValue;
  try {
    value = decode(bytes, MAX_PROOF_BYTES);
  } catch (err: unknown) {
    bad(`proof is not canonical CBOR: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isWellFormedProof(value)) bad("proof does not have the StateProof shape");
  const p = value as StateProof;
  return {
    siblings: p.siblings.map((s) => Uint8Array.from(s)),
    leaf:
      p.leaf === null
        ? null
        : { keyHash: Uint8Array.from(p.leaf.keyHash), valueHash: Uint8Array.from(p.leaf.valueHash) },
  };
}
