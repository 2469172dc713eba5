/**
 * A license as a W3C Verifiable Credential (Data Model 2.0), secured with VC-JOSE-COSE: a JWS
 * compact serialization (RFC 7515) whose payload is the credential JSON itself. Browser-safe (no
 * `node:` import) and dependency-free: the JOSE code here is the few lines the format needs, and
 * signing uses the chain's suite through a `KeySigner`.
 *
 *   header  {alg: "EdDSA" (intl, RFC 8037) | "SM2SM3" (gm; not a registered JOSE name, see
 *            docs/adr/0014-credentials-and-dids.md), typ: "vc+jwt", cty: "vc", kid: <issuer DID>#key-1}
 *   payload the credential (licenseToVc)
 *   signature  suite.sign(privateKey, ASCII(b64url(header) "." b64url(payload)))
 *              intl: Ed25519 over the bytes (pure EdDSA); gm: SM2 with SM3 and Z_A over the
 *              default user id "1234567812345678", r||s (64 bytes)
 *
 * The issuer is the issuing account's DID (did:zl:<chain>:acct:<address>): that key signs, and
 * its DID document names the organization as controller. Status: two BitstringStatusListEntry
 * ("revocation", "suspension") at the license's index in its type's lists (status-list.ts).
 */
import type { CborValue } from "../../codec/cbor.js";
import type { CryptoSuite, SuiteId } from "../../crypto/suite.js";
import { toHex } from "../../ledger/bytes.js";
import { accountDid, base64url, fromBase64url, keyId, parseDid } from "./did.js";
import type { KeySigner } from "./presentation.js";

export const VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2";
export const LICENSE_VC_TYPE = "ZhengLianLicense";
export const VC_JWT_TYP = "vc+jwt";
export const STATUS_PURPOSES = ["revocation", "suspension"] as const;
export type StatusPurpose = (typeof STATUS_PURPOSES)[number];

export type JwsAlg = "EdDSA" | "SM2SM3";
export const jwsAlgOf = (suite: SuiteId): JwsAlg => (suite === "intl" ? "EdDSA" : "SM2SM3");

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------------------------------
// Credential

export interface BitstringStatusListEntry {
  id: string;
  type: "BitstringStatusListEntry";
  statusPurpose: StatusPurpose;
  statusListIndex: string;
  statusListCredential: string;
}

export interface LicenseCredential {
  "@context": string[];
  id: string;
  type: string[];
  issuer: string;
  validFrom: string;
  validUntil: string;
  credentialSubject: {
    id: string;
    licenseId: string;
    typeCode: string;
    fields: Record<string, unknown>;
  };
  credentialStatus: BitstringStatusListEntry[];
}

export interface LicenseVcInput {
  chainId: string;
  licenseId: string;
  typeCode: string;
  /** The face fields' values (the holder copy's `fields[name].value`). */
  fields: Record<string, CborValue>;
  holderAccount: Uint8Array;
  /** ms since the Unix epoch, both ends inclusive (as on chain). */
  validFrom: number;
  validUntil: number;
  /** Address of the issuing account (the one whose key signs). */
  issuerAddress: Uint8Array;
  /** The license's index in its type's status lists (assigned at issue: state.ts `assignStatusIndex`). */
  statusIndex: number;
  /** Base URL of the API that publishes the status lists, e.g. "https://zl.example.gov.cn". */
  statusBaseUrl: string;
}

/** The URL of a type's status list credential: `<base>/v1/licenses/status/<typeCode>/<purpose>`. */
export function statusListUrl(baseUrl: string, typeCode: string, purpose: StatusPurpose): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/licenses/status/${typeCode}/${purpose}`;
}

export function statusEntries(baseUrl: string, typeCode: string, index: number): BitstringStatusListEntry[] {
  return STATUS_PURPOSES.map((purpose) => {
    const url = statusListUrl(baseUrl, typeCode, purpose);
    return {
      id: `${url}#${index}`,
      type: "BitstringStatusListEntry",
      statusPurpose: purpose,
      statusListIndex: String(index),
      statusListCredential: url,
    };
  });
}

/** A field value as JSON: bytes as "0x…" hex, bigints as decimal text. */
function jsonValue(v: CborValue): unknown {
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

export const licenseVcId = (licenseId: string): string => `urn:zl:license:${licenseId}`;

export function licenseToVc(input: LicenseVcInput): LicenseCredential {
  if (!Number.isSafeInteger(input.statusIndex) || input.statusIndex < 0)
    throw new RangeError("statusIndex must be a non-negative integer");
  return {
    "@context": [VC_CONTEXT_V2],
    id: licenseVcId(input.licenseId),
    type: ["VerifiableCredential", LICENSE_VC_TYPE],
    issuer: accountDid(input.chainId, input.issuerAddress),
    validFrom: new Date(input.validFrom).toISOString(),
    validUntil: new Date(input.validUntil).toISOString(),
    credentialSubject: {
      id: accountDid(input.chainId, input.holderAccount),
      licenseId: input.licenseId,
      typeCode: input.typeCode,
      fields: Object.fromEntries(Object.entries(input.fields).map(([k, v]) => [k, jsonValue(v)])),
    },
    credentialStatus: statusEntries(input.statusBaseUrl, input.typeCode, input.statusIndex),
  };
}

// ---------------------------------------------------------------------------------------------
// JOSE (compact JWS)

export interface JwsHeader {
  alg: JwsAlg;
  typ: string;
  cty?: string;
  kid: string;
}

/**
 * Signs `credential` as a VC-JOSE-COSE `vc+jwt`. `kid` defaults to `<credential.issuer>#key-1`.
 * The signer is the issuer's key in the chain's suite.
 */
export function signVcJwt(
  suite: SuiteId,
  signer: KeySigner,
  credential: { issuer: string | { id: string } } & Record<string, unknown>,
  kid?: string,
): string {
  const issuer = typeof credential.issuer === "string" ? credential.issuer : credential.issuer.id;
  const header: JwsHeader = { alg: jwsAlgOf(suite), typ: VC_JWT_TYP, cty: "vc", kid: kid ?? keyId(issuer) };
  const input = `${base64url(enc.encode(JSON.stringify(header)))}.${base64url(enc.encode(JSON.stringify(credential)))}`;
  return `${input}.${base64url(signer.sign(enc.encode(input)))}`;
}

export interface ResolvedKey {
  suite: CryptoSuite;
  publicKey: Uint8Array;
}

/** Finds the public key a `kid` names (e.g. from chain state with did.ts `resolveDid`). */
export type KeyResolver = (kid: string) => ResolvedKey | undefined;

export type VcVerifyResult =
  | { ok: true; header: JwsHeader; credential: Record<string, unknown> & { issuer: unknown }; issuer: string }
  | { ok: false; code: string; message: string };

const fail = (code: string, message: string): VcVerifyResult => ({ ok: false, code, message });

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  const bytes = fromBase64url(part);
  if (!bytes) return undefined;
  try {
    const v: unknown = JSON.parse(dec.decode(bytes));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a `vc+jwt` (ours, or any JOSE library's with alg EdDSA / SM2SM3). Never throws on bad
 * input. Checks, in order: the three parts decode (VC_MALFORMED); the header has typ vc+jwt, a
 * known alg and a kid, and no `crit` (VC_BAD_HEADER); the kid resolves to a key whose suite
 * matches alg (VC_UNKNOWN_KEY, VC_ALG_MISMATCH); the signature (VC_BAD_SIGNATURE); the payload is
 * a DM 2.0 credential (VC_NOT_A_CREDENTIAL); the kid's DID is the credential's issuer
 * (VC_ISSUER_MISMATCH); with `now`, validFrom ≤ now ≤ validUntil (VC_NOT_YET_VALID, VC_EXPIRED).
 */
export function verifyVcJwt(
  jwt: string,
  resolveKey: KeyResolver,
  opts: { now?: number } = {},
): VcVerifyResult {
  if (typeof jwt !== "string") return fail("VC_MALFORMED", "a compact JWS string");
  const parts = jwt.split(".");
  if (parts.length !== 3) return fail("VC_MALFORMED", "a compact JWS has three parts");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJsonPart(h);
  const payload = parseJsonPart(p);
  const signature = fromBase64url(s);
  if (!header || !payload || !signature) return fail("VC_MALFORMED", "a part is not base64url JSON");
  const { alg, typ, kid } = header;
  if (alg !== "EdDSA" && alg !== "SM2SM3") return fail("VC_BAD_HEADER", `unsupported alg ${String(alg)}`);
  if (typ !== VC_JWT_TYP) return fail("VC_BAD_HEADER", `typ must be ${VC_JWT_TYP}`);
  if (typeof kid !== "string" || kid.length === 0) return fail("VC_BAD_HEADER", "kid is required");
  if (header.crit !== undefined) return fail("VC_BAD_HEADER", "no critical extension is understood");
  const key = resolveKey(kid);
  if (!key) return fail("VC_UNKNOWN_KEY", `no key for ${kid}`);
  if (jwsAlgOf(key.suite.id) !== alg)
    return fail("VC_ALG_MISMATCH", `${kid} is a ${key.suite.id} key, not ${alg}`);
  if (!key.suite.verify(key.publicKey, enc.encode(`${h}.${p}`), signature))
    return fail("VC_BAD_SIGNATURE", "the signature does not verify");
  const ctx = payload["@context"];
  const types = payload.type;
  if (
    !Array.isArray(ctx) ||
    ctx[0] !== VC_CONTEXT_V2 ||
    !Array.isArray(types) ||
    !types.includes("VerifiableCredential")
  )
    return fail("VC_NOT_A_CREDENTIAL", "the payload is not a VC Data Model 2.0 credential");
  const iss = payload.issuer;
  const issuer = typeof iss === "string" ? iss : (iss as { id?: unknown } | null)?.id;
  if (typeof issuer !== "string" || kid.split("#")[0] !== issuer)
    return fail("VC_ISSUER_MISMATCH", "the kid is not a key of the credential's issuer");
  if (opts.now !== undefined) {
    const from = typeof payload.validFrom === "string" ? Date.parse(payload.validFrom) : Number.NaN;
    const until = typeof payload.validUntil === "string" ? Date.parse(payload.validUntil) : Number.NaN;
    if (!Number.isNaN(from) && opts.now < from) return fail("VC_NOT_YET_VALID", "before validFrom");
    if (!Number.isNaN(until) && opts.now > until) return fail("VC_EXPIRED", "after validUntil");
  }
  return {
    ok: true,
    header: header as unknown as JwsHeader,
    credential: payload as Record<string, unknown> & { issuer: unknown },
    issuer,
  };
}

/** The license id of a ZhengLian license credential (`urn:zl:license:<id>`), if it is one. */
export function licenseIdOfVc(credential: Record<string, unknown>): string | undefined {
  const id = credential.id;
  if (typeof id !== "string" || !id.startsWith("urn:zl:license:")) return undefined;
  return id.slice("urn:zl:license:".length);
}

/** A key resolver over did:zl documents: `lookup(did)` gives the DID's key (did.ts `resolveDid`). */
export function didKeyResolver(
  suite: CryptoSuite,
  lookup: (
    did: string,
  ) => { publicKey: Uint8Array; didDocumentMetadata?: { deactivated: boolean } } | undefined,
): KeyResolver {
  return (kid) => {
    const [did, fragment] = kid.split("#");
    if (!did || fragment !== "key-1" || !parseDid(did)) return undefined;
    const r = lookup(did);
    return r ? { suite, publicKey: r.publicKey } : undefined;
  };
}
