/**
 * licenses.renew (issuer of the organization that issued the license, a trusted issuer of its
 * type at this height): records the next version of a valid (01) license — same type, issuer
 * code and serial, version + 1 (GB/T 36904) — with fresh commitments and validity. The new
 * record's `previous` names the old one (关联证照标识); the old one gets `next` and status 05
 * (失效, superseded). The holder and holder account carry over; grants do not.
 */
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import { nextId, parseId, requireLicense, requireType } from "../state.js";
import { argMap, argText } from "../types.js";
import {
  type Commitments,
  checkCommitments,
  checkValidity,
  parseCommitments,
  requireGrantedIssuer,
} from "./common.js";
import { parsePeriod, writeNewLicense } from "./issue.js";
import { changeStatus } from "./status.js";

export interface RenewArgs {
  licenseId: string;
  newLicenseId: string;
  commitments: Commitments;
  validFrom: number;
  validUntil: number;
}

export const renew = defineCall<RenewArgs>({
  roles: ["issuer"],
  summary: "Renew a license: a new version linked to the old one, which becomes 05 (失效)",
  parse(args) {
    const m = argMap(args, "args", ["licenseId", "newLicenseId", "commitments", "validFrom", "validUntil"]);
    const licenseId = argText(m.licenseId, "args.licenseId", 160);
    const newLicenseId = argText(m.newLicenseId, "args.newLicenseId", 160);
    parseId(licenseId, "args.licenseId");
    parseId(newLicenseId, "args.newLicenseId");
    return {
      licenseId,
      newLicenseId,
      commitments: parseCommitments(m.commitments, "args.commitments"),
      ...parsePeriod(m),
    };
  },
  handle(ctx, args) {
    const old = requireLicense(ctx.state, args.licenseId);
    if (old.issuerOrg !== ctx.sender.org)
      throw new RejectedError(
        "LICENSE_WRONG_ORG",
        `license ${old.licenseId} was issued by "${old.issuerOrg}"; the sender is of "${ctx.sender.org}"`,
      );
    const type = requireType(ctx.state, old.typeCode);
    requireGrantedIssuer(ctx, type);
    if (old.status !== "01")
      throw new RejectedError(
        "LICENSE_BAD_TRANSITION",
        `license ${old.licenseId} has status ${old.status}; only 01 renews`,
        {
          from: old.status,
          to: "05",
        },
      );
    const expected = nextId(old.licenseId);
    if (args.newLicenseId !== expected)
      throw new RejectedError("LICENSE_RENEW_ID", `the renewal of ${old.licenseId} must be ${expected}`, {
        expected,
      });
    checkCommitments(type, args.commitments);
    checkValidity(type, args.validFrom, args.validUntil, ctx.time);
    changeStatus(ctx, { ...old, next: expected }, "05", { code: "RENEWED", text: "" });
    writeNewLicense(ctx, type, {
      licenseId: expected,
      holder: old.holder,
      commitments: args.commitments,
      validFrom: args.validFrom,
      validUntil: args.validUntil,
      previous: old.licenseId,
      holderAccount: old.holderAccount,
    });
    ctx.emit("renewed", {
      licenseId: old.licenseId,
      next: expected,
      by: ctx.sender.address,
      org: ctx.sender.org,
    });
  },
});
