/**
 * licenses.updateType (admin of the defining organization): replaces a type's name, fields,
 * issuer organizations and maximum validity, and increments its version. Licenses already
 * issued keep the type version they were issued under (`typeVersion`) and their commitments.
 *
 * The issuer organizations may only grow: whether an account was a trusted issuer at a height
 * is then answered by its own record alone (`issuerAt`). To stop an organization issuing, its
 * grants are withdrawn (withdrawIssuer, which the defining organization may also do).
 *
 * Refused (LICENSE_TYPE_BY_VOTE) on a chain with params.licenseTypesByVote, which updates types by
 * the governance action updateLicenseType instead. The rules are in ../type-registry.ts.
 */
import { chainParams, defineCall } from "../../../execution/module.js";
import { parseTypeArgs, refuseDirectTypeCall, type TypeArgs, updateTypeRecord } from "../type-registry.js";

export const updateType = defineCall<TypeArgs>({
  roles: ["admin"],
  summary: "Update a license type of the sender's organization (version + 1)",
  parse: (args) => parseTypeArgs(args),
  handle(ctx, args) {
    if (chainParams(ctx).licenseTypesByVote) refuseDirectTypeCall("updateLicenseType");
    const type = updateTypeRecord(ctx.state, ctx.sender.org, args, ctx.height);
    ctx.emit("typeUpdated", {
      typeCode: type.typeCode,
      version: type.version,
      definingOrg: type.definingOrg,
      by: ctx.sender.address,
    });
  },
});
