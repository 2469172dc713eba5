/**
 * licenses.withdrawIssuer (admin of the issuer's own organization, or of the type's defining
 * organization): closes the account's open grant. The account stays authorized through this
 * height and is not from the next one; earlier periods stay in the record.
 */
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import { toHex } from "../../../ledger/bytes.js";
import { encodeIssuer, issuerKey, openGrant, readIssuer, requireType } from "../state.js";
import { type IssuerArgs, parseIssuerArgs } from "./grant-issuer.js";

export const withdrawIssuer = defineCall<IssuerArgs>({
  roles: ["admin"],
  summary: "Withdraw a trusted issuer of a license type (from the next height)",
  parse: parseIssuerArgs,
  handle(ctx, { typeCode, address }) {
    const type = requireType(ctx.state, typeCode);
    const record = readIssuer(ctx.state, typeCode, address);
    const open = openGrant(record);
    if (!record || !open)
      throw new RejectedError(
        "LICENSE_ISSUER_NOT_GRANTED",
        `account ${toHex(address)} is not an issuer of ${typeCode}`,
      );
    if (record.org !== ctx.sender.org && type.definingOrg !== ctx.sender.org)
      throw new RejectedError(
        "LICENSE_WRONG_ORG",
        `the issuer belongs to "${record.org}" and the type to "${type.definingOrg}"; the sender administers "${ctx.sender.org}"`,
      );
    const until = ctx.height + 1;
    const grants = [...record.grants.slice(0, -1), { from: open.from, until }];
    ctx.state.set(issuerKey(typeCode, address), encodeIssuer({ ...record, grants }));
    ctx.emit("issuerWithdrawn", { typeCode, address, org: record.org, until, by: ctx.sender.address });
  },
});
