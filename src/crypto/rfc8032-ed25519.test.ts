import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { hashFunction } from "./hash.js";
import { getSuite } from "./index.js";
import { fromHex, toHex } from "./lru.js";

interface Vec {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}
const file = JSON.parse(
  readFileSync(join(process.cwd(), "src/crypto/test-vectors/rfc8032-ed25519.json"), "utf8"),
) as {
  ed25519: Vec[];
  sha256_abc: { message: string; digest: string };
};
const intl = getSuite("intl");

for (const v of file.ed25519) {
  test(`RFC 8032 §7.1 ${v.name}`, () => {
    const sk = fromHex(v.secretKey);
    const msg = fromHex(v.message);
    assert.equal(toHex(intl.publicKeyFromPrivate(sk)), v.publicKey);
    assert.equal(toHex(intl.sign(sk, msg)), v.signature);
    assert.equal(intl.verify(fromHex(v.publicKey), msg, fromHex(v.signature)), true);
    const bad = fromHex(v.signature);
    bad[0] = (bad[0] as number) ^ 1;
    assert.equal(intl.verify(fromHex(v.publicKey), msg, bad), false);
    assert.equal(intl.verify(fromHex(v.publicKey), Uint8Array.of(...msg, 0), fromHex(v.signature)), false);
  });
}

test("SHA-256(abc): native suite hash and browser-safe hashFunction", () => {
  const m = fromHex(file.sha256_abc.message);
  assert.equal(toHex(intl.hash(m)), file.sha256_abc.digest);
  assert.equal(toHex(hashFunction("intl")(m)), file.sha256_abc.digest);
});

test("Ed25519 verify never throws on malformed input", () => {
  const kp = intl.generateKeyPair();
  const msg = new Uint8Array([1, 2, 3]);
  const sig = intl.sign(kp.privateKey, msg);
  assert.equal(intl.verify(kp.publicKey, msg, sig), true);
  assert.equal(intl.verify(kp.publicKey.subarray(1), msg, sig), false);
  assert.equal(intl.verify(kp.publicKey, msg, sig.subarray(1)), false);
  assert.equal(intl.verify(new Uint8Array(32).fill(0xff), msg, sig), false);
  assert.equal(intl.verify(undefined as unknown as Uint8Array, msg, sig), false);
});

test("AES-256-GCM seal/open round trip and tamper rejection", () => {
  const key = new Uint8Array(32).fill(7);
  const pt = new TextEncoder().encode("hello 政链");
  const ad = new Uint8Array([9, 9]);
  const sealed = intl.seal(key, pt, ad);
  assert.equal(sealed.length, 12 + pt.length + 16);
  assert.deepEqual(intl.open(key, sealed, ad), pt);
  const t = sealed.slice();
  t[13] = (t[13] as number) ^ 1;
  assert.throws(() => intl.open(key, t, ad), { code: "CRYPTO_DECRYPT_FAILED" });
  assert.throws(() => intl.open(key, sealed), { code: "CRYPTO_DECRYPT_FAILED" });
  assert.throws(() => intl.open(key, sealed.subarray(0, 10), ad), { code: "CRYPTO_DECRYPT_FAILED" });
  assert.throws(() => intl.seal(new Uint8Array(16), pt), { code: "CRYPTO_BAD_KEY" });
});

test("getSuite rejects unknown ids", () => {
  assert.throws(() => getSuite("rsa" as never), { code: "CRYPTO_UNKNOWN_SUITE" });
  assert.throws(() => hashFunction("rsa" as never), { code: "CRYPTO_UNKNOWN_SUITE" });
});
