import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { getSuite } from "./index.js";
import { fromHex, toHex } from "./lru.js";
import { sm4DecryptCbc, sm4DecryptEcb, sm4EncryptCbc, sm4EncryptEcb } from "./sm4.js";

const v = JSON.parse(
  readFileSync(join(process.cwd(), "src/crypto/test-vectors/gbt32907-sm4.json"), "utf8"),
) as {
  key: string;
  plaintext: string;
  ciphertext: string;
  iterations: number;
  ciphertextAfterIterations: string;
};
const gm = getSuite("gm");

test("GB/T 32907 example 1: one block", () => {
  const ct = sm4EncryptEcb(fromHex(v.key), fromHex(v.plaintext));
  assert.equal(toHex(ct), v.ciphertext);
  assert.equal(toHex(sm4DecryptEcb(fromHex(v.key), ct)), v.plaintext);
});

test("GB/T 32907 example 2: 1,000,000 iterated encryptions", () => {
  const c = createCipheriv("sm4-ecb", fromHex(v.key), null);
  c.setAutoPadding(false);
  let block: Uint8Array = fromHex(v.plaintext);
  for (let i = 0; i < v.iterations; i++) block = c.update(block);
  assert.equal(toHex(block), v.ciphertextAfterIterations);
});

test("SM4-CBC round trip", () => {
  const key = fromHex(v.key);
  const iv = new Uint8Array(16).fill(1);
  const pt = new TextEncoder().encode("SM4-CBC with PKCS#7 padding, 政务");
  assert.deepEqual(sm4DecryptCbc(key, iv, sm4EncryptCbc(key, iv, pt)), pt);
});

test("gm seal/open: round trip, layout, tamper rejection", () => {
  const key = fromHex(v.key);
  for (const len of [0, 1, 15, 16, 17, 1000]) {
    const pt = new Uint8Array(len).map((_, i) => i * 7);
    const ad = new TextEncoder().encode("header");
    const sealed = gm.seal(key, pt, ad);
    assert.equal(sealed.length, 16 + len + 32);
    assert.deepEqual(gm.open(key, sealed, ad), pt);
    for (const pos of [0, 15, 16 + Math.floor(len / 2), sealed.length - 1]) {
      if (pos >= sealed.length) continue;
      const t = sealed.slice();
      t[pos] = (t[pos] as number) ^ 0x80;
      assert.throws(() => gm.open(key, t, ad), { code: "CRYPTO_DECRYPT_FAILED" }, `flip at ${pos}`);
    }
    assert.throws(() => gm.open(key, sealed, new Uint8Array(0)), { code: "CRYPTO_DECRYPT_FAILED" });
    const other = key.slice();
    other[0] = (other[0] as number) ^ 1;
    assert.throws(() => gm.open(other, sealed, ad), { code: "CRYPTO_DECRYPT_FAILED" });
    assert.throws(() => gm.open(key, sealed.subarray(0, sealed.length - 1), ad), {
      code: "CRYPTO_DECRYPT_FAILED",
    });
  }
  assert.throws(() => gm.open(key, new Uint8Array(47)), { code: "CRYPTO_DECRYPT_FAILED" });
  assert.throws(() => gm.seal(new Uint8Array(32), new Uint8Array(1)), { code: "CRYPTO_BAD_KEY" });
  // Fresh IV each time.
  assert.notDeepEqual(gm.seal(key, new Uint8Array(4)), gm.seal(key, new Uint8Array(4)));
});
