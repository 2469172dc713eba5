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
