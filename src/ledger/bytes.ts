/** Small byte helpers shared by every layer; browser-safe (Node's Buffer is used when present, for speed). */

interface BufferLike {
  from(
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ): { toString(encoding: "hex" | "latin1"): string };
  from(hex: string, encoding: "hex"): Uint8Array;
}
const NodeBuffer: BufferLike | undefined = (globalThis as { Buffer?: BufferLike }).Buffer;

/**
 * Arrays up to this length (V8 keeps them on its heap) are turned into strings in JavaScript:
 * `Buffer.from(b.buffer)` would first move such an array's bytes off the heap, an allocation that
 * costs more than the conversion (1.2 µs against 0.3 µs for a fresh 20-byte address here). Ids,
 * addresses, state and trie keys are all this small, and are converted many times per transaction.
 */
const SMALL_BYTES = 64;
/** String.fromCharCode takes its codes as arguments: a bounded number at a time. */
const CODES_PER_CALL = 8192;
const HEX_DIGITS = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/** The string of these character codes (any number of them). */
export function fromCharCodes(codes: ArrayLike<number>): string {
  if (codes.length <= CODES_PER_CALL) return String.fromCharCode.apply(null, codes as number[]);
  let out = "";
  for (let i = 0; i < codes.length; i += CODES_PER_CALL)
    out += String.fromCharCode.apply(
      null,
      Array.prototype.slice.call(codes, i, i + CODES_PER_CALL) as number[],
    );
  return out;
}

export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  if (NodeBuffer && n > SMALL_BYTES)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, n).toString("hex");
  const codes = new Array<number>(2 * n);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    codes[2 * i] = HEX_DIGITS[b >> 4]!;
    codes[2 * i + 1] = HEX_DIGITS[b & 15]!;
  }
  return fromCharCodes(codes);
}

/** One character per byte (code 0–255): a cheap, collision-free map key for bytes. */
export function latin1String(bytes: Uint8Array): string {
  if (NodeBuffer && bytes.length > SMALL_BYTES)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  return fromCharCodes(bytes);
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
