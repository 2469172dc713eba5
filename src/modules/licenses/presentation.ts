/**
 * Offline license presentations (亮证 / 用证码): what a holder's wallet puts into a QR code, and
 * how a verifier with no network checks it. PURE and browser-safe: no `node:` imports, directly
 * or transitively; the crypto suite and the holder's key are passed in.
 *
 * Text:   "ZL1:" + base45(cbor(presentation))            (no compression; see docs/licenses.md)
 * CBOR:   [ 1,                       version
 *           licenseId,               text
 *           {name: [value, salt]},   the disclosed fields (a subset chosen by the holder)
 *           [value…],                the record (state key license/<licenseId> at h) as the
 *                                    values of its map in RECORD_KEYS order, licenseId left
 *                                    out; the verifier re-encodes the canonical map (one
 *                                    encoding per value) to get the exact bytes that are proven
 *           [sibling…],              the state proof's siblings (bstr 32 each); the leaf is
 *                                    {H(key), H(record)}, so it is not carried
 *           header,                  bstr: the encoded header of h
 *           [round, [[i, sig]…]],    its commit certificate (height and block hash are the
 *                                    header's, so they are not carried)
 *           audience,                text: the verifier the presentation is meant for
 *           createdAt,               uint: ms since the Unix epoch (holder clock)
 *           holderPublicKey,         bstr: address = H(publicKey)[0..20] = record.holderAccount
 *           signature ]              bstr: holder signature over `digest`
 * digest = H(cbor(["zl/presentation/v1", items 0..9]))   — also the replay identifier.
 */

import { decodeBase45, encodeBase45 } from "../../codec/base45.js";
import { type CborValue, decode, decodeFast, encode, splitArray, splitMap } from "../../codec/cbor.js";
import type { CryptoSuite } from "../../crypto/suite.js";
import { InvalidInputError } from "../../errors/index.js";
import { blockHash, type Commit, decodeCommit, type Header, headerFromCbor } from "../../ledger/block.js";
import { concatBytes, equalBytes, toHex, utf8 } from "../../ledger/bytes.js";
import { type Validator, validatorsHash, verifyCommit } from "../../ledger/validators.js";
import type { StateProof } from "../../state/proof.js";
import { PathMemo, verifyInclusion, verifyStateProof } from "../../state/verify.js";
import { type EncodedDisclosure, verifyDisclosure, verifyEncodedDisclosure } from "./commitments.js";
import { decodeLicense, licenseFromCbor, licenseStatus } from "./state.js";
import type { License, StatusCode } from "./types.js";

export const PRESENTATION_VERSION = 1;
export const PRESENTATION_PREFIX = "ZL1:";
export const PRESENTATION_TAG = "zl/presentation/v1";
/** Upper bound on the decoded CBOR (a QR code holds at most 2,953 bytes in binary mode). */
export const MAX_PRESENTATION_BYTES = 8 * 1024;
export const DEFAULT_CLOCK_SKEW_MS = 60_000;
export const DEFAULT_MAX_PRESENTATION_AGE_MS = 10 * 60_000;

/** A key that signs messages: a wallet key, a hardware token, or `keySigner` below. */
export interface KeySigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function keySigner(suite: CryptoSuite, privateKey: Uint8Array): KeySigner {
  return {
    publicKey: suite.publicKeyFromPrivate(privateKey),
    sign: (m) => suite.sign(privateKey, m),
  };
}

export interface Disclosure {
  value: CborValue;
  salt: Uint8Array;
}

export interface Presentation {
  version: number;
  licenseId: string;
  disclosed: Record<string, Disclosure>;
  record: Uint8Array;
  siblings: Uint8Array[];
  encodedHeader: Uint8Array;
  commitRound: number;
  commitSignatures: Array<{ validatorIndex: number; signature: Uint8Array }>;
  audience: string;
  createdAt: number;
  holderPublicKey: Uint8Array;
  signature: Uint8Array;
}

export interface BuildPresentationInput {
  licenseId: string;
  disclosed: Record<string, Disclosure>;
  /** The record bytes (the value of license/<licenseId> at the proof's height). */
  record: Uint8Array;
  proof: StateProof;
  encodedHeader: Uint8Array;
  encodedCommit: Uint8Array;
  audience: string;
  createdAt: number;
  holder: KeySigner;
}

/**
 * The keys of a license record (state.ts `encodeLicense`) other than licenseId. A presentation
 * carries only the values, in this order; a record with other keys needs a new version.
 */
export const RECORD_KEYS = [
  "typeCode",
  "typeVersion",
  "issuerOrg",
  "issuer",
  "holder",
  "commitments",
  "validFrom",
  "validUntil",
  "status",
  "statusHeight",
  "statusReason",
  "statusBy",
  "previous",
  "next",
  "issuedAt",
  "holderAccount",
] as const;

/** The record's values in RECORD_KEYS order; throws unless they re-encode to exactly `record`. */
export function compactRecord(record: Uint8Array, licenseId: string): CborValue[] {
  const m = decode(record);
  if (!isMap(m) || m.licenseId !== licenseId || Object.keys(m).length !== RECORD_KEYS.length + 1)
    throw new InvalidInputError("PRESENTATION_BAD_INPUT", "the record does not have the version 1 layout");
  const values = RECORD_KEYS.map((k) => {
    if (!Object.hasOwn(m, k)) throw new InvalidInputError("PRESENTATION_BAD_INPUT", `the record has no ${k}`);
    return m[k] as CborValue;
  });
  if (!equalBytes(expandRecord(values, licenseId), record))
    throw new InvalidInputError("PRESENTATION_BAD_INPUT", "the record does not re-encode exactly");
  return values;
}

/** The canonical record bytes from its values (deterministic CBOR: one encoding per value). */
export function expandRecord(values: readonly CborValue[], licenseId: string): Uint8Array {
  return encode(recordMap(values, licenseId));
}

function recordMap(values: readonly CborValue[], licenseId: string): { [k: string]: CborValue } {
  const m: { [k: string]: CborValue } = { licenseId };
  RECORD_KEYS.forEach((k, i) => {
    m[k] = values[i] as CborValue;
  });
  return m;
}

function bodyItems(p: Omit<Presentation, "signature">): CborValue[] {
  const disclosed: { [k: string]: CborValue } = {};
  for (const [name, d] of Object.entries(p.disclosed)) disclosed[name] = [d.value, d.salt];
  return [
    p.version,
    p.licenseId,
    disclosed,
    compactRecord(p.record, p.licenseId),
    p.siblings,
    p.encodedHeader,
    [p.commitRound, p.commitSignatures.map((s) => [s.validatorIndex, s.signature])],
    p.audience,
    p.createdAt,
    p.holderPublicKey,
  ];
}

/** The digest the holder signs; also the presentation's replay identifier. */
export function presentationDigest(
  hash: (d: Uint8Array) => Uint8Array,
  p: Omit<Presentation, "signature">,
): Uint8Array {
  const body = signedBodies.get(p);
  if (body === undefined) return hash(encode([PRESENTATION_TAG, ...bodyItems(p)]));
  return receivedDigest(hash, body);
}

/** 0x8b (an array of 11: the tag and the 10 body items) followed by the encoded tag. */
const DIGEST_HEAD = concatBytes(new Uint8Array([0x8b]), encode(PRESENTATION_TAG));

/**
 * The digest of a presentation decoded from canonical bytes: its body items are already encoded,
 * in order, in the input, so encode([TAG, ...items]) is DIGEST_HEAD and those bytes.
 */
function receivedDigest(hash: (d: Uint8Array) => Uint8Array, signedBody: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(DIGEST_HEAD.length + signedBody.length);
  bytes.set(DIGEST_HEAD, 0);
  bytes.set(signedBody, DIGEST_HEAD.length);
  return hash(bytes);
}

export function encodePresentation(p: Presentation): string {
  return PRESENTATION_PREFIX + encodeBase45(encode([...bodyItems(p), p.signature]));
}

/** Builds and signs a presentation; the holder's wallet runs this. */
export function buildPresentation(
  suite: CryptoSuite,
  input: BuildPresentationInput,
): { text: string; presentation: Presentation; digest: Uint8Array } {
  const hash = (d: Uint8Array) => suite.hash(d);
  const header = headerFromCbor(decode(input.encodedHeader));
  const commit = decodeCommit(input.encodedCommit);
  if (commit.height !== header.height || !equalBytes(commit.blockHash, blockHash(hash, header)))
    throw new InvalidInputError("PRESENTATION_BAD_INPUT", "the commit is not of this header");
  const leaf = input.proof.leaf;
  const key = utf8(`license/${input.licenseId}`);
  if (!leaf || !verifyStateProof(hash, header.stateRoot, key, input.record, input.proof))
    throw new InvalidInputError(
      "PRESENTATION_BAD_INPUT",
      "the proof does not prove the record at this header",
    );
  const record = decodeLicense(input.record);
  for (const [name, d] of Object.entries(input.disclosed)) {
    const c = record.commitments[name];
    if (!c || !verifyDisclosure(hash, c, name, d.value, d.salt))
      throw new InvalidInputError("PRESENTATION_BAD_INPUT", `field ${name} does not open its commitment`);
  }
  if (typeof input.audience !== "string" || input.audience.length === 0 || input.audience.length > 128)
    throw new InvalidInputError("PRESENTATION_BAD_INPUT", "audience: 1–128 characters");
  const body: Omit<Presentation, "signature"> = {
    version: PRESENTATION_VERSION,
    licenseId: input.licenseId,
    disclosed: input.disclosed,
    record: input.record,
    siblings: input.proof.siblings,
    encodedHeader: input.encodedHeader,
    commitRound: commit.round,
    commitSignatures: commit.signatures,
    audience: input.audience,
    createdAt: input.createdAt,
    holderPublicKey: input.holder.publicKey,
  };
  const digest = presentationDigest(hash, body);
  const presentation: Presentation = { ...body, signature: input.holder.sign(digest) };
  return { text: encodePresentation(presentation), presentation, digest };
}

// ---------------------------------------------------------------------------------------------
// Decoding

const isMap = (v: unknown): v is { [k: string]: CborValue } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isBytes = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is Uint8Array =>
  v instanceof Uint8Array && v.length >= min && v.length <= max;
const isUint = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function malformed(message: string): never {
  throw new InvalidInputError("PRESENTATION_MALFORMED", message);
}

/** What verification uses besides the presentation itself, taken from the received bytes. */
interface Received {
  p: Presentation;
  /** Items 0..9 exactly as received: the digest is H(DIGEST_HEAD ‖ signedBody). */
  signedBody: Uint8Array;
  /** The record's decoded map: what `decode(p.record)` gives, without decoding it again. */
  recordValue: { [k: string]: CborValue };
  /** Each disclosed field's name, value and salt as received (canonical encodings). */
  openings: Map<string, EncodedDisclosure>;
}

/** The received bodies of decoded presentations, so `presentationDigest` need not re-encode. */
const signedBodies = new WeakMap<object, Uint8Array>();

/** Parses the QR text into a presentation (shape only; nothing is verified). */
export function decodePresentation(text: string): Presentation {
  const r = receive(text);
  signedBodies.set(r.p, r.signedBody);
  return r.p;
}

/**
 * The record map's head and its entries in canonical order: each key encoded, and the index of
 * its value in RECORD_KEYS (−1: licenseId). Taken from `encode` itself: the order is the codec's.
 */
const RECORD_LAYOUT = (() => {
  const probe = encode(
    recordMap(
      RECORD_KEYS.map((_, i) => i),
      "x",
    ),
  );
  return {
    head: probe[0] as number,
    entries: splitMap(probe).map(([key]) => ({
      key: key.slice(),
      index: RECORD_KEYS.indexOf(decode(key) as (typeof RECORD_KEYS)[number]),
    })),
  };
})();

/**
 * `expandRecord` from the values as received, without encoding them again: every received item
 * is already the canonical encoding of its value, so the canonical map is its head and, in key
 * order, each encoded key followed by its value's bytes.
 */
function spliceRecord(values: readonly Uint8Array[], licenseId: Uint8Array): Uint8Array {
  let length = 1;
  for (const { key, index } of RECORD_LAYOUT.entries)
    length += key.length + (index < 0 ? licenseId : (values[index] as Uint8Array)).length;
  const out = new Uint8Array(length);
  out[0] = RECORD_LAYOUT.head;
  let at = 1;
  for (const { key, index } of RECORD_LAYOUT.entries) {
    const value = index < 0 ? licenseId : (values[index] as Uint8Array);
    out.set(key, at);
    out.set(value, at + key.length);
    at += key.length + value.length;
  }
  return out;
}

/** Decodes and shape-checks the QR text; keeps the received bytes that verification reuses. */
function receive(text: string): Received {
  if (typeof text !== "string" || !text.startsWith(PRESENTATION_PREFIX))
    malformed(`the text does not start with ${PRESENTATION_PREFIX}`);
  const b45 = text.slice(PRESENTATION_PREFIX.length).trim();
  if (b45.length > (MAX_PRESENTATION_BYTES * 3) / 2) malformed("the presentation is too large");
  let v: CborValue;
  let raw: Uint8Array;
  try {
    raw = decodeBase45(b45);
    v = decodeFast(raw, MAX_PRESENTATION_BYTES);
  } catch (err: unknown) {
    malformed(`not base45 canonical CBOR: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 11) malformed("expected an array of 11 items");
  const [version, licenseId, disclosed, record, siblings, header, commit, audience, createdAt, pk, sig] = v;
  if (version !== PRESENTATION_VERSION) malformed(`unsupported version ${String(version)}`);
  if (typeof licenseId !== "string" || licenseId.length === 0 || licenseId.length > 160)
    malformed("licenseId: text");
  if (!isMap(disclosed)) malformed("disclosed: a map");
  const fields: Record<string, Disclosure> = {};
  for (const [name, d] of Object.entries(disclosed)) {
    if (!Array.isArray(d) || d.length !== 2 || !isBytes(d[1], 16, 64))
      malformed(`disclosed.${name}: [value, salt]`);
    fields[name] = { value: d[0] as CborValue, salt: d[1] as Uint8Array };
  }
  if (!Array.isArray(record) || record.length !== RECORD_KEYS.length)
    malformed(`record: an array of ${RECORD_KEYS.length} values`);
  if (!Array.isArray(siblings) || siblings.length > 256 || !siblings.every((s) => isBytes(s, 32, 32)))
    malformed("proof: an array of 32-byte hashes");
  if (!isBytes(header, 1)) malformed("header: bytes");
  if (!Array.isArray(commit) || commit.length !== 2 || !isUint(commit[0]) || !Array.isArray(commit[1]))
    malformed("commit: [round, signatures]");
  const signatures = commit[1].map((s) => {
    if (!Array.isArray(s) || s.length !== 2 || !isUint(s[0]) || !isBytes(s[1], 64, 64))
      malformed("commit signature: [index, 64 bytes]");
    return { validatorIndex: s[0] as number, signature: s[1] as Uint8Array };
  });
  if (typeof audience !== "string" || audience.length === 0 || audience.length > 128)
    malformed("audience: text");
  if (!isUint(createdAt)) malformed("createdAt: ms");
  if (!isBytes(pk, 32, 65)) malformed("holderPublicKey: bytes");
  if (!isBytes(sig, 64, 64)) malformed("signature: 64 bytes");

  // The input is canonical, so each item's bytes are the canonical encoding of its value.
  const items = splitArray(raw);
  const openings = new Map<string, EncodedDisclosure>();
  for (const [name, pair] of splitMap(items[2] as Uint8Array)) {
    const [value, salt] = splitArray(pair) as [Uint8Array, Uint8Array];
    openings.set(decodeFast(name) as string, { name, value, salt });
  }
  return {
    p: {
      version,
      licenseId,
      disclosed: fields,
      record: spliceRecord(splitArray(items[3] as Uint8Array), items[1] as Uint8Array),
      siblings: siblings as Uint8Array[],
      encodedHeader: header,
      commitRound: commit[0],
      commitSignatures: signatures,
      audience,
      createdAt,
      holderPublicKey: pk,
      signature: sig,
    },
    // [10 body items..., signature]: head 0x8b, the items, then the 64-byte signature (0x58 0x40 + 64).
    signedBody: raw.subarray(1, raw.length - 66),
    recordValue: recordMap(record, licenseId),
    openings,
  };
}

// ---------------------------------------------------------------------------------------------
// Verification

/** A decoded header with its block hash (= H(encoded), the encoding being canonical). */
interface DecodedHeader {
  header: Header;
  hash: Uint8Array;
  hashHex: string;
  encoded: Uint8Array;
  /** The upper levels of its state tree, hashed once for all proofs at this header. */
  memo?: PathMemo;
}

/** Levels of a cached header's state tree whose node hashes are kept (at most 63 nodes). */
const HEADER_MEMO_LEVELS = 6;

/**
 * Decodes an encoded header, given H(encoded). Decoding succeeds only on canonical bytes, which
 * are what `encodeHeader` gives for the header, so H(encoded) is its block hash.
 */
function decodeHeader(encoded: Uint8Array, hashOfEncoded: Uint8Array): DecodedHeader {
  const header = headerFromCbor(decodeFast(encoded));
  return { header, hash: hashOfEncoded, hashHex: toHex(hashOfEncoded), encoded: encoded.slice() };
}

/**
 * Headers whose commit certificate has been verified, by block hash (hex). Repeated
 * presentations at the same height then skip the commit check. It also keeps the headers
 * decoded, and for each the upper levels of its state tree (a PathMemo), so that they are
 * decoded and hashed once per height. One cache per chain (one hash function) and trusted set.
 * Bounded; oldest out first.
 */
export class VerifiedHeaderCache {
  private readonly entries = new Map<string, true>();
  /** Decoded headers, by block hash (hex): many presentations share a header. */
  private readonly decodedHeaders = new Map<string, DecodedHeader>();
  /** The header returned last: the next presentation most likely carries the same one. */
  private last: DecodedHeader | undefined;
  constructor(readonly max = 1024) {}
  /** The decoded header and its block hash; throws (a coded error) if `encoded` is not a header. */
  decoded(
    encoded: Uint8Array,
    hash: (d: Uint8Array) => Uint8Array,
  ): { header: Header; hashHex: string; hash: Uint8Array; memo?: PathMemo } {
    const last = this.last;
    if (last !== undefined && equalBytes(last.encoded, encoded)) return last;
    // Same bytes, same hash: H(encoded) finds a header decoded before without a hex copy of it.
    const h = hash(encoded);
    let d = this.decodedHeaders.get(toHex(h));
    if (d === undefined) {
      d = { ...decodeHeader(encoded, h), memo: new PathMemo(HEADER_MEMO_LEVELS) };
      if (this.decodedHeaders.size >= this.max)
        this.decodedHeaders.delete(this.decodedHeaders.keys().next().value as string);
      this.decodedHeaders.set(d.hashHex, d);
    }
    this.last = d;
    return d;
  }
  has(hashHex: string): boolean {
    return this.entries.has(hashHex);
  }
  add(hashHex: string): void {
    if (this.entries.has(hashHex)) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(hashHex, true);
  }
  get size(): number {
    return this.entries.size;
  }
}

export interface VerifyPresentationOptions {
  suite: CryptoSuite;
  chainId: string;
  /** The trusted validator set (pinned from genesis, or updated when online). */
  validators: readonly Validator[];
  /** The verifier's clock, ms. */
  now: number;
  /** A proof whose header is older than this (now − header.time) is PROOF_STALE. */
  maxProofAgeMs: number;
  /** The verifier's own id. When given, a presentation for another audience is WRONG_AUDIENCE. */
  audience?: string;
  /** Digests (hex) of presentations already accepted; a repeat is PRESENTATION_REPLAYED. */
  seen?: Set<string>;
  /** Headers already verified against `validators` (same chain and set only). */
  headerCache?: VerifiedHeaderCache;
  /** Tolerated clock difference, ms (default 60 s). */
  maxClockSkewMs?: number;
  /** A presentation older than this (now − createdAt) is PRESENTATION_EXPIRED (default 10 min). */
  maxPresentationAgeMs?: number;
}

export interface PresentationOk {
  ok: true;
  licenseId: string;
  typeCode: string;
  issuerOrg: string;
  fields: Record<string, CborValue>;
  height: number;
  headerTime: number;
  status: StatusCode;
  reason: "OK";
  validUntil: number;
  audience: string;
  createdAt: number;
  holderAccount: string;
  /** The replay identifier (hex). */
  digest: string;
}

export interface PresentationFailure {
  ok: false;
  /** PRESENTATION_MALFORMED, COMMIT_*, PROOF_INVALID, HOLDER_SIGNATURE_INVALID, WRONG_HOLDER,
   * FIELD_TAMPERED, LICENSE_<reason>, PROOF_STALE, WRONG_AUDIENCE, PRESENTATION_REPLAYED,
   * PRESENTATION_FROM_FUTURE, PRESENTATION_EXPIRED. */
  code: string;
  message: string;
  licenseId?: string;
  height?: number;
  status?: StatusCode;
}

export type PresentationResult = PresentationOk | PresentationFailure;

const fail = (
  code: string,
  message: string,
  extra: Partial<PresentationFailure> = {},
): PresentationFailure => ({
  ok: false,
  code,
  message,
  ...extra,
});

const setHashes = new WeakMap<readonly Validator[], Map<string, Uint8Array>>();
function trustedSetHash(suite: CryptoSuite, validators: readonly Validator[]): Uint8Array {
  let bySuite = setHashes.get(validators);
  if (!bySuite) {
    bySuite = new Map();
    setHashes.set(validators, bySuite);
  }
  let h = bySuite.get(suite.id);
  if (!h) {
    h = validatorsHash((d) => suite.hash(d), validators);
    bySuite.set(suite.id, h);
  }
  return h;
}

/**
 * Verifies a QR presentation with no network. Returns why it fails, never throws on bad input.
 * Order: shape → commit → proof → holder key and signature → times → audience → disclosures →
 * license status → replay. The first failing step gives the code.
 */
export function verifyPresentation(opts: VerifyPresentationOptions, qrText: string): PresentationResult {
  const { suite, now } = opts;
  const hash = (d: Uint8Array) => suite.hash(d);
  const skew = opts.maxClockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const maxAge = opts.maxPresentationAgeMs ?? DEFAULT_MAX_PRESENTATION_AGE_MS;

  // 1. Shape.
  let r: Received;
  let d: { header: Header; hashHex: string; hash: Uint8Array; memo?: PathMemo };
  try {
    r = receive(qrText);
    d = opts.headerCache
      ? opts.headerCache.decoded(r.p.encodedHeader, hash)
      : decodeHeader(r.p.encodedHeader, hash(r.p.encodedHeader));
  } catch (err: unknown) {
    return fail("PRESENTATION_MALFORMED", (err as Error).message);
  }
  const { p } = r;
  const { header } = d;
  const at = { licenseId: p.licenseId, height: header.height };

  // 2. The header is committed by the trusted validator set (cached by block hash).
  if (header.chainId !== opts.chainId)
    return fail(
      "COMMIT_WRONG_CHAIN",
      `the header is of chain "${header.chainId}", not "${opts.chainId}"`,
      at,
    );
  const hashOfBlock = d.hash;
  const hashHex = d.hashHex;
  if (
    !opts.headerCache?.has(hashHex) ||
    !equalBytes(header.validatorsHash, trustedSetHash(suite, opts.validators))
  ) {
    const commit: Commit = {
      height: header.height,
      round: p.commitRound,
      blockHash: hashOfBlock,
      signatures: p.commitSignatures,
    };
    const check = verifyCommit(hash, (k, m, s) => suite.verify(k, m, s), opts.validators, header, commit);
    if (!check.ok) return fail(check.reason, `the commit certificate does not verify: ${check.reason}`, at);
    opts.headerCache?.add(hashHex);
  }

  // 3. The record is the value of license/<licenseId> in the header's state root.
  const keyHash = hash(utf8(`license/${p.licenseId}`));
  if (!verifyInclusion(hash, header.stateRoot, keyHash, hash(p.record), p.siblings, d.memo))
    return fail("PROOF_INVALID", "the state proof does not lead to the header's state root", at);
  let record: License;
  try {
    record = licenseFromCbor(r.recordValue);
  } catch (err: unknown) {
    return fail("PRESENTATION_MALFORMED", `record: ${(err as Error).message}`, at);
  }
  if (record.licenseId !== p.licenseId)
    return fail("PRESENTATION_MALFORMED", "the record is of another license", at);

  // 4. The holder: the key is the record's holder account, and it signed everything.
  const address = hash(p.holderPublicKey).subarray(0, 20);
  if (!equalBytes(address, record.holderAccount))
    return fail("WRONG_HOLDER", "the presenting key is not the license's holder account", at);
  const digest = receivedDigest(hash, r.signedBody);
  if (!suite.verify(p.holderPublicKey, digest, p.signature))
    return fail("HOLDER_SIGNATURE_INVALID", "the holder signature does not verify", at);

  // 5. Times: nothing from the future; the proof and the presentation are fresh enough.
  if (p.createdAt > now + skew || header.time > now + skew)
    return fail("PRESENTATION_FROM_FUTURE", "the presentation or its header is dated in the future", at);
  if (now - header.time > opts.maxProofAgeMs)
    return fail(
      "PROOF_STALE",
      `the proof is ${now - header.time} ms old; the limit is ${opts.maxProofAgeMs} ms (go online)`,
      at,
    );
  if (now - p.createdAt > maxAge)
    return fail(
      "PRESENTATION_EXPIRED",
      `the presentation is ${now - p.createdAt} ms old; the limit is ${maxAge} ms`,
      at,
    );

  // 6. Audience.
  if (opts.audience !== undefined && p.audience !== opts.audience)
    return fail("WRONG_AUDIENCE", `the presentation is for "${p.audience}", not "${opts.audience}"`, at);

  // 7. Disclosures open the record's commitments.
  const fields: Record<string, CborValue> = {};
  for (const [name, field] of Object.entries(p.disclosed)) {
    const c = record.commitments[name];
    if (!c) return fail("FIELD_TAMPERED", `field ${name} is not committed in the license`, at);
    const received = r.openings.get(name);
    const opens = received
      ? verifyEncodedDisclosure(hash, c, received)
      : verifyDisclosure(hash, c, name, field.value, field.salt);
    if (!opens) return fail("FIELD_TAMPERED", `field ${name} does not match its commitment`, at);
    fields[name] = field.value;
  }

  // 8. The license is valid at the verifier's time (status as of height h).
  const v = licenseStatus(record, now);
  if (!v.valid)
    return fail(`LICENSE_${v.reason}`, `license ${p.licenseId} is not valid: ${v.reason}`, {
      ...at,
      status: v.status,
    });

  // 9. Single use.
  const digestHex = toHex(digest);
  if (opts.seen) {
    if (opts.seen.has(digestHex))
      return fail("PRESENTATION_REPLAYED", "this presentation was already used", at);
    opts.seen.add(digestHex);
  }
  return {
    ok: true,
    licenseId: p.licenseId,
    typeCode: record.typeCode,
    issuerOrg: record.issuerOrg,
    fields,
    height: header.height,
    headerTime: header.time,
    status: v.status,
    reason: "OK",
    validUntil: record.validUntil,
    audience: p.audience,
    createdAt: p.createdAt,
    holderAccount: toHex(record.holderAccount),
    digest: digestHex,
  };
}
