import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { hashFunction } from "./hash.js";
import { getSuite } from "./index.js";
import { toHex } from "./lru.js";
import { Sm3, sm3 } from "./sm3.js";

const file = JSON.parse(
  readFileSync(join(process.cwd(), "src/crypto/test-vectors/gbt32905-sm3.json"), "utf8"),
) as {
  vectors: { name: string; messageAscii: string; repeat: number; digest: string }[];
};

for (const v of file.vectors) {
  const msg = new TextEncoder().encode(v.messageAscii.repeat(v.repeat));
  test(`GB/T 32905 ${v.name}: pure SM3`, () => assert.equal(toHex(sm3(msg)), v.digest));
  test(`GB/T 32905 ${v.name}: native SM3 (gm suite)`, () =>
    assert.equal(toHex(getSuite("gm").hash(msg)), v.digest));
  test(`GB/T 32905 ${v.name}: hashFunction("gm")`, () =>
    assert.equal(toHex(hashFunction("gm")(msg)), v.digest));
}

test("pure SM3 equals native SM3 on random lengths and incremental updates", () => {
  for (let len = 0; len < 300; len += 7) {
    const m = new Uint8Array(randomBytes(len));
    const native = toHex(createHash("sm3").update(m).digest());
    assert.equal(toHex(sm3(m)), native, `len ${len}`);
    const h = new Sm3();
    for (let i = 0; i < len; i += 13) h.update(m.subarray(i, i + 13));
    assert.equal(toHex(h.digest()), native, `incremental len ${len}`);
  }
});
