import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gmSm2 } from "./gm.js";
import { getSuite } from "./index.js";
import { fromHex, toHex } from "./lru.js";
import { sm2 as pureSm2, Sm2 } from "./sm2.js";

const v = JSON.parse(
  readFileSync(join(process.cwd(), "src/crypto/test-vectors/gbt32918-sm2.json"), "utf8"),
) as Record<string, string>;
const d = fromHex(v.privateKey as string);
const pubU = fromHex(`04${v.publicKeyX}${v.publicKeyY}`);
const msg = new TextEncoder().encode(v.messageAscii);
const id = new TextEncoder().encode(v.userIdAscii);
const gm = getSuite("gm");

for (const [name, engine] of [
  ["native SM3", gmSm2],
  ["pure SM3", pureSm2],
] as const) {
  test(`GB/T 32918 example (${name}): public key, Z_A, e`, () => {
    assert.equal(toHex(engine.publicKeyFromPrivate(d, false)), toHex(pubU));
    assert.equal(toHex(engine.computeZA(pubU, id)), v.ZA);
    assert.equal(toHex(engine.computeZA(pubU)), v.ZA); // default ID is the same
    assert.equal(toHex(engine.computeE(pubU, msg)), v.e);
  });
  test(`GB/T 32918 example (${name}): fixed k reproduces r, s; verify`, () => {
    const sig = engine.sign(d, msg, { k: BigInt(`0x${v.k}`), id });
    assert.equal(toHex(sig), `${v.r}${v.s}`);
    assert.equal(engine.verify(pubU, msg, sig), true);
    assert.equal(engine.verify(engine.publicKeyFromPrivate(d, true), msg, sig), true);
    assert.equal(engine.verify(pubU, msg, sig, new TextEncoder().encode("ALICE123@YAHOO.COM")), false);
  });
}

test("gm suite verifies the published signature (33-byte compressed key)", () => {
  const pub = gm.publicKeyFromPrivate(d);
  assert.equal(pub.length, 33);
  assert.equal(gm.verify(pub, msg, fromHex(`${v.r}${v.s}`)), true);
});

test("random k: sign/verify, and malformed inputs return false without throwing", () => {
  const kp = gm.generateKeyPair();
  const m = new TextEncoder().encode("政务服务");
  const sig = gm.sign(kp.privateKey, m);
  assert.equal(sig.length, 64);
  assert.equal(gm.verify(kp.publicKey, m, sig), true);
  assert.notDeepEqual(gm.sign(kp.privateKey, m), sig); // fresh k
  const n = fromHex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123");
  const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
    [kp.publicKey, m, sig.subarray(1)],
    [kp.publicKey, m, new Uint8Array(64)],
    [kp.publicKey, m, Uint8Array.from([...n, ...sig.subarray(32)])],
    [kp.publicKey, m, Uint8Array.from([...sig.subarray(0, 32), ...n])],
    [kp.publicKey.subarray(1), m, sig],
    [new Uint8Array(33), m, sig],
    [Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff)), m, sig],
    [Uint8Array.of(0x04, ...new Uint8Array(64).fill(1)), m, sig],
    [kp.publicKey, Uint8Array.of(...m, 1), sig],
    [undefined as unknown as Uint8Array, m, sig],
    [kp.publicKey, m, "zz" as unknown as Uint8Array],
  ];
  for (const [p, mm, s] of cases) assert.equal(gm.verify(p, mm, s), false);
  assert.throws(() => gm.sign(new Uint8Array(32), m), { code: "CRYPTO_BAD_KEY" });
  assert.throws(() => gm.sign(n, m), { code: "CRYPTO_BAD_KEY" });
});

test("hot-key precompute tables give the same answers", () => {
  const eng = new Sm2({ hotThreshold: 2, hotWindow: 4, maxPrecomputed: 2, cacheSize: 3 });
  const keys = [0, 1, 2, 3].map(() => eng.randomPrivateKey());
  for (let round = 0; round < 4; round++) {
    for (const k of keys) {
      const m = new TextEncoder().encode(`r${round}`);
      const p = eng.publicKeyFromPrivate(k);
      const s = eng.sign(k, m);
      assert.equal(eng.verify(p, m, s), true);
      assert.equal(eng.verify(p, new TextEncoder().encode("x"), s), false);
    }
  }
});
