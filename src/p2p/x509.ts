/**
 * Node certificates: the X.509 v3 profile (RFC 5280) that binds a node's Ed25519 TLS key
 * (RFC 8410 SubjectPublicKeyInfo) to its organization. The certificate is signed by the
 * organization's root key with the chain's suite:
 *
 * - intl: Ed25519 (id-Ed25519 1.3.101.112, RFC 8410 §6, parameters absent);
 * - gm:   SM2-with-SM3 (1.2.156.10197.1.501, GM/T 0015 / GB/T 20518), the signature value being
 *         DER `SEQUENCE { r INTEGER, s INTEGER }` over the TBSCertificate with Z_A over the
 *         default user id (GB/T 32918.2), i.e. what `suite.sign` computes.
 *
 * Only the profile below is written and only it is accepted (see ADR 0015):
 *   version v3; serial positive ≤ 20 octets; issuer `O=<org>, CN=<org> root`; subject
 *   `O=<org>, CN=<nodeId>`; UTCTime/GeneralizedTime validity; Ed25519 subject key; extensions
 *   basicConstraints CA:false (critical), keyUsage digitalSignature (critical), extKeyUsage
 *   serverAuth + clientAuth. Unknown critical extensions are refused (RFC 5280 §4.2).
 *
 * Pure: no Node-only imports (the TLS key helper lives in tls-key.ts).
 */
import { randomBytes } from "@noble/curves/utils.js";
import { oid, TAG, tlv } from "../crypto/der.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";

export const OID_ED25519 = "1.3.101.112";
export const OID_SM2_WITH_SM3 = "1.2.156.10197.1.501";
const OID_ORGANIZATION = "2.5.4.10";
const OID_COMMON_NAME = "2.5.4.3";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

const T = {
  BOOLEAN: 0x01,
  INTEGER: TAG.INTEGER,
  BIT_STRING: TAG.BIT_STRING,
  OCTET_STRING: TAG.OCTET_STRING,
  NULL: 0x05,
  OID: TAG.OID,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: TAG.SEQUENCE,
  SET: 0x31,
  CTX0: 0xa0,
  CTX3: 0xa3,
} as const;

export type CertFailureCode =
  | "P2P_CERT_MALFORMED"
  | "P2P_CERT_UNKNOWN_ORG"
  | "P2P_CERT_BAD_SIGNATURE"
  | "P2P_CERT_EXPIRED"
  | "P2P_CERT_NOT_YET_VALID"
  | "P2P_CERT_WRONG_ALGORITHM";

export interface CertName {
  org: string;
  cn: string;
}

export interface ParsedCertificate {
  /** The DER TBSCertificate, exactly as signed. */
  tbs: Uint8Array;
  /** Dotted OID of the outer signatureAlgorithm (equal to the one inside the TBSCertificate). */
  signatureAlgorithm: string;
  /** signatureValue as it appears in the certificate (DER r,s for SM2; 64 raw bytes for Ed25519). */
  signature: Uint8Array;
  /** Serial number, unsigned big-endian, without a sign octet. */
  serial: Uint8Array;
  subject: CertName;
  issuer: CertName;
  notBefore: Date;
  notAfter: Date;
  /** Raw 32-byte Ed25519 key of the subject. */
  tlsPublicKey: Uint8Array;
}

export interface IssueOptions {
  suite: CryptoSuite;
  orgId: string;
  orgPrivateKey: Uint8Array;
  nodeId: string;
  /** Raw 32-byte Ed25519 public key. */
  tlsPublicKey: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Unsigned big-endian serial; default 16 random bytes. */
  serial?: Uint8Array;
}

export interface VerifyOptions {
  suite: CryptoSuite;
  /** Current member organizations: org id → root public key (suite format). */
  orgRoots: ReadonlyMap<string, Uint8Array>;
  now: Date;
}

export type CertVerification =
  | { ok: true; org: string; nodeId: string; tlsPublicKey: Uint8Array }
  | { ok: false; code: CertFailureCode; message: string };

/** The signature algorithm a chain's node certificates carry. */
export function signatureAlgorithmFor(suite: CryptoSuite): string {
  return suite.id === "gm" ? OID_SM2_WITH_SM3 : OID_ED25519;
}

/** The issuer CN of an organization's node certificates. */
export function rootCommonName(orgId: string): string {
  return `${orgId} root`;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

function badRequest(message: string, meta: Record<string, unknown> = {}): InvalidInputError {
  return new InvalidInputError("P2P_CERT_BAD_REQUEST", message, meta);
}

/** DER INTEGER from unsigned big-endian bytes (minimal, with a 0x00 sign octet when needed). */
function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  if ((v[0] as number) & 0x80) {
    const out = new Uint8Array(v.length + 1);
    out.set(v, 1);
    return tlv(T.INTEGER, out);
  }
  return tlv(T.INTEGER, v);
}

function name(n: CertName): Uint8Array {
  const rdn = (type: string, value: string) =>
    tlv(T.SET, tlv(T.SEQUENCE, oid(type), tlv(T.UTF8_STRING, utf8.encode(value))));
  return tlv(T.SEQUENCE, rdn(OID_ORGANIZATION, n.org), rdn(OID_COMMON_NAME, n.cn));
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, Zulu. */
function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest =
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    "Z";
  if (y >= 1950 && y < 2050) return tlv(T.UTC_TIME, utf8.encode(pad(y % 100, 2) + rest));
  return tlv(T.GENERALIZED_TIME, utf8.encode(pad(y, 4) + rest));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? tlv(T.SEQUENCE, oid(id), tlv(T.BOOLEAN, Uint8Array.of(0xff)), tlv(T.OCTET_STRING, value))
    : tlv(T.SEQUENCE, oid(id), tlv(T.OCTET_STRING, value));
}

/** DER Ecdsa-Sig-Value style `SEQUENCE { r, s }` from a 64-byte r||s signature. */
export function rawToDerSignature(raw: Uint8Array): Uint8Array {
  if (raw.length !== 64) throw badRequest("SM2 signature must be 64 bytes (r||s)");
  return tlv(T.SEQUENCE, unsignedInteger(raw.subarray(0, 32)), unsignedInteger(raw.subarray(32)));
}

function validDate(d: unknown): d is Date {
  return d instanceof Date && Number.isFinite(d.getTime());
}

/** Issues a node certificate (DER) signed by the organization's root key. */
export function issueNodeCertificate(opts: IssueOptions): Uint8Array {
  const { suite, orgId, nodeId, tlsPublicKey, notBefore, notAfter } = opts;
  if (typeof orgId !== "string" || orgId.length === 0) throw badRequest("orgId must be a non-empty string");
  if (typeof nodeId !== "string" || nodeId.length === 0)
    throw badRequest("nodeId must be a non-empty string");
  if (!(tlsPublicKey instanceof Uint8Array) || tlsPublicKey.length !== 32)
    throw badRequest("tlsPublicKey must be a raw 32-byte Ed25519 key");
  if (!validDate(notBefore) || !validDate(notAfter) || notAfter.getTime() <= notBefore.getTime())
    throw badRequest("validity must be two valid dates with notBefore < notAfter");
  let serial = opts.serial;
  if (serial === undefined) {
    serial = randomBytes(16);
    serial[0] = ((serial[0] as number) & 0x7f) | 0x40; // positive, always 16 octets
  }
  if (
    !(serial instanceof Uint8Array) ||
    serial.length === 0 ||
    serial.length > 20 ||
    serial.every((b) => b === 0)
  )
    throw badRequest("serial must be 1..20 bytes and non-zero (RFC 5280 §4.1.2.2)");
  const algOid = signatureAlgorithmFor(suite);
  const algId = tlv(T.SEQUENCE, oid(algOid));
  const spki = tlv(
    T.SEQUENCE,
    tlv(T.SEQUENCE, oid(OID_ED25519)),
    tlv(T.BIT_STRING, Uint8Array.of(0), tlsPublicKey),
  );
  const extensions = tlv(
    T.SEQUENCE,
    extension(OID_BASIC_CONSTRAINTS, true, tlv(T.SEQUENCE)),
    extension(OID_KEY_USAGE, true, tlv(T.BIT_STRING, Uint8Array.of(7, 0x80))),
    extension(OID_EXT_KEY_USAGE, false, tlv(T.SEQUENCE, oid(OID_SERVER_AUTH), oid(OID_CLIENT_AUTH))),
  );
  const tbs = tlv(
    T.SEQUENCE,
    tlv(T.CTX0, tlv(T.INTEGER, Uint8Array.of(2))),
    unsignedInteger(serial),
    algId,
    name({ org: orgId, cn: rootCommonName(orgId) }),
    tlv(T.SEQUENCE, time(notBefore), time(notAfter)),
    name({ org: orgId, cn: nodeId }),
    spki,
    tlv(T.CTX3, extensions),
  );
  const raw = suite.sign(opts.orgPrivateKey, tbs);
  const sig = suite.id === "gm" ? rawToDerSignature(raw) : raw;
  return tlv(T.SEQUENCE, tbs, algId, tlv(T.BIT_STRING, Uint8Array.of(0), sig));
}

// ---------------------------------------------------------------------------------------------
// Reading (strict DER)
// ---------------------------------------------------------------------------------------------

function malformed(what: string): InvalidInputError {
  return new InvalidInputError("P2P_CERT_MALFORMED", `malformed node certificate: ${what}`);
}

interface Tlv {
  tag: number;
  value: Uint8Array;
  /** The whole encoding (header + value). */
  raw: Uint8Array;
}

/** One TLV at `offset`; definite, minimal lengths only (DER, X.690 §10.1). */
function readTlv(buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw malformed("truncated header");
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw malformed("high tag numbers are not used");
  let len = buf[offset + 1] as number;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw malformed("indefinite length");
    if (n > 3 || offset + 2 + n > buf.length) throw malformed("bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    if (len < 0x80 || (buf[offset + 2] as number) === 0) throw malformed("non-minimal length");
    hdr += n;
  }
  if (offset + hdr + len > buf.length) throw malformed("truncated value");
  return {
    tag,
    value: buf.subarray(offset + hdr, offset + hdr + len),
    raw: buf.subarray(offset, offset + hdr + len),
  };
}

function childrenOf(node: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = 0; o < node.value.length; ) {
    const c = readTlv(node.value, o);
    out.push(c);
    o += c.raw.length;
  }
  return out;
}

function want(node: Tlv | undefined, tag: number, what: string): Tlv {
  if (node === undefined || node.tag !== tag) throw malformed(`expected ${what}`);
  return node;
}

function wantCount(nodes: Tlv[], min: number, max: number, what: string): void {
  if (nodes.length < min || nodes.length > max) throw malformed(`unexpected number of fields in ${what}`);
}

function decodeOid(node: Tlv): string {
  const v = node.value;
  if (v.length === 0 || (v[v.length - 1] as number) & 0x80) throw malformed("bad OID");
  const arcs: number[] = [];
  let acc = 0;
  let first = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i] as number;
    if (acc === 0 && b === 0x80) throw malformed("non-minimal OID arc");
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 256) throw malformed("OID arc too large");
    if (b & 0x80) continue;
    if (first) {
      const top = acc < 40 ? 0 : acc < 80 ? 1 : 2;
      arcs.push(top, acc - 40 * top);
      first = false;
    } else arcs.push(acc);
    acc = 0;
  }
  return arcs.join(".");
}

/** Unsigned big-endian value of a positive, minimally encoded DER INTEGER. */
function positiveInteger(node: Tlv | undefined, what: string): Uint8Array {
  const v = want(node, T.INTEGER, what).value;
  if (v.length === 0) throw malformed(`empty ${what}`);
  if ((v[0] as number) & 0x80) throw malformed(`negative ${what}`);
  if (v.length > 1 && v[0] === 0 && ((v[1] as number) & 0x80) === 0) throw malformed(`non-minimal ${what}`);
  const u = v[0] === 0 ? v.subarray(1) : v;
  if (u.length === 0) throw malformed(`zero ${what}`);
  return u;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

function decodeText(node: Tlv | undefined, what: string): string {
  if (node === undefined || (node.tag !== T.UTF8_STRING && node.tag !== T.PRINTABLE_STRING))
    throw malformed(`expected a string in ${what}`);
  let s: string;
  try {
    s = utf8Decoder.decode(node.value);
  } catch {
    throw malformed(`invalid UTF-8 in ${what}`);
  }
  if (s.length === 0) throw malformed(`empty ${what}`);
  return s;
}

/** Exactly `O=<org>, CN=<cn>`: two single-valued RDNs, in that order. */
function parseName(node: Tlv | undefined, what: string): CertName {
  const rdns = childrenOf(want(node, T.SEQUENCE, what));
  wantCount(rdns, 2, 2, what);
  const attr = (rdn: Tlv | undefined, type: string, label: string): string => {
    const set = childrenOf(want(rdn, T.SET, `${what} RDN`));
    wantCount(set, 1, 1, `${what} RDN`);
    const [t, v] = childrenOf(want(set[0], T.SEQUENCE, `${what} attribute`));
    if (decodeOid(want(t, T.OID, `${what} attribute type`)) !== type)
      throw malformed(`${what} must be O, CN`);
    return decodeText(v, `${what} ${label}`);
  };
  return { org: attr(rdns[0], OID_ORGANIZATION, "O"), cn: attr(rdns[1], OID_COMMON_NAME, "CN") };
}

function parseTime(node: Tlv | undefined, what: string): Date {
  if (node === undefined) throw malformed(`missing ${what}`);
  const s = String.fromCharCode(...node.value);
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === T.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw malformed(`${what} is not YYMMDDHHMMSSZ`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === T.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw malformed(`${what} is not YYYYMMDDHHMMSSZ`);
    year = Number(m[1]);
  } else throw malformed(`${what} is not a time`);
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== se
  )
    throw malformed(`${what} is not a valid date`);
  return date;
}

function parseAlgorithm(node: Tlv | undefined, what: string): string {
  const parts = childrenOf(want(node, T.SEQUENCE, what));
  wantCount(parts, 1, 2, what);
  const id = decodeOid(want(parts[0], T.OID, `${what} OID`));
  if (parts.length === 2) {
    // RFC 8410 forbids parameters for Ed25519; SM2-with-SM3 is seen with and without NULL.
    const p = parts[1] as Tlv;
    if (id === OID_ED25519 || p.tag !== T.NULL || p.value.length !== 0)
      throw malformed(`unexpected parameters in ${what}`);
  }
  return id;
}

function bitStringBytes(node: Tlv | undefined, what: string): Uint8Array {
  const v = want(node, T.BIT_STRING, what).value;
  if (v.length === 0 || v[0] !== 0) throw malformed(`${what} must be whole octets`);
  return v.subarray(1);
}

function parseSpki(node: Tlv | undefined): Uint8Array {
  const parts = childrenOf(want(node, T.SEQUENCE, "subjectPublicKeyInfo"));
  wantCount(parts, 2, 2, "subjectPublicKeyInfo");
  if (parseAlgorithm(parts[0], "subject key algorithm") !== OID_ED25519)
    throw malformed("subject key must be Ed25519 (RFC 8410)");
  const key = bitStringBytes(parts[1], "subjectPublicKey");
  if (key.length !== 32) throw malformed("Ed25519 subject key must be 32 bytes");
  return new Uint8Array(key);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function parseExtensions(node: Tlv | undefined): void {
  const list = childrenOf(want(node, T.CTX3, "extensions"));
  wantCount(list, 1, 1, "extensions");
  const exts = childrenOf(want(list[0], T.SEQUENCE, "Extensions"));
  if (exts.length === 0) throw malformed("empty Extensions");
  const seen = new Set<string>();
  let isLeaf = false;
  let digitalSignature = false;
  let serverAuth = false;
  let clientAuth = false;
  for (const ext of exts) {
    const parts = childrenOf(want(ext, T.SEQUENCE, "Extension"));
    wantCount(parts, 2, 3, "Extension");
    const id = decodeOid(want(parts[0], T.OID, "extnID"));
    let critical = false;
    if (parts.length === 3) {
      const b = want(parts[1], T.BOOLEAN, "critical").value;
      // DER: DEFAULT FALSE is omitted, so an explicit flag must be TRUE (0xff).
      if (b.length !== 1 || b[0] !== 0xff) throw malformed("critical must be omitted or TRUE");
      critical = true;
    }
    const value = want(parts[parts.length - 1], T.OCTET_STRING, "extnValue").value;
    if (seen.has(id)) throw malformed(`duplicate extension ${id}`);
    seen.add(id);
    const inner = readTlv(value, 0);
    if (inner.raw.length !== value.length) throw malformed(`trailing bytes in extension ${id}`);
    if (id === OID_BASIC_CONSTRAINTS) {
      const bc = childrenOf(want(inner, T.SEQUENCE, "BasicConstraints"));
      // CA:false is the empty SEQUENCE in DER; anything else asserts CA or a path length.
      if (bc.length !== 0) throw malformed("a node certificate must not be a CA certificate");
      isLeaf = true;
    } else if (id === OID_KEY_USAGE) {
      const bits = want(inner, T.BIT_STRING, "KeyUsage").value;
      if (bits.length < 2 || (bits[0] as number) > 7) throw malformed("bad KeyUsage");
      digitalSignature = ((bits[1] as number) & 0x80) !== 0;
    } else if (id === OID_EXT_KEY_USAGE) {
      for (const p of childrenOf(want(inner, T.SEQUENCE, "ExtKeyUsage"))) {
        const u = decodeOid(want(p, T.OID, "KeyPurposeId"));
        if (u === OID_SERVER_AUTH) serverAuth = true;
        if (u === OID_CLIENT_AUTH) clientAuth = true;
      }
    } else if (critical) {
      throw malformed(`unknown critical extension ${id}`);
    }
  }
  if (!isLeaf) throw malformed("basicConstraints CA:false is required");
  if (!digitalSignature) throw malformed("keyUsage digitalSignature is required");
  if (!serverAuth || !clientAuth) throw malformed("extKeyUsage serverAuth and clientAuth are required");
}

/**
 * Parses a node certificate of our profile. Throws InvalidInputError P2P_CERT_MALFORMED on
 * anything else (including trailing bytes and non-DER encodings).
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array)) throw malformed("expected bytes");
  const top = readTlv(der, 0);
  if (top.raw.length !== der.length) throw malformed("trailing bytes after the certificate");
  const cert = childrenOf(want(top, T.SEQUENCE, "Certificate"));
  wantCount(cert, 3, 3, "Certificate");
  const tbsNode = want(cert[0], T.SEQUENCE, "TBSCertificate");
  const signatureAlgorithm = parseAlgorithm(cert[1], "signatureAlgorithm");
  const signature = bitStringBytes(cert[2], "signatureValue");

  const f = childrenOf(tbsNode);
  wantCount(f, 8, 8, "TBSCertificate"); // v3 with extensions, no unique identifiers
  const ver = childrenOf(want(f[0], T.CTX0, "version"));
  wantCount(ver, 1, 1, "version");
  const v = want(ver[0], T.INTEGER, "version").value;
  if (v.length !== 1 || v[0] !== 2) throw malformed("version must be v3");
  const serial = positiveInteger(f[1], "serialNumber");
  if (serial.length > 20) throw malformed("serialNumber longer than 20 octets");
  const innerAlg = want(f[2], T.SEQUENCE, "signature");
  if (!equalBytes(innerAlg.raw, (cert[1] as Tlv).raw))
    throw malformed("signature algorithm inside and outside the TBSCertificate differ");
  const issuer = parseName(f[3], "issuer");
  const validity = childrenOf(want(f[4], T.SEQUENCE, "validity"));
  wantCount(validity, 2, 2, "validity");
  const notBefore = parseTime(validity[0], "notBefore");
  const notAfter = parseTime(validity[1], "notAfter");
  const subject = parseName(f[5], "subject");
  const tlsPublicKey = parseSpki(f[6]);
  parseExtensions(f[7]);
  return {
    tbs: new Uint8Array(tbsNode.raw),
    signatureAlgorithm,
    signature: new Uint8Array(signature),
    serial: new Uint8Array(serial),
    subject,
    issuer,
    notBefore,
    notAfter,
    tlsPublicKey,
  };
}

/** 64-byte r||s from a DER `SEQUENCE { r INTEGER, s INTEGER }`; strict. */
export function derToRawSignature(der: Uint8Array): Uint8Array {
  const top = readTlv(der, 0);
  if (top.raw.length !== der.length) throw malformed("trailing bytes after the SM2 signature");
  const rs = childrenOf(want(top, T.SEQUENCE, "SM2 signature"));
  wantCount(rs, 2, 2, "SM2 signature");
  const out = new Uint8Array(64);
  for (let i = 0; i < 2; i++) {
    const n = positiveInteger(rs[i], i === 0 ? "r" : "s");
    if (n.length > 32) throw malformed("SM2 signature component longer than 32 bytes");
    out.set(n, 32 * (i + 1) - n.length);
  }
  return out;
}

/**
 * Verifies a node certificate against the current member organizations. Never throws: every
 * failure is a coded result. Checks, in order: structure, algorithm of the chain's suite,
 * issuer organization is a member (and names the subject's organization), the root key's
 * signature, then the validity window at `now`.
 */
export function verifyNodeCertificate(der: Uint8Array, opts: VerifyOptions): CertVerification {
  let c: ParsedCertificate;
  try {
    c = parseCertificate(der);
  } catch (err: unknown) {
    return fail("P2P_CERT_MALFORMED", err instanceof Error ? err.message : String(err));
  }
  const expected = signatureAlgorithmFor(opts.suite);
  if (c.signatureAlgorithm !== expected)
    return fail(
      "P2P_CERT_WRONG_ALGORITHM",
      `certificate is signed with ${c.signatureAlgorithm}; the ${opts.suite.id} suite requires ${expected}`,
    );
  if (c.issuer.org !== c.subject.org || c.issuer.cn !== rootCommonName(c.issuer.org))
    return fail("P2P_CERT_MALFORMED", "issuer must be O=<org>, CN=<org> root of the subject's organization");
  const root = opts.orgRoots.get(c.issuer.org);
  if (root === undefined)
    return fail("P2P_CERT_UNKNOWN_ORG", `organization ${c.issuer.org} is not a member of the chain`);
  let sig = c.signature;
  if (opts.suite.id === "gm") {
    try {
      sig = derToRawSignature(c.signature);
    } catch (err: unknown) {
      return fail("P2P_CERT_MALFORMED", err instanceof Error ? err.message : String(err));
    }
  }
  if (!opts.suite.verify(root, c.tbs, sig))
    return fail("P2P_CERT_BAD_SIGNATURE", `certificate is not signed by the root key of ${c.issuer.org}`);
  const now = opts.now.getTime();
  if (now < c.notBefore.getTime())
    return fail("P2P_CERT_NOT_YET_VALID", `certificate is valid from ${c.notBefore.toISOString()}`);
  if (now > c.notAfter.getTime())
    return fail("P2P_CERT_EXPIRED", `certificate expired at ${c.notAfter.toISOString()}`);
  return { ok: true, org: c.subject.org, nodeId: c.subject.cn, tlsPublicKey: c.tlsPublicKey };
}

function fail(code: CertFailureCode, message: string): CertVerification {
  return { ok: false, code, message };
}

// ---------------------------------------------------------------------------------------------
// PEM (RFC 7468)
// ---------------------------------------------------------------------------------------------

export function certificateToPem(der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const lines = btoa(bin).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** DER of the first CERTIFICATE block; throws P2P_CERT_MALFORMED if there is none. */
export function certificateFromPem(pem: string): Uint8Array {
  if (typeof pem !== "string") throw malformed("PEM must be a string");
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw malformed('expected a PEM block "CERTIFICATE"');
  let bin: string;
  try {
    bin = atob((m[1] as string).replace(/\s+/g, ""));
  } catch {
    throw malformed("bad base64 in PEM");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
