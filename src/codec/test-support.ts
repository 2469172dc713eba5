/** Test support for the codec's property tests: integers at every CBOR head-size boundary, map keys. */
import * as fc from "fast-check";

/** Safe integers on both sides of each argument-size boundary of RFC 8949 §3 (1, 2, 4, 8 bytes). */
export const CBOR_EDGE_INTS: readonly number[] = [
  0,
  1,
  23,
  24,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  -1,
  -24,
  -25,
  -256,
  -257,
  -65536,
  -65537,
  -(2 ** 32),
  -(2 ** 32) - 1,
  Number.MIN_SAFE_INTEGER,
];

/** Map keys: short ones whose encoded order is easy to get wrong, names, and arbitrary text. */
export const cborMapKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    "a",
    "b",
    "B",
    "aa",
    "ab",
    "ba",
    "licenseId",
    "__proto__",
    "constructor",
    "1",
    "10",
    "9",
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);
