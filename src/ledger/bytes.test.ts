/** The byte helpers agree with the platform's codecs on every input (property tests). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fromHex, fromUtf8, toHex, utf8 } from "./bytes.js";

describe("byte helpers", () => {
  it("utf8 equals TextEncoder for any string, ASCII or not, short or long", () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ minLength: 60, maxLength: 80 })),
        (s) => {
          const b = utf8(s);
          assert.ok(b instanceof Uint8Array);
          assert.deepEqual([...b], [...enc.encode(s)]);
        },
      ),
    );
  });

  it("utf8 round-trips through fromUtf8 for well-formed text", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => assert.equal(fromUtf8(utf8(s)), s)));
  });

  it("hex round-trips", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => assert.deepEqual(fromHex(toHex(b)), b)));
  });
});
