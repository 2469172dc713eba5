import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { SignatureItem } from "./suite.js";
import { packedSize, packInto, unpackItems } from "./verify-codec.js";

const bytes = fc.uint8Array({ maxLength: 200 });
const item = fc.record({ publicKey: bytes, message: bytes, signature: bytes });

test("a packed chunk unpacks to the same items, with room for its results after them", () => {
  fc.assert(
    fc.property(fc.array(item, { maxLength: 40 }), fc.nat(), fc.nat(), (items, x, y) => {
      const start = items.length === 0 ? 0 : x % items.length;
      const end = start + (items.length === 0 ? 0 : y % (items.length - start + 1));
      const size = packedSize(items, start, end);
      // A reused buffer is larger than needed and holds older bytes.
      const buf = new SharedArrayBuffer(size + 13);
      new Uint8Array(buf).fill(0xa5);
      const resultsAt = packInto(buf, items, start, end);
      assert.equal(resultsAt + (end - start), size);
      const got = unpackItems(buf);
      assert.equal(got.resultsOffset, resultsAt);
      assert.deepEqual(
        got.items.map((i) => [...i.publicKey, -1, ...i.message, -1, ...i.signature]),
        items.slice(start, end).map((i) => [...i.publicKey, -1, ...i.message, -1, ...i.signature]),
      );
    }),
  );
});

test("an item that is not made of byte arrays packs as empty fields (it then fails to verify)", () => {
  const bad = {
    publicKey: "key",
    message: new Uint8Array([1, 2]),
    signature: null,
  } as unknown as SignatureItem;
  const buf = new SharedArrayBuffer(packedSize([bad], 0, 1));
  packInto(buf, [bad], 0, 1);
  const [it] = unpackItems(buf).items;
  assert.deepEqual([it?.publicKey.length, [...(it?.message ?? [])], it?.signature.length], [0, [1, 2], 0]);
});
