/**
 * licenses.recordUse (any enrolled account that is the grant's relying party): appends an entry
 * to the license's use log (用证记录): the service item code (事项编码), the business serial
 * number (业务流水号), a salted commitment to the stated reason (申请事由, which may name people),
 * who and which organization, height and time. The grant must not be withdrawn, the block time
 * must lie within [from, until], and the license must be valid at the block time.
 */
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import { equalBytes } from "../../../ledger/bytes.js";
import {
  encodeCount,
  encodeUse,
  licenseStatus,
  nextSeq,
  notValidError,
  requireLicense,
  useCountKey,
  useKey,
} from "../state.js";
import { argBytes, argMap, argText, CODE_PATTERN, COMMITMENT_BYTES } from "../types.js";
import { type GrantRef, parseGrantRef, requireGrant } from "./withdraw-grant.js";

export interface UseArgs extends GrantRef {
  serviceItemCode: string;
  businessSerial: string;
  reasonCommitment: Uint8Array;
}

export const recordUse = defineCall<UseArgs>({
  roles: "any",
  summary: "Record a use of a license under a grant (用证)",
  parse(args) {
    const m = argMap(args, "args", [
      "licenseId",
      "grantId",
      "serviceItemCode",
      "businessSerial",
      "reasonCommitment",
    ]);
    return {
      ...parseGrantRef(m),
      serviceItemCode: argText(m.serviceItemCode, "args.serviceItemCode", 64, CODE_PATTERN),
      businessSerial: argText(m.businessSerial, "args.businessSerial", 64, CODE_PATTERN),
      reasonCommitment: argBytes(m.reasonCommitment, "args.reasonCommitment", COMMITMENT_BYTES),
    };
  },
  handle(ctx, args) {
    const license = requireLicense(ctx.state, args.licenseId);
    const g = requireGrant(ctx.state, args);
    if (!equalBytes(ctx.sender.address, g.relyingParty))
      throw new RejectedError(
        "LICENSE_NOT_RELYING_PARTY",
        `the sender is not the relying party of grant ${g.grantId}`,
      );
    if (g.withdrawnAt !== null)
      throw new RejectedError(
        "LICENSE_GRANT_WITHDRAWN",
        `grant ${g.grantId} was withdrawn at height ${g.withdrawnAt}`,
      );
    // The license first: a grant never outlasts it, so an expired license is reported as such.
    const v = licenseStatus(license, ctx.time);
    if (!v.valid) throw notValidError(license.licenseId, v);
    if (ctx.time < g.from || ctx.time > g.until)
      throw new RejectedError(
        "LICENSE_GRANT_NOT_ACTIVE",
        `grant ${g.grantId} is in force from ${g.from} to ${g.until}`,
        {
          from: g.from,
          until: g.until,
          time: ctx.time,
        },
      );
    const countKey = useCountKey(license.licenseId);
    const seq = nextSeq(ctx.state, countKey, "LICENSE_USE_LIMIT");
    ctx.state.set(
      useKey(license.licenseId, seq),
      encodeUse({
        seq,
        grantId: g.grantId,
        by: ctx.sender.address,
        org: ctx.sender.org,
        serviceItemCode: args.serviceItemCode,
        businessSerial: args.businessSerial,
        reasonCommitment: args.reasonCommitment,
        height: ctx.height,
        time: ctx.time,
      }),
    );
    ctx.state.set(countKey, encodeCount(seq));
    ctx.emit("used", {
      licenseId: license.licenseId,
      grantId: g.grantId,
      seq,
      by: ctx.sender.address,
      org: ctx.sender.org,
      serviceItemCode: args.serviceItemCode,
      businessSerial: args.businessSerial,
    });
  },
});
