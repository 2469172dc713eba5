/**
 * The native Ed25519 verifier (zl_ed25519 addon) against libsodium, which defines the protocol's
 * acceptance rule: RFC 8032 vectors, random signatures and their corruptions, and the edge cases
 * of the rule built from first principles (non-canonical S and encodings, points of small order,
 * points off the curve). Without the addon these tests skip, unless ZL_REQUIRE_NATIVE=1, where
 * they fail.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { HotKeyVerifier, loadNativeEd25519Addon, type NativeEd25519Addon } from "./ed25519-native.js";
import { getSuite } from "./index.js";
import { fromHex } from "./lru.js";
import { VerifyPool } from "./verify-pool.js";

const { addon, reason } = loadNativeEd25519Addon();
const required = process.env.ZL_REQUIRE_NATIVE === "1";
const skip = addon === undefined && !required ? `skipped: ${reason}` : false;

function need(): NativeEd25519Addon {
  if (addon === undefined) assert.fail(`ZL_REQUIRE_NATIVE=1 but ${reason}`);
  return addon;
}

const sodium = createRequire(import.meta.url)("sodium-native") as typeof import("sodium-native");
const libsodium = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean =>
  sodium.crypto_sign_verify_detached(signature, message, publicKey);

const intl = getSuite("intl");

// Field and group arithmetic in BigInt, only to build edge cases (RFC 8032 §5.1).
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P): bigint => ((a % m) + m) % m;
const pow = (b: bigint, e: bigint, m = P): bigint => {
  let r = 1n;
  for (b = mod(b, m); e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);
/** A square root mod p, or undefined (p = 5 mod 8). */
const sqrt = (a: bigint): bigint | undefined => {
  let x = pow(a, (P + 3n) / 8n);
  if (mod(x * x - a) !== 0n) x = mod(x * SQRT_M1);
  return mod(x * x - a) === 0n ? x : undefined;
};
const le32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const fromLe = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
};
/** Whether some point has this y (x^2 = (y^2 - 1) / (d y^2 + 1) is a square). */
const onCurve = (y: bigint): boolean => sqrt(mod((y * y - 1n) * inv(D * y * y + 1n))) !== undefined;
const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/**
 * The y values of the points of order 8: 2P has order 4, so y = 0 for 2P, which for a = -1 means
 * x^2 = -y^2; with the curve equation, d y^4 + 2 y^2 - 1 = 0, y^2 = (-1 ± sqrt(1 + d)) / d.
 */
const ORDER_8_Y: bigint[] = (() => {
  const r = sqrt(mod(1n + D)) as bigint;
  const ys: bigint[] = [];
  for (const y2 of [mod((-1n + r) * inv(D)), mod((-1n - r) * inv(D))]) {
    const y = sqrt(y2);
    if (y !== undefined) ys.push(y, mod(-y));
  }
  return ys;
})();

/** Encodings whose y is that of a point of small order, both signs, and the non-canonical p, p + 1. */
const SMALL_ORDER: Uint8Array[] = [0n, 1n, P - 1n, ...ORDER_8_Y, P, P + 1n].flatMap((y) => {
  const pos = le32(y);
  const neg = pos.slice();
  neg[31] = (neg[31] as number) | 0x80;
  return [pos, neg];
});

const keys = Array.from({ length: 8 }, () => intl.generateKeyPair());

interface Case {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  expected: boolean;
}

/** Every case `agree` has seen, for the batch tests at the end of this file. */
const cases: Case[] = [];

function agree(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const a = need();
  const expected = libsodium(publicKey, message, signature);
  const handle = a.keyHandle(publicKey);
  const got = handle === null ? false : a.verify(handle, message, signature);
  assert.equal(got, expected, `native and libsodium differ on key ${Buffer.from(publicKey).toString("hex")}`);
  cases.push({ publicKey, message, signature, expected });
  return got;
}

test("the addon is present when ZL_REQUIRE_NATIVE=1", {
  skip: required ? false : "ZL_REQUIRE_NATIVE is not set",
}, () => {
  need();
});

test("RFC 8032 §7.1 vectors verify natively; a changed message or signature does not", { skip }, () => {
  const v = JSON.parse(
    readFileSync(join(process.cwd(), "src/crypto/test-vectors/rfc8032-ed25519.json"), "utf8"),
  ) as { ed25519: Array<{ publicKey: string; message: string; signature: string }> };
  for (const t of v.ed25519) {
    const pub = fromHex(t.publicKey);
    const msg = fromHex(t.message);
    const sig = fromHex(t.signature);
    assert.equal(agree(pub, msg, sig), true);
    assert.equal(agree(pub, Uint8Array.of(...msg, 0), sig), false);
    const bad = sig.slice();
    bad[10] = (bad[10] as number) ^ 0x10;
    assert.equal(agree(pub, msg, bad), false);
  }
});

test("random signatures and every kind of corruption: native and libsodium agree (property)", {
  skip,
}, () => {
  fc.assert(
    fc.property(
      fc.nat(keys.length - 1),
      fc.uint8Array({ maxLength: 300 }),
      fc.option(fc.record({ part: fc.constantFrom("sig", "msg", "key"), bit: fc.nat(511) })),
      (k, message, mutation) => {
        const kp = keys[k]!;
        let publicKey = kp.publicKey;
        let msg: Uint8Array = message;
        let sig = intl.sign(kp.privateKey, message);
        const flip = (b: Uint8Array, bit: number): Uint8Array => {
          const c = b.slice();
          if (c.length > 0)
            c[(bit >>> 3) % c.length] = (c[(bit >>> 3) % c.length] as number) ^ (1 << (bit & 7));
          return c;
        };
        if (mutation?.part === "sig") sig = flip(sig, mutation.bit);
        if (mutation?.part === "msg") msg = flip(msg, mutation.bit);
        if (mutation?.part === "key") publicKey = flip(publicKey, mutation.bit % 256);
        const ok = agree(publicKey, msg, sig);
        if (mutation === null) assert.equal(ok, true);
      },
    ),
    { numRuns: 400 },
  );
});

test("S + L (the same equation with a non-canonical S) is refused by both", { skip }, () => {
  for (const kp of keys) {
    const msg = randomBytes(40);
    const sig = intl.sign(kp.privateKey, msg);
    const malleated = Uint8Array.of(...sig.subarray(0, 32), ...le32(fromLe(sig.subarray(32)) + L));
    assert.equal(agree(kp.publicKey, msg, malleated), false);
  }
});

test("R of small order is refused even when the equation holds", { skip }, () => {
  // R = identity with nonce 0: S = k a satisfies [S]B = R + [k]A for the key's holder.
  const kp = keys[0]!;
  const h = sha512(kp.privateKey);
  h[0] = (h[0] as number) & 248;
  h[31] = ((h[31] as number) & 127) | 64;
  const a = fromLe(h.subarray(0, 32));
  const msg = new TextEncoder().encode("不动产登记 transfer");
  for (const R of SMALL_ORDER) {
    const k = fromLe(sha512(R, kp.publicKey, msg)) % L;
    assert.equal(agree(kp.publicKey, msg, Uint8Array.of(...R, ...le32((k * a) % L))), false);
  }
});

test("keys of small order, non-canonical keys and keys off the curve get no handle and verify nothing", {
  skip,
}, () => {
  const a = need();
  const msg = new Uint8Array([1, 2, 3]);
  const zeroSig = Uint8Array.of(1, ...new Uint8Array(63)); // R = identity, S = 0
  assert.equal(ORDER_8_Y.length, 2, "two y values of points of order 8");
  for (const y of ORDER_8_Y) assert.ok(onCurve(y));
  for (const key of SMALL_ORDER) {
    assert.equal(a.keyHandle(key), null);
    assert.equal(libsodium(key, msg, zeroSig), false);
  }
  // y >= p: p + 2 .. p + 18 and 2^255 - 1; and y values with no x.
  let offCurve = 2n;
  while (onCurve(offCurve)) offCurve++;
  for (const y of [P + 2n, P + 5n, 2n ** 255n - 1n, offCurve]) {
    assert.equal(a.keyHandle(le32(y)), null, `y = ${y}`);
    assert.equal(libsodium(le32(y), msg, zeroSig), false);
  }
  assert.equal(a.keyHandle(new Uint8Array(31)), null, "wrong length");
});

test("a valid key's other sign, and R with its sign bit flipped, are refused by both", { skip }, () => {
  const kp = keys[1]!;
  const msg = randomBytes(64);
  const sig = intl.sign(kp.privateKey, msg);
  const otherSign = kp.publicKey.slice();
  otherSign[31] = (otherSign[31] as number) ^ 0x80;
  assert.equal(agree(otherSign, msg, sig), false);
  const flippedR = sig.slice();
  flippedR[31] = (flippedR[31] as number) ^ 0x80;
  assert.equal(agree(kp.publicKey, msg, flippedR), false);
});

test("HotKeyVerifier: libsodium until a key has verified enough, then its handle, with the same answers", {
  skip,
}, () => {
  const a = need();
  let fallbacks = 0;
  const v = new HotKeyVerifier(
    a,
    (k, m, s) => {
      fallbacks++;
      return libsodium(k, m, s);
    },
    { hotThreshold: 3, maxTables: 1 },
  );
  const [k1, k2] = [keys[2]!, keys[3]!];
  const msg = randomBytes(10);
  const s1 = intl.sign(k1.privateKey, msg);
  const s2 = intl.sign(k2.privateKey, msg);
  assert.equal(v.verify(k1.publicKey, msg, s1), true);
  // Bad signatures do not count towards a key's heat.
  for (let i = 0; i < 5; i++) assert.equal(v.verify(k1.publicKey, msg, s2), false);
  assert.equal(v.verify(k1.publicKey, msg, s1), true);
  assert.equal(v.tableCount, 0);
  assert.equal(fallbacks, 7);
  assert.equal(v.verify(k1.publicKey, msg, s1), true); // third valid one: the handle is made
  assert.equal(v.tableCount, 1);
  assert.equal(v.verify(k1.publicKey, msg, s2), false);
  assert.equal(v.verify(k1.publicKey, randomBytes(10), s1), false);
  assert.equal(v.verify(k1.publicKey, msg, s1), true);
  assert.equal(fallbacks, 8, "the hot key's later verifications are native");
  // At most one table: the second hot key stays with libsodium.
  for (let i = 0; i < 5; i++) assert.equal(v.verify(k2.publicKey, msg, s2), true);
  assert.equal(v.tableCount, 1);
  assert.equal(fallbacks, 13);
  // A key under which nothing verifies is refused every time and never gets a handle.
  for (let i = 0; i < 5; i++) assert.equal(v.verify(SMALL_ORDER[0]!, msg, s1), false);
  assert.equal(v.tableCount, 1);
});

test("HotKeyVerifier: junk signatures under many keys do not push a hot key out", { skip }, () => {
  const v = new HotKeyVerifier(need(), libsodium, { hotThreshold: 2, maxTables: 4, cacheSize: 4 });
  const kp = keys[4]!;
  const msg = randomBytes(20);
  const sig = intl.sign(kp.privateKey, msg);
  assert.equal(v.verify(kp.publicKey, msg, sig), true);
  assert.equal(v.verify(kp.publicKey, msg, sig), true);
  assert.equal(v.tableCount, 1);
  for (let i = 0; i < 50; i++) assert.equal(v.verify(intl.generateKeyPair().publicKey, msg, sig), false);
  assert.equal(v.tableCount, 1, "the hot key kept its table: failed keys are not remembered");
});

test("HotKeyVerifier: a key evicted from the cache gives its table back", { skip }, () => {
  let fallbacks = 0;
  const v = new HotKeyVerifier(
    need(),
    (k, m, s) => {
      fallbacks++;
      return libsodium(k, m, s);
    },
    { hotThreshold: 1, maxTables: 2, cacheSize: 2 },
  );
  const msg = randomBytes(10);
  const sigs = keys.slice(0, 4).map((kp) => intl.sign(kp.privateKey, msg));
  for (let i = 0; i < 4; i++) assert.equal(v.verify(keys[i]!.publicKey, msg, sigs[i]!), true);
  assert.equal(v.tableCount, 2);
  // The last key got a table although two had been made before: the evicted ones gave theirs back.
  assert.equal(v.verify(keys[3]!.publicKey, msg, sigs[3]!), true);
  assert.equal(fallbacks, 4);
});

test("keys and R with a torsion component: native and libsodium agree, also where the equation holds", {
  skip,
}, () => {
  // A = aB + T1, R = rB + T2, S = r + k a: [S]B - [k]A = R - T2 - k T1, so the cofactorless
  // equation holds exactly when T2 = -k T1; both verifiers must then accept, and refuse otherwise.
  const Point = ed25519.Point;
  const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h));
  const scalar = (): bigint => (fromLe(randomBytes(64)) % (L - 1n)) + 1n;
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 160; i++) {
    const T1 = torsion[i % 8]!;
    const a = scalar();
    const pk = Point.BASE.multiply(a).add(T1).toBytes();
    const msg = randomBytes(i % 40);
    const r = scalar();
    // Half the time, search for R whose k makes the equation hold: about one try in eight.
    for (let tries = 0; tries < 64; tries++) {
      const T2 = torsion[(i + tries) % 8]!;
      const R = Point.BASE.multiply(r).add(T2).toBytes();
      const k = fromLe(sha512(R, pk, msg)) % L;
      const holds = T2.equals(k === 0n ? Point.ZERO : T1.multiply(k).negate());
      if (i % 2 === 1 && !holds && tries < 63) continue;
      const sig = Uint8Array.of(...R, ...le32((r + k * a) % L));
      if (agree(pk, msg, sig)) accepted++;
      else refused++;
      break;
    }
  }
  assert.ok(
    accepted > 20 && refused > 20,
    `both outcomes covered (${accepted} accepted, ${refused} refused)`,
  );
});

test("hot keys verify the same in the worker pool as on the calling thread", { skip }, async () => {
  need();
  const pool = new VerifyPool("intl", 2);
  try {
    const items = Array.from({ length: 400 }, (_, i) => {
      const kp = keys[i % keys.length]!;
      const message = randomBytes(50);
      const signature = intl.sign(kp.privateKey, message);
      if (i % 7 === 3) signature[i % 64] = (signature[i % 64] as number) ^ 1;
      return { publicKey: kp.publicKey, message, signature };
    });
    const got = await pool.verifyBatch(items);
    assert.deepEqual(
      got,
      items.map((it) => libsodium(it.publicKey, it.message, it.signature)),
    );
    assert.ok(got.filter((x) => !x).length >= 50);
  } finally {
    await pool.close();
  }
});

/** A deterministic shuffle (xorshift), so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let x = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

test("verifyBatch answers every case above as libsodium does, in batches of any size and order", {
  skip,
}, () => {
  const a = need();
  // The cases above are mostly refusals: add valid signatures, so blocks mix both.
  const all: Case[] = [...cases];
  for (let i = 0; i < 400; i++) {
    const kp = keys[i % keys.length]!;
    const message = randomBytes(i % 300);
    const signature = intl.sign(kp.privateKey, message);
    all.push({
      publicKey: kp.publicKey,
      message,
      signature,
      expected: libsodium(kp.publicKey, message, signature),
    });
  }
  const accepted = all.filter((c) => c.expected).length;
  assert.ok(accepted >= 300 && all.length - accepted >= 300, `${accepted} of ${all.length} valid`);
  // Keys without a handle are passed as null: the addon answers 0 for them, as libsodium does.
  const handles = new Map<string, unknown>();
  const handleOf = (pk: Uint8Array): unknown => {
    const hex = Buffer.from(pk).toString("hex");
    if (!handles.has(hex)) handles.set(hex, a.keyHandle(pk));
    return handles.get(hex);
  };
  for (const [seed, size] of [
    [1, 1],
    [2, 63],
    [3, 64],
    [4, 65],
    [5, 200],
    [6, all.length],
  ] as const) {
    const order = shuffled(all, seed);
    for (let start = 0; start < order.length; start += size) {
      const batch = order.slice(start, start + size);
      const out = new Uint8Array(batch.length).fill(7);
      a.verifyBatch(
        batch.map((c) => handleOf(c.publicKey)) as never,
        batch.map((c) => c.message),
        batch.map((c) => c.signature),
        out,
      );
      const expected = batch.map((c) => (c.expected ? 1 : 0));
      assert.deepEqual([...out], expected, `seed ${seed}, size ${size}, from item ${start}`);
    }
  }
});

test("verifyBatch: a signature of the wrong length is 0 and leaves its neighbours' answers alone", {
  skip,
}, () => {
  const a = need();
  const kp = keys[5]!;
  const handle = a.keyHandle(kp.publicKey)!;
  const msgs = Array.from({ length: 70 }, (_, i) => randomBytes(i));
  const sigs = msgs.map((m, i) => {
    const sig = intl.sign(kp.privateKey, m);
    return i % 9 === 4 ? sig.subarray(0, 63) : i % 9 === 5 ? Uint8Array.of(...sig, 0) : sig;
  });
  const out = new Uint8Array(70);
  a.verifyBatch(Array(70).fill(handle), msgs, sigs, out);
  assert.deepEqual(
    [...out],
    msgs.map((_, i) => (i % 9 === 4 || i % 9 === 5 ? 0 : 1)),
  );
  assert.throws(() => a.verifyBatch([handle], msgs, sigs, out), /ZL_ED25519_ARGUMENTS|one length/);
  assert.throws(() => a.verifyBatch([handle], [msgs[0]!], [sigs[0]!], new Uint8Array(0)), /one length/);
});

test("HotKeyVerifier.verifyMany and the suite's verifyMany answer as verify does, malformed items too", {
  skip,
}, () => {
  const v = new HotKeyVerifier(need(), libsodium, { hotThreshold: 2, maxTables: 3 });
  const items = shuffled(cases, 9).slice(0, 300);
  // Keys turn hot part-way: the first calls go to libsodium, later ones to the batch.
  for (const size of [5, 50, 300]) {
    const out = new Uint8Array(size);
    v.verifyMany(items.slice(0, size), out);
    const expected = items.slice(0, size).map((c) => (c.expected ? 1 : 0));
    assert.deepEqual([...out], expected, `size ${size}`);
  }
  assert.ok(v.tableCount > 0, "some keys verified through the batch");
  const kp = keys[6]!;
  const message = randomBytes(30);
  const signature = intl.sign(kp.privateKey, message);
  const malformed = [
    { publicKey: kp.publicKey, message, signature },
    { publicKey: kp.publicKey.subarray(1), message, signature },
    { publicKey: kp.publicKey, message, signature: Uint8Array.of(...signature, 0) },
    { publicKey: kp.publicKey, message: "text" as unknown as Uint8Array, signature },
    { publicKey: null as unknown as Uint8Array, message, signature },
    ...items.slice(0, 40),
  ];
  const out = new Uint8Array(malformed.length);
  intl.verifyMany!(malformed, out);
  const oneByOne = malformed.map((it) => (intl.verify(it.publicKey, it.message, it.signature) ? 1 : 0));
  assert.deepEqual([...out], oneByOne);
  assert.deepEqual([...out.subarray(0, 5)], [1, 0, 0, 0, 0]);
});
