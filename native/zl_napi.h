/*
 * Node-API argument helpers shared by the native verifiers (sm2_verify.c, ed25519_verify.c).
 */
#ifndef ZL_NAPI_H
#define ZL_NAPI_H

#include <node_api.h>

/* Bytes of a Uint8Array (or Buffer) argument; 0 on anything else. An empty array yields a
 * non-NULL pointer to no bytes, so callers never see NULL. */
static int zl_get_bytes(napi_env env, napi_value v, const unsigned char **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  size_t length = 0;
  void *ptr = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  if (ptr == NULL && length != 0) return 0;
  static const unsigned char empty[1] = {0};
  *data = ptr == NULL ? empty : (const unsigned char *)ptr;
  *len = length;
  return 1;
}

static napi_value zl_make_bool(napi_env env, int v) {
  napi_value out = NULL;
  napi_get_boolean(env, v ? true : false, &out);
  return out;
}

/* The data of an external this addon made and tagged with `tag`, or NULL for anything else. */
static void *zl_tagged_external(napi_env env, napi_value v, const napi_type_tag *tag) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external) return NULL;
  bool ours = false;
  if (napi_check_object_type_tag(env, v, tag, &ours) != napi_ok || !ours) return NULL;
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

/* This environment's (thread's) state, set at module init with napi_set_instance_data. */
static void *zl_instance_data(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

#endif
