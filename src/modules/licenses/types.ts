/**
 * The records of the e-license module (电子证照, GB/T 36901…36905) as they live in state, the
 * status codes, and strict readers for call arguments. Every reader throws a coded
 * `InvalidInputError` (LICENSE_…) that names the offending argument, so a malformed call fails
 * with a receipt that says exactly what is wrong and changes nothing.
 *
 * No record holds personal data: a license carries identifiers, one salted commitment per face
 * field, a pseudonymous holder id, its status and who did what.
 */
import type { CborValue } from "../../codec/cbor.js";
import { InvalidInputError } from "../../errors/index.js";

// ---------------------------------------------------------------------------------------------
// Status codes (one ministry's list, docs/licenses.md; no national code list exists)

export const STATUS_VALID = "01"; // 有效
export const STATUS_SUSPENDED = "02"; // 暂扣
export const STATUS_REVOKED = "03"; // 撤销
export const STATUS_CANCELLED = "04"; // 注销
export const STATUS_SUPERSEDED = "05"; // 失效 (renewed: a newer version replaces it)
export const STATUS_TRANSFERRED = "06"; // 转出
export const STATUS_PENALTY_REVOKED = "07"; // 吊销
export const STATUS_OTHER = "99"; // 其他

export const STATUS_CODES = ["01", "02", "03", "04", "05", "06", "07", "99"] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

export function isStatusCode(v: unknown): v is StatusCode {
  return typeof v === "string" && (STATUS_CODES as readonly string[]).includes(v);
}

/** Why a license is or is not valid at a given time (see `licenseStatus` in state.ts). */
export type StatusReason =
  | "OK"
  | "SUSPENDED"
  | "REVOKED"
  | "CANCELLED"
  | "SUPERSEDED"
  | "TRANSFERRED"
  | "PENALTY_REVOKED"
  | "OTHER"
  | "EXPIRED"
  | "NOT_YET_VALID";

// ---------------------------------------------------------------------------------------------
// Records

export const FIELD_TYPES = ["text", "date", "int", "bytes"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDef {
  /** Metadata code, e.g. ZZBH, CZZT, CZZTDM or an extension KZ_…. */
  name: string;
  type: FieldType;
  required: boolean;
}

/** `lictype/<typeCode>`: one entry of the catalogue of license types (GB/T 36902). */
export interface LicenseType {
  /** 证照类型代码: the defining body's unified social credit code + a 3-digit sequence. */
  typeCode: string;
  name: string;
  /** The organization (department) that defined the type; only its admins may update it. */
  definingOrg: string;
  version: number;
  fields: FieldDef[];
  /** Organizations whose issuer accounts may be granted this type. The list only grows. */
  issuerOrgs: string[];
  maxValidityDays: number;
  /** Heights. */
  registeredAt: number;
  updatedAt: number;
}

/** One period of authorization: heights `from` ≤ h < `until` (`until` null: still open). */
export interface IssuerGrant {
  from: number;
  until: number | null;
}

/** `licissuer/<typeCode>/<address>`: the trusted-issuer history of one account for one type. */
export interface IssuerRecord {
  org: string;
  grants: IssuerGrant[];
}

export interface StatusReasonRecord {
  /** A short reason code, e.g. LEGAL_ORDER, RENEWED. */
  code: string;
  /** Free text stating the legal basis (≤ 200 characters; never personal data). May be empty. */
  text: string;
}

/** `license/<licenseId>`. */
export interface License {
  /** 电子证照标识 (GB/T 36904). */
  licenseId: string;
  typeCode: string;
  typeVersion: number;
  issuerOrg: string;
  /** Address of the issuer account. */
  issuer: Uint8Array;
  /** 32-byte pseudonymous holder id (derived off chain; never the holder's ID number). */
  holder: Uint8Array;
  /** Field name → 32-byte salted commitment to the field's value. */
  commitments: { [field: string]: Uint8Array };
  /** Validity, ms since the Unix epoch, both ends inclusive. */
  validFrom: number;
  validUntil: number;
  status: StatusCode;
  /** Height of the last status change (the issue height at first). */
  statusHeight: number;
  /** Reason of the last status change; null while the license has kept its issued status. */
  statusReason: StatusReasonRecord | null;
  /** Address of the account that made the last status change (the issuer at first). */
  statusBy: Uint8Array;
  previous: string | null;
  next: string | null;
  issuedAt: number;
  /** Address of the holder's account, the one that may grant and withdraw uses. */
  holderAccount: Uint8Array;
}

/** `licgrant/<licenseId>/<grantId>`: the holder's authorization of a relying party (用证授权). */
export interface Grant {
  /** The grant's sequence number, u32 zero-padded to 10 digits. */
  grantId: string;
  relyingParty: Uint8Array;
  purpose: string;
  fields: string[];
  /** ms, both ends inclusive, compared with block time. */
  from: number;
  until: number;
  /** Heights. */
  createdAt: number;
  withdrawnAt: number | null;
}

/** `licuse/<licenseId>/<seq>`: one entry of the use log (用证记录). */
export interface UseEntry {
  seq: number;
  grantId: string;
  by: Uint8Array;
  org: string;
  /** 事项编码 of the service item the license was used for. */
  serviceItemCode: string;
  /** 业务流水号 of the relying party's case. */
  businessSerial: string;
  /** Salted commitment to the stated reason (申请事由), which may name people. */
  reasonCommitment: Uint8Array;
  height: number;
  time: number;
}

// ---------------------------------------------------------------------------------------------
// Patterns and limits

/** Unified social credit code alphabet (GB 32100-2015). */
const USCC_CHARS = "[0-9A-HJ-NP-RTUW-Y]";
export const USCC_PATTERN = new RegExp(`^${USCC_CHARS}{18}$`);
export const TYPE_CODE_PATTERN = new RegExp(`^${USCC_CHARS}{18}[0-9]{3}$`);
export const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const REASON_CODE_PATTERN = /^[A-Z0-9_]{1,32}$/;
/** 事项编码 and 业务流水号: letters, digits and . _ - */
export const CODE_PATTERN = /^[0-9A-Za-z._-]{1,64}$/;

export const MAX_FIELDS = 64;
export const MAX_ISSUER_ORGS = 64;
export const MAX_VALIDITY_DAYS = 36_500;
export const MAX_TEXT = 200;
export const COMMITMENT_BYTES = 32;
export const HOLDER_BYTES = 32;
export const ADDRESS_BYTES = 20;
export const DAY_MS = 86_400_000;
/** Grant ids and use sequence numbers are u32, zero-padded in keys so they sort by number. */
export const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Strict argument readers

export function badArg(field: string, expected: string, code = "LICENSE_BAD_ARGS"): never {
  throw new InvalidInputError(code, `${field}: expected ${expected}`, { field });
}

type CborMap = { [key: string]: CborValue };

/** A map with exactly the allowed keys (those listed as required must be present). */
export function argMap(
  v: CborValue | undefined,
  field: string,
  required: readonly string[],
  optional: readonly string[] = [],
): CborMap {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    badArg(field, "a map");
  const m = v as CborMap;
  for (const k of Object.keys(m))
    if (!required.includes(k) && !optional.includes(k))
      badArg(`${field}.${k}`, `no such argument; allowed: ${[...required, ...optional].join(", ")}`);
  for (const k of required) if (!Object.hasOwn(m, k)) badArg(`${field}.${k}`, "a value (required)");
  return m;
}

export function argText(
  v: CborValue | undefined,
  field: string,
  max: number,
  pattern?: RegExp,
  code?: string,
): string {
  if (typeof v !== "string") badArg(field, "a text string", code);
  if (v.length > max) badArg(field, `at most ${max} characters`, code);
  if (pattern && !pattern.test(v)) badArg(field, `text matching ${pattern}`, code);
  return v;
}

export function argUint(
  v: CborValue | undefined,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
    badArg(field, `an integer from ${min} to ${max}`);
  return v;
}

export function argBytes(v: CborValue | undefined, field: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) badArg(field, `a ${length}-byte string`);
  return v;
}

export function argBool(v: CborValue | undefined, field: string): boolean {
  if (typeof v !== "boolean") badArg(field, "true or false");
  return v;
}

export function argArray(v: CborValue | undefined, field: string, min: number, max: number): CborValue[] {
  if (!Array.isArray(v) || v.length < min || v.length > max)
    badArg(field, `an array of ${min} to ${max} items`);
  return v;
}

/** ms since the Unix epoch. */
export const argTime = (v: CborValue | undefined, field: string): number => argUint(v, field);

export const argAddress = (v: CborValue | undefined, field: string): Uint8Array =>
  argBytes(v, field, ADDRESS_BYTES);

export const argTypeCode = (v: CborValue | undefined, field: string): string =>
  argText(v, field, 21, TYPE_CODE_PATTERN, "LICENSE_BAD_TYPE_CODE");

/** A list of distinct field names. */
export function argFieldNames(v: CborValue | undefined, field: string): string[] {
  const names = argArray(v, field, 1, MAX_FIELDS).map((n, i) =>
    argText(n, `${field}[${i}]`, 64, FIELD_NAME_PATTERN),
  );
  if (new Set(names).size !== names.length) badArg(field, "distinct field names");
  return names;
}
