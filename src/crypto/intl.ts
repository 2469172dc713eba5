/**
 * The `intl` suite: Ed25519 (RFC 8032), SHA-256, AES-256-GCM. Keys, signing, hashing and
 * encryption are node:crypto; verification is libsodium's (sodium-native, ADR 0020), which is
 * about 1.7 times faster here and states its acceptance rule exactly (docs/protocol.md), and, for
 * keys that sign often, the native verifier's with the same rule (ADR 0022).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign as nodeSign } from "node:crypto";
import { createRequire } from "node:module";
import type { crypto_sign_verify_detached } from "sodium-native";
import { FatalError } from "../errors/index.js";
import { digest } from "./digest.js";
import { HotKeyVerifier, nativeEd25519Addon } from "./ed25519-native.js";
import {
  ed25519PrivateKeyFromPem,
  ed25519PrivateKeyObject,
  ed25519PrivateKeyToPem,
  ed25519PublicKeyFromPem,
  ed25519PublicKeyToPem,
} from "./keys.js";
import { aesGcmOpen, aesGcmSeal } from "./sm4.js";
import type { CryptoSuite, KeyPair, SignatureItem } from "./suite.js";

/**
 * Private KeyObjects, keyed by the identity of the caller's key array (a Signer keeps one), so
 * the key is parsed once rather than per signature and no string copy of it is ever made.
 */
const privateKeyObjects = new WeakMap<Uint8Array, { seed: Uint8Array; obj: KeyObject }>();

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  const hit = privateKeyObjects.get(privateKey);
  // The array may have been overwritten since: use the cached object only for the same bytes.
  if (
    hit !== undefined &&
    hit.seed.length === privateKey.length &&
    hit.seed.every((b, i) => b === privateKey[i])
  )
    return hit.obj;
  const obj = ed25519PrivateKeyObject(privateKey);
  privateKeyObjects.set(privateKey, { seed: privateKey.slice(), obj });
  return obj;
}

/**
 * libsodium's verifier, loaded on first use: a chain on the gm suite never needs it, and a node
 * whose binding cannot load stops with this error rather than verify under another rule.
 */
let libsodiumVerify: typeof crypto_sign_verify_detached | undefined;
function ed25519Verifier(): typeof crypto_sign_verify_detached {
  if (libsodiumVerify === undefined) {
    try {
      libsodiumVerify = (createRequire(import.meta.url)("sodium-native") as typeof import("sodium-native"))
        .crypto_sign_verify_detached;
    } catch (err: unknown) {
      throw new FatalError(
        "CRYPTO_LIBSODIUM_UNAVAILABLE",
        `Ed25519 verification needs libsodium (the sodium-native package), which did not load: ${(err as Error).message}. Run \`npm ci\` in the installation on a supported platform (Linux, macOS or Windows on x64 or arm64).`,
      );
    }
  }
  return libsodiumVerify;
}

/**
 * Keys that verify often go to the native verifier's precomputed tables (ADR 0022); the rest,
 * and all keys without the addon, to libsodium. Both accept exactly the same signatures.
 */
const hotKeys: HotKeyVerifier | undefined =
  nativeEd25519Addon === undefined
    ? undefined
    : new HotKeyVerifier(nativeEd25519Addon, (publicKey, message, signature) =>
        ed25519Verifier()(signature, message, publicKey),
      );

function rawPublicFromObject(obj: KeyObject): Uint8Array {
  const der = obj.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Types and lengths the addon and libsodium both take (libsodium would read a longer array's prefix). */
function isWellFormed(publicKey: unknown, message: unknown, signature: unknown): boolean {
  return (
    publicKey instanceof Uint8Array &&
    publicKey.length === 32 &&
    signature instanceof Uint8Array &&
    signature.length === 64 &&
    message instanceof Uint8Array
  );
}

export const intlSuite: CryptoSuite = Object.freeze({
  id: "intl" as const,
  hashLength: 32,
  publicKeyLength: 32,
  signatureLength: 64,
  symmetricKeyLength: 32,
  hash(data: Uint8Array): Uint8Array {
    return digest("sha256", data);
  },
  generateKeyPair(): KeyPair {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    return {
      privateKey: new Uint8Array(der.subarray(der.length - 32)),
      publicKey: rawPublicFromObject(publicKey),
    };
  },
  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
    return rawPublicFromObject(createPublicKey(ed25519PrivateKeyObject(privateKey)));
  },
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, privateKeyObject(privateKey)));
  },
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    // Outside the try: a missing library is not a bad signature.
    const verifyDetached = ed25519Verifier();
    try {
      if (!isWellFormed(publicKey, message, signature)) return false;
      if (hotKeys !== undefined) return hotKeys.verify(publicKey, message, signature);
      return verifyDetached(signature, message, publicKey);
    } catch {
      return false;
    }
  },
  verifyMany(items: readonly SignatureItem[], out: Uint8Array): void {
    ed25519Verifier(); // outside the try, as in verify
    // A node's chunks are all well formed (lengths are checked where transactions are decoded);
    // any other chunk is answered one by one, as is every chunk without the addon.
    if (hotKeys !== undefined && items.every((it) => isWellFormed(it.publicKey, it.message, it.signature))) {
      try {
        hotKeys.verifyMany(items, out);
        return;
      } catch {
        // Unexpected: the answers below are verify's.
      }
    }
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as SignatureItem;
      out[i] = intlSuite.verify(it.publicKey, it.message, it.signature) ? 1 : 0;
    }
  },
  seal: aesGcmSeal,
  open: aesGcmOpen,
  privateKeyToPem: ed25519PrivateKeyToPem,
  privateKeyFromPem: ed25519PrivateKeyFromPem,
  publicKeyToPem: ed25519PublicKeyToPem,
  publicKeyFromPem: ed25519PublicKeyFromPem,
});
