/**
 * The Ed25519 acceptance rule of the protocol (docs/protocol.md, "Signatures"): RFC 8032
 * verification plus libsodium's checks — S below the group order, public key and R canonical and
 * not of small order. Every node must draw the line in the same place, or a crafted signature
 * would split them; node:crypto (OpenSSL) accepts some of these, which is why it is not the
 * verifier. The edge cases are built here from first principles.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, verify as opensslVerify } from "node:crypto";
import { test } from "node:test";
import { getSuite } from "./index.js";

const intl = getSuite("intl");
/** The order of the prime-order subgroup (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const IDENTITY = Uint8Array.of(1, ...new Uint8Array(31)); // y = 1, x = 0

const littleEndian = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
};
const toLittleEndian32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
/** What OpenSSL says, for contrast: it checks S < L and the equation, nothing about small orders. */
const openssl = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]);
  try {
    return opensslVerify(null, message, { key: der, format: "der", type: "spki" }, signature);
  } catch {
    return false;
  }
};

test("a valid signature still verifies; the same one with S + L does not", () => {
  const kp = intl.generateKeyPair();
  const msg = new TextEncoder().encode("营业执照 91110000MA01");
  const sig = intl.sign(kp.privateKey, msg);
  assert.equal(intl.verify(kp.publicKey, msg, sig), true);
  const s = littleEndian(sig.subarray(32));
  const malleated = Uint8Array.of(...sig.subarray(0, 32), ...toLittleEndian32(s + L));
  assert.equal(intl.verify(kp.publicKey, msg, malleated), false);
});

test("R = identity (nonce 0) from the key's own holder: OpenSSL accepts, the protocol refuses", () => {
  const kp = intl.generateKeyPair();
  const msg = new TextEncoder().encode("transfer 1");
  // The clamped secret scalar of RFC 8032 §5.1.5, then S = 0 + k·a with the nonce r = 0.
  const h = sha512(kp.privateKey);
  h[0] = (h[0] as number) & 248;
  h[31] = ((h[31] as number) & 127) | 64;
  const a = littleEndian(h.subarray(0, 32));
  const k = littleEndian(sha512(IDENTITY, kp.publicKey, msg)) % L;
  const sig = Uint8Array.of(...IDENTITY, ...toLittleEndian32((k * a) % L));
  assert.equal(openssl(kp.publicKey, msg, sig), true, "the crafted signature satisfies the equation");
  assert.equal(intl.verify(kp.publicKey, msg, sig), false);
});

test("a small-order public key: (R, S) = (identity, 0) 'signs' every message for OpenSSL, none for the protocol", () => {
  const sig = Uint8Array.of(...IDENTITY, ...new Uint8Array(32));
  for (const text of ["任意消息", "any message"]) {
    const msg = new TextEncoder().encode(text);
    assert.equal(openssl(IDENTITY, msg, sig), true);
    assert.equal(intl.verify(IDENTITY, msg, sig), false);
  }
  // The same point with y written as p + 1 (a non-canonical encoding) is refused as well.
  const p = 2n ** 255n - 19n;
  assert.equal(intl.verify(toLittleEndian32(p + 1n), new Uint8Array(1), sig), false);
});

test("signing is unchanged: node:crypto's deterministic signatures verify under the strict rule", () => {
  for (let i = 0; i < 200; i++) {
    const kp = intl.generateKeyPair();
    const msg = new Uint8Array(i);
    const sig = intl.sign(kp.privateKey, msg);
    assert.equal(intl.verify(kp.publicKey, msg, sig), true);
    assert.equal(openssl(kp.publicKey, msg, sig), true);
  }
});

test("without libsodium, Ed25519 verification stops with a coded error and gm still verifies", () => {
  // A child process in which loading sodium-native fails, as on an unsupported platform.
  const script = `
    import Module from "node:module";
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (request === "sodium-native") throw new Error("no binary for this platform");
      return load.call(this, request, ...rest);
    };
    const { getSuite } = await import(${JSON.stringify(new URL("./index.js", import.meta.url).href)});
    const gm = getSuite("gm");
    const kp = gm.generateKeyPair();
    const msg = new Uint8Array([1, 2, 3]);
    const gmOk = gm.verify(kp.publicKey, msg, gm.sign(kp.privateKey, msg));
    let code = "none";
    try { getSuite("intl").verify(new Uint8Array(32), msg, new Uint8Array(64)); } catch (err) { code = err.code; }
    console.log(JSON.stringify({ gmOk, code }));
  `;
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout.trim()), { gmOk: true, code: "CRYPTO_LIBSODIUM_UNAVAILABLE" });
});
