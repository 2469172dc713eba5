/**
 * Identifier checks for e-licenses (电子证照): pure, browser-safe functions.
 *
 * - ISO/IEC 7064 MOD 37,36 (GB/T 17710) check character over 0-9A-Z.
 * - GB/T 36904 e-license identifier (电子证照标识):
 *   `1.2.156.3005.2.{证照类型代码}.{颁发机构代码}.{流水号}.{版本号}.{校验位}`.
 * - Unified social credit code (统一社会信用代码, GB 32100-2015).
 * - Resident ID number (公民身份号码, GB 11643-1999).
 *
 * Functions that build or parse identifiers throw `InvalidInputError` with an `ID_…` code; the
 * two `check…` functions never throw for a string argument and return `{ valid, reason }` where
 * `reason` is one of the same codes, so callers may decide whether to warn or reject.
 *
 * Privacy: a resident ID number is personal data. Nothing here logs it, and no error message,
 * reason or metadata produced here contains it (nor any part of it). Callers must keep it that
 * way: never log it, never put it on chain in plaintext (commit to it instead; see
 * commitments.ts).
 */
import { InvalidInputError } from "../../errors/index.js";

/** Failure codes shared by the throwing and the `{ valid, reason }` functions. */
export type IdFailureCode =
  | "ID_NOT_STRING"
  | "ID_EMPTY"
  | "ID_BAD_LENGTH"
  | "ID_BAD_CHARSET"
  | "ID_BAD_CHECK_DIGIT"
  | "ID_BAD_ROOT"
  | "ID_BAD_SEGMENTS"
  | "ID_BAD_TYPE_CODE"
  | "ID_BAD_ISSUER_CODE"
  | "ID_BAD_SERIAL"
  | "ID_BAD_VERSION"
  | "ID_VERSION_EXHAUSTED"
  | "ID_BAD_AREA"
  | "ID_BAD_BIRTH_DATE";

export interface IdCheckResult {
  valid: boolean;
  /** Set when `valid` is false. Never contains the checked value. */
  reason?: IdFailureCode;
}

function fail(code: IdFailureCode, message: string, meta: Record<string, unknown> = {}): never {
  throw new InvalidInputError(code, message, meta);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string") fail("ID_NOT_STRING", `${what} must be a string, got ${typeof value}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// ISO/IEC 7064 MOD 37,36 (GB/T 17710), hybrid system with M = 36
// ---------------------------------------------------------------------------------------------

/** The 36 characters protected by MOD 37,36, in value order (0 → '0' … 35 → 'Z'). */
export const MOD37_36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function alnumValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 65 && code <= 90) return code - 55; // A-Z
  return -1;
}

/**
 * The ISO/IEC 7064 MOD 37,36 check character for `s` (upper-case letters and digits only;
 * lower case is refused rather than folded, so one identifier has one spelling). Throws
 * ID_EMPTY for "" and ID_BAD_CHARSET for any other character.
 *
 * Hybrid system: start with P = 36; for each character, S = (P + value) mod 36 with 0 read as
 * 36, then P = 2·S mod 37; the check character is the value c with (P + c) mod 36 = 1.
 */
export function mod37_36Check(s: string): string {
  requireString(s, "input");
  if (s.length === 0) fail("ID_EMPTY", "cannot compute a check character over an empty string");
  const M = 36;
  let p = M;
  for (let i = 0; i < s.length; i++) {
    const v = alnumValue(s.charCodeAt(i));
    if (v < 0) fail("ID_BAD_CHARSET", `character at position ${i} is not one of 0-9A-Z`, { position: i });
    let sum = (p + v) % M;
    if (sum === 0) sum = M;
    p = (2 * sum) % (M + 1);
  }
  return MOD37_36_ALPHABET[(M + 1 - p) % M] as string;
}

/** True when the last character of `s` is the MOD 37,36 check character of the rest. */
export function mod37_36Valid(s: string): boolean {
  if (typeof s !== "string" || s.length < 2) return false;
  try {
    return mod37_36Check(s.slice(0, -1)) === s.slice(-1);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Unified social credit code (GB 32100-2015)
// ---------------------------------------------------------------------------------------------

/** The 31 characters of a USCC in value order (no I, O, S, V, Z). */
export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const USCC_RE = /^[0-9A-HJ-NP-RTUWXY]{18}$/;

function usccValue(ch: string): number {
  return USCC_ALPHABET.indexOf(ch);
}

/** The check character a USCC with these first 17 characters must end with. */
export function usccCheckChar(first17: string): string {
  requireString(first17, "USCC prefix");
  if (first17.length !== 17) fail("ID_BAD_LENGTH", "a USCC prefix is 17 characters");
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = usccValue(first17[i] as string);
    if (v < 0) fail("ID_BAD_CHARSET", `character at position ${i} is not a USCC character`, { position: i });
    sum += v * (USCC_WEIGHTS[i] as number);
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31] as string;
}

/**
 * Checks a unified social credit code: 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY`
 * and the GB 32100 check character (weights 3^i mod 31; check = 31 − (Σ mod 31), 31 → 0).
 * Only the charset, length and check character are checked; the registration department,
 * category, area (positions 3–8) and organization code (9–17, with its own GB 11714 check)
 * are not, as codes issued before or around the standard do not all follow them.
 *
 * Some early pilot codes fail the check character: callers should WARN, not reject, when
 * `reason` is ID_BAD_CHECK_DIGIT (a length or charset failure is a plain error).
 */
export function checkUscc(code: string): IdCheckResult {
  if (typeof code !== "string") return { valid: false, reason: "ID_NOT_STRING" };
  if (code.length !== 18) return { valid: false, reason: "ID_BAD_LENGTH" };
  if (!USCC_RE.test(code)) return { valid: false, reason: "ID_BAD_CHARSET" };
  if (usccCheckChar(code.slice(0, 17)) !== code[17]) return { valid: false, reason: "ID_BAD_CHECK_DIGIT" };
  return { valid: true };
}

// ---------------------------------------------------------------------------------------------
// Resident ID number (GB 11643-1999)
// ---------------------------------------------------------------------------------------------

const RID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const RID_CHECK = "10X98765432";
const RID_RE = /^[0-9]{17}[0-9X]$/;

/**
 * Province-level prefixes of GB/T 2260 area codes (first two digits). 71 (Taiwan), 81 (Hong
 * Kong) and 82 (Macao) are the codes used by residence permits for those residents; 83 is used
 * by residence permits for Taiwan residents. The full six-digit table is deliberately not
 * checked: area codes are retired and renumbered over time, while numbers issued under a
 * retired code stay valid for life.
 */
const PROVINCE_PREFIXES = new Set([
  "11",
  "12",
  "13",
  "14",
  "15",
  "21",
  "22",
  "23",
  "31",
  "32",
  "33",
  "34",
  "35",
  "36",
  "37",
  "41",
  "42",
  "43",
  "44",
  "45",
  "46",
  "50",
  "51",
  "52",
  "53",
  "54",
  "61",
  "62",
  "63",
  "64",
  "65",
  "71",
  "81",
  "82",
  "83",
]);

/** Earliest birth year accepted; the standard sets none, and no holder was born before this. */
export const RESIDENT_ID_MIN_BIRTH_YEAR = 1800;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The check character a resident ID number with these first 17 digits must end with. */
function residentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (RID_WEIGHTS[i] as number);
  return RID_CHECK[sum % 11] as string;
}

export interface ResidentIdOptions {
  /**
   * When given, a birth date after this instant (as a calendar date in China Standard Time,
   * UTC+8) is refused. Omitted by default so that the check stays a pure function of its input.
   */
  asOf?: Date;
}

/**
 * Checks an 18-character resident ID number: 17 digits then a digit or upper-case `X`
 * (lower-case `x` is refused: normalize with `toUpperCase()` first if you accept it from
 * forms); a known province prefix; a real Gregorian birth date (YYYYMMDD at positions 7–14,
 * year ≥ 1800, optionally not after `asOf`); and the check character (weights
 * 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; Σ mod 11 indexes `10X98765432`). The 15-digit numbers of
 * the first generation are not accepted. Never log the argument; the result never contains it.
 */
export function checkResidentId(id: string, options: ResidentIdOptions = {}): IdCheckResult {
  if (typeof id !== "string") return { valid: false, reason: "ID_NOT_STRING" };
  if (id.length !== 18) return { valid: false, reason: "ID_BAD_LENGTH" };
  if (!RID_RE.test(id)) return { valid: false, reason: "ID_BAD_CHARSET" };
  if (!PROVINCE_PREFIXES.has(id.slice(0, 2))) return { valid: false, reason: "ID_BAD_AREA" };
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (
    year < RESIDENT_ID_MIN_BIRTH_YEAR ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month)
  )
    return { valid: false, reason: "ID_BAD_BIRTH_DATE" };
  if (options.asOf !== undefined) {
    const cst = new Date(options.asOf.getTime() + 8 * 3600 * 1000);
    const today = cst.getUTCFullYear() * 10000 + (cst.getUTCMonth() + 1) * 100 + cst.getUTCDate();
    if (year * 10000 + month * 100 + day > today) return { valid: false, reason: "ID_BAD_BIRTH_DATE" };
  }
  if (residentIdCheckChar(id.slice(0, 17)) !== id[17]) return { valid: false, reason: "ID_BAD_CHECK_DIGIT" };
  return { valid: true };
}

// ---------------------------------------------------------------------------------------------
// E-license identifier (GB/T 36904)
// ---------------------------------------------------------------------------------------------

/** The fixed OID arc that every e-license identifier starts with. */
export const LICENSE_ID_ROOT = "1.2.156.3005.2";

/**
 * Choices where the standard (as summarized in standards.md) is silent or loose:
 *
 * - 流水号 (serial): 1–64 characters from 0-9A-Z. The check character is MOD 37,36, which is
 *   defined only over 0-9A-Z, so a serial cannot hold other characters (lower case, hyphens,
 *   Chinese characters, brackets). An issuer whose 证照编号 (ZZBH) holds such characters
 *   uses an issuer-chosen serial instead (e.g. 20 random upper-case letters/digits) and keeps
 *   the 证照编号 in the ZZBH metadata field. 64 is our upper bound, ample for both forms.
 * - 版本号 (version): exactly 3 digits, 001–999; 000 is refused (versions count from 001),
 *   and renewing 999 fails with ID_VERSION_EXHAUSTED.
 * - 证照类型代码 (type code): the defining body's 18-character USCC + a 3-digit sequence;
 *   颁发机构代码 (issuer code): an 18-character USCC. Both must have USCC length and charset;
 *   a failing USCC check character is NOT an error (early pilot codes fail it) but is
 *   reported in `warnings` by `parseLicenseId`.
 * - Case: identifiers are upper case only; lower case is refused, not folded.
 * - The check character covers typeCode + issuerCode + serial + version concatenated (the
 *   segments after the root, without dots, without the check character itself).
 */
export const LICENSE_SERIAL_MAX_LENGTH = 64;
const SERIAL_RE = /^[0-9A-Z]+$/;
const TYPE_CODE_RE = /^[0-9A-HJ-NP-RTUWXY]{18}[0-9]{3}$/;
const VERSION_RE = /^[0-9]{3}$/;

export interface LicenseIdParts {
  /** 证照类型代码: defining body's USCC + 3-digit sequence (21 characters). */
  typeCode: string;
  /** 颁发机构代码: issuer's USCC (18 characters). */
  issuerCode: string;
  /** 流水号: 1–64 characters from 0-9A-Z. */
  serial: string;
  /** 版本号: 1–999 (rendered as 3 digits). */
  version: number;
}

export interface LicenseIdInput extends Omit<LicenseIdParts, "version"> {
  /** 1–999, or its 3-digit form "001"–"999". */
  version: number | string;
}

/** Warnings that do not make an identifier invalid. */
export type LicenseIdWarning = "TYPE_CODE_USCC_CHECK_FAILED" | "ISSUER_USCC_CHECK_FAILED";

export interface ParsedLicenseId extends LicenseIdParts {
  /** The identifier as given (already canonical: parsing never rewrites it). */
  id: string;
  /** 校验位 */
  check: string;
  warnings: LicenseIdWarning[];
}

function validateTypeCode(typeCode: unknown): string {
  const s = requireString(typeCode, "typeCode");
  if (!TYPE_CODE_RE.test(s))
    fail(
      "ID_BAD_TYPE_CODE",
      "证照类型代码 must be an 18-character unified social credit code followed by 3 digits",
    );
  return s;
}

function validateIssuerCode(issuerCode: unknown): string {
  const s = requireString(issuerCode, "issuerCode");
  if (!USCC_RE.test(s))
    fail("ID_BAD_ISSUER_CODE", "颁发机构代码 must be an 18-character unified social credit code");
  return s;
}

function validateSerial(serial: unknown): string {
  const s = requireString(serial, "serial");
  if (s.length === 0 || s.length > LICENSE_SERIAL_MAX_LENGTH || !SERIAL_RE.test(s))
    fail(
      "ID_BAD_SERIAL",
      `流水号 must be 1–${LICENSE_SERIAL_MAX_LENGTH} characters from 0-9A-Z (upper case)`,
      { length: s.length },
    );
  return s;
}

function versionNumber(version: unknown): number {
  let n: number;
  if (typeof version === "string") {
    if (!VERSION_RE.test(version)) fail("ID_BAD_VERSION", "版本号 must be exactly 3 digits");
    n = Number(version);
  } else if (typeof version === "number") {
    n = version;
  } else {
    fail("ID_BAD_VERSION", `版本号 must be a number or a 3-digit string, got ${typeof version}`);
  }
  if (!Number.isInteger(n) || n < 1 || n > 999) fail("ID_BAD_VERSION", "版本号 must be 001–999");
  return n;
}

function versionText(n: number): string {
  return String(n).padStart(3, "0");
}

function compose(parts: LicenseIdParts): string {
  const v = versionText(parts.version);
  const body = `${parts.typeCode}${parts.issuerCode}${parts.serial}${v}`;
  const check = mod37_36Check(body);
  return `${LICENSE_ID_ROOT}.${parts.typeCode}.${parts.issuerCode}.${parts.serial}.${v}.${check}`;
}

/** Builds a GB/T 36904 e-license identifier, validating every segment. */
export function buildLicenseId(input: LicenseIdInput): string {
  if (input === null || typeof input !== "object")
    fail("ID_BAD_SEGMENTS", "expected { typeCode, issuerCode, serial, version }");
  return compose({
    typeCode: validateTypeCode(input.typeCode),
    issuerCode: validateIssuerCode(input.issuerCode),
    serial: validateSerial(input.serial),
    version: versionNumber(input.version),
  });
}

/**
 * Parses and validates a GB/T 36904 e-license identifier: the root, the four segments and
 * the MOD 37,36 check character (ID_BAD_CHECK_DIGIT when it does not match). A failing USCC
 * check inside the type or issuer code is reported in `warnings`, not thrown.
 */
export function parseLicenseId(id: string): ParsedLicenseId {
  requireString(id, "license identifier");
  const rootDot = `${LICENSE_ID_ROOT}.`;
  if (!id.startsWith(rootDot)) fail("ID_BAD_ROOT", `a license identifier starts with ${rootDot}`);
  const segments = id.slice(rootDot.length).split(".");
  if (segments.length !== 5)
    fail("ID_BAD_SEGMENTS", "expected 5 segments after the root: type, issuer, serial, version, check", {
      segments: segments.length,
    });
  const [typeSeg, issuerSeg, serialSeg, versionSeg, checkSeg] = segments as [
    string,
    string,
    string,
    string,
    string,
  ];
  const typeCode = validateTypeCode(typeSeg);
  const issuerCode = validateIssuerCode(issuerSeg);
  const serial = validateSerial(serialSeg);
  if (!VERSION_RE.test(versionSeg)) fail("ID_BAD_VERSION", "版本号 must be exactly 3 digits");
  const version = versionNumber(versionSeg);
  if (checkSeg.length !== 1 || alnumValue(checkSeg.charCodeAt(0)) < 0)
    fail("ID_BAD_CHECK_DIGIT", "校验位 must be one character from 0-9A-Z");
  const expected = mod37_36Check(`${typeCode}${issuerCode}${serial}${versionSeg}`);
  if (expected !== checkSeg) fail("ID_BAD_CHECK_DIGIT", "校验位 does not match the identifier");
  const warnings: LicenseIdWarning[] = [];
  if (!checkUscc(typeCode.slice(0, 18)).valid) warnings.push("TYPE_CODE_USCC_CHECK_FAILED");
  if (!checkUscc(issuerCode).valid) warnings.push("ISSUER_USCC_CHECK_FAILED");
  return { id, typeCode, issuerCode, serial, version, check: checkSeg, warnings };
}

/**
 * The identifier of the next version (a change or renewal): same type, issuer and serial,
 * version + 1 and a new check character. The caller records `id` as the new license's
 * 关联证照标识. Throws ID_VERSION_EXHAUSTED after 999.
 */
export function nextVersionId(id: string): string {
  const parsed = parseLicenseId(id);
  if (parsed.version >= 999) fail("ID_VERSION_EXHAUSTED", "版本号 999 has no successor");
  return compose({
    typeCode: parsed.typeCode,
    issuerCode: parsed.issuerCode,
    serial: parsed.serial,
    version: parsed.version + 1,
  });
}
