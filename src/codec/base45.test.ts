/**
 * Tests for src/codec/base45.ts: RFC 9285 examples (test-vectors/rfc9285-base45.json), an
 * independent BigInt-free reference decoder, round-trip properties and fuzzed invalid inputs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { InvalidInputError } from "../errors/index.js";
import { BASE45_ALPHABET, decodeBase45, encodeBase45 } from "./base45.js";

interface Vectors {
  valid: { utf8?: string; hex: string; base45: string; source: string }[];
  invalid: { base45: string; code: string; source: string }[];
}
const V = JSON.parse(
  readFileSync(join(process.cwd(), "src/codec/test-vectors/rfc9285-base45.json"), "utf8"),
) as Vectors;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err: unknown) {
    assert.ok(err instanceof InvalidInputError, `threw ${String(err)}`);
    return err.code;
  }
  return "none";
}

/**
 * Reference validity rule written from the RFC's text, independent of the implementation:
 * split into groups of 3 (last may be 2), every character in the alphabet, each group's
 * value in range.
 */
function refDecode(text: string): Uint8Array | null {
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 3) {
    const group = text.slice(i, i + 3);
    if (group.length === 1) return null;
    const digits = [...group].map((c) => BASE45_ALPHABET.indexOf(c));
    if (digits.some((d) => d < 0)) return null;
    const n = digits.reduceRight((acc, d) => acc * 45 + d, 0);
    if (group.length === 3) {
      if (n > 65535) return null;
      out.push(Math.floor(n / 256), n % 256);
    } else {
      if (n > 255) return null;
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

const b45char = fc.constantFrom(...BASE45_ALPHABET);
const anyChar = fc.oneof(
  b45char,
  fc.constantFrom("a", "z", "=", "_", "#", "\n", "\t", "\u0000", "\u00e9", "证", "\u{1F600}", "\uD800"),
);

describe("Base45 (RFC 9285)", () => {
  test("alphabet has 45 distinct characters", () => {
    assert.equal(new Set(BASE45_ALPHABET).size, 45);
  });

  test("RFC and constructed valid vectors", () => {
    for (const v of V.valid) {
      const bytes = v.utf8 !== undefined ? new TextEncoder().encode(v.utf8) : unhex(v.hex);
      assert.equal(hex(bytes), v.hex, `hex of ${v.utf8 ?? v.hex}`);
      assert.equal(encodeBase45(bytes), v.base45, `encode ${v.hex}`);
      assert.equal(hex(decodeBase45(v.base45)), v.hex, `decode ${v.base45}`);
      if (v.utf8 !== undefined) assert.equal(new TextDecoder().decode(decodeBase45(v.base45)), v.utf8);
    }
    assert.ok(V.valid.filter((v) => v.source === "rfc").length >= 4);
  });

  test("RFC and constructed invalid vectors", () => {
    for (const v of V.invalid) {
      assert.equal(
        codeOf(() => decodeBase45(v.base45)),
        v.code,
        JSON.stringify(v.base45),
      );
      assert.equal(refDecode(v.base45), null);
    }
    assert.ok(V.invalid.some((v) => v.base45 === "GGW"));
  });

  test("round trip bytes → text → bytes; length 3⌊n/2⌋ + 2(n mod 2)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase45(bytes);
        assert.equal(text.length, 3 * Math.floor(bytes.length / 2) + 2 * (bytes.length % 2));
        for (const c of text) assert.ok(BASE45_ALPHABET.includes(c));
        assert.equal(hex(decodeBase45(text)), hex(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  test("every accepted text is canonical: text → bytes → same text", () => {
    fc.assert(
      fc.property(fc.string({ unit: b45char, maxLength: 60 }), (text) => {
        const ref = refDecode(text);
        let got: Uint8Array | null;
        try {
          got = decodeBase45(text);
        } catch (err: unknown) {
          assert.ok(err instanceof InvalidInputError);
          got = null;
        }
        assert.equal(got === null, ref === null, "accepts exactly what the reference accepts");
        if (got !== null && ref !== null) {
          assert.equal(hex(got), hex(ref));
          assert.equal(encodeBase45(got), text);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("fuzzed inputs: decoded or refused with a Base45 code, never anything else", () => {
    const codes = new Set(["BASE45_INVALID_CHAR", "BASE45_INVALID_LENGTH", "BASE45_VALUE_OUT_OF_RANGE"]);
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 40 }), (text) => {
        const ref = refDecode(text);
        const code = codeOf(() => decodeBase45(text));
        if (ref === null) assert.ok(codes.has(code), `code ${code}`);
        else assert.equal(code, "none");
      }),
      { numRuns: 2000 },
    );
  });

  test("single invalid character anywhere is refused with its position", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom("a", "=", "\n", "é", "证", "~"),
        (bytes, pos, bad) => {
          const text = encodeBase45(bytes);
          const i = pos % text.length;
          const mutated = text.slice(0, i) + bad + text.slice(i + 1);
          try {
            decodeBase45(mutated);
            assert.fail("accepted");
          } catch (err: unknown) {
            assert.ok(err instanceof InvalidInputError);
            // The mutation keeps the length and every earlier group is still valid, so the
            // first failure is the character itself.
            assert.equal(err.code, "BASE45_INVALID_CHAR");
            assert.equal(err.meta.position, i);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("invalid lengths (1 mod 3) are refused before the characters are read", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, minLength: 1, maxLength: 40 }), (text) => {
        if (text.length % 3 !== 1) return;
        assert.equal(
          codeOf(() => decodeBase45(text)),
          "BASE45_INVALID_LENGTH",
        );
      }),
      { numRuns: 500 },
    );
  });

  test("non-string / non-bytes arguments", () => {
    assert.equal(
      codeOf(() => decodeBase45(null as unknown as string)),
      "BASE45_NOT_STRING",
    );
    assert.equal(
      codeOf(() => encodeBase45([1, 2] as unknown as Uint8Array)),
      "BASE45_NOT_BYTES",
    );
  });
});
