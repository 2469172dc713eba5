/** The byte helpers agree with the platform's codecs on every input (property tests). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fromCharCodes, fromHex, fromUtf8, latin1String, toHex, utf8 } from "./bytes.js";

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

  it("toHex and latin1String agree with Buffer for any length and any view", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(9), (b, offset) => {
        const backing = new Uint8Array(offset + b.length);
        backing.set(b, offset);
        const view = backing.subarray(offset);
        assert.equal(toHex(view), Buffer.from(b).toString("hex"));
        assert.equal(latin1String(view), Buffer.from(b).toString("latin1"));
      }),
      { numRuns: 1000 },
    );
  });

  it("without Buffer (as in a browser), toHex and latin1String give the same strings", () => {
    const inputs = Array.from({ length: 80 }, (_, n) =>
      Array.from({ length: n }, (_, i) => (i * 37 + n) % 256),
    );
    const script = `
      delete globalThis.Buffer;
      const { toHex, latin1String } = await import(${JSON.stringify(new URL("./bytes.js", import.meta.url).href)});
      const inputs = ${JSON.stringify(inputs)};
      console.log(JSON.stringify(inputs.map((a) => [toHex(Uint8Array.from(a)), latin1String(Uint8Array.from(a))])));
    `;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as Array<[string, string]>;
    inputs.forEach((a, i) => {
      assert.equal(got[i]![0], Buffer.from(a).toString("hex"));
      assert.equal(got[i]![1], Buffer.from(a).toString("latin1"));
    });
  });

  it("fromCharCodes takes more codes than one call can (the browser path of long arrays)", () => {
    for (const n of [0, 1, 8191, 8192, 8193, 20_000]) {
      const codes = Array.from({ length: n }, (_, i) => (i * 7) % 256);
      const s = fromCharCodes(codes);
      assert.equal(s.length, n);
      assert.equal(s, Buffer.from(codes).toString("latin1"));
    }
  });

  it("hex round-trips", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => assert.deepEqual(fromHex(toHex(b)), b)));
  });
});
