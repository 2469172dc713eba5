/**
 * licenses.registerType (admin): adds a license type to the catalogue (GB/T 36902). The sender's
 * organization becomes its defining organization, and the type code must begin with that
 * organization's unified social credit code (证照类型代码 = defining body's USCC + 3 digits).
 */
import type { CborValue } from "../../../codec/cbor.js";
import { RejectedError } from "../../../errors/index.js";
import { ORG_ID_PATTERN, readOrg } from "../../../execution/accounts.js";
import { defineCall, type TxContext } from "../../../execution/module.js";
import { encodeType, readType, typeKey } from "../state.js";
import {
  argArray,
  argBool,
  argMap,
  argText,
  argTypeCode,
  argUint,
  badArg,
  FIELD_NAME_PATTERN,
  FIELD_TYPES,
  type FieldDef,
  type FieldType,
  MAX_FIELDS,
  MAX_ISSUER_ORGS,
  MAX_VALIDITY_DAYS,
} from "../types.js";

export interface TypeArgs {
  typeCode: string;
  name: string;
  fields: FieldDef[];
  issuerOrgs: string[];
  maxValidityDays: number;
}

/** The body shared by registerType and updateType. */
export function parseTypeArgs(args: CborValue): TypeArgs {
  const m = argMap(args, "args", ["typeCode", "name", "fields", "issuerOrgs", "maxValidityDays"]);
  const fields = argArray(m.fields, "args.fields", 1, MAX_FIELDS).map((v, i): FieldDef => {
    const f = argMap(v, `args.fields[${i}]`, ["name", "type", "required"]);
    const type = argText(f.type, `args.fields[${i}].type`, 8);
    if (!(FIELD_TYPES as readonly string[]).includes(type))
      badArg(`args.fields[${i}].type`, `one of ${FIELD_TYPES.join(", ")}`, "LICENSE_BAD_FIELDS");
    return {
      name: argText(f.name, `args.fields[${i}].name`, 64, FIELD_NAME_PATTERN, "LICENSE_BAD_FIELDS"),
      type: type as FieldType,
      required: argBool(f.required, `args.fields[${i}].required`),
    };
  });
  if (new Set(fields.map((f) => f.name)).size !== fields.length)
    badArg("args.fields", "distinct field names", "LICENSE_BAD_FIELDS");
  const issuerOrgs = argArray(m.issuerOrgs, "args.issuerOrgs", 1, MAX_ISSUER_ORGS).map((o, i) =>
    argText(o, `args.issuerOrgs[${i}]`, 32, ORG_ID_PATTERN),
  );
  if (new Set(issuerOrgs).size !== issuerOrgs.length) badArg("args.issuerOrgs", "distinct organization ids");
  return {
    typeCode: argTypeCode(m.typeCode, "args.typeCode"),
    name: argText(m.name, "args.name", 128),
    fields,
    issuerOrgs,
    maxValidityDays: argUint(m.maxValidityDays, "args.maxValidityDays", 1, MAX_VALIDITY_DAYS),
  };
}

/** Every issuer organization is a member organization. */
export function checkIssuerOrgs(ctx: TxContext, issuerOrgs: readonly string[]): void {
  for (const id of issuerOrgs)
    if (!readOrg(ctx.state, id))
      throw new RejectedError("LICENSE_UNKNOWN_ORG", `no member organization "${id}"`, { org: id });
}

export const registerType = defineCall<TypeArgs>({
  roles: ["admin"],
  summary: "Register a license type (证照类型) defined by the sender's organization",
  parse: parseTypeArgs,
  handle(ctx, args) {
    const org = readOrg(ctx.state, ctx.sender.org);
    if (!org || args.typeCode.slice(0, 18) !== org.code)
      throw new RejectedError(
        "LICENSE_TYPE_CODE_ORG",
        `type code must begin with the defining organization's code ${org?.code ?? "(none)"}`,
        { typeCode: args.typeCode },
      );
    if (readType(ctx.state, args.typeCode))
      throw new RejectedError("LICENSE_TYPE_EXISTS", `license type ${args.typeCode} is already registered`, {
        typeCode: args.typeCode,
      });
    checkIssuerOrgs(ctx, args.issuerOrgs);
    ctx.state.set(
      typeKey(args.typeCode),
      encodeType({
        ...args,
        definingOrg: ctx.sender.org,
        version: 1,
        registeredAt: ctx.height,
        updatedAt: ctx.height,
      }),
    );
    ctx.emit("typeRegistered", {
      typeCode: args.typeCode,
      version: 1,
      definingOrg: ctx.sender.org,
      by: ctx.sender.address,
    });
  },
});
