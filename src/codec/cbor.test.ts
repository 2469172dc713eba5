/**
 * Tests for the deterministic CBOR codec (src/codec/cbor.ts; RFC 8949 §4.2.1 core deterministic
 * encoding): RFC 8949 Appendix A examples, an independent reference encoder, fast-check
 * round-trip / canonicality / robustness properties, and explicit non-canonical inputs.
 *
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { InvalidInputError } from "../errors/index.js";
import {
  type CborValue,
  DEFAULT_MAX_BYTES,
  decode,
  encode,
  encodeArrayOfEncoded,
  splitArray,
} from "./cbor.js";
import { CBOR_EDGE_INTS } from "./test-support.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

const REJECT_CODES = new Set(["CODEC_NON_CANONICAL", "CODEC_MALFORMED"]);

/** Asserts `f` throws an InvalidInputError whose code is in `codes`; returns the code. */
function assertInvalid(f: () => unknown, codes: Set<string> | string[], what: string): string {
  const allowed = codes instanceof Set ? codes : new Set(codes);
  try {
    const v = f();
    assert.fail(`${what}: expected InvalidInputError, got value ${String(v)}`);
  } catch (err: unknown) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof InvalidInputError, `${what}: threw ${String(err)} instead of InvalidInputError`);
    assert.ok(allowed.has(err.code), `${what}: code ${err.code} not in ${[...allowed].join("|")}`);
    return err.code;
  }
}

// ---------------------------------------------------------------------------------------------
// Independent reference encoder for the supported subset (RFC 8949 §3 + §4.2.1).
// ---------------------------------------------------------------------------------------------

function refHead(major: number, n: bigint): number[] {
  const mt = major << 5;
  if (n < 24n) return [mt | Number(n)];
  const bytes = n < 0x100n ? 1 : n < 0x10000n ? 2 : n < 0x100000000n ? 4 : 8;
  const out = [mt | { 1: 24, 2: 25, 4: 26, 8: 27 }[bytes]!];
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  return out;
}

function compareBytes(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

function refEncode(v: CborValue): number[] {
  if (v === null) return [0xf6];
  if (v === false) return [0xf4];
  if (v === true) return [0xf5];
  if (typeof v === "number" || typeof v === "bigint") {
    const n = BigInt(v);
    return n >= 0n ? refHead(0, n) : refHead(1, -1n - n);
  }
  if (typeof v === "string") {
    const b = [...new TextEncoder().encode(v)];
    return [...refHead(3, BigInt(b.length)), ...b];
  }
  if (v instanceof Uint8Array) return [...refHead(2, BigInt(v.length)), ...v];
  if (Array.isArray(v)) return [...refHead(4, BigInt(v.length)), ...v.flatMap(refEncode)];
  const entries = Object.entries(v).map(([k, x]) => [refEncode(k), refEncode(x)] as const);
  entries.sort((a, b) => compareBytes(a[0], b[0])); // §4.2.1: bytewise order of encoded keys
  return [...refHead(5, BigInt(entries.length)), ...entries.flatMap(([k, x]) => [...k, ...x])];
}

/** What decode(encode(v)) must give: integers in the safe range come back as numbers, -0 as 0. */
function normalize(v: CborValue): CborValue {
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v === "number") return v === 0 ? 0 : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const out: { [k: string]: CborValue } = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, {
        value: normalize(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries for the supported subset.
// ---------------------------------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const edgeInts = fc.constantFrom<CborValue>(
  ...CBOR_EDGE_INTS,
  2n ** 53n,
  -(2n ** 53n),
  2n ** 63n,
  -(2n ** 63n),
  2n ** 64n - 1n,
  -(2n ** 64n),
  5n,
  -5n,
);

const text = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 24 }), // any Unicode scalar value, incl. astral planes
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom("", "a", "aa", "b", "é", "水", "政链", "\u{10151}", "__proto__", "constructor", "toString"),
);

const scalar: fc.Arbitrary<CborValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
  edgeInts,
  text,
  fc.uint8Array({ maxLength: 40 }),
);

const { value: cborValue } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 6, depthSize: "small" },
    scalar,
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(text, tie("value"), { maxKeys: 6, noNullPrototype: true }),
  ),
}));

// ---------------------------------------------------------------------------------------------

describe("RFC 8949 Appendix A examples", () => {
  const file = JSON.parse(
    readFileSync(join(process.cwd(), "src/codec/test-vectors/rfc8949-appendix-a.json"), "utf8"),
  ) as Record<string, unknown>;

  function fromJson(x: unknown): CborValue {
    if (x === null || typeof x === "boolean" || typeof x === "string") return x;
    if (typeof x === "number") {
      assert.ok(Number.isSafeInteger(x), `vector number ${x} must be a safe integer`);
      return x;
    }
    if (Array.isArray(x)) return x.map(fromJson);
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$bigint") return BigInt(o.$bigint as string);
    if (keys.length === 1 && keys[0] === "$bytes") return unhex(o.$bytes as string);
    return Object.fromEntries(keys.map((k) => [k, fromJson(o[k])]));
  }

  test("vector file has exactly the known sections and provenance", () => {
    assert.deepEqual(Object.keys(file).sort(), ["accepted", "description", "provenance", "rejected"]);
    const prov = file.provenance as Record<string, string>;
    assert.match(prov.url as string, /rfc8949/);
    assert.ok((file.accepted as unknown[]).length >= 30);
    assert.ok((file.rejected as unknown[]).length >= 30);
  });

  test("RFC 8949 Appendix A: encode(value) reproduces the RFC's hex and decode(hex) gives the value", () => {
    for (const v of file.accepted as Array<Record<string, unknown>>) {
      assert.deepEqual(
        Object.keys(v).sort(),
        ["diagnostic", "hex", "value"],
        `fields of ${String(v.diagnostic)}`,
      );
      const value = fromJson(v.value);
      const want = v.hex as string;
      assert.equal(hex(encode(value)), want, `encode(${String(v.diagnostic)})`);
      assert.equal(
        hex(Uint8Array.from(refEncode(value))),
        want,
        `reference encoder, ${String(v.diagnostic)}`,
      );
      assert.deepStrictEqual(decode(unhex(want)), normalize(value), `decode(${want})`);
    }
  });

  test("RFC 8949 Appendix A examples outside the deterministic subset are rejected (§4.2.1, no floats/tags/indefinite)", () => {
    for (const v of file.rejected as Array<Record<string, unknown>>) {
      assert.deepEqual(
        Object.keys(v).sort(),
        ["codes", "diagnostic", "hex", "why"],
        `fields of ${String(v.diagnostic)}`,
      );
      assertInvalid(
        () => decode(unhex(v.hex as string)),
        v.codes as string[],
        `${String(v.diagnostic)} (${String(v.why)})`,
      );
    }
  });
});

describe("RFC 8949 §4.2.1 deterministic encoding properties (fast-check)", () => {
  test("encode matches an independent reference encoder of RFC 8949 §4.2.1", () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        assert.equal(hex(encode(v)), hex(Uint8Array.from(refEncode(v))));
      }),
      { numRuns: 1000 },
    );
  });

  test("round trip: decode(encode(v)) deep-equals v and re-encodes byte-identically", () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const bytes = encode(v);
        const back = decode(bytes);
        assert.deepStrictEqual(back, normalize(v));
        assert.equal(hex(encode(back)), hex(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  test("map key order (§4.2.1: bytewise order of encoded keys) does not depend on insertion order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(text, cborValue), { maxLength: 12, selector: ([k]) => k }),
        fc.func(fc.integer()),
        (entries, rank) => {
          const shuffled = [...entries].sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1));
          const reversed = [...entries].reverse();
          const build = (es: typeof entries) => {
            const o: { [k: string]: CborValue } = {};
            for (const [k, x] of es)
              Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
            return o;
          };
          const a = hex(encode(build(entries)));
          assert.equal(hex(encode(build(shuffled))), a);
          assert.equal(hex(encode(build(reversed))), a);
          assert.equal(hex(Uint8Array.from(refEncode(build(entries)))), a);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("decode(encode(v), maxBytes) rejects with CODEC_TOO_LARGE exactly when the encoding is longer", () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const bytes = encode(v);
        assert.deepStrictEqual(decode(bytes, bytes.length), normalize(v));
        assertInvalid(() => decode(bytes, bytes.length - 1), ["CODEC_TOO_LARGE"], "one byte over");
      }),
      { numRuns: 300 },
    );
  });
});

/** The robustness contract: decode returns a value whose encoding is exactly the input, or throws InvalidInputError. */
function checkDecodeContract(bytes: Uint8Array): void {
  const t0 = performance.now();
  let value: CborValue;
  try {
    value = decode(bytes);
  } catch (err: unknown) {
    assert.ok(err instanceof InvalidInputError, `decode(${hex(bytes)}) threw ${String(err)}`);
    assert.ok(REJECT_CODES.has(err.code), `decode(${hex(bytes)}): unexpected code ${err.code}`);
    return;
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `decode(${hex(bytes).slice(0, 80)}…) took ${ms.toFixed(0)} ms`);
  }
  assert.equal(hex(encode(value)), hex(bytes), "accepted input must be the canonical encoding of its value");
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Uint8Array, ms: Mutation[]): Uint8Array {
  const b = [...input];
  for (const m of ms) {
    const at = "at" in m && b.length > 0 ? m.at % (b.length + (m.op === "insert" ? 1 : 0)) : 0;
    switch (m.op) {
      case "flip":
        if (b.length) b[at] = (b[at] as number) ^ m.mask;
        break;
      case "set":
        if (b.length) b[at] = m.byte;
        break;
      case "insert":
        b.splice(at, 0, m.byte);
        break;
      case "delete":
        if (b.length) b.splice(at, 1);
        break;
      case "truncate":
        b.length = at;
        break;
      case "append":
        b.push(...m.bytes);
        break;
    }
  }
  return Uint8Array.from(b);
}

describe("decode robustness: canonical value or InvalidInputError, never another exception, never a hang", () => {
  test("random byte strings", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkDecodeContract), { numRuns: 3000 });
  });

  test("random CBOR-shaped token streams (heads of every major type, lengths, breaks)", () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(
        0x18,
        0x19,
        0x1a,
        0x1b,
        0x38,
        0x3b,
        0x41,
        0x58,
        0x5f,
        0x61,
        0x78,
        0x7f,
        0x81,
        0x98,
        0x9f,
      ),
      fc.constantFrom(
        0xa1,
        0xa2,
        0xb8,
        0xbf,
        0xc0,
        0xc2,
        0xd8,
        0xf4,
        0xf5,
        0xf6,
        0xf7,
        0xf8,
        0xf9,
        0xfb,
        0xff,
      ),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 48 }), (bs) => checkDecodeContract(Uint8Array.from(bs))),
      { numRuns: 3000 },
    );
  });

  test("random mutations of valid encodings", () => {
    fc.assert(
      fc.property(cborValue, fc.array(mutation, { minLength: 1, maxLength: 4 }), (v, ms) =>
        checkDecodeContract(mutate(encode(v), ms)),
      ),
      { numRuns: 3000 },
    );
  });

  test("pathological inputs under the size limit fail fast with InvalidInputError", () => {
    const cases: Array<[string, Uint8Array]> = [
      ["1 MiB of nested one-element arrays", new Uint8Array(1 << 20).fill(0x81)],
      [
        '1 MiB of nested one-entry maps {"": {"": …}}',
        Uint8Array.from({ length: 1 << 20 }, (_, i) => (i % 2 === 0 ? 0xa1 : 0x60)),
      ],
      ["array claiming 2^32 items", unhex("9b0000000100000000")],
      ["array claiming 2^64-1 items", unhex("9bffffffffffffffff")],
      ["byte string claiming 2^64-1 bytes", unhex("5bffffffffffffffff")],
      ["text string claiming 2^32-1 bytes", unhex("7affffffff61")],
      ["map claiming 2^32-1 entries", unhex("baffffffff")],
      ["empty input", new Uint8Array(0)],
    ];
    for (const [what, bytes] of cases) {
      const t0 = performance.now();
      assertInvalid(() => decode(bytes), REJECT_CODES, what);
      assert.ok(performance.now() - t0 < 5000, `${what} took too long`);
    }
  });
});

describe("RFC 8949 §4.2.1 non-canonical forms are rejected (CODEC_NON_CANONICAL or CODEC_MALFORMED)", () => {
  const cases: Array<[string, string]> = [
    // §4.2.1 "preferred serialization": shortest argument
    ["0 in a 1-byte argument", "1800"],
    ["23 in a 1-byte argument", "1817"],
    ["24 in a 2-byte argument", "190018"],
    ["255 in a 2-byte argument", "1900ff"],
    ["65535 in a 4-byte argument", "1a0000ffff"],
    ["2^32-1 in an 8-byte argument", "1b00000000ffffffff"],
    ["-1 in a 1-byte argument", "3800"],
    ["-25 in a 2-byte argument", "390018"],
    ["-2^32 in an 8-byte argument", "3b00000000ffffffff"],
    ["empty byte string with a 1-byte length", "5800"],
    ["1-byte text string with a 2-byte length", "79000161"],
    ["empty array with a 1-byte length", "9800"],
    ["empty map with a 4-byte length", "ba00000000"],
    ["array inside an array with a long length", "81980101"],
    ["map value with a non-shortest integer", "a161611800"],
    // §4.2.1 definite lengths only
    ["indefinite-length byte string", "5f4101ff"],
    ["indefinite-length empty byte string", "5fff"],
    ["indefinite-length text string", "7f6161ff"],
    ["indefinite-length array", "9f01ff"],
    ["indefinite-length map", "bf616101ff"],
    ["break outside an indefinite item", "ff"],
    // §4.2.1 map keys sorted bytewise by their encodings, no duplicates (§5.6)
    ["unsorted keys b, a", "a2616201616101"],
    ["longer key first (aa before b)", "a262616101616202"],
    ["unsorted unicode keys (é before z)", "a262c3a901617a02"],
    ["duplicate keys", "a2616101616102"],
    ["duplicate keys, different values", "a261610161610a"],
    ["non-text key (integer)", "a10102"],
    ["non-text key (bytes)", "a1410001"],
    ["non-text key (array)", "a1800102"],
    // no floats, tags, undefined or other simple values
    ["half float 0.0", "f90000"],
    ["half float 1.0 (integral)", "f93c00"],
    ["single float 1.0", "fa3f800000"],
    ["double float 1.0", "fb3ff0000000000000"],
    ["double NaN", "fb7ff8000000000000"],
    ["tag 0 date string", "c06130"],
    ["tag 1 epoch", "c101"],
    ["tag 2 bignum 1", "c24101"],
    ["tag 2 bignum 2^64", "c249010000000000000000"],
    ["tag 55799 self-describe", "d9d9f701"],
    ["undefined", "f7"],
    ["simple(0)", "e0"],
    ["simple(32) two-byte", "f820"],
    ["simple(24) two-byte (ill-formed)", "f818"],
    ["reserved additional info 28", "1c"],
    ["reserved additional info 30 in arrays", "9e"],
    // not a single well-formed item
    ["trailing byte", "0000"],
    ["truncated argument", "19ff"],
    ["truncated byte string", "4301"],
    ["truncated array", "8201"],
    ["invalid UTF-8 text", "62c328"],
    ["UTF-8 encoded surrogate (CESU)", "63eda080"],
    ["overlong UTF-8 for '/'", "62c0af"],
  ];
  for (const [what, h] of cases)
    test(`rejects ${what} (${h})`, () => {
      assertInvalid(() => decode(unhex(h)), REJECT_CODES, what);
    });

  test("every integer in a non-shortest head is rejected (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 3 }),
        (n, major, widen) => {
          const canonical = refHead(major, n);
          const width = canonical.length === 1 ? 0 : canonical.length - 1; // 0, 1, 2, 4, 8
          const wider = [1, 2, 4, 8].filter((w) => w > width)[widen];
          if (wider === undefined || major === 7) return;
          const head = [(major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[wider]!];
          for (let i = wider - 1; i >= 0; i--) head.push(Number((n >> BigInt(8 * i)) & 0xffn));
          // Give the head a body so that only the head is at fault.
          const len = Number(n);
          let body: number[] = [];
          if (major === 2 || major === 3) body = len <= 64 ? new Array(len).fill(0x61) : [];
          if (major === 4) body = len <= 64 ? new Array(len).fill(0x00) : [];
          if (major === 5 || major === 6) body = len <= 16 ? [0x00] : [];
          assertInvalid(
            () => decode(Uint8Array.from([...head, ...body])),
            REJECT_CODES,
            `major ${major}, ${n} in ${wider} bytes`,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("the shortest head is accepted for every integer (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }), (n) => {
        const bytes = Uint8Array.from(refEncode(n));
        assert.deepStrictEqual(decode(bytes), normalize(n));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("size limit and encode-side validation", () => {
  test("oversized input is rejected with CODEC_TOO_LARGE before parsing", () => {
    assertInvalid(
      () => decode(new Uint8Array(DEFAULT_MAX_BYTES + 1)),
      ["CODEC_TOO_LARGE"],
      "default limit + 1",
    );
    assertInvalid(() => decode(encode("hello"), 5), ["CODEC_TOO_LARGE"], "6 bytes, limit 5");
    assert.equal(decode(encode("hello"), 6), "hello");
    // Garbage over the limit is still TOO_LARGE (checked before decoding).
    assertInvalid(() => decode(new Uint8Array(17).fill(0xff), 16), ["CODEC_TOO_LARGE"], "garbage over limit");
    // A large canonical document at the default limit decodes.
    const big = new Uint8Array(DEFAULT_MAX_BYTES - 5);
    const enc = encode(big);
    assert.equal(enc.length, DEFAULT_MAX_BYTES);
    assert.equal((decode(enc) as Uint8Array).length, big.length);
  });

  test("non-byte input is rejected with InvalidInputError", () => {
    for (const x of [null, undefined, "00", [0], new ArrayBuffer(1)])
      assertInvalid(() => decode(x as unknown as Uint8Array), ["CODEC_NOT_BYTES"], String(x));
  });

  test("encode rejects values outside the subset with InvalidInputError", () => {
    const cases: Array<[string, unknown, string]> = [
      ["1.5", 1.5, "CODEC_NOT_INTEGER"],
      ["NaN", Number.NaN, "CODEC_NOT_INTEGER"],
      ["Infinity", Number.POSITIVE_INFINITY, "CODEC_NOT_INTEGER"],
      ["2^53", 2 ** 53, "CODEC_NOT_INTEGER"],
      ["2^64", 2n ** 64n, "CODEC_INT_RANGE"],
      ["-2^64-1", -(2n ** 64n) - 1n, "CODEC_INT_RANGE"],
      ["undefined", undefined, "CODEC_UNSUPPORTED_TYPE"],
      ["[undefined]", [undefined], "CODEC_UNSUPPORTED_TYPE"],
      ["{a: undefined}", { a: undefined }, "CODEC_UNSUPPORTED_TYPE"],
      ["function", () => 1, "CODEC_UNSUPPORTED_TYPE"],
      ["symbol", Symbol("x"), "CODEC_UNSUPPORTED_TYPE"],
      ["{x: 0.5}", { x: 0.5 }, "CODEC_NOT_INTEGER"],
    ];
    for (const [what, v, code] of cases) assertInvalid(() => encode(v as CborValue), [code], what);
    let deep: CborValue = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    assertInvalid(() => encode(deep), ["CODEC_TOO_DEEP"], "65 levels");
  });

  test("decoded byte strings do not alias the input buffer", () => {
    const bytes = encode({ k: Uint8Array.from([1, 2, 3]) });
    const v = decode(bytes) as { k: Uint8Array };
    bytes.fill(0);
    assert.deepEqual([...v.k], [1, 2, 3]);
  });
});

describe("encoder guards: injective text, only plain maps", () => {
  test("encode must not accept strings with lone surrogates: they are silently replaced by U+FFFD, so distinct values share one encoding", () => {
    // Otherwise distinct values would share one encoding: a signature over one would verify for the other.
    assertInvalid(
      () => encode("\uD800"),
      ["CODEC_UNSUPPORTED_TYPE", "CODEC_INVALID_STRING"],
      "lone high surrogate",
    );
  });

  test("encode must never produce bytes that decode rejects (map keys that differ only in lone surrogates collide)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
            fc.nat(),
          ),
          { maxLength: 4 },
        ),
        (kv) => {
          const o: { [k: string]: CborValue } = {};
          for (const [k, x] of kv) o[k] = x;
          let bytes: Uint8Array;
          try {
            bytes = encode(o);
          } catch (err: unknown) {
            assert.ok(err instanceof InvalidInputError);
            return; // rejecting is fine
          }
          // Whatever encode emits must be accepted by decode (here it is not: duplicate key).
          assert.doesNotThrow(() => decode(bytes), `decode(${hex(bytes)})`);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("encode must reject non-plain objects (Map, Set, Date, other typed arrays) with InvalidInputError", () => {
    const cases: Array<[string, unknown]> = [
      ["Map with a float value (emits f93e00)", new Map([["a", 1.5]])],
      ["Map with an undefined value (emits f7)", new Map([["a", undefined]])],
      ["Map with an integer key (emits a10102)", new Map([[1, 2]])],
      ["Date (plain Error from cborg)", new Date(0)],
      ["Set (plain Error from cborg)", new Set([1])],
      ["{d: Date}", { d: new Date(0) }],
    ];
    for (const [what, v] of cases)
      assertInvalid(() => encode(v as CborValue), ["CODEC_UNSUPPORTED_TYPE"], what);
  });
});

test("the property generator covers strings outside ASCII but no lone surrogates", () => {
  const sample = fc.sample(text, 2000);
  assert.ok(sample.some((s) => /[\u0080-\uffff]/.test(s)));
  assert.ok(sample.some((s) => /[\u{10000}-\u{10FFFF}]/u.test(s)));
  assert.ok(!sample.some((s) => LONE_SURROGATE.test(s)));
});

describe("splitArray: an array's items as views, without decoding", () => {
  test("the items of encode(array) are exactly the encodings of its elements (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(cborValue, { maxLength: 30 }), (items) => {
        const parts = splitArray(encode(items));
        assert.equal(parts.length, items.length);
        for (let i = 0; i < parts.length; i++) assert.equal(hex(parts[i]!), hex(encode(items[i]!)));
      }),
      { numRuns: 500 },
    );
  });

  test("encodeArrayOfEncoded and splitArray are inverses", () => {
    fc.assert(
      fc.property(fc.array(cborValue, { maxLength: 300 }), (items) => {
        const encoded = items.map((v) => encode(v));
        const parts = splitArray(encodeArrayOfEncoded(encoded));
        assert.deepStrictEqual(parts.map(hex), encoded.map(hex));
      }),
      { numRuns: 200 },
    );
  });

  test("truncation, trailing bytes, non-arrays, non-minimal heads and indefinite lengths are rejected", () => {
    const good = encode([1, "two", new Uint8Array([3]), [4, { five: 5 }]]);
    for (let cut = 0; cut < good.length; cut++)
      assert.throws(() => splitArray(good.subarray(0, cut)), InvalidInputError);
    assert.throws(() => splitArray(Uint8Array.from([...good, 0])), /bytes after the array/);
    assert.throws(() => splitArray(encode({ a: 1 })), /expected an array/);
    assert.throws(() => splitArray(unhex("980101")), /CODEC_NON_CANONICAL|minimally/);
    assert.throws(() => splitArray(unhex("9f01ff")), /indefinite/);
    assert.throws(() => splitArray(unhex("8201")), /truncated/);
    assert.throws(() => splitArray(encode([1, 2, 3]), 2), /more than 2 items/);
  });

  test("never throws anything but InvalidInputError on random bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          splitArray(bytes);
        } catch (err: unknown) {
          assert.ok(err instanceof InvalidInputError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
