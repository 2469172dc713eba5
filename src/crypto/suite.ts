/**
 * The crypto suite interface. A chain chooses one suite at genesis; nothing outside
 * src/crypto names an algorithm.
 *
 * - `intl`: Ed25519 (RFC 8032), SHA-256 (FIPS 180-4), AES-256-GCM (NIST SP 800-38D).
 * - `gm`:   SM2 signatures (GB/T 32918.2, with Z_A over the default user ID "1234567812345678"),
 *           SM3 (GB/T 32905), SM4 (GB/T 32907).
 *
 * Raw key and signature formats (what goes on chain):
 * - intl: public key 32 bytes, private key 32-byte seed, signature 64 bytes (R||S).
 * - gm:   public key 33 bytes (SEC1 compressed point), private key 32-byte scalar,
 *         signature 64 bytes (r||s, each 32 bytes big-endian).
 */
export type SuiteId = "intl" | "gm";

export const SUITE_IDS: readonly SuiteId[] = ["intl", "gm"];

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** One signature to check: by `publicKey`, over `message`. */
export interface SignatureItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

export interface CryptoSuite {
  readonly id: SuiteId;
  /** Digest length in bytes (32 for both suites). */
  readonly hashLength: number;
  readonly publicKeyLength: number;
  readonly signatureLength: number;
  hash(data: Uint8Array): Uint8Array;
  generateKeyPair(): KeyPair;
  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array;
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Never throws on malformed keys or signatures: returns false. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Many verifications at once, for suites that share work between them: `out[i]` is 1 where
   * `verify` would return true for item i, else 0. Absent where verifying one by one is as fast.
   */
  verifyMany?(items: readonly SignatureItem[], out: Uint8Array): void;
  /** Authenticated symmetric encryption with a 32-byte (intl) or 16-byte (gm) key. */
  readonly symmetricKeyLength: number;
  seal(key: Uint8Array, plaintext: Uint8Array, associatedData?: Uint8Array): Uint8Array;
  open(key: Uint8Array, sealed: Uint8Array, associatedData?: Uint8Array): Uint8Array;
  /** PKCS#8 / SPKI PEM, the standard formats keys are stored in. */
  privateKeyToPem(privateKey: Uint8Array): string;
  privateKeyFromPem(pem: string): Uint8Array;
  publicKeyToPem(publicKey: Uint8Array): string;
  publicKeyFromPem(pem: string): Uint8Array;
}
