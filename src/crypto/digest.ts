/**
 * One-shot SHA-256 and SM3 digests as fresh 32-byte arrays, for the hot paths (transaction ids,
 * Merkle and state-trie nodes: about twenty digests per transaction).
 *
 * `crypto.hash(alg, data, "buffer")` returns a Buffer with a backing store of its own: an
 * allocation with external-memory accounting and a finalizer, which costs more than hashing a
 * 65-byte input (measured here: 1.3–2.2 µs per SHA-256 digest as a Buffer, 0.5–0.9 µs through a
 * latin1 string). That string maps each digest byte to one character code; copying 32 of them
 * into a new typed array (kept on V8's heap at this size) is cheap and leaves no finalizer.
 */
import { hash } from "node:crypto";

export type DigestAlgorithm = "sha256" | "sm3";

const DIGEST_BYTES = 32;

/** The digest of `data` in a new 32-byte array (never shared, so callers may keep it). */
export function digest(algorithm: DigestAlgorithm, data: Uint8Array): Uint8Array {
  const s = hash(algorithm, data, "binary"); // "binary" is Node's name for latin1
  const out = new Uint8Array(DIGEST_BYTES);
  for (let i = 0; i < DIGEST_BYTES; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Input scratch for `digestOfParts`, reused: a digest keeps no reference to its input. */
let scratch = new Uint8Array(1024);

/** The digest of the concatenation of `parts`, without a Hash object per call. */
export function digestOfParts(algorithm: DigestAlgorithm, parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  if (total > scratch.length) scratch = new Uint8Array(Math.max(total, 2 * scratch.length));
  let at = 0;
  for (const p of parts) {
    scratch.set(p, at);
    at += p.length;
  }
  return digest(algorithm, scratch.subarray(0, total));
}
