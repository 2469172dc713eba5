/**
 * Tests for src/modules/licenses/commitments.ts: the exact preimage layout, binding and hiding
 * properties with fast-check, under both suites' hashes (SHA-256 for intl, SM3 for gm).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { type CborValue, encode, equalBytes } from "../../codec/cbor.js";
import { hashFunction } from "../../crypto/hash.js";
import { InvalidInputError } from "../../errors/index.js";
import {
  commitField,
  FIELD_COMMITMENT_TAG,
  HOLDER_PSEUDONYM_TAG,
  holderPseudonym,
  MIN_SALT_BYTES,
  verifyDisclosure,
} from "./commitments.js";

const SUITES = [
  { name: "intl (SHA-256)", hash: hashFunction("intl") },
  { name: "gm (SM3)", hash: hashFunction("gm") },
] as const;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Field values as they occur in license metadata (text, dates as text, codes, numbers, bytes). */
const leaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => s.isWellFormed()),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 32 }),
);
const value: fc.Arbitrary<CborValue> = fc.oneof(
  leaf,
  fc.array(leaf, { maxLength: 4 }),
  fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s.isWellFormed()),
    leaf,
    {
      maxKeys: 4,
      // The codec encodes plain objects only (its prototype check refuses null-prototype maps).
      noNullPrototype: true,
    },
  ),
);
const name = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.isWellFormed());
const salt = fc.uint8Array({ minLength: MIN_SALT_BYTES, maxLength: 32 });

/** A different salt of the same or another length. */
function tweakSalt(s: Uint8Array, i: number, mode: number): Uint8Array {
  if (mode === 0) {
    const t = s.slice();
    t[i % t.length] = ((t[i % t.length] as number) ^ (1 + (i % 255))) & 0xff;
    return t;
  }
  if (mode === 1) return Uint8Array.from([...s, i & 0xff]);
  return s.length > MIN_SALT_BYTES ? s.slice(0, -1) : Uint8Array.from([...s, 0]);
}

function sameValue(a: CborValue, b: CborValue): boolean {
  return equalBytes(encode(a), encode(b));
}

for (const { name: suite, hash } of SUITES) {
  describe(`field commitments, ${suite}`, () => {
    test("commitment is hash(cbor([tag, name, salt, value]))", () => {
      const s = new Uint8Array(16).fill(7);
      const c = commitField(hash, "ZZBH", "粤0001234", s);
      assert.equal(hex(c), hex(hash(encode([FIELD_COMMITMENT_TAG, "ZZBH", s, "粤0001234"]))));
      assert.equal(c.length, 32);
      assert.ok(verifyDisclosure(hash, c, "ZZBH", "粤0001234", s));
      const p = holderPseudonym(hash, s, "did:zl:holder:1");
      assert.equal(hex(p), hex(hash(encode([HOLDER_PSEUDONYM_TAG, s, "did:zl:holder:1"]))));
    });

    test("a disclosure opens its own commitment", () => {
      fc.assert(
        fc.property(name, value, salt, (n, v, s) =>
          verifyDisclosure(hash, commitField(hash, n, v, s), n, v, s),
        ),
        { numRuns: 200 },
      );
    });

    test("changing the name, the value or the salt changes the commitment", () => {
      fc.assert(
        fc.property(name, name, value, value, salt, fc.nat(), fc.nat(2), (n1, n2, v1, v2, s, i, mode) => {
          const c = commitField(hash, n1, v1, s);
          if (n1 !== n2) assert.ok(!equalBytes(c, commitField(hash, n2, v1, s)), "name");
          if (!sameValue(v1, v2)) assert.ok(!equalBytes(c, commitField(hash, n1, v2, s)), "value");
          const s2 = tweakSalt(s, i, mode);
          assert.ok(!equalBytes(c, commitField(hash, n1, v1, s2)), "salt");
        }),
        { numRuns: 200 },
      );
    });

    test("a wrong salt, name or value does not verify", () => {
      fc.assert(
        fc.property(name, value, value, salt, fc.nat(), fc.nat(2), (n, v, v2, s, i, mode) => {
          const c = commitField(hash, n, v, s);
          assert.equal(verifyDisclosure(hash, c, n, v, tweakSalt(s, i, mode)), false, "salt");
          assert.equal(verifyDisclosure(hash, c, `${n}x`, v, s), false, "name");
          if (!sameValue(v, v2)) assert.equal(verifyDisclosure(hash, c, n, v2, s), false, "value");
          const flipped = c.slice();
          flipped[i % flipped.length] = ((flipped[i % flipped.length] as number) ^ 1) & 0xff;
          assert.equal(verifyDisclosure(hash, flipped, n, v, s), false, "commitment");
          assert.equal(verifyDisclosure(hash, c.slice(0, -1), n, v, s), false, "short commitment");
        }),
        { numRuns: 200 },
      );
    });

    test("integer 1 and text '1' and bytes [1] commit differently (typed values)", () => {
      const s = new Uint8Array(20).fill(1);
      const cs = [1, "1", Uint8Array.of(1), [1], true].map((v) => hex(commitField(hash, "f", v, s)));
      assert.equal(new Set(cs).size, cs.length);
    });

    test("holder pseudonyms depend on salt and DID", () => {
      fc.assert(
        fc.property(salt, name, name, fc.nat(), fc.nat(2), (s, d1, d2, i, mode) => {
          const p = holderPseudonym(hash, s, d1);
          assert.ok(!equalBytes(p, holderPseudonym(hash, tweakSalt(s, i, mode), d1)));
          if (d1 !== d2) assert.ok(!equalBytes(p, holderPseudonym(hash, s, d2)));
          // Domain separation: never equal to a field commitment over the same pieces.
          assert.ok(!equalBytes(p, commitField(hash, d1, null, s)));
        }),
        { numRuns: 100 },
      );
    });

    test("bad inputs: coded errors when committing, false when verifying", () => {
      const short = new Uint8Array(MIN_SALT_BYTES - 1);
      const ok = new Uint8Array(MIN_SALT_BYTES);
      const code = (f: () => unknown): string => {
        try {
          f();
        } catch (err: unknown) {
          assert.ok(err instanceof InvalidInputError);
          return err.code;
        }
        return "none";
      };
      assert.equal(
        code(() => commitField(hash, "f", 1, short)),
        "COMMIT_SALT_TOO_SHORT",
      );
      assert.equal(
        code(() => commitField(hash, "f", 1, [1, 2] as unknown as Uint8Array)),
        "COMMIT_BAD_SALT",
      );
      assert.equal(
        code(() => commitField(hash, "", 1, ok)),
        "COMMIT_BAD_NAME",
      );
      assert.equal(
        code(() => commitField(hash, "f", 1.5, ok)),
        "CODEC_NOT_INTEGER",
      );
      assert.equal(
        code(() => holderPseudonym(hash, short, "did:zl:x")),
        "COMMIT_SALT_TOO_SHORT",
      );
      assert.equal(
        code(() => holderPseudonym(hash, ok, "")),
        "COMMIT_BAD_DID",
      );
      const c = commitField(hash, "f", 1, ok);
      assert.equal(verifyDisclosure(hash, c, "f", 1, short), false);
      assert.equal(verifyDisclosure(hash, c, "f", 1.5, ok), false);
      assert.equal(verifyDisclosure(hash, "00" as unknown as Uint8Array, "f", 1, ok), false);
    });
  });
}

test("the two suites give different commitments; intl matches node's SHA-256", () => {
  const s = new Uint8Array(16).fill(9);
  const intl = commitField(hashFunction("intl"), "CZZTDM", "11010519491231002X", s);
  const gm = commitField(hashFunction("gm"), "CZZTDM", "11010519491231002X", s);
  assert.ok(!equalBytes(intl, gm));
  const preimage = encode([FIELD_COMMITMENT_TAG, "CZZTDM", s, "11010519491231002X"]);
  assert.equal(hex(intl), createHash("sha256").update(preimage).digest("hex"));
});
