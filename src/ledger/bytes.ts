/** Small byte helpers shared by every layer; browser-safe (Node's Buffer is used when present, for speed). */

interface BufferLike {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: "hex"): string };
  from(hex: string, encoding: "hex"): Uint8Array;
}
const NodeBuffer: BufferLike | undefined = (globalThis as { Buffer?: BufferLike }).Buffer;

export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/i;

/** Parses even-length hex; returns undefined on anything else (callers turn that into a coded error). */
export function fromHexOrUndefined(hex: string): Uint8Array | undefined {
  if (typeof hex !== "string") return undefined;
  if (NodeBuffer) {
    // Buffer stops at the first character that is not hex (or a lone last digit): a shorter
    // result means the text was not hex, with no second pass over it.
    const b = NodeBuffer.from(hex, "hex");
    return b.length * 2 === hex.length ? new Uint8Array(b.buffer, b.byteOffset, b.length) : undefined;
  }
  if (!HEX_RE.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const out = fromHexOrUndefined(hex);
  if (!out) throw new TypeError(`not a hex string: ${String(hex).slice(0, 40)}`);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** UTF-8 bytes of `s`. State keys are short ASCII, copied directly (a quarter of TextEncoder's cost). */
export function utf8(s: string): Uint8Array {
  const n = s.length;
  if (n > 64) return encoder.encode(s);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);

/** Big-endian unsigned 64-bit encoding of a safe integer (used in storage keys so they sort by number). */
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function readU64be(bytes: Uint8Array, offset = 0): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset));
}
