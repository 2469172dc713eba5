/**
 * Packing of verify jobs into one buffer shared by the pool and a worker.
 *
 * Layout (little-endian): u32 count, then per item u32 pkLen, u32 msgLen, u32 sigLen, pk, msg,
 * sig; then `count` result bytes, which the worker sets to 1 (valid) or 0. The results follow the
 * items at `resultsOffset`, so one buffer carries a job both ways and can be used again.
 */

import type { SignatureItem } from "./suite.js";

/** Bytes a job of items[start, end) needs, results included. */
export function packedSize(items: readonly SignatureItem[], start: number, end: number): number {
  let size = 4 + (end - start);
  for (let i = start; i < end; i++) {
    const it = items[i] as SignatureItem;
    size += 12 + byteLen(it.publicKey) + byteLen(it.message) + byteLen(it.signature);
  }
  return size;
}

/**
 * Writes items[start, end) at the start of `buf` (at least `packedSize` bytes); returns the
 * offset of the results.
 */
export function packInto(
  buf: ArrayBufferLike,
  items: readonly SignatureItem[],
  start: number,
  end: number,
): number {
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, end - start, true);
  let o = 4;
  for (let i = start; i < end; i++) {
    const it = items[i] as SignatureItem;
    const pk = asBytes(it.publicKey);
    const msg = asBytes(it.message);
    const sig = asBytes(it.signature);
    view.setUint32(o, pk.length, true);
    view.setUint32(o + 4, msg.length, true);
    view.setUint32(o + 8, sig.length, true);
    o += 12;
    bytes.set(pk, o);
    o += pk.length;
    bytes.set(msg, o);
    o += msg.length;
    bytes.set(sig, o);
    o += sig.length;
  }
  return o;
}

/** The items of a packed job (views into `buf`) and where its results go. */
export function unpackItems(buf: ArrayBufferLike): { items: SignatureItem[]; resultsOffset: number } {
  const view = new DataView(buf);
  const n = view.getUint32(0, true);
  const items: SignatureItem[] = new Array(n);
  let o = 4;
  for (let i = 0; i < n; i++) {
    const a = view.getUint32(o, true);
    const b = view.getUint32(o + 4, true);
    const c = view.getUint32(o + 8, true);
    o += 12;
    const publicKey = new Uint8Array(buf, o, a);
    o += a;
    const message = new Uint8Array(buf, o, b);
    o += b;
    const signature = new Uint8Array(buf, o, c);
    o += c;
    items[i] = { publicKey, message, signature };
  }
  return { items, resultsOffset: o };
}

// Malformed items (non-bytes) are encoded as empty arrays, which verify to false.
function asBytes(x: unknown): Uint8Array {
  return x instanceof Uint8Array ? x : new Uint8Array(0);
}
function byteLen(x: unknown): number {
  return x instanceof Uint8Array ? x.length : 0;
}
