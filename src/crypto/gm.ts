/**
 * The `gm` suite: SM2 signatures (noble curve math, Z_A with the default ID; verification
 * equation in the native `zl_sm2` addon when it is built, see sm2-native.ts), native SM3,
 * SM4-CTR + HMAC-SM3 authenticated encryption.
 */
import { digest, digestOfParts } from "./digest.js";
import { sm2PrivateKeyFromPem, sm2PrivateKeyToPem, sm2PublicKeyFromPem, sm2PublicKeyToPem } from "./keys.js";
import { type MultiHash, Sm2 } from "./sm2.js";
import { NativeSm2Verifier, nativeSm2Addon } from "./sm2-native.js";
import { sm4Open, sm4Seal } from "./sm4.js";
import type { CryptoSuite, KeyPair } from "./suite.js";

/** Native SM3 over the concatenation of parts (OpenSSL 3). */
export const nativeSm3: MultiHash = (...parts) => digestOfParts("sm3", parts);

/** The SM2 engine used by the gm suite (native SM3, 4096-key LRU, hot-key wNAF tables). */
export const gmSm2 = new Sm2({ hash: nativeSm3, cacheSize: 4096 });

/**
 * The gm suite's verifier when the native addon is available (unless ZL_SM2_NATIVE=0):
 * same semantics as `gmSm2.verify`, e computed here, the curve equation in OpenSSL.
 */
export const gmSm2Native: NativeSm2Verifier | undefined =
  nativeSm2Addon === undefined ? undefined : new NativeSm2Verifier(nativeSm2Addon, { cacheSize: 4096 });

const gmVerify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean =
  gmSm2Native !== undefined
    ? (publicKey, message, signature) => gmSm2Native.verify(publicKey, message, signature)
    : (publicKey, message, signature) => gmSm2.verify(publicKey, message, signature);

export const gmSuite: CryptoSuite = Object.freeze({
  id: "gm" as const,
  hashLength: 32,
  publicKeyLength: 33,
  signatureLength: 64,
  symmetricKeyLength: 16,
  hash(data: Uint8Array): Uint8Array {
    return digest("sm3", data);
  },
  generateKeyPair(): KeyPair {
    const privateKey = gmSm2.randomPrivateKey();
    return { privateKey, publicKey: gmSm2.publicKeyFromPrivate(privateKey, true) };
  },
  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
    return gmSm2.publicKeyFromPrivate(privateKey, true);
  },
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
    return gmSm2.sign(privateKey, message);
  },
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return gmVerify(publicKey, message, signature);
  },
  seal: sm4Seal,
  open: sm4Open,
  privateKeyToPem: sm2PrivateKeyToPem,
  privateKeyFromPem: sm2PrivateKeyFromPem,
  publicKeyToPem: sm2PublicKeyToPem,
  publicKeyFromPem: sm2PublicKeyFromPem,
});
