/**
 * State keys, record encodings and the pure rules verifiers reuse: `licenseStatus` (is a license
 * valid at a time?) and `issuerGrantedAt` (was an account a trusted issuer of a type at a
 * height?). Records are canonical CBOR maps (src/codec/cbor.ts); keys are built with `stateKey`.
 * The layout is documented at the top of index.ts and in docs/licenses.md.
 */
import { type CborValue, decode, encode } from "../../codec/cbor.js";
import { InvalidInputError, RejectedError, ZlError } from "../../errors/index.js";
import type { Overlay, StateReader } from "../../execution/state-view.js";
import { stateKey } from "../../execution/state-view.js";
import { toHex } from "../../ledger/bytes.js";
import { readArray, readBytes, readMap, readText, readUint } from "../../ledger/shape.js";
import { nextVersionId, type ParsedLicenseId, parseLicenseId } from "./identifiers.js";
import {
  type FieldDef,
  type FieldType,
  type Grant,
  type IssuerRecord,
  isStatusCode,
  type License,
  type LicenseType,
  type StatusCode,
  type StatusReason,
  type StatusReasonRecord,
  U32_MAX,
  type UseEntry,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Keys

/** u32 sequence numbers are zero-padded to 10 digits in keys so they sort by number. */
export const seqText = (n: number): string => String(n).padStart(10, "0");

export const typeKey = (typeCode: string) => stateKey("lictype", typeCode);
export const issuerKey = (typeCode: string, address: Uint8Array) =>
  stateKey("licissuer", typeCode, toHex(address));
export const licenseKey = (licenseId: string) => stateKey("license", licenseId);
/** Status-list positions (W3C Bitstring Status List): a license's index within its type, in issue order. */
export const statusIndexKey = (licenseId: string) => stateKey("licidx", licenseId);
export const statusIndexCountKey = (typeCode: string) => stateKey("licidxcount", typeCode);
export const licenseAtIndexKey = (typeCode: string, index: number) =>
  stateKey("licbyidx", typeCode, String(index).padStart(10, "0"));

/** Gives a newly written license the next position in its type's status lists. */
export function assignStatusIndex(state: Overlay, typeCode: string, licenseId: string): number {
  const raw = state.get(statusIndexCountKey(typeCode));
  const index = raw ? (decode(raw) as number) : 0;
  state.set(statusIndexKey(licenseId), encode(index));
  state.set(licenseAtIndexKey(typeCode, index), encode(licenseId));
  state.set(statusIndexCountKey(typeCode), encode(index + 1));
  return index;
}

export function readStatusIndex(state: StateReader, licenseId: string): number | undefined {
  const raw = state.get(statusIndexKey(licenseId));
  return raw ? (decode(raw) as number) : undefined;
}

/** The licenses of a type in status-list order. */
export function licensesInIndexOrder(state: StateReader, typeCode: string): string[] {
  const raw = state.get(statusIndexCountKey(typeCode));
  const count = raw ? (decode(raw) as number) : 0;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = state.get(licenseAtIndexKey(typeCode, i));
    if (id) ids.push(decode(id) as string);
  }
  return ids;
}

export const grantKey = (licenseId: string, grantId: string) => stateKey("licgrant", licenseId, grantId);
export const grantCountKey = (licenseId: string) => stateKey("licgrantcount", licenseId);
export const useKey = (licenseId: string, seq: number) => stateKey("licuse", licenseId, seqText(seq));
export const useCountKey = (licenseId: string) => stateKey("licusecount", licenseId);

// ---------------------------------------------------------------------------------------------
// Pure rules

export interface LicenseValidity {
  valid: boolean;
  reason: StatusReason;
  status: StatusCode;
}

const STATUS_REASONS: Record<StatusCode, StatusReason> = {
  "01": "OK",
  "02": "SUSPENDED",
  "03": "REVOKED",
  "04": "CANCELLED",
  "05": "SUPERSEDED",
  "06": "TRANSFERRED",
  "07": "PENALTY_REVOKED",
  "99": "OTHER",
};

/**
 * Whether a license is valid at `time` (ms, block time on chain, the verifier's clock off
 * chain). The recorded status decides first; a license recorded as 有效 (01) is then valid only
 * within [validFrom, validUntil], both ends inclusive. Expiry is computed here, never stored.
 */
export function licenseStatus(
  record: Pick<License, "status" | "validFrom" | "validUntil">,
  time: number,
): LicenseValidity {
  const status = record.status;
  if (status !== "01") return { valid: false, reason: STATUS_REASONS[status] ?? "OTHER", status };
  if (time < record.validFrom) return { valid: false, reason: "NOT_YET_VALID", status };
  if (time > record.validUntil) return { valid: false, reason: "EXPIRED", status };
  return { valid: true, reason: "OK", status };
}

/** The coded rejection for a license that `licenseStatus` found not valid: LICENSE_<reason>. */
export function notValidError(licenseId: string, v: LicenseValidity): RejectedError {
  return new RejectedError(`LICENSE_${v.reason}`, `license ${licenseId} is not valid: ${v.reason}`, {
    licenseId,
    status: v.status,
  });
}

/**
 * Whether the issuer record authorizes its account at `height`. A grant or withdrawal made in
 * block h takes effect from h + 1, so the answer for h is the same for every transaction of
 * block h and equals what a proof of the record at any later height says.
 */
export function issuerGrantedAt(record: IssuerRecord | undefined, height: number): boolean {
  if (!record) return false;
  return record.grants.some((g) => g.from <= height && (g.until === null || height < g.until));
}

/** The open grant period (until = null), if any. */
export function openGrant(record: IssuerRecord | undefined) {
  const last = record?.grants.at(-1);
  return last && last.until === null ? last : undefined;
}

// ---------------------------------------------------------------------------------------------
// License identifiers (GB/T 36904, identifiers.ts), with the module's error codes

/** Parses a license identifier; a malformed one is LICENSE_BAD_ID (meta.reason: the ID_… code). */
export function parseId(licenseId: string, field: string): ParsedLicenseId {
  try {
    return parseLicenseId(licenseId);
  } catch (err: unknown) {
    if (!(err instanceof ZlError)) throw err;
    throw new InvalidInputError("LICENSE_BAD_ID", `${field}: ${err.message}`, { field, reason: err.code });
  }
}

/** The identifier of the next version, or LICENSE_VERSION_EXHAUSTED after 999. */
export function nextId(licenseId: string): string {
  try {
    return nextVersionId(licenseId);
  } catch (err: unknown) {
    if (!(err instanceof ZlError)) throw err;
    throw new RejectedError(
      "LICENSE_VERSION_EXHAUSTED",
      `license ${licenseId} has no next version: ${err.message}`,
      {
        reason: err.code,
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Records: encode / decode

const optUint = (v: CborValue | undefined, f: string): number | null => (v === null ? null : readUint(v, f));
const optText = (v: CborValue | undefined, f: string): string | null =>
  v === null ? null : readText(v, f, 160);

export function encodeType(t: LicenseType): Uint8Array {
  return encode({
    typeCode: t.typeCode,
    name: t.name,
    definingOrg: t.definingOrg,
    version: t.version,
    fields: t.fields.map((f) => ({ name: f.name, type: f.type, required: f.required })),
    issuerOrgs: t.issuerOrgs,
    maxValidityDays: t.maxValidityDays,
    registeredAt: t.registeredAt,
    updatedAt: t.updatedAt,
  });
}

export function decodeType(bytes: Uint8Array): LicenseType {
  const m = readMap(decode(bytes), "lictype");
  return {
    typeCode: readText(m.typeCode, "lictype.typeCode", 21),
    name: readText(m.name, "lictype.name", 128),
    definingOrg: readText(m.definingOrg, "lictype.definingOrg", 32),
    version: readUint(m.version, "lictype.version"),
    fields: readArray(m.fields, "lictype.fields").map((v): FieldDef => {
      const f = readMap(v, "lictype.field");
      if (typeof f.required !== "boolean")
        throw new InvalidInputError("LEDGER_MALFORMED", "lictype.field.required");
      return {
        name: readText(f.name, "lictype.field.name", 64),
        type: readText(f.type, "lictype.field.type", 8) as FieldType,
        required: f.required,
      };
    }),
    issuerOrgs: readArray(m.issuerOrgs, "lictype.issuerOrgs").map((o) =>
      readText(o, "lictype.issuerOrg", 32),
    ),
    maxValidityDays: readUint(m.maxValidityDays, "lictype.maxValidityDays"),
    registeredAt: readUint(m.registeredAt, "lictype.registeredAt"),
    updatedAt: readUint(m.updatedAt, "lictype.updatedAt"),
  };
}

export function encodeIssuer(r: IssuerRecord): Uint8Array {
  return encode({ org: r.org, grants: r.grants.map((g) => ({ from: g.from, until: g.until })) });
}

export function decodeIssuer(bytes: Uint8Array): IssuerRecord {
  const m = readMap(decode(bytes), "licissuer");
  return {
    org: readText(m.org, "licissuer.org", 32),
    grants: readArray(m.grants, "licissuer.grants").map((v) => {
      const g = readMap(v, "licissuer.grant");
      return {
        from: readUint(g.from, "licissuer.grant.from"),
        until: optUint(g.until, "licissuer.grant.until"),
      };
    }),
  };
}

export function encodeLicense(l: License): Uint8Array {
  return encode({
    licenseId: l.licenseId,
    typeCode: l.typeCode,
    typeVersion: l.typeVersion,
    issuerOrg: l.issuerOrg,
    issuer: l.issuer,
    holder: l.holder,
    commitments: { ...l.commitments },
    validFrom: l.validFrom,
    validUntil: l.validUntil,
    status: l.status,
    statusHeight: l.statusHeight,
    statusReason: l.statusReason ? { code: l.statusReason.code, text: l.statusReason.text } : null,
    statusBy: l.statusBy,
    previous: l.previous,
    next: l.next,
    issuedAt: l.issuedAt,
    holderAccount: l.holderAccount,
  });
}

export function decodeLicense(bytes: Uint8Array): License {
  return licenseFromCbor(decode(bytes));
}

/** A license record from its decoded CBOR map (validated field by field). */
export function licenseFromCbor(value: CborValue): License {
  const m = readMap(value, "license");
  const c = readMap(m.commitments, "license.commitments");
  const commitments: { [field: string]: Uint8Array } = {};
  for (const [k, v] of Object.entries(c)) commitments[k] = readBytes(v, "license.commitment", 32, 32);
  const status = m.status;
  if (!isStatusCode(status)) throw new InvalidInputError("LEDGER_MALFORMED", "license.status: a status code");
  let statusReason: StatusReasonRecord | null = null;
  if (m.statusReason !== null) {
    const r = readMap(m.statusReason, "license.statusReason");
    statusReason = {
      code: readText(r.code, "license.statusReason.code", 32),
      text: readText(r.text, "license.statusReason.text", 200),
    };
  }
  return {
    licenseId: readText(m.licenseId, "license.licenseId", 160),
    typeCode: readText(m.typeCode, "license.typeCode", 21),
    typeVersion: readUint(m.typeVersion, "license.typeVersion"),
    issuerOrg: readText(m.issuerOrg, "license.issuerOrg", 32),
    issuer: readBytes(m.issuer, "license.issuer", 20, 20),
    holder: readBytes(m.holder, "license.holder", 32, 32),
    commitments,
    validFrom: readUint(m.validFrom, "license.validFrom"),
    validUntil: readUint(m.validUntil, "license.validUntil"),
    status,
    statusHeight: readUint(m.statusHeight, "license.statusHeight"),
    statusReason,
    statusBy: readBytes(m.statusBy, "license.statusBy", 20, 20),
    previous: optText(m.previous, "license.previous"),
    next: optText(m.next, "license.next"),
    issuedAt: readUint(m.issuedAt, "license.issuedAt"),
    holderAccount: readBytes(m.holderAccount, "license.holderAccount", 20, 20),
  };
}

export function encodeGrant(g: Grant): Uint8Array {
  return encode({
    grantId: g.grantId,
    relyingParty: g.relyingParty,
    purpose: g.purpose,
    fields: g.fields,
    from: g.from,
    until: g.until,
    createdAt: g.createdAt,
    withdrawnAt: g.withdrawnAt,
  });
}

export function decodeGrant(bytes: Uint8Array): Grant {
  const m = readMap(decode(bytes), "licgrant");
  return {
    grantId: readText(m.grantId, "licgrant.grantId", 10),
    relyingParty: readBytes(m.relyingParty, "licgrant.relyingParty", 20, 20),
    purpose: readText(m.purpose, "licgrant.purpose", 200),
    fields: readArray(m.fields, "licgrant.fields").map((f) => readText(f, "licgrant.field", 64)),
    from: readUint(m.from, "licgrant.from"),
    until: readUint(m.until, "licgrant.until"),
    createdAt: readUint(m.createdAt, "licgrant.createdAt"),
    withdrawnAt: optUint(m.withdrawnAt, "licgrant.withdrawnAt"),
  };
}

export function encodeUse(u: UseEntry): Uint8Array {
  return encode({
    seq: u.seq,
    grantId: u.grantId,
    by: u.by,
    org: u.org,
    serviceItemCode: u.serviceItemCode,
    businessSerial: u.businessSerial,
    reasonCommitment: u.reasonCommitment,
    height: u.height,
    time: u.time,
  });
}

export function decodeUse(bytes: Uint8Array): UseEntry {
  const m = readMap(decode(bytes), "licuse");
  return {
    seq: readUint(m.seq, "licuse.seq"),
    grantId: readText(m.grantId, "licuse.grantId", 10),
    by: readBytes(m.by, "licuse.by", 20, 20),
    org: readText(m.org, "licuse.org", 32),
    serviceItemCode: readText(m.serviceItemCode, "licuse.serviceItemCode", 64),
    businessSerial: readText(m.businessSerial, "licuse.businessSerial", 64),
    reasonCommitment: readBytes(m.reasonCommitment, "licuse.reasonCommitment", 32, 32),
    height: readUint(m.height, "licuse.height"),
    time: readUint(m.time, "licuse.time"),
  };
}

// ---------------------------------------------------------------------------------------------
// Reads

export function readType(state: StateReader, typeCode: string): LicenseType | undefined {
  const raw = state.get(typeKey(typeCode));
  return raw ? decodeType(raw) : undefined;
}

export function readIssuer(
  state: StateReader,
  typeCode: string,
  address: Uint8Array,
): IssuerRecord | undefined {
  const raw = state.get(issuerKey(typeCode, address));
  return raw ? decodeIssuer(raw) : undefined;
}

export function readLicense(state: StateReader, licenseId: string): License | undefined {
  const raw = state.get(licenseKey(licenseId));
  return raw ? decodeLicense(raw) : undefined;
}

export function readGrant(state: StateReader, licenseId: string, grantId: string): Grant | undefined {
  const raw = state.get(grantKey(licenseId, grantId));
  return raw ? decodeGrant(raw) : undefined;
}

export function readCount(state: StateReader, key: Uint8Array): number {
  const raw = state.get(key);
  return raw ? readUint(decode(raw), "count") : 0;
}

/** The next u32 sequence number under a counter key, or `code` when the counter is exhausted. */
export function nextSeq(state: StateReader, key: Uint8Array, code: string): number {
  const n = readCount(state, key) + 1;
  if (n > U32_MAX) throw new RejectedError(code, "the sequence of this license is exhausted");
  return n;
}

export const encodeCount = (n: number): Uint8Array => encode(n);

export function requireType(state: StateReader, typeCode: string): LicenseType {
  const t = readType(state, typeCode);
  if (!t) throw new RejectedError("LICENSE_TYPE_NOT_FOUND", `no license type ${typeCode}`, { typeCode });
  return t;
}

export function requireLicense(state: StateReader, licenseId: string): License {
  const l = readLicense(state, licenseId);
  if (!l) throw new RejectedError("LICENSE_NOT_FOUND", `no license ${licenseId}`, { licenseId });
  return l;
}
