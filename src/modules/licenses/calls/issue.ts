/**
 * licenses.issue (issuer): records a new e-license. The sender must be a trusted issuer of the
 * type at this height; the identifier (GB/T 36904) names the type and the sender's organization
 * code; every committed field is defined by the type and every required one is committed; the
 * validity period fits the type's maximum; the holder account is an enrolled holder.
 * The type code is read from the identifier.
 */
import type { CborValue } from "../../../codec/cbor.js";
import { InvalidInputError, RejectedError } from "../../../errors/index.js";
import { readAccount, readOrg } from "../../../execution/accounts.js";
import { defineCall, type TxContext } from "../../../execution/module.js";
import { toHex } from "../../../ledger/bytes.js";
import type { ParsedLicenseId } from "../identifiers.js";
import { assignStatusIndex, encodeLicense, licenseKey, parseId, readLicense, requireType } from "../state.js";
import {
  argAddress,
  argBytes,
  argMap,
  argText,
  argTime,
  HOLDER_BYTES,
  type License,
  type LicenseType,
} from "../types.js";
import {
  type Commitments,
  checkCommitments,
  checkValidity,
  parseCommitments,
  requireGrantedIssuer,
} from "./common.js";

export interface IssueArgs {
  id: ParsedLicenseId;
  holder: Uint8Array;
  holderAccount: Uint8Array;
  commitments: Commitments;
  validFrom: number;
  validUntil: number;
}

/** validFrom ≤ validUntil, both ms. */
export function parsePeriod(m: { [k: string]: CborValue }): { validFrom: number; validUntil: number } {
  const validFrom = argTime(m.validFrom, "args.validFrom");
  const validUntil = argTime(m.validUntil, "args.validUntil");
  if (validFrom > validUntil)
    throw new InvalidInputError("LICENSE_BAD_PERIOD", "args.validFrom must not be after args.validUntil", {
      field: "args.validFrom",
    });
  return { validFrom, validUntil };
}

/** The identifier's issuer code is the sender's organization code. */
export function checkIssuerCode(ctx: TxContext, id: ParsedLicenseId): void {
  const org = readOrg(ctx.state, ctx.sender.org);
  if (!org || org.code !== id.issuerCode)
    throw new RejectedError(
      "LICENSE_ID_MISMATCH",
      `the identifier's issuer code ${id.issuerCode} is not the code of "${ctx.sender.org}"`,
      { licenseId: id.id },
    );
}

/** Writes a new license record issued by the sender, and emits "issued". */
export function writeNewLicense(
  ctx: TxContext,
  type: LicenseType,
  fields: Omit<
    License,
    | "typeCode"
    | "typeVersion"
    | "issuerOrg"
    | "issuer"
    | "status"
    | "statusHeight"
    | "statusReason"
    | "statusBy"
    | "next"
    | "issuedAt"
  >,
): void {
  if (readLicense(ctx.state, fields.licenseId))
    throw new RejectedError("LICENSE_EXISTS", `license ${fields.licenseId} already exists`, {
      licenseId: fields.licenseId,
    });
  const record: License = {
    ...fields,
    typeCode: type.typeCode,
    typeVersion: type.version,
    issuerOrg: ctx.sender.org,
    issuer: ctx.sender.address,
    status: "01",
    statusHeight: ctx.height,
    statusReason: null,
    statusBy: ctx.sender.address,
    next: null,
    issuedAt: ctx.height,
  };
  ctx.state.set(licenseKey(record.licenseId), encodeLicense(record));
  const statusIndex = assignStatusIndex(ctx.state, record.typeCode, record.licenseId);
  ctx.emit("issued", {
    licenseId: record.licenseId,
    typeCode: record.typeCode,
    typeVersion: record.typeVersion,
    issuerOrg: record.issuerOrg,
    by: ctx.sender.address,
    holderAccount: record.holderAccount,
    previous: record.previous,
    validUntil: record.validUntil,
    statusIndex,
  });
}

export const issue = defineCall<IssueArgs>({
  roles: ["issuer"],
  summary: "Issue an e-license (电子证照) as a trusted issuer of its type",
  parse(args) {
    const m = argMap(args, "args", [
      "licenseId",
      "holder",
      "holderAccount",
      "commitments",
      "validFrom",
      "validUntil",
    ]);
    return {
      id: parseId(argText(m.licenseId, "args.licenseId", 160), "args.licenseId"),
      holder: argBytes(m.holder, "args.holder", HOLDER_BYTES),
      holderAccount: argAddress(m.holderAccount, "args.holderAccount"),
      commitments: parseCommitments(m.commitments, "args.commitments"),
      ...parsePeriod(m),
    };
  },
  handle(ctx, args) {
    const type = requireType(ctx.state, args.id.typeCode);
    requireGrantedIssuer(ctx, type);
    checkIssuerCode(ctx, args.id);
    checkCommitments(type, args.commitments);
    checkValidity(type, args.validFrom, args.validUntil, ctx.time);
    const holder = readAccount(ctx.state, args.holderAccount);
    if (!holder?.roles.includes("holder"))
      throw new RejectedError(
        "LICENSE_HOLDER_ACCOUNT",
        `holderAccount ${toHex(args.holderAccount)} is not an enrolled account with the role holder`,
      );
    writeNewLicense(ctx, type, {
      licenseId: args.id.id,
      holder: args.holder,
      commitments: args.commitments,
      validFrom: args.validFrom,
      validUntil: args.validUntil,
      previous: null,
      holderAccount: args.holderAccount,
    });
  },
});
