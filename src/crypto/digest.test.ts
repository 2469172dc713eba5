import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { digest, digestOfParts } from "./digest.js";

describe("one-shot digests", () => {
  for (const algorithm of ["sha256", "sm3"] as const)
    it(`${algorithm}: equals createHash for any input, in any view, as a fresh array`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(16), (bytes, offset) => {
          // A view at an offset into a larger buffer, as pooled arrays are.
          const backing = new Uint8Array(offset + bytes.length + 8);
          backing.set(bytes, offset);
          const view = backing.subarray(offset, offset + bytes.length);
          const expected = createHash(algorithm).update(bytes).digest();
          const a = digest(algorithm, view);
          const b = digest(algorithm, view);
          assert.deepEqual(Buffer.from(a), expected);
          assert.equal(a.length, 32);
          assert.notEqual(a, b);
          assert.notEqual(a.buffer, b.buffer);
        }),
        { numRuns: 500 },
      );
    });

  it("digestOfParts equals the digest of the concatenation, for inputs past its scratch size", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 900 }), { maxLength: 5 }), (parts) => {
        const whole = Buffer.concat(parts);
        for (const algorithm of ["sha256", "sm3"] as const)
          assert.deepEqual(
            Buffer.from(digestOfParts(algorithm, parts)),
            createHash(algorithm).update(whole).digest(),
          );
      }),
      { numRuns: 300 },
    );
  });

  it("gives the published digests of 'abc' (FIPS 180-4, GB/T 32905-2016 A.1)", () => {
    const abc = new TextEncoder().encode("abc");
    assert.equal(
      Buffer.from(digest("sha256", abc)).toString("hex"),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assert.equal(
      Buffer.from(digest("sm3", abc)).toString("hex"),
      "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    );
  });
});
