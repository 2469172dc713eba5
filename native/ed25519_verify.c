/*
 * zl_ed25519: Ed25519 signature verification (RFC 8032 §5.1.7) for keys that verify often, as a
 * Node-API addon.
 *
 * Why: a validator checks every transaction's signature, and most come from a small set of
 * enrolled keys. A key handle holds a table of multiples of -A, so [h](-A) costs 64 additions of
 * precomputed points instead of ~250 doublings; [s]B uses the same kind of table for the base
 * point, and both share four doublings. A handle costs about two verifications to build and
 * 32 KiB to keep; the JS side (crypto/ed25519-native.ts) gives one only to keys seen often and
 * verifies the rest with libsodium.
 *
 * The acceptance rule is libsodium's (docs/protocol.md, "Signatures"), so both paths accept
 * exactly the same signatures:
 *   - S canonical (S < L);
 *   - R not of small order (its y, sign bit ignored, is not that of a point of order 1, 2, 4
 *     or 8, including the non-canonical encodings p and p + 1 of 0 and 1);
 *   - A canonical (y < p), not of small order, and on the curve (checked when the handle is made:
 *     keyHandle returns null otherwise, and the caller then uses libsodium, which refuses);
 *   - the encoding of [S]B - [k]A equals R byte for byte, k = SHA-512(R || A || M) mod L
 *     (the cofactorless equation; a non-canonical R can never be equal).
 *
 * Arithmetic: GF(2^255 - 19) in five 51-bit limbs with 128-bit products, sums and differences
 * left uncarried within the bounds set out at the field's code; points in extended twisted
 * Edwards coordinates with the unified formulas of Hisil, Wong, Carter and Dawson, "Twisted
 * Edwards curves revisited" (2008), which are complete on this curve. The curve
 * constants (d, sqrt(-1), B) are derived at load from their definitions in RFC 8032 §5.1, not
 * written out. Nothing here is secret: verification is variable-time, as in every verifier.
 * SHA-512 and the reduction mod L use OpenSSL (the one inside the node binary). It needs a
 * compiler with unsigned __int128 and POSIX threads (GCC, Clang); binding.gyp skips it on
 * Windows, where every key is verified by libsodium.
 *
 * Exports (arguments must be Uint8Arrays of exactly these lengths; anything else gives null or
 * false, where libsodium would, for example, read the first 64 bytes of a longer signature, so
 * callers check lengths first, as intl.ts does):
 *   keyHandle(publicKey: Uint8Array(32)) -> KeyHandle | null
 *   verify(key: KeyHandle, message: Uint8Array, signature: Uint8Array(64)) -> boolean, or throws
 *     ZL_ED25519_INTERNAL if it could not compute an answer (then verify with libsodium)
 *   verifyBatch(keys: KeyHandle[], messages: Uint8Array[], signatures: Uint8Array[], out: Uint8Array)
 *     -> out[i] = 1 or 0, verify's answer for item i (0 where verify would return false for an
 *     argument); throws ZL_ED25519_INTERNAL as verify does, and ZL_ED25519_ARGUMENTS if the
 *     arrays differ in length or out is shorter. Blocks of up to 64 share one field inversion.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA512_Init/Update/Final: present in all 3.x */
#define NAPI_VERSION 8
#include <node_api.h>

#include "zl_napi.h"

#include <openssl/bn.h>
#include <openssl/sha.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef unsigned __int128 u128;

/* ---------------------------------------------------------------------------------------------
 * The field GF(p), p = 2^255 - 19. An element is sum v[i] * 2^(51 i), with limbs of two sizes:
 *   tight: every limb below 2^51 + 2^17, as fe_mul, fe_sq, fe_frombytes and fe_set_small leave it;
 *   loose: every limb below 2^54, what fe_mul, fe_sq and fe_tobytes accept.
 * fe_add and fe_sub do not carry, which saves a serial chain of shifts in every point operation:
 * the sum of two tight elements is below 2^52 + 2^18, of a tight and such a sum below 2^53; fe_sub
 * adds 4p (limbs 2^53 - 76 and 2^53 - 4), so it needs g at most that, as a tight element or a sum
 * of two is, and gives f + 2^53, loose when f is tight or such a sum. The point formulas below
 * note where a value is a sum of sums; the largest is F in p3_dbl, below 2^53.81.
 * With loose inputs each of the five sums of products in fe_mul is below 77 * 2^108 < 2^114.3.
 */
typedef struct {
  u64 v[5];
} fe;

#define MASK51 ((((u64)1) << 51) - 1)

static void fe_carry(fe *h) {
  u64 c;
  c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
  c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
  c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
  c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
  c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
}

static void fe_set_small(fe *h, u64 x) {
  h->v[0] = x;
  h->v[1] = h->v[2] = h->v[3] = h->v[4] = 0;
}

/* Not carried: see the bounds above. */
static void fe_add(fe *h, const fe *f, const fe *g) {
  for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
}

/* f - g as f + 4p - g, not carried; g's limbs must be at most 4p's (see the bounds above). */
static void fe_sub(fe *h, const fe *f, const fe *g) {
  h->v[0] = f->v[0] + ((((u64)1) << 53) - 76) - g->v[0];
  for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + ((((u64)1) << 53) - 4) - g->v[i];
}

static void fe_neg(fe *h, const fe *f) {
  fe zero;
  fe_set_small(&zero, 0);
  fe_sub(h, &zero, f);
}

static void fe_reduce_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  u64 c;
  r1 += (u64)(r0 >> 51);
  u64 h0 = (u64)r0 & MASK51;
  r2 += (u64)(r1 >> 51);
  u64 h1 = (u64)r1 & MASK51;
  r3 += (u64)(r2 >> 51);
  u64 h2 = (u64)r2 & MASK51;
  r4 += (u64)(r3 >> 51);
  u64 h3 = (u64)r3 & MASK51;
  c = (u64)(r4 >> 51); /* below 2^64, but 19 c may not be */
  u64 h4 = (u64)r4 & MASK51;
  u128 t = (u128)c * 19 + h0;
  h0 = (u64)t & MASK51;
  h1 += (u64)(t >> 51); /* below 2^17 */
  h->v[0] = h0;
  h->v[1] = h1;
  h->v[2] = h2;
  h->v[3] = h3;
  h->v[4] = h4;
}

static void fe_mul(fe *h, const fe *f, const fe *g) {
  const u64 f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const u64 g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
  const u64 g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
  u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
  u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
  u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
  u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
  fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq(fe *h, const fe *f) {
  const u64 f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const u64 f0_2 = 2 * f0, f1_2 = 2 * f1;
  const u64 f3_19 = 19 * f3, f4_19 = 19 * f4;
  u128 r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19;
  u128 r1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
  u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
  u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
  u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
  fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq_n(fe *h, const fe *f, int n) {
  fe_sq(h, f);
  for (int i = 1; i < n; i++) fe_sq(h, h);
}

/* The low 255 bits of 32 little-endian bytes (the top bit, a sign in encodings, is dropped). */
static void fe_frombytes(fe *h, const unsigned char s[32]) {
  u64 w[4];
  for (int i = 0; i < 4; i++) {
    u64 x = 0;
    for (int j = 7; j >= 0; j--) x = (x << 8) | s[8 * i + j];
    w[i] = x;
  }
  h->v[0] = w[0] & MASK51;
  h->v[1] = ((w[0] >> 51) | (w[1] << 13)) & MASK51;
  h->v[2] = ((w[1] >> 38) | (w[2] << 26)) & MASK51;
  h->v[3] = ((w[2] >> 25) | (w[3] << 39)) & MASK51;
  h->v[4] = (w[3] >> 12) & MASK51;
}

/* The canonical (fully reduced) little-endian encoding. */
static void fe_tobytes(unsigned char s[32], const fe *f) {
  fe h = *f;
  fe_carry(&h);
  fe_carry(&h); /* now every limb is below 2^51 + 19, so h < 2p */
  u64 q = (h.v[0] + 19) >> 51;
  q = (h.v[1] + q) >> 51;
  q = (h.v[2] + q) >> 51;
  q = (h.v[3] + q) >> 51;
  q = (h.v[4] + q) >> 51; /* 1 iff h >= p */
  h.v[0] += 19 * q;
  h.v[1] += h.v[0] >> 51; h.v[0] &= MASK51;
  h.v[2] += h.v[1] >> 51; h.v[1] &= MASK51;
  h.v[3] += h.v[2] >> 51; h.v[2] &= MASK51;
  h.v[4] += h.v[3] >> 51; h.v[3] &= MASK51;
  h.v[4] &= MASK51; /* drops 2^255: h + 19 - 2^255 = h - p */
  u64 w[4];
  w[0] = h.v[0] | (h.v[1] << 51);
  w[1] = (h.v[1] >> 13) | (h.v[2] << 38);
  w[2] = (h.v[2] >> 26) | (h.v[3] << 25);
  w[3] = (h.v[3] >> 39) | (h.v[4] << 12);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) s[8 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

static int fe_is_zero(const fe *f) {
  unsigned char s[32];
  fe_tobytes(s, f);
  unsigned char acc = 0;
  for (int i = 0; i < 32; i++) acc |= s[i];
  return acc == 0;
}

static int fe_equal(const fe *f, const fe *g) {
  fe d;
  fe_sub(&d, f, g);
  return fe_is_zero(&d);
}

/* The sign of x in an encoding: the low bit of its canonical form. */
static int fe_is_negative(const fe *f) {
  unsigned char s[32];
  fe_tobytes(s, f);
  return s[0] & 1;
}

/* z^(2^250 - 1), shared by inversion and the square-root exponent; also returns z^11. */
static void fe_pow_2_250_1(fe *out, fe *z11, const fe *z) {
  fe z2, z9, t, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0;
  fe_sq(&z2, z);
  fe_sq_n(&t, &z2, 2);
  fe_mul(&z9, &t, z);
  fe_mul(z11, &z9, &z2);
  fe_sq(&t, z11);
  fe_mul(&z2_5_0, &t, &z9); /* z^(2^5 - 1) */
  fe_sq_n(&t, &z2_5_0, 5);
  fe_mul(&z2_10_0, &t, &z2_5_0);
  fe_sq_n(&t, &z2_10_0, 10);
  fe_mul(&z2_20_0, &t, &z2_10_0);
  fe_sq_n(&t, &z2_20_0, 20);
  fe_mul(&t, &t, &z2_20_0); /* 2^40 - 1 */
  fe_sq_n(&t, &t, 10);
  fe_mul(&z2_50_0, &t, &z2_10_0);
  fe_sq_n(&t, &z2_50_0, 50);
  fe_mul(&z2_100_0, &t, &z2_50_0);
  fe_sq_n(&t, &z2_100_0, 100);
  fe_mul(&t, &t, &z2_100_0); /* 2^200 - 1 */
  fe_sq_n(&t, &t, 50);
  fe_mul(out, &t, &z2_50_0); /* 2^250 - 1 */
}

/* z^(p - 2) = z^(2^255 - 21) = 1/z (0 for 0). */
static void fe_invert(fe *out, const fe *z) {
  fe t, z11;
  fe_pow_2_250_1(&t, &z11, z);
  fe_sq_n(&t, &t, 5);
  fe_mul(out, &t, &z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3). */
static void fe_pow22523(fe *out, const fe *z) {
  fe t, z11;
  fe_pow_2_250_1(&t, &z11, z);
  fe_sq_n(&t, &t, 2);
  fe_mul(out, &t, z);
}

/* ---------------------------------------------------------------------------------------------
 * The curve -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032 §5.1). Constants are set once per process by
 * init_constants (pthread_once), then only read.
 */
static fe D, D2, SQRT_M1;

typedef struct {
  fe X, Y, Z, T; /* x = X/Z, y = Y/Z, x y = T/Z */
} ge_p3;

typedef struct {
  fe E, F, G, H; /* the "completed" result of an addition: X = E F, Y = G H, Z = F G, T = E H */
} ge_p1p1;

/* Only table entries have this type. 120 bytes, aligned to 64 and so padded to 128: an entry
 * then spans two cache lines, never three (about 3 % faster with 800 keys' tables in turn). */
typedef struct {
  fe ypx, ymx, xy2d; /* an affine point prepared for mixed addition: y + x, y - x, 2 d x y */
} __attribute__((aligned(64))) ge_niels;

typedef struct {
  fe YpX, YmX, Z, T2d; /* a projective point prepared for addition */
} ge_cached;

/* 8 multiples (1..8) of 256^j P for j = 0..31: enough for any scalar below 2^256 in signed
 * radix 16, two digits per j (see scalar_digits and double_fixed_mul). */
typedef struct {
  ge_niels m[32][8];
} ge_table;

static void p3_identity(ge_p3 *r) {
  fe_set_small(&r->X, 0);
  fe_set_small(&r->Y, 1);
  fe_set_small(&r->Z, 1);
  fe_set_small(&r->T, 0);
}

static void p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p) {
  fe_mul(&r->X, &p->E, &p->F);
  fe_mul(&r->Y, &p->G, &p->H);
  fe_mul(&r->Z, &p->F, &p->G);
  fe_mul(&r->T, &p->E, &p->H);
}

/* 2P (dbl-2008-hwcd with a = -1); T of the input is not used. */
static void p3_dbl(ge_p1p1 *r, const ge_p3 *p) {
  fe A, B, C, s;
  fe_sq(&A, &p->X);
  fe_sq(&B, &p->Y);
  fe_sq(&C, &p->Z);
  fe_add(&C, &C, &C);
  fe_add(&s, &p->X, &p->Y);
  fe_sq(&s, &s);
  fe_add(&r->H, &A, &B); /* -H of the paper; E, G, F below are negated too, so products agree */
  fe_sub(&r->E, &r->H, &s);
  fe_sub(&r->G, &A, &B);
  fe_add(&r->F, &C, &r->G); /* a sum and a difference: below 2^53.81, the largest loose value */
}

/* P + q (sign > 0) or P - q (sign < 0) for a prepared affine q (madd-2008-hwcd-2, a = -1). */
static void p3_madd(ge_p1p1 *r, const ge_p3 *p, const ge_niels *q, int sign) {
  fe a, b, c, d, ypx, ymx;
  fe_add(&ypx, &p->Y, &p->X);
  fe_sub(&ymx, &p->Y, &p->X);
  fe_mul(&a, &ymx, sign > 0 ? &q->ymx : &q->ypx);
  fe_mul(&b, &ypx, sign > 0 ? &q->ypx : &q->ymx);
  fe_mul(&c, &p->T, &q->xy2d);
  fe_add(&d, &p->Z, &p->Z);
  fe_sub(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  if (sign > 0) {
    fe_sub(&r->F, &d, &c);
    fe_add(&r->G, &d, &c);
  } else {
    fe_add(&r->F, &d, &c);
    fe_sub(&r->G, &d, &c);
  }
}

static void p3_to_cached(ge_cached *r, const ge_p3 *p) {
  fe_add(&r->YpX, &p->Y, &p->X);
  fe_sub(&r->YmX, &p->Y, &p->X);
  r->Z = p->Z;
  fe_mul(&r->T2d, &p->T, &D2);
}

/* P + Q for a prepared projective Q (add-2008-hwcd-3, a = -1). */
static void p3_add(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q) {
  fe a, b, c, d, ypx, ymx;
  fe_add(&ypx, &p->Y, &p->X);
  fe_sub(&ymx, &p->Y, &p->X);
  fe_mul(&a, &ymx, &q->YmX);
  fe_mul(&b, &ypx, &q->YpX);
  fe_mul(&c, &p->T, &q->T2d);
  fe_mul(&d, &p->Z, &q->Z);
  fe_add(&d, &d, &d);
  fe_sub(&r->E, &b, &a);
  fe_add(&r->H, &b, &a);
  fe_sub(&r->F, &d, &c);
  fe_add(&r->G, &d, &c);
}

/*
 * Decodes the point with y = Y (given as a field element, known below p) and the x sign bit,
 * as RFC 8032 §5.1.3 steps 2-4: x^2 = (y^2 - 1) / (d y^2 + 1). Returns 0 if x^2 has no root.
 */
static int point_from_y(ge_p3 *r, const fe *y, int sign) {
  fe u, v, v3, vxx, check, x, t;
  fe one;
  fe_set_small(&one, 1);
  fe_sq(&u, y);
  fe_mul(&v, &u, &D);
  fe_sub(&u, &u, &one); /* u = y^2 - 1 */
  fe_carry(&u);          /* tight: it is subtracted below */
  fe_add(&v, &v, &one); /* v = d y^2 + 1 */
  fe_sq(&v3, &v);
  fe_mul(&v3, &v3, &v); /* v^3 */
  fe_sq(&t, &v3);
  fe_mul(&t, &t, &v);
  fe_mul(&t, &t, &u); /* u v^7 */
  fe_pow22523(&t, &t);
  fe_mul(&t, &t, &v3);
  fe_mul(&x, &t, &u); /* x = u v^3 (u v^7)^((p-5)/8) */
  fe_sq(&vxx, &x);
  fe_mul(&vxx, &vxx, &v);
  fe_sub(&check, &vxx, &u);
  if (!fe_is_zero(&check)) {
    fe_add(&check, &vxx, &u);
    if (!fe_is_zero(&check)) return 0;
    fe_mul(&x, &x, &SQRT_M1);
  }
  if (fe_is_negative(&x) != sign) fe_neg(&x, &x);
  r->X = x;
  r->Y = *y;
  fe_set_small(&r->Z, 1);
  fe_mul(&r->T, &x, y);
  return 1;
}

/* The 255-bit y of an encoding is below p (sign bit ignored). */
static int y_is_canonical(const unsigned char s[32]) {
  if ((s[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i > 0; i--)
    if (s[i] != 0xff) return 1;
  return s[0] < 0xed;
}

/*
 * The encoding's y (sign bit ignored) is that of a point of order 1, 2, 4 or 8: y^2 = 1 (orders
 * 1, 2), y = 0 (order 4), or d y^4 + 2 y^2 - 1 = 0 (order 8: 2P has y = 0 exactly when
 * x^2 = -y^2, and the curve equation then gives this). Of the non-canonical values
 * (p .. 2^255 - 1), p and p + 1 stand for 0 and 1 and count as such.
 */
static int has_small_order(const unsigned char s[32]) {
  fe y, y2, t;
  if (!y_is_canonical(s)) {
    unsigned char r[32];
    memcpy(r, s, 32);
    r[31] &= 0x7f;
    /* y - p in 0..18: p + 0 and p + 1 are the only small-order ones. */
    return r[0] == 0xed || r[0] == 0xee;
  }
  fe_frombytes(&y, s);
  if (fe_is_zero(&y)) return 1;
  fe_sq(&y2, &y);
  fe_set_small(&t, 1);
  if (fe_equal(&y2, &t)) return 1;
  fe_sq(&t, &y2);
  fe_mul(&t, &t, &D);
  fe_add(&t, &t, &y2);
  fe_add(&t, &t, &y2);
  fe_set_small(&y2, 1);
  fe_sub(&t, &t, &y2);
  return fe_is_zero(&t);
}

/* Affine prepared forms of n projective points, with one inversion (Montgomery's trick). */
static int normalize_batch(ge_niels *out, const ge_p3 *in, int n) {
  fe *acc = (fe *)malloc(sizeof(fe) * (size_t)n);
  if (acc == NULL) return 0;
  fe inv, t, x, y;
  acc[0] = in[0].Z;
  for (int i = 1; i < n; i++) fe_mul(&acc[i], &acc[i - 1], &in[i].Z);
  fe_invert(&inv, &acc[n - 1]);
  for (int i = n - 1; i >= 0; i--) {
    fe zinv;
    if (i > 0) {
      fe_mul(&zinv, &inv, &acc[i - 1]);
      fe_mul(&inv, &inv, &in[i].Z);
    } else {
      zinv = inv;
    }
    fe_mul(&x, &in[i].X, &zinv);
    fe_mul(&y, &in[i].Y, &zinv);
    fe_add(&out[i].ypx, &y, &x);
    fe_sub(&out[i].ymx, &y, &x);
    fe_mul(&t, &x, &y);
    fe_mul(&out[i].xy2d, &t, &D2);
  }
  free(acc);
  return 1;
}

/* Memory for a table or what holds one, aligned for its entries; freed with free(). */
static void *aligned_new(size_t size) {
  void *p = NULL;
  return posix_memalign(&p, _Alignof(ge_niels), size) == 0 ? p : NULL;
}

/* T->m[j][k] = (k + 1) 256^j P. */
static int build_table(ge_table *T, const ge_p3 *P) {
  ge_p3 *pts = (ge_p3 *)malloc(sizeof(ge_p3) * 256);
  if (pts == NULL) return 0;
  ge_p3 base = *P;
  ge_p1p1 r;
  ge_cached c;
  for (int j = 0; j < 32; j++) {
    pts[8 * j] = base;
    p3_to_cached(&c, &base);
    for (int k = 1; k < 8; k++) {
      p3_add(&r, &pts[8 * j + k - 1], &c);
      p1p1_to_p3(&pts[8 * j + k], &r);
    }
    /* 256 base = 32 (8 base) */
    ge_p3 t = pts[8 * j + 7];
    for (int i = 0; i < 5; i++) {
      p3_dbl(&r, &t);
      p1p1_to_p3(&t, &r);
    }
    base = t;
  }
  int ok = normalize_batch(&T->m[0][0], pts, 256);
  free(pts);
  return ok;
}

/* A scalar below 2^253 as 64 signed radix-16 digits in [-8, 8]: a = sum e[i] 16^i. */
static void scalar_digits(signed char e[64], const unsigned char a[32]) {
  for (int i = 0; i < 32; i++) {
    e[2 * i] = (signed char)(a[i] & 15);
    e[2 * i + 1] = (signed char)(a[i] >> 4);
  }
  int carry = 0;
  for (int i = 0; i < 63; i++) {
    int d = e[i] + carry;
    carry = (d + 8) >> 4;
    e[i] = (signed char)(d - (carry << 4));
  }
  e[63] = (signed char)(e[63] + carry);
}

static void add_digit(ge_p3 *Q, const ge_table *T, int j, int digit) {
  if (digit == 0) return;
  ge_p1p1 r;
  if (digit > 0)
    p3_madd(&r, Q, &T->m[j][digit - 1], 1);
  else
    p3_madd(&r, Q, &T->m[j][-digit - 1], -1);
  p1p1_to_p3(Q, &r);
}

/* How far ahead entries of the second table are fetched: a key's table is rarely in cache when
 * many keys take turns, and its 60-odd entries would otherwise be fetched one miss at a time. */
#define PREFETCH_AHEAD 6

/* Always inlined: GCC counts a function that only prefetches as free of effects and deletes the
 * calls to it (seen with GCC 12 at -O1 and above: not one prefetch was left in the binary). */
static inline __attribute__((always_inline)) void prefetch_entry(const ge_table *T, int j, int digit) {
  if (digit == 0) return;
  const char *p = (const char *)&T->m[j][(digit > 0 ? digit : -digit) - 1];
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
}

/* [a] P + [b] Q from tables of P and Q: odd digits, times 16, then even digits. */
static void double_fixed_mul(ge_p3 *R, const ge_table *TP, const unsigned char a[32], const ge_table *TQ,
                             const unsigned char b[32]) {
  signed char ea[64], eb[64];
  scalar_digits(ea, a);
  scalar_digits(eb, b);
  /* Step i uses digit index order[i] at position i % 32: odd digits first, then even ones. */
  int order[64];
  for (int j = 0; j < 32; j++) {
    order[j] = 2 * j + 1;
    order[32 + j] = 2 * j;
  }
  for (int i = 0; i < PREFETCH_AHEAD; i++) prefetch_entry(TQ, i % 32, eb[order[i]]);
  p3_identity(R);
  for (int i = 0; i < 64; i++) {
    if (i + PREFETCH_AHEAD < 64) prefetch_entry(TQ, (i + PREFETCH_AHEAD) % 32, eb[order[i + PREFETCH_AHEAD]]);
    if (i == 32) {
      ge_p1p1 r;
      for (int k = 0; k < 4; k++) {
        p3_dbl(&r, R);
        p1p1_to_p3(R, &r);
      }
    }
    add_digit(R, TP, i % 32, ea[order[i]]);
    add_digit(R, TQ, i % 32, eb[order[i]]);
  }
}

/* ---------------------------------------------------------------------------------------------
 * Constants, the base point's table and L, set once per process.
 */
static ge_table *BASE_TABLE;
static unsigned char L_BYTES[32]; /* little-endian */
static int constants_ok;
static pthread_once_t constants_once = PTHREAD_ONCE_INIT;

static void init_constants(void) {
  fe a, b, one;
  /* d = -121665 / 121666 */
  fe_set_small(&a, 121665);
  fe_set_small(&b, 121666);
  fe_invert(&b, &b);
  fe_mul(&a, &a, &b);
  fe_neg(&D, &a);
  fe_add(&D2, &D, &D);
  /* sqrt(-1) = 2^((p - 1) / 4); (p - 1) / 4 = 2^253 - 5 = (2^252 - 3) * 2 + 1 */
  fe_set_small(&a, 2);
  fe_pow22523(&b, &a);
  fe_sq(&b, &b);
  fe_mul(&SQRT_M1, &b, &a);
  fe_sq(&b, &SQRT_M1);
  fe_set_small(&one, 1);
  fe_add(&b, &b, &one);
  if (!fe_is_zero(&b)) return;
  /* B: y = 4/5, x even (RFC 8032 §5.1) */
  ge_p3 B;
  fe_set_small(&a, 4);
  fe_set_small(&b, 5);
  fe_invert(&b, &b);
  fe_mul(&a, &a, &b);
  if (!point_from_y(&B, &a, 0)) return;
  BASE_TABLE = (ge_table *)aligned_new(sizeof(ge_table));
  if (BASE_TABLE == NULL || !build_table(BASE_TABLE, &B)) return;
  /* L = 2^252 + 27742317777372353535851937790883648493 */
  BIGNUM *L = BN_new(), *c = NULL;
  if (L != NULL && BN_dec2bn(&c, "27742317777372353535851937790883648493") != 0 && BN_set_bit(L, 252) == 1 &&
      BN_add(L, L, c) == 1 && BN_bn2lebinpad(L, L_BYTES, 32) == 32)
    constants_ok = 1;
  BN_free(L);
  BN_free(c);
}

/* S < L, comparing from the most significant byte. */
static int scalar_is_canonical(const unsigned char s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] < L_BYTES[i]) return 1;
    if (s[i] > L_BYTES[i]) return 0;
  }
  return 0;
}

/* Per Node environment (main thread, each worker): OpenSSL scratch for the reduction mod L. */
typedef struct {
  BN_CTX *ctx;
  BIGNUM *L, *h, *k;
} zl_state;

static void state_free(zl_state *st) {
  if (st == NULL) return;
  BN_free(st->L);
  BN_free(st->h);
  BN_free(st->k);
  BN_CTX_free(st->ctx);
  free(st);
}

static zl_state *state_new(void) {
  zl_state *st = (zl_state *)calloc(1, sizeof(zl_state));
  if (st == NULL) return NULL;
  st->ctx = BN_CTX_new();
  st->L = BN_lebin2bn(L_BYTES, 32, NULL);
  st->h = BN_new();
  st->k = BN_new();
  if (st->ctx == NULL || st->L == NULL || st->h == NULL || st->k == NULL) {
    state_free(st);
    return NULL;
  }
  return st;
}

typedef struct {
  unsigned char pk[32];
  ge_table table; /* of -A */
} zl_key;

#define ZL_KEY_BYTES ((int64_t)sizeof(zl_key))

static const napi_type_tag ZL_ED_KEY_TAG = {0x7a6c2d6564323535ULL, 0x31392d6b65792d68ULL};

/* A handle for pk, or NULL if libsodium would refuse every signature under it. */
static zl_key *key_new(const unsigned char pk[32]) {
  if (!y_is_canonical(pk) || has_small_order(pk)) return NULL;
  fe y;
  ge_p3 A;
  fe_frombytes(&y, pk);
  if (!point_from_y(&A, &y, pk[31] >> 7)) return NULL;
  fe_neg(&A.X, &A.X);
  fe_neg(&A.T, &A.T);
  zl_key *k = (zl_key *)aligned_new(sizeof(zl_key));
  if (k == NULL) return NULL;
  memcpy(k->pk, pk, 32);
  if (!build_table(&k->table, &A)) {
    free(k);
    return NULL;
  }
  return k;
}

/* k = SHA-512(R || A || M) mod L, little-endian; 0 if OpenSSL's big numbers failed (out of memory). */
static int challenge(zl_state *st, unsigned char k[32], const unsigned char R[32], const unsigned char A[32],
                     const unsigned char *m, size_t mlen) {
  unsigned char h[64];
  SHA512_CTX hs;
  SHA512_Init(&hs);
  SHA512_Update(&hs, R, 32);
  SHA512_Update(&hs, A, 32);
  SHA512_Update(&hs, m, mlen);
  SHA512_Final(h, &hs);
  return BN_lebin2bn(h, 64, st->h) != NULL && BN_nnmod(st->k, st->h, st->L, st->ctx) == 1 &&
         BN_bn2lebinpad(st->k, k, 32) == 32;
}

/* The encoding of the point P given 1/Z. */
static void p3_tobytes_zinv(unsigned char s[32], const ge_p3 *p, const fe *zinv) {
  fe x, y;
  fe_mul(&x, &p->X, zinv);
  fe_mul(&y, &p->Y, zinv);
  fe_tobytes(s, &y);
  s[31] ^= (unsigned char)(fe_is_negative(&x) << 7);
}

/* Signatures verified together, sharing one field inversion. */
#define BLOCK_MAX 64

/*
 * The hot path is compiled twice, for x86-64-v3 (mulx, which leaves the flags alone, takes about a
 * fifth off a verification on the machines measured) and for the baseline; the loader picks the
 * copy the CPU can run (GCC function multiversioning). `flatten` inlines the field and point
 * arithmetic into each copy, so the whole path is compiled for its target.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define ZL_HOT_PATH __attribute__((flatten, target_clones("arch=x86-64-v3", "default")))
#else
#define ZL_HOT_PATH __attribute__((flatten))
#endif

/*
 * Verifies n <= BLOCK_MAX signatures: out[i] = 1 if signature i (64 bytes) is valid for message i
 * under keys[i], else 0. Returns 0, or -1 if OpenSSL's big numbers failed (no answer then).
 *
 * Each check computes R' = [S]B - [k]A in projective coordinates; turning R' into its encoding
 * needs 1/Z, and the block's inverses come from one inversion (Montgomery's trick: invert the
 * product of all Z, then peel each factor off with two multiplications), which saves about a
 * fifth of a verification. The answers are those of verifying each signature alone. It is the
 * trick of normalize_batch, written out again on purpose: one helper for both, taking the block's
 * points after the loop, made a verification 4-7 % slower.
 */
ZL_HOT_PATH static int verify_block(zl_state *st, zl_key *const *keys, const unsigned char *const *msgs,
                                    const size_t *lens, const unsigned char *const *sigs, int n,
                                    unsigned char *out) {
  ge_p3 R[BLOCK_MAX];
  fe prefix[BLOCK_MAX]; /* prefix[j] = Z_0 Z_1 ... Z_j over the checks still open */
  int open[BLOCK_MAX];
  int count = 0;
  for (int i = 0; i < n; i++) {
    const unsigned char *sig = sigs[i];
    out[i] = 0;
    if (!scalar_is_canonical(sig + 32) || has_small_order(sig)) continue;
    unsigned char k[32];
    if (!challenge(st, k, sig, keys[i]->pk, msgs[i], lens[i])) return -1;
    ge_p3 point; /* a local rather than R[count]: measured about 5 % faster */
    double_fixed_mul(&point, BASE_TABLE, sig + 32, &keys[i]->table, k);
    R[count] = point;
    if (count == 0)
      prefix[0] = R[0].Z;
    else
      fe_mul(&prefix[count], &prefix[count - 1], &R[count].Z);
    open[count++] = i;
  }
  if (count == 0) return 0;
  unsigned char check[32];
  if (fe_is_zero(&prefix[count - 1])) {
    /* Some Z is 0, which the complete formulas never give for points of the curve: each alone. */
    for (int j = 0; j < count; j++) {
      fe zinv;
      fe_invert(&zinv, &R[j].Z);
      p3_tobytes_zinv(check, &R[j], &zinv);
      out[open[j]] = memcmp(check, sigs[open[j]], 32) == 0;
    }
    return 0;
  }
  fe inv; /* 1 / (Z_0 ... Z_j) as j goes down */
  fe_invert(&inv, &prefix[count - 1]);
  for (int j = count - 1; j >= 0; j--) {
    fe zinv;
    if (j > 0) {
      fe_mul(&zinv, &inv, &prefix[j - 1]);
      fe_mul(&inv, &inv, &R[j].Z);
    } else {
      zinv = inv;
    }
    p3_tobytes_zinv(check, &R[j], &zinv);
    out[open[j]] = memcmp(check, sigs[open[j]], 32) == 0;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Node-API glue.
 */
static zl_state *get_state(napi_env env) { return (zl_state *)zl_instance_data(env); }

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_free((zl_state *)data);
}

static zl_key *get_key(napi_env env, napi_value v) {
  return (zl_key *)zl_tagged_external(env, v, &ZL_ED_KEY_TAG);
}

static napi_value js_verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return zl_make_bool(env, 0);
  zl_state *st = get_state(env);
  zl_key *key = get_key(env, argv[0]);
  const unsigned char *m, *sig;
  size_t mlen, sig_len;
  if (st == NULL || key == NULL || !zl_get_bytes(env, argv[1], &m, &mlen) || !zl_get_bytes(env, argv[2], &sig, &sig_len) ||
      sig_len != 64)
    return zl_make_bool(env, 0);
  unsigned char ok;
  if (verify_block(st, &key, &m, &mlen, &sig, 1, &ok) < 0) {
    /* Not an answer: the caller verifies with libsodium instead. */
    napi_throw_error(env, "ZL_ED25519_INTERNAL", "zl_ed25519: reduction mod L failed");
    return NULL;
  }
  return zl_make_bool(env, ok);
}

/* verifyBatch(keys, messages, signatures, out): out[i] = 1 or 0 for each item, where an item
 * that verify() would answer false for its arguments' types or lengths gets 0. */
static napi_value js_verify_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) goto bad_arguments;
  zl_state *st = get_state(env);
  uint32_t n = 0, n_msgs = 0, n_sigs = 0;
  unsigned char *out;
  size_t out_len;
  if (st == NULL || napi_get_array_length(env, argv[0], &n) != napi_ok ||
      napi_get_array_length(env, argv[1], &n_msgs) != napi_ok ||
      napi_get_array_length(env, argv[2], &n_sigs) != napi_ok || n_msgs != n || n_sigs != n ||
      !zl_get_bytes(env, argv[3], (const unsigned char **)&out, &out_len) || out_len < n)
    goto bad_arguments;
  zl_key *keys[BLOCK_MAX];
  const unsigned char *msgs[BLOCK_MAX], *sigs[BLOCK_MAX];
  size_t lens[BLOCK_MAX];
  unsigned char ok[BLOCK_MAX];
  int at[BLOCK_MAX]; /* index in the batch of each item of the block */
  int count = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value key_v, msg_v, sig_v;
    size_t sig_len;
    out[i] = 0;
    if (napi_get_element(env, argv[0], i, &key_v) != napi_ok || napi_get_element(env, argv[1], i, &msg_v) != napi_ok ||
        napi_get_element(env, argv[2], i, &sig_v) != napi_ok)
      goto bad_arguments;
    keys[count] = get_key(env, key_v);
    if (keys[count] == NULL || !zl_get_bytes(env, msg_v, &msgs[count], &lens[count]) ||
        !zl_get_bytes(env, sig_v, &sigs[count], &sig_len) || sig_len != 64)
      continue;
    at[count++] = (int)i;
    if (count == BLOCK_MAX) {
      if (verify_block(st, keys, msgs, lens, sigs, count, ok) < 0) goto internal;
      for (int j = 0; j < count; j++) out[at[j]] = ok[j];
      count = 0;
    }
  }
  if (count > 0) {
    if (verify_block(st, keys, msgs, lens, sigs, count, ok) < 0) goto internal;
    for (int j = 0; j < count; j++) out[at[j]] = ok[j];
  }
  return NULL;
bad_arguments:
  napi_throw_type_error(env, "ZL_ED25519_ARGUMENTS",
                        "zl_ed25519: verifyBatch(keys[], messages[], signatures[], out) with arrays of one length");
  return NULL;
internal:
  napi_throw_error(env, "ZL_ED25519_INTERNAL", "zl_ed25519: reduction mod L failed");
  return NULL;
}

static void finalize_key(napi_env env, void *data, void *hint) {
  (void)hint;
  int64_t adjusted;
  napi_adjust_external_memory(env, -ZL_KEY_BYTES, &adjusted);
  free(data);
}

static napi_value js_key_handle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result = NULL;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return result;
  const unsigned char *pk;
  size_t len;
  if (!zl_get_bytes(env, argv[0], &pk, &len) || len != 32) return result;
  zl_key *k = key_new(pk);
  if (k == NULL) return result;
  napi_value ext;
  if (napi_create_external(env, k, finalize_key, NULL, &ext) != napi_ok) {
    free(k);
    return result;
  }
  int64_t adjusted;
  napi_adjust_external_memory(env, ZL_KEY_BYTES, &adjusted);
  if (napi_type_tag_object(env, ext, &ZL_ED_KEY_TAG) != napi_ok) return result;
  return ext;
}

NAPI_MODULE_INIT() {
  pthread_once(&constants_once, init_constants);
  zl_state *st = constants_ok ? state_new() : NULL;
  if (st == NULL) {
    napi_throw_error(env, "ZL_ED25519_INIT", "zl_ed25519: could not set up the curve constants");
    return NULL;
  }
  if (napi_set_instance_data(env, st, finalize_state, NULL) != napi_ok) {
    state_free(st);
    napi_throw_error(env, "ZL_ED25519_INIT", "zl_ed25519: napi_set_instance_data failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"verify", NULL, js_verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyBatch", NULL, js_verify_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"keyHandle", NULL, js_key_handle, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
