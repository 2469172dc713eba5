/**
 * Byte arrays cut from shared pools. V8 keeps a typed array of up to 64 bytes on its heap, but a
 * larger one gets a backing store of its own: an allocation, external-memory accounting and a
 * sweep after it dies, about 2 µs here against 0.1 µs for a view into a pool. Encodings, keys and
 * records on the hot path are a few hundred bytes, thousands per block, so they come from pools
 * (as Node's Buffer.allocUnsafe does; browser-safe, no Buffer needed).
 *
 * A pooled array shares its `.buffer` with others: use `byteOffset`/`byteLength` with it, and
 * never transfer it to a worker. A live array keeps its whole pool (POOL_BYTES) alive.
 */

const POOL_BYTES = 16 * 1024;
/** Larger requests get a buffer of their own: they would waste most of a pool. */
const MAX_POOLED_BYTES = POOL_BYTES >>> 2;
/** V8's largest on-heap typed array (typed_array_max_size_in_heap): cheaper than a pool view. */
const ON_HEAP_BYTES = 64;

let pool = new ArrayBuffer(POOL_BYTES);
let offset = 0;

/** A zero-filled array of `n` bytes, from a pool when that is cheaper. */
export function allocBytes(n: number): Uint8Array {
  if (n <= ON_HEAP_BYTES || n > MAX_POOLED_BYTES) return new Uint8Array(n);
  return fromPool(n);
}

/**
 * A zero-filled array of `n` bytes that is not on V8's heap, for bytes handed to native code
 * (LevelDB's keys and values): Node-API reads an off-heap array in place, but must first move an
 * on-heap one off the heap, an allocation per call.
 */
export function allocOffHeap(n: number): Uint8Array {
  return n > MAX_POOLED_BYTES ? new Uint8Array(n) : fromPool(n);
}

/** `bytes` if they are surely off V8's heap (longer than it keeps there), else a pooled copy. */
export function offHeap(bytes: Uint8Array): Uint8Array {
  if (bytes.length > ON_HEAP_BYTES) return bytes;
  const out = fromPool(bytes.length);
  out.set(bytes);
  return out;
}

function fromPool(n: number): Uint8Array {
  if (offset + n > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES);
    offset = 0;
  }
  const out = new Uint8Array(pool, offset, n);
  // Keep the next array 8-byte aligned, so a DataView or wider typed array over it stays cheap.
  offset = (offset + n + 7) & ~7;
  return out;
}

/**
 * A copy of `src[start, end)`. A short range is copied byte by byte rather than through a view:
 * a view of an on-heap array would first move that array off V8's heap.
 */
export function copyRange(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const out = allocBytes(n);
  if (n <= ON_HEAP_BYTES) for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  else out.set(src.subarray(start, end));
  return out;
}
