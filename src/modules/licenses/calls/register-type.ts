/**
 * licenses.registerType (admin): adds a license type to the catalogue (GB/T 36902). The sender's
 * organization becomes its defining organization, and the type code must begin with that
 * organization's unified social credit code (证照类型代码 = defining body's USCC + 3 digits).
 * Refused (LICENSE_TYPE_BY_VOTE) on a chain with params.licenseTypesByVote, which registers types
 * by the governance action registerLicenseType instead. The rules are in ../type-registry.ts.
 */
import { chainParams, defineCall } from "../../../execution/module.js";
import { parseTypeArgs, refuseDirectTypeCall, registerTypeRecord, type TypeArgs } from "../type-registry.js";

export const registerType = defineCall<TypeArgs>({
  roles: ["admin"],
  summary: "Register a license type (证照类型) defined by the sender's organization",
  parse: (args) => parseTypeArgs(args),
  handle(ctx, args) {
    if (chainParams(ctx).licenseTypesByVote) refuseDirectTypeCall("registerLicenseType");
    const type = registerTypeRecord(ctx.state, ctx.sender.org, args, ctx.height);
    ctx.emit("typeRegistered", {
      typeCode: type.typeCode,
      version: type.version,
      definingOrg: type.definingOrg,
      by: ctx.sender.address,
    });
  },
});
