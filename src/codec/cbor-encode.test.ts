/**
 * `encode`'s one-pass writer (src/codec/cbor.ts) against `encodeReference` (a full check, then
 * cborg): for any value, the same bytes or the same coded error. Checked on arbitrary values,
 * on every kind of value outside the canonical subset, and on the writer's own edges (growing
 * its buffer, re-entrance, pooled outputs).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { type CborValue, decode, encode, encodeReference } from "./cbor.js";
import { CBOR_EDGE_INTS, cborMapKey } from "./test-support.js";

type Outcome = { ok: true; hex: string } | { ok: false; code: unknown; message: unknown };
function run(f: (v: CborValue) => Uint8Array, v: unknown): Outcome {
  try {
    return { ok: true, hex: Buffer.from(f(v as CborValue)).toString("hex") };
  } catch (err: unknown) {
    return { ok: false, code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
}

function agree(v: unknown): void {
  assert.deepStrictEqual(run(encode, v), run(encodeReference, v));
}

// Binary strings may hold lone surrogates: keys the encoders must both refuse.
const key = fc.oneof(cborMapKey, fc.string({ unit: "binary", maxLength: 4 }));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(...CBOR_EDGE_INTS, -0),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(1n << 65n), max: 1n << 65n }),
    fc.double(),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 8 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(undefined, Symbol("s"), () => 1, new Date(0), new Map(), new Uint16Array(2)),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(key, tie("value"), { maxKeys: 6 }),
  ),
}));

describe("encode agrees with encodeReference", () => {
  test("on arbitrary values, in and outside the canonical subset", () => {
    fc.assert(fc.property(value, agree), { numRuns: 5000 });
  });

  test("on the edges: depth, lone surrogates, holes, prototypes, large values", () => {
    const nest = (d: number, leaf: unknown): unknown => (d === 0 ? leaf : [nest(d - 1, leaf)]);
    const nestMap = (d: number): unknown => (d === 0 ? 1 : { a: nestMap(d - 1) });
    for (const d of [63, 64, 65, 70]) {
      agree(nest(d, 0));
      agree(nest(d, 1.5));
      agree(nestMap(d));
    }
    const cases: unknown[] = [
      "\ud800",
      "a\udc00b",
      { "\ud800": 1 },
      { 北京: 1, a: 2, é: 3 },
      Object.assign(new Array(3), { 0: 1, 2: 3 }), // a hole at index 1
      Object.create(null),
      Object.assign(Object.create(null), { b: 1, a: 2 }),
      new (class Point {
        x = 1;
      })(),
      { a: undefined },
      Buffer.from([1, 2, 3]),
      new Uint8Array(70_000),
      "x".repeat(70_000),
      Array.from({ length: 300 }, (_, i) => i),
      { [`k${"x".repeat(30)}`]: 1, k: 2, kk: 3 },
      2 ** 53,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1n << 64n,
      -(1n << 64n),
      -(1n << 64n) - 1n,
    ];
    for (const v of cases) agree(v);
  });

  test("round-trips through decode", () => {
    fc.assert(
      fc.property(value, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encode(v as CborValue);
        } catch {
          return;
        }
        assert.deepStrictEqual(encode(decode(bytes)), bytes);
      }),
      { numRuns: 2000 },
    );
  });

  test("a getter that encodes while encoding gets its own buffer", () => {
    const inner = { a: new Uint8Array(100).fill(7) };
    const outer = {
      get x() {
        return encode(inner);
      },
      y: new Uint8Array(100).fill(9),
    };
    agree(outer);
  });

  test("every result is a separate copy: later encodings do not change it", () => {
    const first = encode({ a: new Uint8Array(200).fill(1) });
    const copy = Uint8Array.from(first);
    for (let i = 0; i < 500; i++) encode({ a: new Uint8Array(200).fill(i & 0xff) });
    assert.deepStrictEqual(first, copy);
  });
});
