/**
 * SM4 block cipher (GB/T 32907-2016) via Node's OpenSSL, and the gm suite's authenticated
 * encryption (encrypt-then-MAC), plus AES-256-GCM for the intl suite.
 *
 * gm seal(key K, 16 bytes):
 *   K_enc = HMAC-SM3(K, "ZhengLian/SM4-CTR/enc")[0..16)     (16 bytes)
 *   K_mac = HMAC-SM3(K, "ZhengLian/HMAC-SM3/mac")           (32 bytes)
 *   IV    = 16 random bytes (the full initial counter block)
 *   C     = SM4-CTR(K_enc, IV, P)
 *   T     = HMAC-SM3(K_mac, IV || uint64be(len(AD)) || AD || C)   (32 bytes)
 *   output = IV || C || T
 * open recomputes T (constant-time compare) before decrypting; any mismatch throws
 * InvalidInputError("CRYPTO_DECRYPT_FAILED").
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidInputError } from "../errors/index.js";

const ENC_LABEL = Buffer.from("ZhengLian/SM4-CTR/enc", "ascii");
const MAC_LABEL = Buffer.from("ZhengLian/HMAC-SM3/mac", "ascii");
export const SM4_IV_LENGTH = 16;
export const SM4_TAG_LENGTH = 32;
export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

const EMPTY = new Uint8Array(0);

function checkKey(key: Uint8Array, len: number, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== len) {
    throw new InvalidInputError("CRYPTO_BAD_KEY", `${what} key must be ${len} bytes`, {
      length: key?.length,
    });
  }
}

function decryptFailed(): InvalidInputError {
  return new InvalidInputError(
    "CRYPTO_DECRYPT_FAILED",
    "decryption failed: ciphertext or associated data is corrupt or the key is wrong",
  );
}

/** Raw SM4 block encryption (ECB, no padding); input length must be a multiple of 16. */
export function sm4EncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, 16, "SM4");
  const c = createCipheriv("sm4-ecb", key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

export function sm4DecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, 16, "SM4");
  const d = createDecipheriv("sm4-ecb", key, null);
  d.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
}

/** SM4-CBC with PKCS#7 padding. */
export function sm4EncryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, 16, "SM4");
  const c = createCipheriv("sm4-cbc", key, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

export function sm4DecryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, 16, "SM4");
  try {
    const d = createDecipheriv("sm4-cbc", key, iv);
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  } catch {
    throw decryptFailed();
  }
}

function sm4Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv("sm4-ctr", key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

function subkeys(key: Uint8Array): { enc: Buffer; mac: Buffer } {
  return {
    enc: createHmac("sm3", key).update(ENC_LABEL).digest().subarray(0, 16),
    mac: createHmac("sm3", key).update(MAC_LABEL).digest(),
  };
}

function macOf(macKey: Uint8Array, iv: Uint8Array, ad: Uint8Array, ct: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(ad.length));
  return createHmac("sm3", macKey).update(iv).update(len).update(ad).update(ct).digest();
}

/** gm suite AEAD: SM4-CTR + HMAC-SM3 (see module doc). Output IV || C || T. */
export function sm4Seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array = EMPTY,
): Uint8Array {
  checkKey(key, 16, "SM4");
  const { enc, mac } = subkeys(key);
  const iv = randomBytes(SM4_IV_LENGTH);
  const ct = sm4Ctr(enc, iv, plaintext);
  const tag = macOf(mac, iv, associatedData, ct);
  return new Uint8Array(Buffer.concat([iv, ct, tag]));
}

export function sm4Open(key: Uint8Array, sealed: Uint8Array, associatedData: Uint8Array = EMPTY): Uint8Array {
  checkKey(key, 16, "SM4");
  if (!(sealed instanceof Uint8Array) || sealed.length < SM4_IV_LENGTH + SM4_TAG_LENGTH)
    throw decryptFailed();
  const { enc, mac } = subkeys(key);
  const iv = sealed.subarray(0, SM4_IV_LENGTH);
  const ct = sealed.subarray(SM4_IV_LENGTH, sealed.length - SM4_TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - SM4_TAG_LENGTH);
  const expect = macOf(mac, iv, associatedData, ct);
  if (!timingSafeEqual(expect, tag)) throw decryptFailed();
  return new Uint8Array(sm4Ctr(enc, iv, ct));
}

/** intl suite AEAD: AES-256-GCM. Output nonce(12) || C || tag(16). */
export function aesGcmSeal(
  key: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array = EMPTY,
): Uint8Array {
  checkKey(key, 32, "AES-256-GCM");
  const nonce = randomBytes(GCM_NONCE_LENGTH);
  const c = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
  c.setAAD(associatedData);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return new Uint8Array(Buffer.concat([nonce, ct, c.getAuthTag()]));
}

export function aesGcmOpen(
  key: Uint8Array,
  sealed: Uint8Array,
  associatedData: Uint8Array = EMPTY,
): Uint8Array {
  checkKey(key, 32, "AES-256-GCM");
  if (!(sealed instanceof Uint8Array) || sealed.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH)
    throw decryptFailed();
  try {
    const nonce = sealed.subarray(0, GCM_NONCE_LENGTH);
    const d = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
    d.setAAD(associatedData);
    d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_LENGTH));
    const pt = Buffer.concat([
      d.update(sealed.subarray(GCM_NONCE_LENGTH, sealed.length - GCM_TAG_LENGTH)),
      d.final(),
    ]);
    return new Uint8Array(pt);
  } catch {
    throw decryptFailed();
  }
}
