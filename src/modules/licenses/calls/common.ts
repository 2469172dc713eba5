/**
 * Rules shared by several calls: commitments checked against a type, validity periods, the
 * trusted-issuer check, and the reason a status change records.
 */
import type { CborValue } from "../../../codec/cbor.js";
import { RejectedError } from "../../../errors/index.js";
import type { TxContext } from "../../../execution/module.js";
import { toHex } from "../../../ledger/bytes.js";
import { issuerGrantedAt, readIssuer } from "../state.js";
import {
  argText,
  badArg,
  COMMITMENT_BYTES,
  DAY_MS,
  FIELD_NAME_PATTERN,
  type LicenseType,
  MAX_FIELDS,
  MAX_TEXT,
  REASON_CODE_PATTERN,
  type StatusReasonRecord,
} from "../types.js";

export type Commitments = { [field: string]: Uint8Array };

/** A map of 1–64 field names to 32-byte commitments. */
export function parseCommitments(v: CborValue | undefined, field: string): Commitments {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    badArg(field, "a map of field name to commitment");
  const entries = Object.entries(v);
  if (entries.length === 0 || entries.length > MAX_FIELDS) badArg(field, `1 to ${MAX_FIELDS} commitments`);
  const out: Commitments = {};
  for (const [name, c] of entries) {
    if (!FIELD_NAME_PATTERN.test(name))
      badArg(`${field}.${name}`, `a field name matching ${FIELD_NAME_PATTERN}`);
    if (!(c instanceof Uint8Array) || c.length !== COMMITMENT_BYTES)
      badArg(`${field}.${name}`, `a ${COMMITMENT_BYTES}-byte commitment`, "LICENSE_BAD_COMMITMENT");
    out[name] = c;
  }
  return out;
}

/** Every committed field is defined by the type, and every required field is committed. */
export function checkCommitments(type: LicenseType, commitments: Commitments): void {
  const defined = new Set(type.fields.map((f) => f.name));
  for (const name of Object.keys(commitments))
    if (!defined.has(name))
      throw new RejectedError(
        "LICENSE_UNKNOWN_FIELD",
        `type ${type.typeCode} v${type.version} has no field ${name}`,
        {
          field: name,
        },
      );
  for (const f of type.fields)
    if (f.required && !Object.hasOwn(commitments, f.name))
      throw new RejectedError("LICENSE_MISSING_FIELD", `required field ${f.name} has no commitment`, {
        field: f.name,
      });
}

/** validFrom ≤ validUntil (checked at parse), not already over, and within maxValidityDays. */
export function checkValidity(type: LicenseType, validFrom: number, validUntil: number, now: number): void {
  if (validUntil < now)
    throw new RejectedError("LICENSE_ALREADY_EXPIRED", "validUntil is before the block time", {
      validUntil,
      now,
    });
  const maxMs = type.maxValidityDays * DAY_MS;
  if (validUntil - validFrom > maxMs)
    throw new RejectedError(
      "LICENSE_VALIDITY_TOO_LONG",
      `type ${type.typeCode} allows at most ${type.maxValidityDays} days of validity`,
      { maxValidityDays: type.maxValidityDays },
    );
}

/**
 * The sender issues for `type` at this height: its organization is one of the type's issuer
 * organizations and its account holds a grant in force at this height (made before this block).
 */
export function requireGrantedIssuer(ctx: TxContext, type: LicenseType): void {
  if (!type.issuerOrgs.includes(ctx.sender.org))
    throw new RejectedError(
      "LICENSE_ORG_NOT_ISSUER",
      `organization "${ctx.sender.org}" may not issue ${type.typeCode}`,
      {
        typeCode: type.typeCode,
      },
    );
  const record = readIssuer(ctx.state, type.typeCode, ctx.sender.address);
  if (!record || record.org !== ctx.sender.org || !issuerGrantedAt(record, ctx.height))
    throw new RejectedError(
      "LICENSE_ISSUER_NOT_GRANTED",
      `account ${toHex(ctx.sender.address)} is not a trusted issuer of ${type.typeCode} at height ${ctx.height}`,
      { typeCode: type.typeCode, height: ctx.height },
    );
}

/** reasonCode (required) and reasonText (optional, ≤ 200 characters). */
export function parseReason(m: { [key: string]: CborValue }): StatusReasonRecord {
  const code = argText(m.reasonCode, "args.reasonCode", 32, REASON_CODE_PATTERN, "LICENSE_BAD_REASON");
  const text = m.reasonText === undefined ? "" : argText(m.reasonText, "args.reasonText", MAX_TEXT);
  return { code, text };
}
