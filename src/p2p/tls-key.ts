/**
 * The node's TLS key: always Ed25519 (RFC 8410), whatever the chain's suite, because OpenSSL
 * does TLS 1.3 (RFC 8446) with Ed25519 but offers no SM2 cipher suites (see ADR 0015).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { InvalidInputError } from "../errors/index.js";

export interface TlsKeyPair {
  /** PKCS#8 PEM of the Ed25519 private key. Secret: never log it. */
  privateKeyPem: string;
  /** Raw 32-byte Ed25519 public key, what the node certificate binds. */
  publicKey: Uint8Array;
}

function rawPublic(key: ReturnType<typeof createPublicKey>): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** A fresh Ed25519 TLS key pair. */
export function generateTlsKeyPair(): TlsKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    publicKey: rawPublic(publicKey),
  };
}

/** The raw public key of a PKCS#8 Ed25519 private key PEM; throws P2P_TLS_BAD_KEY otherwise. */
export function tlsPublicKeyFromPem(privateKeyPem: string): Uint8Array {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: "pem" });
  } catch {
    throw new InvalidInputError("P2P_TLS_BAD_KEY", "TLS key is not a readable PKCS#8 PEM");
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new InvalidInputError("P2P_TLS_BAD_KEY", "TLS key must be Ed25519", {
      type: key.asymmetricKeyType,
    });
  return rawPublic(createPublicKey(key));
}
