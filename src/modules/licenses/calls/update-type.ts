/**
 * licenses.updateType (admin of the defining organization): replaces a type's name, fields,
 * issuer organizations and maximum validity, and increments its version. Licenses already
 * issued keep the type version they were issued under (`typeVersion`) and their commitments.
 *
 * The issuer organizations may only grow: whether an account was a trusted issuer at a height
 * is then answered by its own record alone (`issuerAt`). To stop an organization issuing, its
 * grants are withdrawn (withdrawIssuer, which the defining organization may also do).
 */
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import { encodeType, requireType, typeKey } from "../state.js";
import { checkIssuerOrgs, parseTypeArgs, type TypeArgs } from "./register-type.js";

export const updateType = defineCall<TypeArgs>({
  roles: ["admin"],
  summary: "Update a license type of the sender's organization (version + 1)",
  parse: parseTypeArgs,
  handle(ctx, args) {
    const type = requireType(ctx.state, args.typeCode);
    if (type.definingOrg !== ctx.sender.org)
      throw new RejectedError(
        "LICENSE_WRONG_ORG",
        `type ${type.typeCode} is defined by "${type.definingOrg}"; the sender administers "${ctx.sender.org}"`,
      );
    const removed = type.issuerOrgs.filter((o) => !args.issuerOrgs.includes(o));
    if (removed.length > 0)
      throw new RejectedError(
        "LICENSE_ISSUER_ORG_REMOVED",
        `issuer organizations cannot be removed (${removed.join(", ")}); withdraw their issuers instead`,
        { removed },
      );
    checkIssuerOrgs(ctx, args.issuerOrgs);
    const version = type.version + 1;
    ctx.state.set(typeKey(type.typeCode), encodeType({ ...type, ...args, version, updatedAt: ctx.height }));
    ctx.emit("typeUpdated", {
      typeCode: type.typeCode,
      version,
      definingOrg: type.definingOrg,
      by: ctx.sender.address,
    });
  },
});
