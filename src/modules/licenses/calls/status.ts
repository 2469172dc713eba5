/**
 * licenses.suspend (01 → 02 暂扣), licenses.reinstate (02 → 01) and licenses.revoke (01 or 02 →
 * 03 撤销, or 04 注销 / 07 吊销 when `status` says so). Each records a reason code. They may be
 * made by an issuer or admin account of the organization that issued the license, or by a
 * supervisor (监管) of any organization, who must also state the reason in `reasonText`.
 * Each emits "statusChanged" {licenseId, from, to, reason, by, org}.
 */
import type { CborValue } from "../../../codec/cbor.js";
import { RejectedError } from "../../../errors/index.js";
import { defineCall, type TxContext } from "../../../execution/module.js";
import { encodeLicense, licenseKey, parseId, requireLicense } from "../state.js";
import { argMap, argText, badArg, type License, type StatusCode, type StatusReasonRecord } from "../types.js";
import { parseReason } from "./common.js";

export interface StatusArgs {
  licenseId: string;
  reason: StatusReasonRecord;
  to?: StatusCode;
}

/** Writes the new status of `license` and emits "statusChanged". */
export function changeStatus(
  ctx: TxContext,
  license: License,
  to: StatusCode,
  reason: StatusReasonRecord,
): License {
  const updated: License = {
    ...license,
    status: to,
    statusHeight: ctx.height,
    statusReason: reason,
    statusBy: ctx.sender.address,
  };
  ctx.state.set(licenseKey(license.licenseId), encodeLicense(updated));
  ctx.emit("statusChanged", {
    licenseId: license.licenseId,
    from: license.status,
    to,
    reason: { code: reason.code, text: reason.text },
    by: ctx.sender.address,
    org: ctx.sender.org,
  });
  return updated;
}

/** The issuing organization's issuers and admins, or a supervisor who states a reason. */
export function authorizeStatusChange(ctx: TxContext, license: License, reason: StatusReasonRecord): void {
  const roles = ctx.sender.roles;
  if (ctx.sender.org === license.issuerOrg && (roles.includes("issuer") || roles.includes("admin"))) return;
  if (roles.includes("supervisor")) {
    if (reason.text.trim() === "")
      throw new RejectedError("LICENSE_REASON_REQUIRED", "a supervisor must state the reason in reasonText");
    return;
  }
  throw new RejectedError(
    "LICENSE_WRONG_ORG",
    `license ${license.licenseId} was issued by "${license.issuerOrg}"; the sender is of "${ctx.sender.org}" and is no supervisor`,
  );
}

function parseStatusArgs(args: CborValue, revoke: boolean): StatusArgs {
  const m = argMap(
    args,
    "args",
    ["licenseId", "reasonCode"],
    revoke ? ["reasonText", "status"] : ["reasonText"],
  );
  const licenseId = argText(m.licenseId, "args.licenseId", 160);
  parseId(licenseId, "args.licenseId");
  const out: StatusArgs = { licenseId, reason: parseReason(m) };
  if (revoke) {
    const to = m.status === undefined ? "03" : m.status;
    if (to !== "03" && to !== "04" && to !== "07")
      badArg("args.status", '"03" (撤销), "04" (注销) or "07" (吊销)');
    out.to = to;
  }
  return out;
}

function statusCall(summary: string, allowedFrom: readonly StatusCode[], fixedTo: StatusCode | null) {
  return defineCall<StatusArgs>({
    roles: ["admin", "issuer", "supervisor"],
    summary,
    parse: (args) => parseStatusArgs(args, fixedTo === null),
    handle(ctx, args) {
      const license = requireLicense(ctx.state, args.licenseId);
      authorizeStatusChange(ctx, license, args.reason);
      const to = fixedTo ?? args.to ?? "03";
      if (!allowedFrom.includes(license.status))
        throw new RejectedError(
          "LICENSE_BAD_TRANSITION",
          `license ${license.licenseId} has status ${license.status}; cannot change it to ${to}`,
          { from: license.status, to },
        );
      changeStatus(ctx, license, to, args.reason);
    },
  });
}

export const suspend = statusCall("Suspend a license (暂扣, 01 → 02) with a reason", ["01"], "02");
export const reinstate = statusCall("Reinstate a suspended license (02 → 01) with a reason", ["02"], "01");
export const revoke = statusCall(
  "Revoke a license (撤销 03; or 注销 04 / 吊销 07) with a reason",
  ["01", "02"],
  null,
);
