/**
 * licenses.grantIssuer (admin of one of the type's issuer organizations): makes an account of
 * the admin's own organization, holding the role issuer, a trusted issuer of the type. The
 * grant takes effect from the next height; the record keeps every period so that "this account
 * was authorized at the height of issue" stays provable after a withdrawal.
 */
import type { CborValue } from "../../../codec/cbor.js";
import { RejectedError } from "../../../errors/index.js";
import { readAccount } from "../../../execution/accounts.js";
import { defineCall } from "../../../execution/module.js";
import { toHex } from "../../../ledger/bytes.js";
import { encodeIssuer, issuerKey, openGrant, readIssuer, requireType } from "../state.js";
import { argAddress, argMap, argTypeCode } from "../types.js";

export interface IssuerArgs {
  typeCode: string;
  address: Uint8Array;
}

export function parseIssuerArgs(args: CborValue): IssuerArgs {
  const m = argMap(args, "args", ["typeCode", "address"]);
  return {
    typeCode: argTypeCode(m.typeCode, "args.typeCode"),
    address: argAddress(m.address, "args.address"),
  };
}

export const grantIssuer = defineCall<IssuerArgs>({
  roles: ["admin"],
  summary: "Make an issuer account of the sender's organization a trusted issuer of a license type",
  parse: parseIssuerArgs,
  handle(ctx, { typeCode, address }) {
    const type = requireType(ctx.state, typeCode);
    if (!type.issuerOrgs.includes(ctx.sender.org))
      throw new RejectedError(
        "LICENSE_ORG_NOT_ISSUER",
        `organization "${ctx.sender.org}" may not issue ${typeCode}`,
        {
          typeCode,
        },
      );
    const account = readAccount(ctx.state, address);
    if (!account)
      throw new RejectedError("LICENSE_ACCOUNT_NOT_FOUND", `no account ${toHex(address)}`, {
        address: toHex(address),
      });
    if (account.org !== ctx.sender.org)
      throw new RejectedError(
        "LICENSE_WRONG_ORG",
        `account belongs to "${account.org}"; the sender administers "${ctx.sender.org}"`,
      );
    if (!account.roles.includes("issuer"))
      throw new RejectedError(
        "LICENSE_NOT_ISSUER_ACCOUNT",
        `account ${toHex(address)} does not hold the role issuer`,
      );
    const record = readIssuer(ctx.state, typeCode, address) ?? { org: account.org, grants: [] };
    if (openGrant(record))
      throw new RejectedError(
        "LICENSE_ISSUER_ALREADY_GRANTED",
        `account ${toHex(address)} already issues ${typeCode}`,
      );
    const from = ctx.height + 1;
    ctx.state.set(
      issuerKey(typeCode, address),
      encodeIssuer({ ...record, grants: [...record.grants, { from, until: null }] }),
    );
    ctx.emit("issuerGranted", { typeCode, address, org: account.org, from, by: ctx.sender.address });
  },
});
