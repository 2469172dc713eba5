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

export function encode(value: CborValue): Uint8Array {
  assertEncodable(value, 0);
  return cborEncode(value, encodeOptions);
}

export function decode(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
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
    again = encode(value);
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
  const n = items.length;
  const head =
    n < 24
      ? [0x80 | n]
      : n < 0x100
        ? [0x98, n]
        : n < 0x10000
          ? [0x99, n >> 8, n & 0xff]
          : [0x9a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  let length = head.length;
  for (const item of items) length += item.length;
  const out = new Uint8Array(length);
  out.set(head, 0);
  let offset = head.length;
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

/** Reads an item's head at `pos`: its major type, argument and where its content starts. */
function readHead(
  bytes: Uint8Array,
  pos: number,
): { major: number; arg: number; next: number; minimal: boolean } {
  if (pos >= bytes.length) malformedSplit("truncated item");
  const ib = bytes[pos]!;
  const major = ib >> 5;
  const ai = ib & 31;
  if (ai < 24) return { major, arg: ai, next: pos + 1, minimal: true };
  const size = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (size === 0) malformedSplit("indefinite lengths and reserved values are not deterministic CBOR");
  if (pos + 1 + size > bytes.length) malformedSplit("truncated argument");
  let arg = 0;
  for (let i = 1; i <= size; i++) arg = arg * 256 + bytes[pos + i]!;
  // Integers and floats may use all 64 bits; a length or count never fits beyond 2^53.
  if (!Number.isSafeInteger(arg) && major >= 2 && major <= 5) malformedSplit("length too large");
  const minimal =
    size === 1 ? arg >= 24 : size === 2 ? arg > 0xff : size === 4 ? arg > 0xffff : arg > 0xffffffff;
  return { major, arg, next: pos + 1 + size, minimal };
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
  const head = readHead(bytes, 0);
  if (head.major !== 4) malformedSplit("expected an array");
  if (!head.minimal)
    throw new InvalidInputError("CODEC_NON_CANONICAL", "array length is not minimally encoded");
  if (head.arg > maxItems)
    throw new InvalidInputError("CODEC_TOO_LARGE", `array has more than ${maxItems} items`);
  const items: Uint8Array[] = [];
  let pos = head.next;
  for (let i = 0; i < head.arg; i++) {
    const end = skipItem(bytes, pos, 1);
    items.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (pos !== bytes.length) malformedSplit("bytes after the array");
  return items;
}
