/*
 * zl_sm2: the SM2 signature verification equation (GB/T 32918.2-2016 §7.1, steps B1-B2 and
 * B4-B7) on OpenSSL's SM2 curve, as a Node-API addon.
 *
 * The caller computes e = SM3(Z_A || M) (step B3) and passes it in; this file only does the
 * public-key arithmetic:
 *
 *   r, s in [1, n-1];  t = (r + s) mod n, t != 0;  (x1, y1) = [s]G + [t]P_A;
 *   accept iff (e + x1) mod n == r.
 *
 * OpenSSL is the one statically linked into the node binary (its symbols are exported to
 * addons); headers come from <nodedir>/include/node/openssl. Nothing here is secret, so the
 * variable-time wNAF multi-scalar multiplication inside EC_POINT_mul is fine (OpenSSL's own
 * SM2 verify uses the same call).
 *
 * Threads: every Node environment (main thread, each worker_thread) gets its own instance
 * data (group with a precomputed generator table, BN_CTX, scratch BIGNUMs and points), set
 * with napi_set_instance_data and freed by its finalizer. JS in one environment runs on one
 * thread and these functions never call back into JS, so the scratch state is never shared.
 *
 * Errors: malformed input never throws and never crashes; it yields false / null. OpenSSL
 * errors raised while parsing bad points are popped off this thread's error queue (set/pop
 * mark) so they cannot leak into node:crypto's error reporting.
 *
 * Exports:
 *   verify(key: Uint8Array(33|65) | KeyHandle, e: Uint8Array(32), sig: Uint8Array(64)) -> boolean
 *   decodePublicKey(pub: Uint8Array(33|65)) -> Uint8Array(65) | null
 *       (validated uncompressed 04||x||y, used by JS to compute Z_A and as the cache form)
 *   keyHandle(pub: Uint8Array(33|65), table: boolean) -> KeyHandle | null
 *       An opaque external holding the parsed point and, with table = true, a fixed-base
 *       precomputation for it (a copy of the SM2 group whose "generator" is P_A, run through
 *       EC_GROUP_precompute_mult; about 0.5-0.7 ms and ~80 KB). With a table, [t]P_A and [s]G are
 *       both fixed-base multiplications and are added, instead of one wNAF [s]G + [t]P_A
 *       (~2.3x faster). Freed by the GC when JS drops the handle (the caller's key cache).
 *
 * No batch entry point: a call costs ~0.2-0.3 us against >= 110 us per verification, and a
 * packed-buffer batch variant measured no faster.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_GROUP_precompute_mult, EC_POINTs_mul: present in all 3.x */
#define NAPI_VERSION 8
#include <node_api.h>

#include "zl_napi.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>

#include <stdlib.h>
#include <string.h>

#if OPENSSL_VERSION_NUMBER < 0x10101000L
#error "OpenSSL >= 1.1.1 (with SM2) required"
#endif
#ifdef OPENSSL_NO_SM2
#error "this OpenSSL was built without SM2"
#endif

typedef struct {
  EC_GROUP *group;
  const BIGNUM *n; /* owned by group */
  BN_CTX *ctx;
  BIGNUM *r, *s, *t, *e, *x1, *zero;
  EC_POINT *P, *R, *R2;
} zl_state;

/* A parsed public key owned by a JS external. */
typedef struct {
  EC_POINT *P;
  EC_GROUP *gP; /* NULL, or the SM2 group with generator P_A and its precomputed multiples */
  int64_t mem;  /* bytes reported to V8 via napi_adjust_external_memory */
} zl_key;

static const napi_type_tag ZL_KEY_TAG = {0x7a6c2d736d322d6bULL, 0x65792d68616e646cULL};

static void key_free(zl_key *k) {
  if (k == NULL) return;
  EC_POINT_free(k->P);
  EC_GROUP_free(k->gP);
  free(k);
}

static void state_free(zl_state *st) {
  if (st == NULL) return;
  EC_POINT_free(st->P);
  EC_POINT_free(st->R);
  EC_POINT_free(st->R2);
  BN_free(st->zero);
  BN_free(st->r);
  BN_free(st->s);
  BN_free(st->t);
  BN_free(st->e);
  BN_free(st->x1);
  BN_CTX_free(st->ctx);
  EC_GROUP_free(st->group);
  free(st);
}

static zl_state *state_new(void) {
  zl_state *st = (zl_state *)calloc(1, sizeof(zl_state));
  if (st == NULL) return NULL;
  ERR_set_mark();
  st->group = EC_GROUP_new_by_curve_name(NID_sm2);
  st->ctx = BN_CTX_new();
  st->r = BN_new();
  st->s = BN_new();
  st->t = BN_new();
  st->e = BN_new();
  st->x1 = BN_new();
  st->zero = BN_new();
  if (st->group == NULL || st->ctx == NULL || st->r == NULL || st->s == NULL || st->t == NULL ||
      st->e == NULL || st->x1 == NULL || st->zero == NULL)
    goto fail;
  BN_zero(st->zero);
  st->n = EC_GROUP_get0_order(st->group);
  st->P = EC_POINT_new(st->group);
  st->R = EC_POINT_new(st->group);
  st->R2 = EC_POINT_new(st->group);
  if (st->n == NULL || st->P == NULL || st->R == NULL || st->R2 == NULL) goto fail;
  /* Fixed-base table for G: used by EC_POINT_mul for [s]G (small gain in the combined wNAF
   * multiplication, large in the two-table path for keys with a handle). */
  if (EC_GROUP_precompute_mult(st->group, st->ctx) != 1) goto fail;
  ERR_pop_to_mark();
  return st;
fail:
  ERR_pop_to_mark();
  state_free(st);
  return NULL;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_free((zl_state *)data);
}

static zl_state *get_state(napi_env env) { return (zl_state *)zl_instance_data(env); }

/* SEC1 encodings accepted (same set as the pure-JS path): 02|03 || x (33), 04 || x || y (65).
 * OpenSSL would also take hybrid 06|07 and the 1-byte infinity encoding; both are refused. */
static int pub_form_ok(const unsigned char *pub, size_t len) {
  if (len == 33) return pub[0] == 0x02 || pub[0] == 0x03;
  if (len == 65) return pub[0] == 0x04;
  return 0;
}

/* Parse and validate P_A into st->P. Caller holds an error mark. */
static int load_point(zl_state *st, const unsigned char *pub, size_t len) {
  if (!pub_form_ok(pub, len)) return 0;
  if (EC_POINT_oct2point(st->group, st->P, pub, len, st->ctx) != 1) return 0;
  if (EC_POINT_is_at_infinity(st->group, st->P)) return 0;
  if (EC_POINT_is_on_curve(st->group, st->P, st->ctx) != 1) return 0;
  return 1; /* cofactor h = 1: every curve point other than O has order n */
}

/* GB/T 32918.2 §7.1 steps B1, B2, B5 (scalars into st->r, st->s, st->t). */
static int load_scalars(zl_state *st, const unsigned char *sig, size_t sig_len) {
  if (sig_len != 64) return 0;
  /* B1, B2: r, s in [1, n-1]. */
  if (BN_bin2bn(sig, 32, st->r) == NULL || BN_bin2bn(sig + 32, 32, st->s) == NULL) return 0;
  if (BN_is_zero(st->r) || BN_cmp(st->r, st->n) >= 0) return 0;
  if (BN_is_zero(st->s) || BN_cmp(st->s, st->n) >= 0) return 0;
  /* B5: t = (r + s) mod n, t != 0. */
  if (BN_mod_add(st->t, st->r, st->s, st->n, st->ctx) != 1 || BN_is_zero(st->t)) return 0;
  return 1;
}

/* Steps B6, B7 for a validated point P (and optional fixed-base group gP for it). */
static int finish(zl_state *st, const EC_POINT *P, const EC_GROUP *gP, const unsigned char *e) {
  /* B6: (x1, y1) = [s]G + [t]P_A. */
  if (gP == NULL) {
    if (EC_POINT_mul(st->group, st->R, st->s, P, st->t, st->ctx) != 1) return 0;
  } else {
    /* Both halves as "generator" multiplications with a zero-scalar dummy point, which
     * keeps OpenSSL on its (variable-time, table-using) wNAF path instead of the ladder. */
    const EC_POINT *pts[1] = {P};
    const BIGNUM *zs[1] = {st->zero};
    if (EC_POINTs_mul(gP, st->R2, st->t, 1, pts, zs, st->ctx) != 1) return 0;
    if (EC_POINTs_mul(st->group, st->R, st->s, 1, pts, zs, st->ctx) != 1) return 0;
    if (EC_POINT_add(st->group, st->R, st->R, st->R2, st->ctx) != 1) return 0;
  }
  if (EC_POINT_is_at_infinity(st->group, st->R)) return 0;
  if (EC_POINT_get_affine_coordinates(st->group, st->R, st->x1, NULL, st->ctx) != 1) return 0;
  /* B7: R = (e + x1) mod n == r. */
  if (BN_bin2bn(e, 32, st->e) == NULL) return 0;
  if (BN_mod_add(st->x1, st->e, st->x1, st->n, st->ctx) != 1) return 0;
  return BN_cmp(st->x1, st->r) == 0;
}

/* GB/T 32918.2 §7.1 with e given and the key as SEC1 bytes. Returns 1 iff valid. */
static int verify_one(zl_state *st, const unsigned char *pub, size_t pub_len, const unsigned char *e,
                      size_t e_len, const unsigned char *sig, size_t sig_len) {
  if (e_len != 32 || !load_scalars(st, sig, sig_len)) return 0;
  if (!load_point(st, pub, pub_len)) return 0;
  return finish(st, st->P, NULL, e);
}

/* The zl_key behind a KeyHandle, or NULL if v is not one of ours. */
static zl_key *get_key(napi_env env, napi_value v) {
  return (zl_key *)zl_tagged_external(env, v, &ZL_KEY_TAG);
}

static napi_value js_verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    return zl_make_bool(env, 0);
  zl_state *st = get_state(env);
  if (st == NULL) return zl_make_bool(env, 0);
  const unsigned char *pub = NULL, *e, *sig;
  size_t pub_len = 0, e_len, sig_len;
  zl_key *key = get_key(env, argv[0]);
  if ((key == NULL && !zl_get_bytes(env, argv[0], &pub, &pub_len)) || !zl_get_bytes(env, argv[1], &e, &e_len) ||
      !zl_get_bytes(env, argv[2], &sig, &sig_len))
    return zl_make_bool(env, 0);
  ERR_set_mark();
  int ok;
  if (key != NULL)
    ok = e_len == 32 && load_scalars(st, sig, sig_len) && finish(st, key->P, key->gP, e);
  else
    ok = verify_one(st, pub, pub_len, e, e_len, sig, sig_len);
  ERR_pop_to_mark();
  return zl_make_bool(env, ok);
}

static napi_value js_decode_public_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result = NULL;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return result;
  zl_state *st = get_state(env);
  if (st == NULL) return result;
  const unsigned char *pub;
  size_t pub_len;
  if (!zl_get_bytes(env, argv[0], &pub, &pub_len)) return result;
  unsigned char out[65];
  ERR_set_mark();
  int ok = load_point(st, pub, pub_len) &&
           EC_POINT_point2oct(st->group, st->P, POINT_CONVERSION_UNCOMPRESSED, out, sizeof out,
                              st->ctx) == sizeof out;
  ERR_pop_to_mark();
  if (!ok) return result;
  napi_value ab, ta;
  void *ab_data = NULL;
  if (napi_create_arraybuffer(env, sizeof out, &ab_data, &ab) != napi_ok) return result;
  memcpy(ab_data, out, sizeof out);
  if (napi_create_typedarray(env, napi_uint8_array, sizeof out, ab, 0, &ta) != napi_ok) return result;
  return ta;
}

static void finalize_key(napi_env env, void *data, void *hint) {
  (void)hint;
  zl_key *k = (zl_key *)data;
  if (k == NULL) return;
  int64_t adjusted;
  if (k->mem != 0) napi_adjust_external_memory(env, -k->mem, &adjusted);
  key_free(k);
}

/* Rough heap size of a precomputed group: 32 blocks x 8 points, each EC_POINT with three
 * 256-bit BIGNUMs, plus the group copy: ~80 KB of RSS measured per table. */
#define ZL_TABLE_BYTES (80 * 1024)

static napi_value js_key_handle(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_value result = NULL;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return result;
  zl_state *st = get_state(env);
  if (st == NULL) return result;
  const unsigned char *pub;
  size_t pub_len;
  if (!zl_get_bytes(env, argv[0], &pub, &pub_len)) return result;
  bool table = false;
  if (argc >= 2 && napi_get_value_bool(env, argv[1], &table) != napi_ok) table = false;
  zl_key *k = (zl_key *)calloc(1, sizeof(zl_key));
  if (k == NULL) return result;
  ERR_set_mark();
  int ok = load_point(st, pub, pub_len) && (k->P = EC_POINT_dup(st->P, st->group)) != NULL;
  if (ok && table) {
    ok = (k->gP = EC_GROUP_dup(st->group)) != NULL &&
         EC_GROUP_set_generator(k->gP, k->P, st->n, BN_value_one()) == 1 &&
         EC_GROUP_precompute_mult(k->gP, st->ctx) == 1;
  }
  ERR_pop_to_mark();
  napi_value ext;
  if (!ok || napi_create_external(env, k, finalize_key, NULL, &ext) != napi_ok) {
    key_free(k);
    return result;
  }
  /* From here on the finalizer owns k. */
  if (napi_type_tag_object(env, ext, &ZL_KEY_TAG) != napi_ok) return result;
  if (k->gP != NULL) {
    int64_t adjusted;
    k->mem = ZL_TABLE_BYTES;
    napi_adjust_external_memory(env, k->mem, &adjusted);
  }
  return ext;
}

NAPI_MODULE_INIT() {
  zl_state *st = state_new();
  if (st == NULL) {
    napi_throw_error(env, "ZL_SM2_INIT", "zl_sm2: could not set up the OpenSSL SM2 group");
    return NULL;
  }
  if (napi_set_instance_data(env, st, finalize_state, NULL) != napi_ok) {
    state_free(st);
    napi_throw_error(env, "ZL_SM2_INIT", "zl_sm2: napi_set_instance_data failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"verify", NULL, js_verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decodePublicKey", NULL, js_decode_public_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"keyHandle", NULL, js_key_handle, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
