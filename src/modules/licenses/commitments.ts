/**
 * Salted field commitments for selective disclosure of license data (browser-safe).
 *
 * A license's fields go on chain only as commitments:
 *   commitment = hash(cbor(["zl/field/v1", name, salt, value]))
 * with the project's deterministic CBOR (src/codec/cbor.ts), so one (name, value, salt) has
 * exactly one encoding and therefore one commitment. The holder later discloses
 * (name, value, salt) for the fields they choose; a verifier recomputes the commitment.
 * The salt (at least 16 random bytes, fresh per field) hides low-entropy values such as a
 * birth date or a resident ID number from guessing; the field name is bound in so that a
 * value disclosed for one field cannot be passed off as another's.
 *
 * A holder pseudonym, hash(cbor(["zl/holder/v1", salt, holderDid])), lets a use log name the
 * holder without linking uses across logs that use different salts.
 *
 * The leading text is a domain separator with a version: a new layout takes a new tag.
 */
import { type CborValue, encode } from "../../codec/cbor.js";
import { InvalidInputError } from "../../errors/index.js";

export type HashFunction = (data: Uint8Array) => Uint8Array;

export const FIELD_COMMITMENT_TAG = "zl/field/v1";
export const HOLDER_PSEUDONYM_TAG = "zl/holder/v1";
/** Minimum salt length in bytes (128 bits). */
export const MIN_SALT_BYTES = 16;

function checkSalt(salt: unknown): Uint8Array {
  if (!(salt instanceof Uint8Array))
    throw new InvalidInputError("COMMIT_BAD_SALT", "salt must be a byte array");
  if (salt.length < MIN_SALT_BYTES)
    throw new InvalidInputError(
      "COMMIT_SALT_TOO_SHORT",
      `salt must be at least ${MIN_SALT_BYTES} bytes, got ${salt.length}`,
      { length: salt.length },
    );
  return salt;
}

function checkText(value: unknown, code: string, what: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw new InvalidInputError(code, `${what} must be a non-empty string`);
  return value;
}

function checkHash(hash: unknown): HashFunction {
  if (typeof hash !== "function")
    throw new InvalidInputError("COMMIT_BAD_HASH", "hash must be a function from bytes to bytes");
  return hash as HashFunction;
}

/**
 * The commitment to field `name` having `value`, blinded by `salt` (≥ 16 bytes). Throws
 * InvalidInputError (COMMIT_… or CODEC_… codes) for a short salt, an empty name or a value
 * the deterministic CBOR cannot encode.
 */
export function commitField(
  hash: HashFunction,
  name: string,
  value: CborValue,
  salt: Uint8Array,
): Uint8Array {
  const h = checkHash(hash);
  const n = checkText(name, "COMMIT_BAD_NAME", "field name");
  const s = checkSalt(salt);
  return h(encode([FIELD_COMMITMENT_TAG, n, s, value]));
}

/** Compares without an early exit on the first differing byte. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * True when (name, value, salt) opens `commitment`. A disclosure comes from an untrusted
 * party, so malformed input (short salt, empty name, unencodable value, non-bytes commitment)
 * yields false rather than an exception.
 */
export function verifyDisclosure(
  hash: HashFunction,
  commitment: Uint8Array,
  name: string,
  value: CborValue,
  salt: Uint8Array,
): boolean {
  if (!(commitment instanceof Uint8Array)) return false;
  let recomputed: Uint8Array;
  try {
    recomputed = commitField(hash, name, value, salt);
  } catch (err: unknown) {
    if (err instanceof InvalidInputError) return false;
    throw err;
  }
  return sameBytes(recomputed, commitment);
}

/** 0x84 (an array of 4) followed by the encoded FIELD_COMMITMENT_TAG: the start of every opening. */
const OPENING_HEAD = (() => {
  const tag = encode(FIELD_COMMITMENT_TAG);
  const head = new Uint8Array(1 + tag.length);
  head[0] = 0x84;
  head.set(tag, 1);
  return head;
})();

/** The parts of a disclosure as they were received: each the canonical CBOR of one item. */
export interface EncodedDisclosure {
  /** A text string: the field name. */
  name: Uint8Array;
  value: Uint8Array;
  /** A byte string: the salt. */
  salt: Uint8Array;
}

/**
 * `verifyDisclosure` for a disclosure taken from canonical CBOR, without encoding it again: the
 * committed bytes cbor(["zl/field/v1", name, salt, value]) are the array head, the encoded tag
 * and the three received encodings. The caller vouches that each part is the canonical encoding
 * of one item (decoded with `decode`); the name must be non-empty text and the salt bytes of at
 * least MIN_SALT_BYTES, as `commitField` requires, or the answer is false.
 */
export function verifyEncodedDisclosure(
  hash: HashFunction,
  commitment: Uint8Array,
  encoded: EncodedDisclosure,
): boolean {
  if (!(commitment instanceof Uint8Array)) return false;
  const { name, value, salt } = encoded;
  // A text head with a non-zero length; a byte-string head of 16…23 bytes or a longer one.
  if (name.length < 2 || name[0]! >> 5 !== 3) return false;
  const s = salt[0]!;
  if (s >> 5 !== 2 || (s & 31) < MIN_SALT_BYTES) return false;
  const bytes = new Uint8Array(OPENING_HEAD.length + name.length + salt.length + value.length);
  bytes.set(OPENING_HEAD, 0);
  bytes.set(name, OPENING_HEAD.length);
  bytes.set(salt, OPENING_HEAD.length + name.length);
  bytes.set(value, OPENING_HEAD.length + name.length + salt.length);
  return sameBytes(checkHash(hash)(bytes), commitment);
}

/** A salted pseudonym for a holder's DID: hash(cbor(["zl/holder/v1", salt, holderDid])). */
export function holderPseudonym(hash: HashFunction, salt: Uint8Array, holderDid: string): Uint8Array {
  const h = checkHash(hash);
  const s = checkSalt(salt);
  const did = checkText(holderDid, "COMMIT_BAD_DID", "holder DID");
  return h(encode([HOLDER_PSEUDONYM_TAG, s, did]));
}
