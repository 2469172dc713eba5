/**
 * Hashing primitives of the authenticated state (ADR 0004 §Spec). Pure and browser-safe: no
 * imports at all, so `verify.ts` can depend on it.
 */

/** A 256-bit hash function (SHA-256 or SM3 depending on the chain). Must return 32 bytes. */
export type HashFn = (data: Uint8Array) => Uint8Array;

export const HASH_BYTES = 32;
/** Bits in a key hash = maximum depth of a node position. */
export const KEY_BITS = 256;

/** Hash of an empty subtree: 32 zero bytes (not a hash output). */
export const EMPTY_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

export const LEAF_PREFIX = 0x00;
export const INTERNAL_PREFIX = 0x01;

/** leaf = H(0x00 || keyHash || valueHash) where valueHash = H(value). */
export function leafHash(hash: HashFn, keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_BYTES);
  buf[0] = LEAF_PREFIX;
  buf.set(keyHash, 1);
  buf.set(valueHash, 1 + HASH_BYTES);
  return hash(buf);
}

/** internal = H(0x01 || leftHash || rightHash). */
export function internalHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_BYTES);
  buf[0] = INTERNAL_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_BYTES);
  return hash(buf);
}

/** Bit `i` of a key hash, most significant bit of byte 0 first (bit 0 = first branch). */
export function bitAt(bytes: Uint8Array, i: number): number {
  return ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte comparison (-1, 0, 1). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function isEmptyHash(h: Uint8Array): boolean {
  if (h.length !== HASH_BYTES) return false;
  for (let i = 0; i < HASH_BYTES; i++) if (h[i] !== 0) return false;
  return true;
}

/** True iff `a` and `b` agree on their first `bits` bits. */
export function sharesPrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const full = bits >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (((a[full] as number) ^ (b[full] as number)) & mask) === 0;
}
