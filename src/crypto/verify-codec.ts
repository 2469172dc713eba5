/** Packing of verify jobs into one transferable ArrayBuffer (shared by pool and worker). */

export interface VerifyItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Layout: u32 count, then per item u32 pkLen, u32 msgLen, u32 sigLen, pk, msg, sig (LE). */
export function packItems(items: readonly VerifyItem[], start: number, end: number): ArrayBuffer {
  let size = 4;
  for (let i = start; i < end; i++) {
    const it = items[i] as VerifyItem;
    size += 12 + byteLen(it.publicKey) + byteLen(it.message) + byteLen(it.signature);
  }
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, end - start, true);
  let o = 4;
  for (let i = start; i < end; i++) {
    const it = items[i] as VerifyItem;
    const parts = [asBytes(it.publicKey), asBytes(it.message), asBytes(it.signature)];
    for (const p of parts) {
      view.setUint32(o, p.length, true);
      o += 4;
    }
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
  }
  return buf;
}

export function unpackItems(buf: ArrayBuffer): VerifyItem[] {
  const view = new DataView(buf);
  const n = view.getUint32(0, true);
  const out: VerifyItem[] = new Array(n);
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
    out[i] = { publicKey, message, signature };
  }
  return out;
}

// Malformed items (non-bytes) are encoded as empty arrays, which verify to false.
function asBytes(x: unknown): Uint8Array {
  return x instanceof Uint8Array ? x : new Uint8Array(0);
}
function byteLen(x: unknown): number {
  return x instanceof Uint8Array ? x.length : 0;
}
