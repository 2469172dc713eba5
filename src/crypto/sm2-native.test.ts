/**
 * The native SM2 verifier (zl_sm2 addon) against the pure-JS one and the GB/T 32918.5 vector.
 * Without the addon these tests skip, unless ZL_REQUIRE_NATIVE=1, where they fail.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { gmSm2, nativeSm3 } from "./gm.js";
import { fromHex, toHex } from "./lru.js";
import { encodePublicKey, SM2_CURVE, Sm2, Sm2Point } from "./sm2.js";
import { loadNativeSm2Addon, type NativeSm2Addon, NativeSm2Verifier } from "./sm2-native.js";

const { addon, reason } = loadNativeSm2Addon();
const required = process.env.ZL_REQUIRE_NATIVE === "1";
const skip = addon === undefined && !required ? `skipped: ${reason}` : false;

function need(): NativeSm2Addon {
  if (addon === undefined) assert.fail(`ZL_REQUIRE_NATIVE=1 but ${reason}`);
  return addon;
}

const N = SM2_CURVE.n;
const P = SM2_CURVE.p;
const be32 = (x: bigint): Uint8Array => fromHex(x.toString(16).padStart(64, "0"));
const big = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt(`0x${toHex(b)}`));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const c = b.slice();
  c[bit >>> 3] = (c[bit >>> 3] as number) ^ (1 << (bit & 7));
  return c;
};
const randInt = (k: number): number => randomBytes(4).readUInt32BE() % k;

/** Independent reference for the equation with e given (noble points, no caches). */
function refVerifyE(pub: Uint8Array, e: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (sig.length !== 64 || e.length !== 32) return false;
    if (!((pub.length === 33 && (pub[0] === 2 || pub[0] === 3)) || (pub.length === 65 && pub[0] === 4)))
      return false;
    const Q = Sm2Point.fromBytes(pub);
    Q.assertValidity();
    const r = big(sig.subarray(0, 32));
    const s = big(sig.subarray(32));
    if (r < 1n || r >= N || s < 1n || s >= N) return false;
    const t = (r + s) % N;
    if (t === 0n) return false;
    const R = Sm2Point.BASE.multiply(s).add(Q.multiply(t));
    if (R.is0()) return false;
    return (big(e) + R.toAffine().x) % N === r;
  } catch {
    return false;
  }
}

interface SmCrypto {
  sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(msg: number[], priv: string, opts?: { hash?: boolean; der?: boolean }): string;
  };
}
const { sm2: smc } = createRequire(import.meta.url)("sm-crypto") as SmCrypto;

const vec = JSON.parse(
  readFileSync(join(process.cwd(), "src/crypto/test-vectors/gbt32918-sm2.json"), "utf8"),
) as Record<string, string>;

test("the addon is present when ZL_REQUIRE_NATIVE=1", {
  skip: required ? false : "ZL_REQUIRE_NATIVE is not set",
}, () => {
  need();
});

test("GB/T 32918.5 Annex A vector verifies natively (e given, and via Z_A from the message)", {
  skip,
}, () => {
  const a = need();
  const pubU = fromHex(`04${vec.publicKeyX}${vec.publicKeyY}`);
  const pubC = encodePublicKey(pubU, true);
  const e = fromHex(vec.e as string);
  const sig = fromHex(`${vec.r}${vec.s}`);
  for (const pub of [pubU, pubC]) {
    assert.equal(a.verify(pub, e, sig), true);
    assert.equal(a.verify(pub, flipBit(e, 7), sig), false);
    assert.equal(toHex(a.decodePublicKey(pub) as Uint8Array), toHex(pubU));
    const h = a.keyHandle(pub, true);
    assert.notEqual(h, null);
    assert.equal(a.verify(h as never, e, sig), true);
  }
  const v = new NativeSm2Verifier(a);
  const msg = enc(vec.messageAscii as string);
  assert.equal(v.verify(pubU, msg, sig), true);
  assert.equal(v.verify(pubC, msg, sig, enc(vec.userIdAscii as string)), true);
  assert.equal(v.verify(pubC, msg, sig, enc("ALICE123@YAHOO.COM")), false);
  assert.equal(v.verify(pubC, enc("message digesT"), sig), false);
});

test("native and pure-JS verify agree on thousands of valid and mutated signatures", { skip }, () => {
  const a = need();
  const pure = new Sm2({ hash: nativeSm3, hotThreshold: 0 });
  // hotThreshold 2 and few tables: exercises handles with tables, handles evicted, and plain keys.
  const nat = new NativeSm2Verifier(a, { cacheSize: 64, hotThreshold: 2, maxTables: 8 });
  let cases = 0;
  let valid = 0;
  const check = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, label: string) => {
    const want = pure.verify(pub, msg, sig);
    assert.equal(nat.verify(pub, msg, sig), want, `${label}: NativeSm2Verifier vs pure`);
    // The raw equation with e computed the pure way (when the key parses).
    let e: Uint8Array | undefined;
    try {
      e = pure.computeE(pub, msg);
    } catch {
      e = undefined;
    }
    if (e !== undefined) assert.equal(a.verify(pub, e, sig), want, `${label}: addon.verify vs pure`);
    cases++;
    if (want) valid++;
  };
  const signers: { pub: Uint8Array; sign: (m: Uint8Array) => Uint8Array }[] = [];
  for (let i = 0; i < 24; i++) {
    const d = gmSm2.randomPrivateKey();
    const pub = gmSm2.publicKeyFromPrivate(d, i % 2 === 0);
    signers.push({ pub, sign: (m) => gmSm2.sign(d, m) });
  }
  for (let i = 0; i < 8; i++) {
    const kp = smc.generateKeyPairHex();
    const pub = fromHex(kp.publicKey);
    signers.push({
      pub: i % 2 === 0 ? pub : encodePublicKey(pub, true),
      sign: (m) =>
        fromHex(smc.doSignature(Array.from(m), kp.privateKey, { hash: true, der: false }).padStart(128, "0")),
    });
  }
  for (let round = 0; round < 10; round++) {
    for (const [j, signer] of signers.entries()) {
      const msg = new Uint8Array(randomBytes(randInt(100)));
      const sig = signer.sign(msg);
      const label = `round ${round} signer ${j}`;
      check(signer.pub, msg, sig, `${label} valid`);
      check(signer.pub, msg, flipBit(sig, randInt(256)), `${label} r bit`);
      check(signer.pub, msg, flipBit(sig, 256 + randInt(256)), `${label} s bit`);
      check(signer.pub, Uint8Array.of(...msg, 0), sig, `${label} message`);
      check(flipBit(signer.pub, 8 + randInt(signer.pub.length * 8 - 8)), msg, sig, `${label} key bit`);
      const other = signers[(j + 1) % signers.length] as (typeof signers)[number];
      check(other.pub, msg, sig, `${label} other key`);
    }
  }
  // e-level mutations against the independent reference.
  for (let i = 0; i < 200; i++) {
    const s = signers[i % signers.length] as (typeof signers)[number];
    const msg = enc(`e ${i}`);
    const sig = s.sign(msg);
    const e = pure.computeE(s.pub, msg);
    assert.equal(a.verify(s.pub, e, sig), true);
    const e2 = flipBit(e, randInt(256));
    assert.equal(a.verify(s.pub, e2, sig), refVerifyE(s.pub, e2, sig), `e flip ${i}`);
    assert.equal(a.verify(s.pub, e2, sig), false);
    cases += 2;
  }
  assert.ok(cases >= 2000, `only ${cases} cases`);
  assert.ok(valid >= 320, `only ${valid} valid`);
});

test("edge scalars, bad points and wrong lengths are rejected like the pure path", { skip }, () => {
  const a = need();
  const pure = new Sm2({ hash: nativeSm3 });
  const nat = new NativeSm2Verifier(a);
  const d = gmSm2.randomPrivateKey();
  const pubC = gmSm2.publicKeyFromPrivate(d, true);
  const pubU = gmSm2.publicKeyFromPrivate(d, false);
  const msg = enc("edge");
  const sig = gmSm2.sign(d, msg);
  const e = pure.computeE(pubC, msg);
  const r = big(sig.subarray(0, 32));
  const s = big(sig.subarray(32));
  const rs = (x: bigint, y: bigint) => Uint8Array.from([...be32(x), ...be32(y)]);
  const MAX = (1n << 256n) - 1n;
  const sigs: [string, Uint8Array][] = [
    ["r=0", rs(0n, s)],
    ["s=0", rs(r, 0n)],
    ["r=n", rs(N, s)],
    ["s=n", rs(r, N)],
    ["r=n+r", rs(N + r <= MAX ? N + r : MAX, s)],
    ["s=2^256-1", rs(r, MAX)],
    ["r=2^256-1", rs(MAX, s)],
    ["t=0 (s=n-r)", rs(r, N - r)],
    ["r=1,s=1", rs(1n, 1n)],
    ["r=n-1,s=n-1", rs(N - 1n, N - 1n)],
    ["all zero", new Uint8Array(64)],
    ["63 bytes", sig.subarray(1)],
    ["65 bytes", Uint8Array.of(...sig, 0)],
    ["empty", new Uint8Array(0)],
  ];
  for (const [label, sg] of sigs) {
    for (const pub of [pubC, pubU]) {
      const want = pure.verify(pub, msg, sg);
      assert.equal(want, false, label);
      assert.equal(nat.verify(pub, msg, sg), want, label);
      assert.equal(a.verify(pub, e, sg), want, label);
      assert.equal(refVerifyE(pub, e, sg), want, label);
    }
  }
  // x with no square root (compressed), off-curve (uncompressed), x or y >= p, infinity, hybrid.
  let noRoot: Uint8Array | undefined;
  for (let x = 1n; noRoot === undefined; x++) {
    const cand = Uint8Array.of(0x02, ...be32(x));
    try {
      Sm2Point.fromBytes(cand);
    } catch {
      noRoot = cand;
    }
  }
  const xy = pubU.subarray(1);
  const hybrid = Uint8Array.of(0x06 | ((pubU[64] as number) & 1), ...xy);
  const pubs: [string, Uint8Array][] = [
    ["no sqrt", noRoot],
    ["off curve", Uint8Array.of(0x04, ...xy.subarray(0, 32), ...flipBit(xy.subarray(32), 0))],
    ["x = p (compressed)", Uint8Array.of(0x02, ...be32(P))],
    [
      "x + p (uncompressed)",
      Uint8Array.of(
        0x04,
        ...be32(big(xy.subarray(0, 32)) + P > MAX ? MAX : big(xy.subarray(0, 32)) + P),
        ...xy.subarray(32),
      ),
    ],
    [
      "y + p",
      Uint8Array.of(
        0x04,
        ...xy.subarray(0, 32),
        ...be32(big(xy.subarray(32)) + P > MAX ? MAX : big(xy.subarray(32)) + P),
      ),
    ],
    ["infinity 1 byte", Uint8Array.of(0)],
    ["infinity 65 zero bytes", new Uint8Array(65)],
    ["infinity 04||0||0", Uint8Array.of(0x04, ...new Uint8Array(64))],
    ["33 zero bytes", new Uint8Array(33)],
    ["hybrid 06/07", hybrid],
    ["prefix 05", Uint8Array.of(0x05, ...xy)],
    ["prefix 04 on 33 bytes", Uint8Array.of(0x04, ...xy.subarray(0, 32))],
    ["prefix 02 on 65 bytes", Uint8Array.of(0x02, ...xy)],
    ["32 bytes", pubC.subarray(1)],
    ["34 bytes", Uint8Array.of(...pubC, 0)],
    ["64 bytes", xy],
    ["66 bytes", Uint8Array.of(...pubU, 0)],
    ["empty", new Uint8Array(0)],
  ];
  for (const [label, pub] of pubs) {
    assert.equal(pure.verify(pub, msg, sig), false, label);
    assert.equal(nat.verify(pub, msg, sig), false, label);
    assert.equal(a.verify(pub, e, sig), false, label);
    assert.equal(a.decodePublicKey(pub), null, label);
    assert.equal(a.keyHandle(pub, true), null, label);
    assert.equal(a.keyHandle(pub, false), null, label);
  }
  // Wrong e lengths, wrong types: false, never a throw.
  for (const badE of [e.subarray(1), Uint8Array.of(...e, 0), new Uint8Array(0)]) {
    assert.equal(a.verify(pubC, badE, sig), false);
  }
  const junk: unknown[] = [
    undefined,
    null,
    0,
    "x",
    {},
    [],
    new Uint16Array(16),
    new Float64Array(8),
    e.buffer,
  ];
  const call = a.verify as unknown as (...args: unknown[]) => boolean;
  for (const j of junk) {
    assert.equal(call(j, e, sig), false);
    assert.equal(call(pubC, j, sig), false);
    assert.equal(call(pubC, e, j), false);
    assert.equal((a.decodePublicKey as (x: unknown) => unknown)(j), null);
    assert.equal(nat.verify(j as Uint8Array, msg, sig), false);
    assert.equal(nat.verify(pubC, j as Uint8Array, sig), false);
    assert.equal(nat.verify(pubC, msg, j as Uint8Array), false);
  }
  assert.equal(call(), false);
  assert.equal(call(pubC, e), false);
  // Views with an offset into a larger buffer (as the verify worker passes them).
  const packed = new Uint8Array(1 + pubC.length + 32 + 64);
  packed.set(pubC, 1);
  packed.set(e, 1 + pubC.length);
  packed.set(sig, 1 + pubC.length + 32);
  const view = (o: number, l: number) => new Uint8Array(packed.buffer, o, l);
  assert.equal(a.verify(view(1, 33), view(34, 32), view(66, 64)), true);
  assert.equal(nat.verify(Buffer.from(pubU), Buffer.from(msg), Buffer.from(sig)), true);
});

test("ZL_SM2_NATIVE=0 selects the pure path; default selects native; workers load the addon", {
  skip,
}, async () => {
  need();
  const gmJs = join(fileURLToPath(new URL(".", import.meta.url)), "gm.js");
  const probe = `import(${JSON.stringify(gmJs)}).then(m => console.log(m.gmSm2Native === undefined ? "pure" : "native"))`;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["-e", probe], {
      env: { ...process.env, ...env },
      encoding: "utf8",
    }).stdout.trim();
  assert.equal(run({ ZL_SM2_NATIVE: "0" }), "pure");
  assert.equal(run({ ZL_SM2_NATIVE: "1" }), "native");
  const nativeJs = join(fileURLToPath(new URL(".", import.meta.url)), "sm2-native.js");
  const w = new Worker(
    `import(${JSON.stringify(nativeJs)}).then(m => require("node:worker_threads").parentPort.postMessage(m.nativeSm2Addon !== undefined))`,
    { eval: true, env: { ...process.env, ZL_SM2_NATIVE: "1" } },
  );
  const inWorker = await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  await w.terminate();
  assert.equal(inWorker, true);
});
