/**
 * SM2 digital signatures (GB/T 32918.2-2016) on the recommended 256-bit curve
 * (GB/T 32918.5-2017), browser-safe (no node: imports).
 *
 * Curve arithmetic comes from @noble/curves' short-Weierstrass helpers; the SM2 signing
 * equations, the Z_A digest and the key/signature encodings are implemented here.
 *
 *   Z_A = H(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)   (ENTL = bit length of ID, 2 bytes BE)
 *   e   = H(Z_A || M)
 *   sign:   (x1, _) = [k]G; r = (e + x1) mod n; s = (1 + d)^-1 (k - r d) mod n
 *   verify: t = (r + s) mod n; (x1, _) = [s]G + [t]P; accept iff (e + x1) mod n == r
 *
 * The hash is pluggable so Node code can use native SM3 (`createHash("sm3")`) while
 * browsers use the pure implementation in sm3.ts.
 */

import { invert, mod } from "@noble/curves/abstract/modular.js";
import { type WeierstrassPoint, weierstrass } from "@noble/curves/abstract/weierstrass.js";
import { bytesToNumberBE, numberToBytesBE, randomBytes } from "@noble/curves/utils.js";
import { InvalidInputError } from "../errors/index.js";
import { Lru, toHex } from "./lru.js";
import { sm3 } from "./sm3.js";

/** GB/T 32918.5-2017 recommended curve parameters (sm2p256v1). */
export const SM2_CURVE = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  h: 1n,
});

/** Default user ID (GM/T 0009-2012 §10): "1234567812345678", ENTL = 0x0080. */
export const SM2_DEFAULT_ID: Uint8Array = new TextEncoder().encode("1234567812345678");

export const Sm2Point = weierstrass<bigint>({
  p: SM2_CURVE.p,
  n: SM2_CURVE.n,
  h: SM2_CURVE.h,
  a: SM2_CURVE.a,
  b: SM2_CURVE.b,
  Gx: SM2_CURVE.Gx,
  Gy: SM2_CURVE.Gy,
});
export type Sm2PointT = WeierstrassPoint<bigint>;

const N = SM2_CURVE.n;
const G = Sm2Point.BASE;
// A wider fixed-base table for G than noble's default (W=6): measured faster for [s]G and [k]G.
// Built on first use, not at import: a process of an intl chain, and each of its verifying
// threads, would otherwise spend a few hundred milliseconds of CPU at start on a table it never reads.
const G_WINDOW = 8;
G.precompute(G_WINDOW, true);

/** Hash over the concatenation of parts (native implementations avoid the copy). */
export type MultiHash = (...parts: Uint8Array[]) => Uint8Array;

const pureSm3Multi: MultiHash = (...parts) => {
  if (parts.length === 1) return sm3(parts[0] as Uint8Array);
  let len = 0;
  for (const p of parts) len += p.length;
  const buf = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return sm3(buf);
};

const be32 = (x: bigint): Uint8Array => numberToBytesBE(x, 32);

/** ENTL || ID || a || b || xG || yG (the public-key-independent prefix of Z_A). */
export function zaPrefix(id: Uint8Array): Uint8Array {
  const bits = id.length * 8;
  if (bits > 0xffff) throw new InvalidInputError("CRYPTO_BAD_ID", "SM2 user ID longer than 8191 bytes");
  const out = new Uint8Array(2 + id.length + 128);
  out[0] = bits >>> 8;
  out[1] = bits & 0xff;
  out.set(id, 2);
  let o = 2 + id.length;
  for (const v of [SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.Gx, SM2_CURVE.Gy]) {
    out.set(be32(v), o);
    o += 32;
  }
  return out;
}

const DEFAULT_PREFIX = zaPrefix(SM2_DEFAULT_ID);

interface CachedKey {
  readonly point: Sm2PointT;
  /** Z_A for the default ID. */
  readonly za: Uint8Array;
  uses: number;
  precomputed: boolean;
}

export interface Sm2Options {
  /** SM3 implementation (defaults to the pure one). */
  hash?: MultiHash;
  /** Parsed public key cache size (LRU). */
  cacheSize?: number;
  /**
   * Verify-count after which a cached public key gets its own wNAF precompute table;
   * 0 disables per-key tables. Tables cost memory (~W=4: 520 points), so at most
   * `maxPrecomputed` keys hold one at a time.
   */
  hotThreshold?: number;
  hotWindow?: number;
  maxPrecomputed?: number;
}

export interface Sm2SignOptions {
  /** Signer ID for Z_A (default "1234567812345678"). */
  id?: Uint8Array;
  /** Fixed nonce k - ONLY for reproducing published test vectors. */
  k?: bigint;
}

export class Sm2 {
  private readonly H: MultiHash;
  private readonly cache: Lru<string, CachedKey>;
  private readonly hotThreshold: number;
  private readonly hotWindow: number;
  private readonly maxPrecomputed: number;
  private precomputedCount = 0;

  constructor(opts: Sm2Options = {}) {
    this.H = opts.hash ?? pureSm3Multi;
    this.hotThreshold = opts.hotThreshold ?? 16;
    this.hotWindow = opts.hotWindow ?? 5;
    this.maxPrecomputed = opts.maxPrecomputed ?? 256;
    this.cache = new Lru<string, CachedKey>(opts.cacheSize ?? 4096, (_k, v) => {
      if (v.precomputed) this.precomputedCount--;
    });
  }

  /** Random private key d in [1, n-2] (d = n-1 is excluded: 1+d must be invertible). */
  randomPrivateKey(): Uint8Array {
    for (;;) {
      const d = bytesToNumberBE(randomBytes(32));
      if (d >= 1n && d <= N - 2n) return be32(d);
    }
  }

  publicKeyFromPrivate(privateKey: Uint8Array, compressed = true): Uint8Array {
    const d = parsePrivate(privateKey);
    return G.multiply(d).toBytes(compressed);
  }

  /** Z_A for a public key (33 or 65 bytes) and signer ID. */
  computeZA(publicKey: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID): Uint8Array {
    const P = parsePublicKey(publicKey);
    return this.zaOf(P, id);
  }

  /** e = H(Z_A || M) as bytes. */
  computeE(publicKey: Uint8Array, message: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID): Uint8Array {
    return this.H(this.computeZA(publicKey, id), message);
  }

  private zaOf(P: Sm2PointT, id: Uint8Array): Uint8Array {
    const prefix = id === SM2_DEFAULT_ID ? DEFAULT_PREFIX : zaPrefix(id);
    const a = P.toAffine();
    return this.H(prefix, be32(a.x), be32(a.y));
  }

  sign(privateKey: Uint8Array, message: Uint8Array, opts: Sm2SignOptions = {}): Uint8Array {
    const d = parsePrivate(privateKey);
    const P = G.multiply(d);
    const za = this.zaOf(P, opts.id ?? SM2_DEFAULT_ID);
    const e = bytesToNumberBE(this.H(za, message));
    const dInv = invert(1n + d, N);
    for (;;) {
      const k = opts.k ?? randomScalar();
      const x1 = G.multiply(k).toAffine().x;
      const r = mod(e + x1, N);
      if (r === 0n || r + k === N) {
        if (opts.k !== undefined)
          throw new InvalidInputError("CRYPTO_BAD_NONCE", "fixed k gives r = 0 or r + k = n");
        continue;
      }
      const s = mod(dInv * (k - r * d), N);
      if (s === 0n) {
        if (opts.k !== undefined) throw new InvalidInputError("CRYPTO_BAD_NONCE", "fixed k gives s = 0");
        continue;
      }
      const sig = new Uint8Array(64);
      sig.set(be32(r), 0);
      sig.set(be32(s), 32);
      return sig;
    }
  }

  /** Verify a 64-byte r||s signature. Never throws: malformed input gives false. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, id?: Uint8Array): boolean {
    try {
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      if (!(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
      const r = bytesToNumberBE(signature.subarray(0, 32));
      const s = bytesToNumberBE(signature.subarray(32, 64));
      if (r < 1n || r >= N || s < 1n || s >= N) return false;
      const t = mod(r + s, N);
      if (t === 0n) return false;
      let P: Sm2PointT;
      let za: Uint8Array;
      if (id === undefined || id === SM2_DEFAULT_ID) {
        const entry = this.lookup(publicKey);
        if (entry === undefined) return false;
        P = entry.point;
        za = entry.za;
      } else {
        P = parsePublicKey(publicKey);
        za = this.zaOf(P, id);
      }
      const e = bytesToNumberBE(this.H(za, message));
      // [s]G uses the fixed-base table; [t]P uses P's own table when it is hot.
      const R = G.multiplyUnsafe(s).add(P.multiplyUnsafe(t));
      if (R.is0()) return false;
      return mod(e + R.toAffine().x, N) === r;
    } catch {
      return false;
    }
  }

  private lookup(publicKey: Uint8Array): CachedKey | undefined {
    if (publicKey.length !== 33 && publicKey.length !== 65) return undefined;
    const key = toHex(publicKey);
    let entry = this.cache.get(key);
    if (entry === undefined) {
      let point: Sm2PointT;
      try {
        point = parsePublicKey(publicKey);
      } catch {
        return undefined;
      }
      entry = { point, za: this.zaOf(point, SM2_DEFAULT_ID), uses: 0, precomputed: false };
      this.cache.set(key, entry);
    }
    entry.uses++;
    if (
      this.hotThreshold > 0 &&
      !entry.precomputed &&
      entry.uses >= this.hotThreshold &&
      this.precomputedCount < this.maxPrecomputed
    ) {
      entry.point.precompute(this.hotWindow, false);
      entry.precomputed = true;
      this.precomputedCount++;
    }
    return entry;
  }
}

function randomScalar(): bigint {
  for (;;) {
    const k = bytesToNumberBE(randomBytes(32));
    if (k >= 1n && k < N) return k;
  }
}

function parsePrivate(privateKey: Uint8Array): bigint {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw new InvalidInputError("CRYPTO_BAD_KEY", "SM2 private key must be 32 bytes");
  }
  const d = bytesToNumberBE(privateKey);
  if (d < 1n || d > N - 2n)
    throw new InvalidInputError("CRYPTO_BAD_KEY", "SM2 private key out of range [1, n-2]");
  return d;
}

/** Parse a SEC1 compressed (33) or uncompressed (65) SM2 public key; validates the point. */
export function parsePublicKey(publicKey: Uint8Array): Sm2PointT {
  if (!(publicKey instanceof Uint8Array) || (publicKey.length !== 33 && publicKey.length !== 65)) {
    throw new InvalidInputError(
      "CRYPTO_BAD_KEY",
      "SM2 public key must be 33 (compressed) or 65 (uncompressed) bytes",
    );
  }
  try {
    const P = Sm2Point.fromBytes(publicKey);
    P.assertValidity();
    return P;
  } catch (err) {
    throw new InvalidInputError("CRYPTO_BAD_KEY", "SM2 public key is not a valid curve point", {
      cause: err instanceof Error ? err.message : String(err),
    });
  }
}

/** Re-encode an SM2 public key (33 or 65 bytes) as 33-byte compressed or 65-byte uncompressed. */
export function encodePublicKey(publicKey: Uint8Array, compressed: boolean): Uint8Array {
  return parsePublicKey(publicKey).toBytes(compressed);
}

/** A default instance with pure SM3 (browser use). */
export const sm2 = new Sm2();
