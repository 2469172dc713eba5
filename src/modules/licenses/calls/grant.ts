/**
 * licenses.grant (holder, from the license's holder account): authorizes a relying party (a bank,
 * a department) to use the license for a stated purpose, for some of its fields, between two
 * times (ms, inclusive). The license must be in force (or not yet valid); the grant cannot
 * outlast it. Grant ids are the license's grant sequence numbers (0000000001, …).
 */
import { RejectedError } from "../../../errors/index.js";
import { readAccount } from "../../../execution/accounts.js";
import { defineCall, type TxContext } from "../../../execution/module.js";
import { equalBytes, toHex } from "../../../ledger/bytes.js";
import {
  encodeCount,
  encodeGrant,
  grantCountKey,
  grantKey,
  licenseStatus,
  nextSeq,
  notValidError,
  parseId,
  requireLicense,
  seqText,
} from "../state.js";
import {
  argAddress,
  argFieldNames,
  argMap,
  argText,
  argTime,
  badArg,
  type License,
  MAX_TEXT,
} from "../types.js";

export interface GrantArgs {
  licenseId: string;
  relyingParty: Uint8Array;
  purpose: string;
  fields: string[];
  from: number;
  until: number;
}

export function requireHolder(ctx: TxContext, license: License): void {
  if (!equalBytes(ctx.sender.address, license.holderAccount))
    throw new RejectedError(
      "LICENSE_NOT_HOLDER",
      `the sender is not the holder account of ${license.licenseId}`,
    );
}

export const grant = defineCall<GrantArgs>({
  roles: ["holder"],
  summary: "Authorize a relying party to use a license (用证授权)",
  parse(args) {
    const m = argMap(args, "args", ["licenseId", "relyingParty", "purpose", "fields", "from", "until"]);
    const licenseId = argText(m.licenseId, "args.licenseId", 160);
    parseId(licenseId, "args.licenseId");
    const purpose = argText(m.purpose, "args.purpose", MAX_TEXT);
    if (purpose.trim() === "") badArg("args.purpose", "a stated purpose (1 to 200 characters)");
    const from = argTime(m.from, "args.from");
    const until = argTime(m.until, "args.until");
    if (from > until) badArg("args.from", "a time not after args.until", "LICENSE_BAD_PERIOD");
    return {
      licenseId,
      relyingParty: argAddress(m.relyingParty, "args.relyingParty"),
      purpose,
      fields: argFieldNames(m.fields, "args.fields"),
      from,
      until,
    };
  },
  handle(ctx, args) {
    const license = requireLicense(ctx.state, args.licenseId);
    requireHolder(ctx, license);
    const v = licenseStatus(license, ctx.time);
    if (!v.valid && v.reason !== "NOT_YET_VALID") throw notValidError(license.licenseId, v);
    if (!readAccount(ctx.state, args.relyingParty))
      throw new RejectedError("LICENSE_ACCOUNT_NOT_FOUND", `no account ${toHex(args.relyingParty)}`);
    for (const f of args.fields)
      if (!Object.hasOwn(license.commitments, f))
        throw new RejectedError("LICENSE_UNKNOWN_FIELD", `license ${license.licenseId} has no field ${f}`, {
          field: f,
        });
    if (args.until < ctx.time || args.until > license.validUntil)
      throw new RejectedError(
        "LICENSE_GRANT_PERIOD",
        "the grant must end after the block time and within the license's validity",
        {
          until: args.until,
          validUntil: license.validUntil,
        },
      );
    const countKey = grantCountKey(license.licenseId);
    const n = nextSeq(ctx.state, countKey, "LICENSE_GRANT_LIMIT");
    const grantId = seqText(n);
    ctx.state.set(
      grantKey(license.licenseId, grantId),
      encodeGrant({ grantId, ...args, createdAt: ctx.height, withdrawnAt: null }),
    );
    ctx.state.set(countKey, encodeCount(n));
    ctx.emit("granted", {
      licenseId: license.licenseId,
      grantId,
      relyingParty: args.relyingParty,
      fields: args.fields,
      from: args.from,
      until: args.until,
    });
  },
});
