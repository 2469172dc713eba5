import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { digest } from "../crypto/digest.js";
import { KeyFilter } from "./key-filter.js";

describe("KeyFilter", () => {
  it("finds every key added, whatever the keys (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 96 }), { maxLength: 300 }), (keys) => {
        const f = new KeyFilter();
        for (const k of keys) f.add(k);
        for (const k of keys) assert.equal(f.mightContain(k), true);
        // A key added twice, or one the filter already answered "maybe" for, is not counted.
        assert.ok(f.size <= new Set(keys.map((k) => Buffer.from(k).toString("hex"))).size);
      }),
      { numRuns: 200 },
    );
  });

  it("grows past its first stage without losing a key, and answers most absent keys", () => {
    const f = new KeyFilter();
    // State keys as the attestation module makes them: a prefix, then a hex digest.
    const key = (i: number) => new TextEncoder().encode(`attest/${i.toString(16).padStart(64, "0")}`);
    const n = 300_000; // the first stage holds 65,536: this reaches the third stage
    for (let i = 0; i < n; i++) f.add(key(i));
    for (let i = 0; i < n; i++) if (!f.mightContain(key(i))) assert.fail(`key ${i} lost`);
    let falsePositives = 0;
    const probes = 100_000;
    for (let i = n; i < n + probes; i++) if (f.mightContain(key(i))) falsePositives++;
    // Stage rates 0.8 %, 0.3 %, 0.1 % (10, 12, 14 bits per key): their sum bounds the whole.
    assert.ok(falsePositives / probes < 0.015, `false-positive rate ${falsePositives / probes}`);
    // Three stages sized exactly: 65,536 × 10 + 131,072 × 12 + 262,144 × 14 bits.
    assert.equal(f.bytes, (65_536 * 10 + 131_072 * 12 + 262_144 * 14) / 8);
  });

  it("takes no more room for a key written again and again", () => {
    const f = new KeyFilter();
    const nonce = new TextEncoder().encode("nonce/0123456789abcdef0123456789abcdef01234567");
    const bytes = f.bytes;
    for (let i = 0; i < 200_000; i++) f.add(nonce);
    assert.equal(f.size, 1);
    assert.equal(f.bytes, bytes);
  });

  it("answers random keys as absent at the designed rate in its first stage", () => {
    // Keys with random-looking bytes, the same in every run: digests of their index.
    const key = (i: number) =>
      digest("sha256", Uint8Array.of(i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255));
    const f = new KeyFilter();
    for (let i = 0; i < 60_000; i++) f.add(key(i));
    let falsePositives = 0;
    for (let i = 60_000; i < 110_000; i++) if (f.mightContain(key(i))) falsePositives++;
    // 10 bits per key and 7 probes: about 0.8 % at capacity (65,536), a little less here.
    assert.ok(falsePositives / 50_000 < 0.012, `false-positive rate ${falsePositives / 50_000}`);
  });
});
