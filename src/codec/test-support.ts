/** Test support for the codec's property tests: the integers at every CBOR head-size boundary. */

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
