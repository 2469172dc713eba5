/**
 * E-licenses in the SDK: the issuer prepares a license (commitments on chain, the full license
 * off chain to the holder, signed by the issuer); the holder builds QR presentations with a
 * fresh proof from a node; a relying party verifies online (proofs, no trust in the node) or
 * offline (modules/licenses/presentation.ts) and records a use under its grant.
 */
import type { CborValue } from "../codec/cbor.js";
import { encode } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { InvalidInputError, RejectedError, ZlError } from "../errors/index.js";
import { equalBytes, fromHex, fromHexOrUndefined, toHex, utf8 } from "../ledger/bytes.js";
import {
  commitField,
  holderPseudonym,
  MIN_SALT_BYTES,
  verifyDisclosure,
} from "../modules/licenses/commitments.js";
import { parseLicenseId } from "../modules/licenses/identifiers.js";
import {
  buildPresentation,
  type Disclosure,
  type KeySigner,
  type PresentationResult,
} from "../modules/licenses/presentation.js";
import {
  decodeGrant,
  decodeIssuer,
  decodeLicense,
  decodeType,
  grantKey,
  issuerGrantedAt,
  issuerKey,
  licenseKey,
  licenseStatus,
  typeKey,
} from "../modules/licenses/state.js";
import type { License, StatusCode } from "../modules/licenses/types.js";
import { decodeProof } from "../state/proof.js";
import { cborToJson, jsonToCbor } from "./args.js";
import type { SubmitResult, ZlClient } from "./client.js";
import type { Signer } from "./signer.js";
import { type StateResponse, verifyStateResponse } from "./verify.js";

export { type KeySigner, keySigner } from "../modules/licenses/presentation.js";

export const LICENSE_DIGEST_TAG = "zl/license/v1";
export const HOLDER_COPY_FORMAT = "zl-license-holder-copy/v1";

const randomSalt = (n = MIN_SALT_BYTES): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

// ---------------------------------------------------------------------------------------------
// Issuer side

export interface PrepareLicenseInput {
  licenseId: string;
  /** Must equal the type code inside the identifier. */
  typeCode: string;
  fields: Record<string, CborValue>;
  holderDid: string;
  /** The holder's enrolled account (address, 20 bytes): it alone may grant and present. */
  holderAccount: Uint8Array;
  validFrom: number;
  validUntil: number;
  /** The issuing account's key; it signs the license digest. */
  issuer: KeySigner;
}

export interface HolderCopy {
  licenseId: string;
  typeCode: string;
  fields: Record<string, Disclosure>;
  holderDid: string;
  holderSalt: Uint8Array;
  holder: Uint8Array;
  holderAccount: Uint8Array;
  commitments: Record<string, Uint8Array>;
  validFrom: number;
  validUntil: number;
  issuerPublicKey: Uint8Array;
  issuerSignature: Uint8Array;
}

export interface PreparedLicense {
  /** The arguments of licenses.issue. */
  onChainArgs: {
    licenseId: string;
    holder: Uint8Array;
    holderAccount: Uint8Array;
    commitments: Record<string, Uint8Array>;
    validFrom: number;
    validUntil: number;
  };
  /** The full license, delivered to the holder off chain (never on chain). */
  holderCopy: HolderCopy;
  digest: Uint8Array;
}

/**
 * The issuer's digest of a license:
 * H(cbor(["zl/license/v1", licenseId, typeCode, {field: commitment}, holder, holderAccount,
 * validFrom, validUntil])).
 */
export function licenseDigest(
  suite: CryptoSuite,
  l: Pick<
    HolderCopy,
    "licenseId" | "typeCode" | "commitments" | "holder" | "holderAccount" | "validFrom" | "validUntil"
  >,
): Uint8Array {
  return suite.hash(
    encode([
      LICENSE_DIGEST_TAG,
      l.licenseId,
      l.typeCode,
      { ...l.commitments },
      l.holder,
      l.holderAccount,
      l.validFrom,
      l.validUntil,
    ]),
  );
}

export function prepareLicense(suite: CryptoSuite, input: PrepareLicenseInput): PreparedLicense {
  const hash = (d: Uint8Array) => suite.hash(d);
  const id = parseLicenseId(input.licenseId);
  if (id.typeCode !== input.typeCode)
    throw new InvalidInputError(
      "LICENSE_ID_MISMATCH",
      `the identifier is of type ${id.typeCode}, not ${input.typeCode}`,
    );
  if (!(input.holderAccount instanceof Uint8Array) || input.holderAccount.length !== 20)
    throw new InvalidInputError("LICENSE_BAD_ARGS", "holderAccount: a 20-byte address");
  if (!(input.validFrom <= input.validUntil))
    throw new InvalidInputError("LICENSE_BAD_PERIOD", "validFrom must not be after validUntil");
  const fields: Record<string, Disclosure> = {};
  const commitments: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(input.fields)) {
    if (typeof value === "string" && value.startsWith("0x"))
      throw new InvalidInputError("LICENSE_BAD_FIELDS", `${name}: a text value may not start with "0x"`);
    const salt = randomSalt();
    fields[name] = { value, salt };
    commitments[name] = commitField(hash, name, value, salt);
  }
  const holderSalt = randomSalt();
  const holder = holderPseudonym(hash, holderSalt, input.holderDid);
  const base = {
    licenseId: input.licenseId,
    typeCode: input.typeCode,
    commitments,
    holder,
    holderAccount: input.holderAccount,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
  };
  const digest = licenseDigest(suite, base);
  return {
    onChainArgs: {
      licenseId: input.licenseId,
      holder,
      holderAccount: input.holderAccount,
      commitments,
      validFrom: input.validFrom,
      validUntil: input.validUntil,
    },
    holderCopy: {
      ...base,
      fields,
      holderDid: input.holderDid,
      holderSalt,
      issuerPublicKey: input.issuer.publicKey,
      issuerSignature: input.issuer.sign(digest),
    },
    digest,
  };
}

/**
 * Checks a holder copy on its own (no chain): every field opens its commitment, the pseudonym
 * matches the DID and salt, and the issuer's signature covers the digest. Returns the issuer's
 * address (the verifier then checks it is a trusted issuer, e.g. with `verifyLicenseOnline`).
 */
export function verifyHolderCopy(suite: CryptoSuite, copy: HolderCopy): { ok: true; issuer: string } {
  const hash = (d: Uint8Array) => suite.hash(d);
  for (const [name, d] of Object.entries(copy.fields)) {
    const c = copy.commitments[name];
    if (!c || !verifyDisclosure(hash, c, name, d.value, d.salt))
      throw new RejectedError("FIELD_TAMPERED", `field ${name} does not open its commitment`);
  }
  if (!equalBytes(holderPseudonym(hash, copy.holderSalt, copy.holderDid), copy.holder))
    throw new RejectedError(
      "HOLDER_PSEUDONYM_MISMATCH",
      "the holder pseudonym does not match the DID and salt",
    );
  if (!suite.verify(copy.issuerPublicKey, licenseDigest(suite, copy), copy.issuerSignature))
    throw new RejectedError("ISSUER_SIGNATURE_INVALID", "the issuer signature does not verify");
  return { ok: true, issuer: toHex(hash(copy.issuerPublicKey).subarray(0, 20)) };
}

/** The holder copy as a JSON document (bytes as "0x…" hex). */
export function holderCopyToJson(c: HolderCopy): Record<string, unknown> {
  return {
    format: HOLDER_COPY_FORMAT,
    licenseId: c.licenseId,
    typeCode: c.typeCode,
    fields: Object.fromEntries(
      Object.entries(c.fields).map(([k, d]) => [
        k,
        { value: cborToJson(d.value), salt: `0x${toHex(d.salt)}` },
      ]),
    ),
    holderDid: c.holderDid,
    holderSalt: `0x${toHex(c.holderSalt)}`,
    holder: `0x${toHex(c.holder)}`,
    holderAccount: `0x${toHex(c.holderAccount)}`,
    commitments: Object.fromEntries(Object.entries(c.commitments).map(([k, v]) => [k, `0x${toHex(v)}`])),
    validFrom: c.validFrom,
    validUntil: c.validUntil,
    issuerPublicKey: `0x${toHex(c.issuerPublicKey)}`,
    issuerSignature: `0x${toHex(c.issuerSignature)}`,
  };
}

export function holderCopyFromJson(json: unknown): HolderCopy {
  const bad = (m: string): never => {
    throw new InvalidInputError("LICENSE_BAD_HOLDER_COPY", m);
  };
  if (typeof json !== "object" || json === null) bad("not a JSON object");
  const j = json as Record<string, unknown>;
  if (j.format !== HOLDER_COPY_FORMAT) bad(`format must be ${HOLDER_COPY_FORMAT}`);
  const bytes = (v: unknown, what: string): Uint8Array => {
    const b = typeof v === "string" && v.startsWith("0x") ? fromHexOrUndefined(v.slice(2)) : undefined;
    return b ?? bad(`${what}: "0x…" hex`);
  };
  const num = (v: unknown, what: string): number =>
    Number.isSafeInteger(v) ? (v as number) : bad(`${what}: integer`);
  const str = (v: unknown, what: string): string => (typeof v === "string" ? v : bad(`${what}: text`));
  const fields: Record<string, Disclosure> = {};
  for (const [k, d] of Object.entries(
    (j.fields ?? bad("fields")) as Record<string, { value: unknown; salt: unknown }>,
  ))
    fields[k] = { value: jsonToCbor(d.value, `fields.${k}`), salt: bytes(d.salt, `fields.${k}.salt`) };
  const commitments: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries((j.commitments ?? bad("commitments")) as Record<string, unknown>))
    commitments[k] = bytes(v, `commitments.${k}`);
  return {
    licenseId: str(j.licenseId, "licenseId"),
    typeCode: str(j.typeCode, "typeCode"),
    fields,
    holderDid: str(j.holderDid, "holderDid"),
    holderSalt: bytes(j.holderSalt, "holderSalt"),
    holder: bytes(j.holder, "holder"),
    holderAccount: bytes(j.holderAccount, "holderAccount"),
    commitments,
    validFrom: num(j.validFrom, "validFrom"),
    validUntil: num(j.validUntil, "validUntil"),
    issuerPublicKey: bytes(j.issuerPublicKey, "issuerPublicKey"),
    issuerSignature: bytes(j.issuerSignature, "issuerSignature"),
  };
}

/** Sends licenses.issue for a prepared license and waits for the commit. */
export function issuePrepared(
  client: ZlClient,
  issuer: Signer,
  prepared: PreparedLicense,
): Promise<SubmitResult> {
  return client.send(
    issuer,
    { module: "licenses", call: "issue", args: prepared.onChainArgs },
    { wait: true },
  );
}

// ---------------------------------------------------------------------------------------------
// Holder side

export interface LicenseProof {
  height: number;
  record: Uint8Array;
  response: StateResponse;
}

/** Fetches license/<id> with its proof, header and commit, and verifies them (trusting genesis only). */
export async function fetchLicenseProof(
  client: ZlClient,
  licenseId: string,
  height?: number,
): Promise<LicenseProof> {
  const key = licenseKey(licenseId);
  const r = await client.request<StateResponse>(
    "GET",
    `/v1/state?keyHex=${toHex(key)}${height ? `&height=${height}` : ""}`,
  );
  const g = await client.trustedGenesis();
  const v = verifyStateResponse(await client.suite(), g.chainId, g.validators, key, r);
  if (v.value === null)
    throw new RejectedError("LICENSE_NOT_FOUND", `no license ${licenseId} at height ${v.height}`);
  return { height: v.height, record: v.value, response: r };
}

export interface PresentInput {
  copy: HolderCopy;
  /** The names of the fields to disclose (a subset of the copy's fields). */
  fields: string[];
  audience: string;
  holder: KeySigner;
  createdAt?: number;
  height?: number;
}

/** The holder's wallet: a fresh proof from the node, then a signed QR presentation. */
export async function presentLicense(
  client: ZlClient,
  input: PresentInput,
): Promise<{ text: string; height: number; bytes: number; digest: string }> {
  const suite = await client.suite();
  const disclosed: Record<string, Disclosure> = {};
  for (const name of input.fields) {
    const d = input.copy.fields[name];
    if (!d) throw new InvalidInputError("LICENSE_UNKNOWN_FIELD", `the license has no field ${name}`);
    disclosed[name] = d;
  }
  const p = await fetchLicenseProof(client, input.copy.licenseId, input.height);
  const built = buildPresentation(suite, {
    licenseId: input.copy.licenseId,
    disclosed,
    record: p.record,
    proof: decodeProof(fromHex(p.response.proof)),
    encodedHeader: fromHex(p.response.encodedHeader),
    encodedCommit: fromHex(p.response.commit),
    audience: input.audience,
    createdAt: input.createdAt ?? Date.now(),
    holder: input.holder,
  });
  return {
    text: built.text,
    height: p.height,
    bytes: built.text.length,
    digest: toHex(built.digest),
  };
}

// ---------------------------------------------------------------------------------------------
// Verifier side, online

export interface OnlineOk {
  ok: true;
  licenseId: string;
  typeCode: string;
  typeName: string | null;
  issuerOrg: string;
  fields: Record<string, CborValue>;
  height: number;
  status: StatusCode;
  reason: "OK";
  validUntil: number;
  next: string | null;
}

export type OnlineResult = OnlineOk | Extract<PresentationResult, { ok: false }>;

/**
 * Verifies a license against the chain now, without trusting the node: the record, the
 * issuer's authority at the height of issue and the type come with proofs under a commit of
 * the trusted validators; the disclosures must open the record's commitments; the status
 * is `licenseStatus(record, now)`. Codes as in verifyPresentation, plus LICENSE_NOT_FOUND and
 * ISSUER_NOT_AUTHORIZED.
 */
export async function verifyLicenseOnline(
  client: ZlClient,
  licenseId: string,
  disclosed: Record<string, Disclosure> = {},
  opts: {
    now?: number;
    /** A relying party verifying under the holder's grant (授权用证): the grant must be in force for it. */
    grant?: { grantId: string; relyingParty: Uint8Array };
    /** Read no older than this height, e.g. the height at which a change was seen to commit. */
    minHeight?: number;
  } = {},
): Promise<OnlineResult> {
  const fail = (code: string, message: string, extra: Record<string, unknown> = {}) =>
    ({ ok: false, code, message, licenseId, ...extra }) as Extract<PresentationResult, { ok: false }>;
  const suite = await client.suite();
  const hash = (d: Uint8Array) => suite.hash(d);
  let record: License;
  let height: number;
  let typeName: string | null = null;
  try {
    const v = await client.queryVerified(licenseKey(licenseId), undefined, { minHeight: opts.minHeight });
    if (v.value === null) return fail("LICENSE_NOT_FOUND", `no license ${licenseId}`, { height: v.height });
    record = decodeLicense(v.value);
    height = v.height;
    const iss = await client.queryVerified(issuerKey(record.typeCode, record.issuer), height);
    const issuer = iss.value ? decodeIssuer(iss.value) : undefined;
    if (!issuer || issuer.org !== record.issuerOrg || !issuerGrantedAt(issuer, record.issuedAt))
      return fail("ISSUER_NOT_AUTHORIZED", "the issuer was not a trusted issuer of the type at issue", {
        height,
      });
    const t = await client.queryVerified(typeKey(record.typeCode), height);
    if (t.value) typeName = decodeType(t.value).name;
    if (opts.grant) {
      const g = await client.queryVerified(grantKey(licenseId, opts.grant.grantId), height);
      if (g.value === null)
        return fail("GRANT_MISSING", `no grant ${opts.grant.grantId} on license ${licenseId}`, { height });
      const grant = decodeGrant(g.value);
      const now = opts.now ?? Date.now();
      if (grant.withdrawnAt !== null)
        return fail(
          "GRANT_WITHDRAWN",
          `the holder withdrew grant ${grant.grantId} at height ${grant.withdrawnAt}`,
          { height },
        );
      if (!equalBytes(grant.relyingParty, opts.grant.relyingParty))
        return fail("GRANT_WRONG_PARTY", "the grant is for another relying party", { height });
      if (now < grant.from || now > grant.until)
        return fail("GRANT_NOT_IN_FORCE", "the grant's period does not include now", { height });
      const outside = Object.keys(disclosed).filter((f) => !grant.fields.includes(f));
      if (outside.length > 0)
        return fail("GRANT_FIELD_NOT_ALLOWED", `the grant does not cover: ${outside.join(", ")}`, { height });
    }
  } catch (err: unknown) {
    if (err instanceof ZlError && /^(COMMIT_|PROOF_|SDK_)/.test(err.code)) return fail(err.code, err.message);
    throw err;
  }
  const fields: Record<string, CborValue> = {};
  for (const [name, d] of Object.entries(disclosed)) {
    const c = record.commitments[name];
    if (!c || !verifyDisclosure(hash, c, name, d.value, d.salt))
      return fail("FIELD_TAMPERED", `field ${name} does not match its commitment`, { height });
    fields[name] = d.value;
  }
  const s = licenseStatus(record, opts.now ?? Date.now());
  if (!s.valid)
    return fail(
      `LICENSE_${s.reason}`,
      `license ${licenseId} is not valid: ${s.reason} (status ${s.status} since height ${record.statusHeight})`,
      {
        height,
        status: s.status,
        statusHeight: record.statusHeight,
        next: record.next,
      },
    );
  return {
    ok: true,
    licenseId,
    typeCode: record.typeCode,
    typeName,
    issuerOrg: record.issuerOrg,
    fields,
    height,
    status: s.status,
    reason: "OK",
    validUntil: record.validUntil,
    next: record.next,
  };
}

export interface RecordUseInput {
  licenseId: string;
  grantId: string;
  serviceItemCode: string;
  businessSerial: string;
  /** The stated reason (申请事由); it goes on chain only as a salted commitment. */
  reason: string;
}

/**
 * A relying party acting under the holder's grant records the use (用证记录). Returns the
 * submission and the reason's salt, which the relying party keeps to open the commitment later.
 */
export async function recordLicenseUse(
  client: ZlClient,
  relyingParty: Signer,
  u: RecordUseInput,
): Promise<{ result: SubmitResult; reasonSalt: Uint8Array }> {
  const suite = await client.suite();
  const reasonSalt = randomSalt();
  const result = await client.send(
    relyingParty,
    {
      module: "licenses",
      call: "recordUse",
      args: {
        licenseId: u.licenseId,
        grantId: u.grantId,
        serviceItemCode: u.serviceItemCode,
        businessSerial: u.businessSerial,
        reasonCommitment: commitField((d) => suite.hash(d), "reason", u.reason, reasonSalt),
      },
    },
    { wait: true },
  );
  return { result, reasonSalt };
}

/** The state key of a license as bytes (for callers that build their own queries). */
export const licenseStateKey = (licenseId: string): Uint8Array => utf8(`license/${licenseId}`);
