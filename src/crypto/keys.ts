/**
 * Key serialization: PKCS#8 (private) and SPKI (public) PEM for both suites.
 *
 * - Ed25519 (RFC 8410): built from raw bytes with fixed DER prefixes and exported/imported
 *   through Node KeyObjects.
 * - SM2: AlgorithmIdentifier { id-ecPublicKey 1.2.840.10045.2.1, namedCurve SM2 1.2.156.10197.1.301 };
 *   SPKI carries the uncompressed point 04||x||y; PKCS#8 wraps an RFC 5915 ECPrivateKey
 *   { version 1, privateKey OCTET STRING(32), [1] publicKey BIT STRING } (curve given in the
 *   outer AlgorithmIdentifier, so [0] parameters are omitted). This is what OpenSSL reads/writes.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { InvalidInputError } from "../errors/index.js";
import { children, equalBytes, expect, oid, read, smallInt, TAG, tlv } from "./der.js";
import { encodePublicKey, parsePublicKey, sm2 } from "./sm2.js";

const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
export const OID_SM2_CURVE = "1.2.156.10197.1.301";
const SM2_ALG_ID = tlv(TAG.SEQUENCE, oid(OID_EC_PUBLIC_KEY), oid(OID_SM2_CURVE));

function badKey(message: string, meta: Record<string, unknown> = {}): InvalidInputError {
  return new InvalidInputError("CRYPTO_BAD_KEY", message, meta);
}

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export function fromPem(pem: string, label: string): Uint8Array {
  if (typeof pem !== "string") throw badKey("PEM must be a string");
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`);
  const m = re.exec(pem);
  if (!m) throw badKey(`expected a PEM block "${label}"`);
  return new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64"));
}

// ---------- Ed25519 ----------

export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw badKey("Ed25519 private key must be a 32-byte seed");
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw badKey("Ed25519 public key must be 32 bytes");
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
    format: "der",
    type: "spki",
  });
}

export function ed25519PrivateKeyToPem(seed: Uint8Array): string {
  return ed25519PrivateKeyObject(seed).export({ format: "pem", type: "pkcs8" }) as string;
}

export function ed25519PublicKeyToPem(publicKey: Uint8Array): string {
  return ed25519PublicKeyObject(publicKey).export({ format: "pem", type: "spki" }) as string;
}

export function ed25519PrivateKeyFromPem(pem: string): Uint8Array {
  let key: KeyObject;
  // fromPem throws CRYPTO_BAD_KEY for a missing/mislabelled block (a private key is not a public key).
  try {
    key = createPrivateKey({ key: Buffer.from(fromPem(pem, "PRIVATE KEY")), format: "der", type: "pkcs8" });
  } catch (err) {
    throw badKey("unreadable PKCS#8 PEM", { cause: String(err) });
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw badKey("PEM is not an Ed25519 private key", { type: key.asymmetricKeyType });
  const der = key.export({ format: "der", type: "pkcs8" });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function ed25519PublicKeyFromPem(pem: string): Uint8Array {
  let key: KeyObject;
  // fromPem throws CRYPTO_BAD_KEY for a missing/mislabelled block (a private key is not a public key).
  try {
    key = createPublicKey({ key: Buffer.from(fromPem(pem, "PUBLIC KEY")), format: "der", type: "spki" });
  } catch (err) {
    throw badKey("unreadable SPKI PEM", { cause: String(err) });
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw badKey("PEM is not an Ed25519 public key", { type: key.asymmetricKeyType });
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

// ---------- SM2 ----------

export function sm2PublicKeyToSpkiDer(publicKey: Uint8Array): Uint8Array {
  const uncompressed = encodePublicKey(publicKey, false);
  return tlv(TAG.SEQUENCE, SM2_ALG_ID, tlv(TAG.BIT_STRING, Uint8Array.of(0), uncompressed));
}

export function sm2PrivateKeyToPkcs8Der(privateKey: Uint8Array): Uint8Array {
  const pub = sm2.publicKeyFromPrivate(privateKey, false); // validates the scalar
  const ecPrivateKey = tlv(
    TAG.SEQUENCE,
    smallInt(1),
    tlv(TAG.OCTET_STRING, privateKey),
    tlv(TAG.CTX1, tlv(TAG.BIT_STRING, Uint8Array.of(0), pub)),
  );
  return tlv(TAG.SEQUENCE, smallInt(0), SM2_ALG_ID, tlv(TAG.OCTET_STRING, ecPrivateKey));
}

function checkSm2AlgId(node: Node | undefined): void {
  const alg = expect(node, TAG.SEQUENCE, "AlgorithmIdentifier");
  const full = tlv(TAG.SEQUENCE, alg.value);
  if (!equalBytes(full, SM2_ALG_ID))
    throw badKey("not an SM2 key (expected id-ecPublicKey with namedCurve SM2)");
}

type Node = ReturnType<typeof read>;

/** Returns the 33-byte compressed public key. */
export function sm2PublicKeyFromSpkiDer(der: Uint8Array): Uint8Array {
  const top = expect(read(der), TAG.SEQUENCE, "SubjectPublicKeyInfo");
  const [alg, bits] = children(top);
  checkSm2AlgId(alg);
  const bs = expect(bits, TAG.BIT_STRING, "subjectPublicKey").value;
  if (bs[0] !== 0) throw badKey("BIT STRING with unused bits");
  return encodePublicKey(bs.subarray(1), true);
}

/** Returns the 32-byte private scalar (checks an embedded public key, if any, matches). */
export function sm2PrivateKeyFromPkcs8Der(der: Uint8Array): Uint8Array {
  const top = expect(read(der), TAG.SEQUENCE, "PrivateKeyInfo");
  const [ver, alg, octets] = children(top);
  expect(ver, TAG.INTEGER, "version");
  checkSm2AlgId(alg);
  const ecpk = expect(
    read(expect(octets, TAG.OCTET_STRING, "privateKey").value),
    TAG.SEQUENCE,
    "ECPrivateKey",
  );
  const fields = children(ecpk);
  const v = expect(fields[0], TAG.INTEGER, "ECPrivateKey version").value;
  if (v.length !== 1 || v[0] !== 1) throw badKey("ECPrivateKey version must be 1");
  let d = expect(fields[1], TAG.OCTET_STRING, "ECPrivateKey privateKey").value;
  if (d.length > 32) throw badKey("SM2 private key longer than 32 bytes");
  if (d.length < 32) {
    const p = new Uint8Array(32);
    p.set(d, 32 - d.length);
    d = p;
  }
  const priv = new Uint8Array(d);
  const derivedPub = sm2.publicKeyFromPrivate(priv, true); // validates range
  for (const f of fields.slice(2)) {
    if (f.tag === TAG.CTX1) {
      const bs = expect(read(f.value), TAG.BIT_STRING, "publicKey").value;
      const embedded = encodePublicKey(bs.subarray(1), true);
      if (!equalBytes(embedded, derivedPub))
        throw badKey("embedded public key does not match the private key");
    }
  }
  return priv;
}

export function sm2PrivateKeyToPem(privateKey: Uint8Array): string {
  return toPem("PRIVATE KEY", sm2PrivateKeyToPkcs8Der(privateKey));
}

export function sm2PrivateKeyFromPem(pem: string): Uint8Array {
  return sm2PrivateKeyFromPkcs8Der(fromPem(pem, "PRIVATE KEY"));
}

export function sm2PublicKeyToPem(publicKey: Uint8Array): string {
  return toPem("PUBLIC KEY", sm2PublicKeyToSpkiDer(publicKey));
}

export function sm2PublicKeyFromPem(pem: string): Uint8Array {
  return sm2PublicKeyFromSpkiDer(fromPem(pem, "PUBLIC KEY"));
}

export { parsePublicKey };
