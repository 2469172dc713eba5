/**
 * The one deterministic encoding for everything signed or hashed: CBOR (RFC 8949) restricted
 * to the core deterministic encoding requirements of §4.2.1 — preferred (shortest) argument
 * encoding, definite lengths only, map keys sorted by their encoded bytes, no duplicate keys,
 * no floats, no tags, no undefined. Integers outside the safe range are bigints.
 *
 * `decode` accepts only bytes that `encode` would produce for the decoded value: it decodes
 * strictly and then re-encodes and compares, so any non-canonical form is rejected.
 */
import { decode as cborDecode, encode as cborEncode } from "cborg";
import { InvalidInputError } from "../errors/index.js";
import { allocBytes, copyRange } from "./alloc.js";

export type CborValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | CborValue[]
  | { [key: string]: CborValue };

/** Default upper bound on a decoded document; callers pass a tighter one where they know it. */
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

const encodeOptions = {
  float64: false,
  // cborg sorts map keys length-first then bytewise, which equals bytewise order of the encoded
  // keys (RFC 8949 §4.2.1) for text keys; we only allow text keys.
} as const;

const decodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
  useMaps: false,
  tags: [] as never[],
} as const;

function assertEncodable(value: unknown, depth: number): void {
  if (depth > 64) throw new InvalidInputError("CODEC_TOO_DEEP", "value nests deeper than 64 levels");
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") {
    // A lone surrogate would be replaced by U+FFFD on encoding: two values, one encoding.
    if (!value.isWellFormed())
      throw new InvalidInputError("CODEC_INVALID_STRING", "text holds a lone UTF-16 surrogate");
    return;
  }
  if (typeof value === "bigint") {
    if (value < -(1n << 64n) || value >= 1n << 64n)
      throw new InvalidInputError(
        "CODEC_INT_RANGE",
        "integers must fit in 64 bits (CBOR major types 0 and 1)",
      );
    return;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new InvalidInputError("CODEC_NOT_INTEGER", `only safe integers are encodable, got ${value}`);
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const item of value) assertEncodable(item, depth + 1);
    return;
  }
  const proto = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (!key.isWellFormed())
        throw new InvalidInputError("CODEC_INVALID_STRING", "map key holds a lone UTF-16 surrogate");
      assertEncodable(item, depth + 1);
    }
    return;
  }
  throw new InvalidInputError("CODEC_UNSUPPORTED_TYPE", `type ${typeof value} cannot be encoded`);
}

/**
 * The canonical encoding of `value`; throws InvalidInputError (CODEC_*) for anything outside the
 * canonical subset. The common subset is written in one pass (`FastWriter`); anything else —
 * bigints, maps with non-ASCII keys, and every error — goes to `encodeReference`, so both give
 * the same bytes or the same error (checked by property tests against cborg).
 */
export function encode(value: CborValue): Uint8Array {
  if (!writerBusy) {
    writerBusy = true;
    try {
      const w = new FastWriter(scratch);
      w.item(value, 0);
      // A grown buffer is kept for next time, up to a bound.
      if (w.buf.length <= MAX_SCRATCH_BYTES) scratch = w.buf;
      return copyRange(w.buf, 0, w.pos);
    } catch (err: unknown) {
      if (err !== OUTSIDE) throw err;
    } finally {
      writerBusy = false;
    }
  }
  return encodeReference(value);
}

/** The reference encoder: the whole value is checked, then cborg encodes it. */
export function encodeReference(value: CborValue): Uint8Array {
  assertEncodable(value, 0);
  return cborEncode(value, encodeOptions);
}

/**
 * Decodes canonical CBOR; throws InvalidInputError (CODEC_*) on anything else. The common subset
 * is read in one pass (`decodeFast`); everything else by `decodeReference`.
 */
export function decode(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
  return decodeFast(bytes, maxBytes);
}

/**
 * The reference decoder: cborg decodes, then the value is re-encoded and must equal the input
 * byte for byte, which is what "canonical" means here.
 */
export function decodeReference(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError("CODEC_NOT_BYTES", "expected a byte array");
  if (bytes.length > maxBytes)
    throw new InvalidInputError(
      "CODEC_TOO_LARGE",
      `encoded value is ${bytes.length} bytes; limit is ${maxBytes}`,
    );
  let value: CborValue;
  try {
    value = cborDecode(bytes, decodeOptions) as CborValue;
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidInputError("CODEC_MALFORMED", `malformed CBOR: ${reason}`);
  }
  let again: Uint8Array;
  try {
    again = encodeReference(value);
  } catch {
    throw new InvalidInputError("CODEC_NON_CANONICAL", "CBOR holds a value outside the canonical subset");
  }
  if (!equalBytes(again, bytes))
    throw new InvalidInputError("CODEC_NON_CANONICAL", "CBOR is not in deterministic (canonical) form");
  return value;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes an array whose items are already canonical CBOR, without decoding them again
 * (blocks and receipt lists are assembled this way). The result is canonical.
 */
export function encodeArrayOfEncoded(items: readonly Uint8Array[]): Uint8Array {
  let length = headSize(items.length);
  for (const item of items) length += item.length;
  const out = allocBytes(length);
  let offset = writeHead(out, 0, 4, items.length);
  for (const item of items) {
    out.set(item, offset);
    offset += item.length;
  }
  return out;
}

const MAX_SPLIT_DEPTH = 64;

function malformedSplit(reason: string): never {
  throw new InvalidInputError("CODEC_MALFORMED", `malformed CBOR: ${reason}`);
}

interface ItemHead {
  major: number;
  arg: number;
  next: number;
  minimal: boolean;
}

/** readHead's answer: one object, overwritten by each call (splitting a block reads thousands). */
const lastHead: ItemHead = { major: 0, arg: 0, next: 0, minimal: true };

function setHead(major: number, arg: number, next: number, minimal: boolean): ItemHead {
  lastHead.major = major;
  lastHead.arg = arg;
  lastHead.next = next;
  lastHead.minimal = minimal;
  return lastHead;
}

/**
 * Reads an item's head at `pos`: its major type, argument and where its content starts. The
 * result is valid until the next call; callers copy what they keep.
 */
function readHead(bytes: Uint8Array, pos: number): ItemHead {
  if (pos >= bytes.length) malformedSplit("truncated item");
  const ib = bytes[pos]!;
  const major = ib >> 5;
  const ai = ib & 31;
  if (ai < 24) return setHead(major, ai, pos + 1, true);
  const size = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (size === 0) malformedSplit("indefinite lengths and reserved values are not deterministic CBOR");
  if (pos + 1 + size > bytes.length) malformedSplit("truncated argument");
  let arg = 0;
  for (let i = 1; i <= size; i++) arg = arg * 256 + bytes[pos + i]!;
  // Integers and floats may use all 64 bits; a length or count never fits beyond 2^53.
  if (!Number.isSafeInteger(arg) && major >= 2 && major <= 5) malformedSplit("length too large");
  const minimal =
    size === 1 ? arg >= 24 : size === 2 ? arg > 0xff : size === 4 ? arg > 0xffff : arg > 0xffffffff;
  return setHead(major, arg, pos + 1 + size, minimal);
}

/** The offset just past the item at `pos` (structure only; values are not checked). */
function skipItem(bytes: Uint8Array, pos: number, depth: number): number {
  if (depth > MAX_SPLIT_DEPTH) malformedSplit("nested too deeply");
  const { major, arg, next } = readHead(bytes, pos);
  switch (major) {
    case 0:
    case 1:
    case 7:
      return next;
    case 2:
    case 3:
      if (next + arg > bytes.length) malformedSplit("truncated string");
      return next + arg;
    case 4: {
      let p = next;
      for (let i = 0; i < arg; i++) p = skipItem(bytes, p, depth + 1);
      return p;
    }
    case 5: {
      let p = next;
      for (let i = 0; i < 2 * arg; i++) p = skipItem(bytes, p, depth + 1);
      return p;
    }
    default:
      return skipItem(bytes, next, depth + 1);
  }
}

/**
 * The items of a definite-length CBOR array, as views into `bytes`, without decoding them: how a
 * block's header and transactions are taken apart without decoding and re-encoding the whole
 * block. Checks that the array's own head is minimal and that its items exactly fill `bytes`;
 * the caller decodes each item with `decode` (which checks it is canonical), so the whole is
 * canonical when every item is.
 */
export function splitArray(bytes: Uint8Array, maxItems = Number.MAX_SAFE_INTEGER): Uint8Array[] {
  const { major, arg: count, next, minimal } = readHead(bytes, 0);
  if (major !== 4) malformedSplit("expected an array");
  if (!minimal) throw new InvalidInputError("CODEC_NON_CANONICAL", "array length is not minimally encoded");
  if (count > maxItems)
    throw new InvalidInputError("CODEC_TOO_LARGE", `array has more than ${maxItems} items`);
  const items: Uint8Array[] = [];
  let pos = next;
  for (let i = 0; i < count; i++) {
    const end = skipItem(bytes, pos, 1);
    items.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (pos !== bytes.length) malformedSplit("bytes after the array");
  return items;
}

/** The entries of a definite-length CBOR map, as [key, value] views into `bytes` (see splitArray). */
export function splitMap(
  bytes: Uint8Array,
  maxEntries = Number.MAX_SAFE_INTEGER,
): Array<[Uint8Array, Uint8Array]> {
  const { major, arg: count, next, minimal } = readHead(bytes, 0);
  if (major !== 5) malformedSplit("expected a map");
  if (!minimal) throw new InvalidInputError("CODEC_NON_CANONICAL", "map length is not minimally encoded");
  if (count > maxEntries)
    throw new InvalidInputError("CODEC_TOO_LARGE", `map has more than ${maxEntries} entries`);
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  let pos = next;
  for (let i = 0; i < count; i++) {
    const mid = skipItem(bytes, pos, 1);
    const end = skipItem(bytes, mid, 1);
    entries.push([bytes.subarray(pos, mid), bytes.subarray(mid, end)]);
    pos = end;
  }
  if (pos !== bytes.length) malformedSplit("bytes after the map");
  return entries;
}

// ---------------------------------------------------------------------------------------------
// decodeFast: `decode` in one pass for the common subset

/** Thrown inside the fast decoder when an input is outside its subset; `decodeFast` then defers. */
const OUTSIDE = Symbol("outside the fast subset");
const FAST_MAX_DEPTH = 16;
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The same value as `decode(bytes, maxBytes)`, and the same error, but without the second
 * (re-encoding) pass for inputs in a common subset: any Uint8Array (a Buffer too), safe integers, byte and
 * valid UTF-8 text strings (no leading BOM), arrays and maps of ASCII text keys nested at most
 * 16 deep, false, true and null — each with minimal heads and map keys in strictly increasing
 * encoded order, i.e. exactly the bytes `encode` produces for the value. Anything else (floats,
 * tags, bigints, other keys, any doubt) goes to `decode`, which decides and explains.
 */
export function decodeFast(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
  if (bytes instanceof Uint8Array && bytes.length > 0 && bytes.length <= maxBytes) {
    try {
      // A Buffer (from the network or HTTP) is read through a plain view of the same memory.
      const plain =
        Object.getPrototypeOf(bytes) === Uint8Array.prototype
          ? bytes
          : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const r = new FastReader(plain);
      const value = r.item(0);
      if (r.pos === bytes.length) return value;
    } catch {
      // Outside the subset (or not CBOR at all): `decode` decides, with its own error.
    }
  }
  return decodeReference(bytes, maxBytes);
}

class FastReader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  /** The argument of the head at `pos` (minimal encoding required), moving past the head. */
  private arg(ai: number): number {
    const b = this.b;
    const p = this.pos;
    if (ai < 24) {
      this.pos = p + 1;
      return ai;
    }
    const size = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (size === 0 || p + 1 + size > b.length) throw OUTSIDE;
    this.pos = p + 1 + size;
    if (size === 1) {
      const v = b[p + 1]!;
      if (v < 24) throw OUTSIDE;
      return v;
    }
    if (size === 2) {
      const v = (b[p + 1]! << 8) | b[p + 2]!;
      if (v < 0x100) throw OUTSIDE;
      return v;
    }
    const hi = b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
    if (size === 4) {
      if (hi < 0x10000) throw OUTSIDE;
      return hi;
    }
    // 8 bytes: at least 2^32 (minimal) and at most 2^53 − 1 (a safe integer, not a bigint).
    if (hi === 0 || hi > 0x1fffff) throw OUTSIDE;
    return hi * 0x100000000 + (b[p + 5]! * 0x1000000 + ((b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!));
  }

  item(depth: number): CborValue {
    const b = this.b;
    if (this.pos >= b.length) throw OUTSIDE;
    const ib = b[this.pos]!;
    const major = ib >> 5;
    if (major === 7) {
      this.pos++;
      if (ib === 0xf4) return false;
      if (ib === 0xf5) return true;
      if (ib === 0xf6) return null;
      throw OUTSIDE;
    }
    const n = this.arg(ib & 31);
    switch (major) {
      case 0:
        return n;
      case 1:
        if (n > Number.MAX_SAFE_INTEGER - 1) throw OUTSIDE;
        return -1 - n;
      case 2: {
        const start = this.pos;
        if (start + n > b.length) throw OUTSIDE;
        this.pos = start + n;
        return copyRange(b, start, start + n);
      }
      case 3:
        return this.text(n);
      case 4: {
        if (depth >= FAST_MAX_DEPTH || n > b.length - this.pos) throw OUTSIDE;
        const a: CborValue[] = [];
        for (let i = 0; i < n; i++) a.push(this.item(depth + 1));
        return a;
      }
      case 5: {
        if (depth >= FAST_MAX_DEPTH || 2 * n > b.length - this.pos) throw OUTSIDE;
        const m: { [key: string]: CborValue } = {};
        let prevStart = 0;
        let prevEnd = 0;
        for (let i = 0; i < n; i++) {
          const keyStart = this.pos;
          if (keyStart >= b.length || b[keyStart]! >> 5 !== 3) throw OUTSIDE;
          const key = this.asciiKey(this.arg(b[keyStart]! & 31));
          // Keys in strictly increasing order of their encodings (length first, then bytewise).
          if (i > 0 && !encodedAfter(b, prevStart, prevEnd, keyStart, this.pos)) throw OUTSIDE;
          prevStart = keyStart;
          prevEnd = this.pos;
          m[key] = this.item(depth + 1);
        }
        return m;
      }
      default:
        throw OUTSIDE;
    }
  }

  private text(n: number): string {
    const b = this.b;
    const start = this.pos;
    const end = start + n;
    if (end > b.length) throw OUTSIDE;
    this.pos = end;
    if (n < 32) {
      let s = "";
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) return this.utf8(start, end);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.utf8(start, end);
  }

  private utf8(start: number, end: number): string {
    const s = fatalUtf8.decode(this.b.subarray(start, end)); // throws on invalid UTF-8
    if (s.charCodeAt(0) === 0xfeff) throw OUTSIDE;
    return s;
  }

  private asciiKey(n: number): string {
    const b = this.b;
    const start = this.pos;
    const end = start + n;
    if (end > b.length) throw OUTSIDE;
    this.pos = end;
    let s = "";
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) throw OUTSIDE;
      s += String.fromCharCode(c);
    }
    if (s === "__proto__") throw OUTSIDE;
    return s;
  }
}

/** True when bytes [s2, e2) sort strictly after [s1, e1): shorter first, then bytewise. */
function encodedAfter(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  const n1 = e1 - s1;
  const n2 = e2 - s2;
  if (n1 !== n2) return n2 > n1;
  for (let i = 0; i < n1; i++) {
    const x = b[s1 + i]!;
    const y = b[s2 + i]!;
    if (x !== y) return y > x;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// FastWriter: `encode` in one pass for the common subset

const MAX_ENCODE_DEPTH = 64;
const MAX_SCRATCH_BYTES = 1024 * 1024;
const TWO_POW_32 = 2 ** 32;
const utf8Encoder = new TextEncoder();
/** The buffer encodings are written into before being copied out (encode is not re-entered). */
let scratch: Uint8Array = new Uint8Array(4096);
/** Set while a FastWriter runs: a getter that encodes (re-entrance) takes the reference path. */
let writerBusy = false;

/** The longest head: an initial byte and an 8-byte argument. */
const MAX_HEAD_BYTES = 9;

/** The length of the shortest head whose argument is `n` (RFC 8949 §4.2.1). */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO_POW_32 ? 5 : MAX_HEAD_BYTES;
}

/**
 * Writes at `p` the head of major type `major` with argument `n` (a non-negative safe integer) in
 * its shortest form (RFC 8949 §4.2.1), and returns the position after it. `b` must have room.
 */
function writeHead(b: Uint8Array, p: number, major: number, n: number): number {
  const mt = major << 5;
  if (n < 24) {
    b[p] = mt | n;
    return p + 1;
  }
  if (n < 0x100) {
    b[p] = mt | 24;
    b[p + 1] = n;
    return p + 2;
  }
  if (n < 0x10000) {
    b[p] = mt | 25;
    b[p + 1] = n >> 8;
    b[p + 2] = n & 0xff;
    return p + 3;
  }
  if (n < TWO_POW_32) {
    b[p] = mt | 26;
    b[p + 1] = n >>> 24;
    b[p + 2] = (n >> 16) & 0xff;
    b[p + 3] = (n >> 8) & 0xff;
    b[p + 4] = n & 0xff;
    return p + 5;
  }
  const hi = Math.floor(n / TWO_POW_32);
  const lo = n >>> 0;
  b[p] = mt | 27;
  b[p + 1] = hi >>> 24;
  b[p + 2] = (hi >> 16) & 0xff;
  b[p + 3] = (hi >> 8) & 0xff;
  b[p + 4] = hi & 0xff;
  b[p + 5] = lo >>> 24;
  b[p + 6] = (lo >> 16) & 0xff;
  b[p + 7] = (lo >> 8) & 0xff;
  b[p + 8] = lo & 0xff;
  return p + 9;
}

class FastWriter {
  pos = 0;
  constructor(public buf: Uint8Array) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  private head(major: number, n: number): void {
    this.ensure(MAX_HEAD_BYTES);
    this.pos = writeHead(this.buf, this.pos, major, n);
  }

  item(v: CborValue, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) throw OUTSIDE;
    switch (typeof v) {
      case "number":
        if (!Number.isSafeInteger(v)) throw OUTSIDE;
        // -0 is the integer 0, as in the reference encoder.
        if (v >= 0) this.head(0, v);
        else this.head(1, -1 - v);
        return;
      case "string":
        this.text(v);
        return;
      case "boolean":
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xf5 : 0xf4;
        return;
      case "object":
        break;
      default:
        throw OUTSIDE; // bigint (reference path), undefined, functions, symbols
    }
    if (v === null) {
      this.ensure(1);
      this.buf[this.pos++] = 0xf6;
      return;
    }
    if (v instanceof Uint8Array) {
      this.head(2, v.length);
      this.ensure(v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
      return;
    }
    if (Array.isArray(v)) {
      const n = v.length;
      this.head(4, n);
      for (let i = 0; i < n; i++) this.item(v[i] as CborValue, depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw OUTSIDE;
    const keys = Object.keys(v);
    for (const k of keys) if (!isAscii(k)) throw OUTSIDE;
    sortAsciiKeys(keys);
    this.head(5, keys.length);
    for (const k of keys) {
      this.asciiText(k);
      this.item((v as { [key: string]: CborValue })[k] as CborValue, depth + 1);
    }
  }

  private text(s: string): void {
    if (isAscii(s)) {
      this.asciiText(s);
      return;
    }
    if (!s.isWellFormed()) throw OUTSIDE; // the reference path names the error
    const bytes = utf8Encoder.encode(s);
    this.head(3, bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private asciiText(s: string): void {
    const n = s.length;
    this.head(3, n);
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Sorts ASCII keys into the order of their encodings (RFC 8949 §4.2.1): a shorter key's head is
 * smaller, so shorter first, then bytewise — which for ASCII is UTF-16 code-unit order.
 * Insertion sort: maps here have a handful of keys.
 */
function sortAsciiKeys(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && asciiKeyAfter(keys[j]!, k)) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

const asciiKeyAfter = (a: string, b: string): boolean =>
  a.length !== b.length ? a.length > b.length : a > b;
