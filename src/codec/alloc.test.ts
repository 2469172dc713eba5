import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { allocBytes, allocOffHeap, copyRange, offHeap } from "./alloc.js";

describe("pooled byte arrays", () => {
  it("hands out zero-filled arrays of the size asked, which never overlap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6000 }), { maxLength: 60 }),
        fc.boolean(),
        (sizes, off) => {
          const arrays = sizes.map((n) => (off ? allocOffHeap(n) : allocBytes(n)));
          arrays.forEach((a, i) => {
            assert.equal(a.length, sizes[i]);
            assert.ok(a.every((b) => b === 0));
            a.fill(i + 1);
          });
          arrays.forEach((a, i) => {
            assert.ok(
              a.every((b) => b === i + 1),
              `array ${i} was overwritten`,
            );
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps arrays for native code off V8's heap: in a pool, or longer than the heap keeps", () => {
    for (const n of [1, 20, 33, 64]) {
      assert.ok(allocOffHeap(n).buffer.byteLength > n, `allocOffHeap(${n}) is not a pool view`);
      const small = new Uint8Array(n).fill(7);
      const moved = offHeap(small);
      assert.notEqual(moved, small);
      assert.deepEqual(moved, small);
      assert.ok(moved.buffer.byteLength > n);
    }
    const large = new Uint8Array(65);
    assert.equal(offHeap(large), large);
  });

  it("copyRange copies any range of any array, short or long", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (src, a, b) => {
        const start = src.length === 0 ? 0 : a % (src.length + 1);
        const end = start + (src.length === 0 ? 0 : b % (src.length - start + 1));
        const c = copyRange(src, start, end);
        assert.deepEqual([...c], [...src.subarray(start, end)]);
        if (c.length > 0) {
          c[0] = (c[0]! + 1) & 0xff;
          assert.notEqual(c[0], src[start]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
