/**
 * `decodeFast` (what `decode` runs) against `decodeReference` (src/codec/cbor.ts): for any input, both return deep-equal values
 * or both throw the same coded error. Checked on canonical encodings of arbitrary values, on
 * those encodings mutated byte by byte, on random bytes, and on the edge cases of the fast
 * subset (integer and length boundaries, key order, text encodings, depth). Also `splitMap`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import {
  type CborValue,
  decodeReference as decode,
  decodeFast,
  encode,
  splitArray,
  splitMap,
} from "./cbor.js";
import { CBOR_EDGE_INTS, cborMapKey } from "./test-support.js";

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s/g, ""), "hex"));

type Outcome = { ok: true; value: CborValue } | { ok: false; error: unknown };
function run(f: () => CborValue): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (error: unknown) {
    return { ok: false, error };
  }
}

/** Both decoders agree on `bytes`: equal values (same types), or the same error. */
function agree(bytes: Uint8Array, maxBytes?: number): void {
  const slow = run(() => decode(bytes, maxBytes));
  const fast = run(() => decodeFast(bytes, maxBytes));
  if (slow.ok) {
    assert.ok(
      fast.ok,
      `decodeFast threw ${fast.ok ? "" : String(fast.error)} on ${Buffer.from(bytes).toString("hex")}`,
    );
    assert.deepStrictEqual(fast.value, slow.value);
  } else {
    assert.ok(!fast.ok, `decodeFast accepted ${Buffer.from(bytes).toString("hex")}, decode did not`);
    assert.deepStrictEqual(
      {
        name: (fast.error as Error).name,
        message: (fast.error as Error).message,
        code: (fast.error as { code?: string }).code,
      },
      {
        name: (slow.error as Error).name,
        message: (slow.error as Error).message,
        code: (slow.error as { code?: string }).code,
      },
    );
  }
}

const key = cborMapKey;
const { value } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(...CBOR_EDGE_INTS),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(1n << 64n), max: (1n << 64n) - 1n }).filter((b) => b < -(2n ** 53n) || b >= 2n ** 53n),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }) as fc.Arbitrary<{ [k: string]: CborValue }>,
  ),
}));

/** A byte edit: overwrite, insert or delete one byte, or cut the input. */
const edit = fc.tuple(
  fc.constantFrom("set", "insert", "delete", "cut"),
  fc.nat(),
  fc.integer({ min: 0, max: 255 }),
);
function applyEdit(bytes: Uint8Array, [kind, at, byte]: [string, number, number]): Uint8Array {
  const a = [...bytes];
  const i = a.length === 0 ? 0 : at % a.length;
  if (kind === "set" && a.length > 0) a[i] = byte;
  else if (kind === "insert") a.splice(i, 0, byte);
  else if (kind === "delete") a.splice(i, 1);
  else a.length = i;
  return new Uint8Array(a);
}

describe("decodeFast agrees with decode", () => {
  test("on canonical encodings of arbitrary values", () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encode(v);
        agree(bytes);
        agree(bytes, bytes.length - 1);
      }),
      { numRuns: 3000 },
    );
  });

  test("on canonical encodings with bytes changed, inserted, deleted or cut", () => {
    fc.assert(
      fc.property(value, fc.array(edit, { minLength: 1, maxLength: 3 }), (v, edits) => {
        agree(edits.reduce(applyEdit, encode(v)));
      }),
      { numRuns: 10000 },
    );
  });

  test("on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => agree(bytes)),
      { numRuns: 10000 },
    );
  });

  test("on the edges of its subset", () => {
    const a24 = "61".repeat(24);
    const cases = [
      // integers: every head size at its boundaries, non-minimal heads, beyond the safe range
      "00 17 1817 1818 18ff 190000 1900ff 190100 1a0000ffff 1a00010000 1b00000000ffffffff",
      "1b0000000100000000 1b001fffffffffffff 1b0020000000000000 1bffffffffffffffff 20 37 3817",
      "3818 3b001ffffffffffffe 3b001fffffffffffff 3b0020000000000000 3bffffffffffffffff",
      // reserved and indefinite heads, floats, simple values, undefined, tags
      "1c 1f 3f 5f 7f 9f bf ff f4 f5 f6 f7 f0 f8ff f90000 f93c00 fa3f800000 fb3ff0000000000000",
      "c0 c249010000000000000000",
      // byte and text strings: lengths at the head boundaries, truncation, UTF-8 edge cases, BOMs
      `40 4100 4101 420102 5800 5817${"00".repeat(23)} 5818${"00".repeat(24)} 58 5801`,
      `60 6161 780161 7818${a24} 7900 62c3a9 63e282ac 6480 62c0af 63eda080 63efbbbf 66efbbbf616263`,
      `6461efbbbf 64f0908080 64f4908080 7818${"61".repeat(23)}c3`,
      // arrays and maps: sizes, key order, duplicates, non-text keys, __proto__, trailing bytes
      `80 8100 820102 8201 9800 9817${"00".repeat(23)} 9818${"00".repeat(24)} a0 a1616100`,
      "a2616100616201 a2616201616100 a2616100616100 a2616201616101 a261610062616101",
      "a262616101616100 a10000 a1400000 a1f400 a1695f5f70726f746f5f5fa0 a1695f5f70726f746f5f5f01",
      "a1626869a0 a162c3a900 a262c3a90062c3a800 a178016100 a16000 a26000616100 0000 8000 a000 6161ff",
      "",
    ].flatMap((line) => line.split(" "));
    for (const h of cases) agree(unhex(h));
    // Nesting around the fast subset's limit (16) and the codec's (64).
    for (const depth of [15, 16, 17, 64, 65, 70]) {
      agree(unhex(`${"81".repeat(depth)}00`));
      agree(unhex(`${"a16161".repeat(depth)}00`));
    }
    // Longer ASCII and non-ASCII text, above the short-text loop.
    agree(encode("x".repeat(100)));
    agree(encode("北京示例科技有限公司".repeat(5)));
    agree(encode({ ["k".repeat(40)]: 1, ["k".repeat(41)]: 2 }));
  });

  test("on buffers and other views, and over the size limit", () => {
    const bytes = encode({ a: [1, "x", new Uint8Array([1, 2])] });
    agree(Buffer.from(bytes));
    agree(new Uint8Array(bytes.buffer.slice(0), 0, bytes.length));
    const inner = new Uint8Array(bytes.length + 4);
    inner.set(bytes, 2);
    agree(inner.subarray(2, 2 + bytes.length));
    agree(bytes, bytes.length - 1);
    assert.throws(() => decodeFast("00" as unknown as Uint8Array), { code: "CODEC_NOT_BYTES" });
  });

  test("returns byte strings that are copies, not views of the input", () => {
    const bytes = encode([new Uint8Array([1, 2, 3])]);
    const [b] = decodeFast(bytes) as [Uint8Array];
    bytes[2] = 9;
    assert.deepStrictEqual(b, new Uint8Array([1, 2, 3]));
    assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype);
  });
});

describe("splitMap", () => {
  test("gives each entry's key and value bytes, in encoded order", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (m) => {
        const bytes = encode(m as CborValue);
        const entries = splitMap(bytes);
        const decoded = decode(bytes) as { [k: string]: CborValue };
        assert.equal(entries.length, Object.keys(decoded).length);
        for (const [k, v] of entries) assert.deepStrictEqual(decode(v), decoded[decode(k) as string]);
      }),
      { numRuns: 500 },
    );
  });

  test("refuses what is not one whole map", () => {
    assert.throws(() => splitMap(encode([1])), { code: "CODEC_MALFORMED" });
    assert.throws(() => splitMap(unhex("a1616100ff")), { code: "CODEC_MALFORMED" });
    assert.throws(() => splitMap(unhex("a16161")), { code: "CODEC_MALFORMED" });
    assert.throws(() => splitMap(unhex("b80100")), { code: "CODEC_NON_CANONICAL" });
    assert.throws(() => splitMap(encode({ a: 1, b: 2 }), 1), { code: "CODEC_TOO_LARGE" });
    assert.deepStrictEqual(splitArray(encode([])), []);
    assert.deepStrictEqual(splitMap(encode({})), []);
  });
});
