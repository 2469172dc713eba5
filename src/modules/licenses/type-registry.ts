/**
 * The license-type registry (证照类型目录, GB/T 36902): the arguments of a type, the rules a
 * registration or an update must meet, and the one function that writes a type record. Two paths
 * use it: the direct calls licenses.registerType / updateType (an admin of the defining
 * organization), and the governance actions registerLicenseType / updateLicenseType (a vote of the
 * member organizations, on a proposal by the defining organization). Chain param
 * `licenseTypesByVote` decides which of the two a chain accepts (see docs/licenses.md).
 */
import type { CborValue } from "../../codec/cbor.js";
import { RejectedError } from "../../errors/index.js";
import { ORG_ID_PATTERN, readOrg } from "../../execution/accounts.js";
import type { Overlay, StateReader } from "../../execution/state-view.js";
import { encodeType, readType, requireType, typeKey } from "./state.js";
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
  type LicenseType,
  MAX_FIELDS,
  MAX_ISSUER_ORGS,
  MAX_VALIDITY_DAYS,
} from "./types.js";

export const TYPE_ARG_KEYS = ["typeCode", "name", "fields", "issuerOrgs", "maxValidityDays"] as const;

export interface TypeArgs {
  typeCode: string;
  name: string;
  fields: FieldDef[];
  issuerOrgs: string[];
  maxValidityDays: number;
}

/** The body shared by registerType, updateType and the two governance actions; `at` names it in errors. */
export function parseTypeArgs(args: CborValue, at = "args"): TypeArgs {
  const m = argMap(args, at, TYPE_ARG_KEYS);
  const fields = argArray(m.fields, `${at}.fields`, 1, MAX_FIELDS).map((v, i): FieldDef => {
    const f = argMap(v, `${at}.fields[${i}]`, ["name", "type", "required"]);
    const type = argText(f.type, `${at}.fields[${i}].type`, 8);
    if (!(FIELD_TYPES as readonly string[]).includes(type))
      badArg(`${at}.fields[${i}].type`, `one of ${FIELD_TYPES.join(", ")}`, "LICENSE_BAD_FIELDS");
    return {
      name: argText(f.name, `${at}.fields[${i}].name`, 64, FIELD_NAME_PATTERN, "LICENSE_BAD_FIELDS"),
      type: type as FieldType,
      required: argBool(f.required, `${at}.fields[${i}].required`),
    };
  });
  if (new Set(fields.map((f) => f.name)).size !== fields.length)
    badArg(`${at}.fields`, "distinct field names", "LICENSE_BAD_FIELDS");
  const issuerOrgs = argArray(m.issuerOrgs, `${at}.issuerOrgs`, 1, MAX_ISSUER_ORGS).map((o, i) =>
    argText(o, `${at}.issuerOrgs[${i}]`, 32, ORG_ID_PATTERN),
  );
  if (new Set(issuerOrgs).size !== issuerOrgs.length) badArg(`${at}.issuerOrgs`, "distinct organization ids");
  return {
    typeCode: argTypeCode(m.typeCode, `${at}.typeCode`),
    name: argText(m.name, `${at}.name`, 128),
    fields,
    issuerOrgs,
    maxValidityDays: argUint(m.maxValidityDays, `${at}.maxValidityDays`, 1, MAX_VALIDITY_DAYS),
  };
}

/** The arguments as CBOR, in the shape parseTypeArgs reads (for governance proposal records). */
export function typeArgsToCbor(a: TypeArgs): { [key: string]: CborValue } {
  return {
    typeCode: a.typeCode,
    name: a.name,
    fields: a.fields.map((f) => ({ name: f.name, type: f.type, required: f.required })),
    issuerOrgs: [...a.issuerOrgs],
    maxValidityDays: a.maxValidityDays,
  };
}

/** Every issuer organization is a member organization. */
export function checkIssuerOrgs(state: StateReader, issuerOrgs: readonly string[]): void {
  for (const id of issuerOrgs)
    if (!readOrg(state, id))
      throw new RejectedError("LICENSE_UNKNOWN_ORG", `no member organization "${id}"`, { org: id });
}

/**
 * A registration by organization `org`: the type code begins with its unified social credit code
 * (证照类型代码 = defining body's USCC + 3 digits), the code is not registered, and every issuer
 * organization is a member.
 */
export function checkNewType(state: StateReader, org: string, args: TypeArgs): void {
  const code = readOrg(state, org)?.code;
  if (!code || args.typeCode.slice(0, 18) !== code)
    throw new RejectedError(
      "LICENSE_TYPE_CODE_ORG",
      `type code must begin with the defining organization's code ${code ?? "(none)"}`,
      { typeCode: args.typeCode },
    );
  if (readType(state, args.typeCode))
    throw new RejectedError("LICENSE_TYPE_EXISTS", `license type ${args.typeCode} is already registered`, {
      typeCode: args.typeCode,
    });
  checkIssuerOrgs(state, args.issuerOrgs);
}

/**
 * An update by organization `org`: the type exists and `org` defines it, no issuer organization
 * is removed (the list only grows, so `issuerAt` is answered by an issuer's own record), and every
 * issuer organization is a member. Returns the current record.
 */
export function checkTypeUpdate(state: StateReader, org: string, args: TypeArgs): LicenseType {
  const type = requireType(state, args.typeCode);
  if (type.definingOrg !== org)
    throw new RejectedError(
      "LICENSE_WRONG_ORG",
      `type ${type.typeCode} is defined by "${type.definingOrg}", not by "${org}"`,
      { typeCode: type.typeCode, definingOrg: type.definingOrg },
    );
  const removed = type.issuerOrgs.filter((o) => !args.issuerOrgs.includes(o));
  if (removed.length > 0)
    throw new RejectedError(
      "LICENSE_ISSUER_ORG_REMOVED",
      `issuer organizations cannot be removed (${removed.join(", ")}); withdraw their issuers instead`,
      { removed },
    );
  checkIssuerOrgs(state, args.issuerOrgs);
  return type;
}

/** The one writer of `lictype/<typeCode>`. */
function writeType(state: Overlay, type: LicenseType): void {
  state.set(typeKey(type.typeCode), encodeType(type));
}

/** Checks a registration (checkNewType) and writes version 1, defined by `org`, at `height`. */
export function registerTypeRecord(state: Overlay, org: string, args: TypeArgs, height: number): LicenseType {
  checkNewType(state, org, args);
  const type: LicenseType = {
    ...args,
    definingOrg: org,
    version: 1,
    registeredAt: height,
    updatedAt: height,
  };
  writeType(state, type);
  return type;
}

/** Checks an update (checkTypeUpdate) and writes the next version at `height`. */
export function updateTypeRecord(state: Overlay, org: string, args: TypeArgs, height: number): LicenseType {
  const current = checkTypeUpdate(state, org, args);
  const type: LicenseType = { ...current, ...args, version: current.version + 1, updatedAt: height };
  writeType(state, type);
  return type;
}

/** Chain param `licenseTypesByVote`: the direct calls are refused, with how to do it instead. */
export function refuseDirectTypeCall(kind: "registerLicenseType" | "updateLicenseType"): never {
  throw new RejectedError(
    "LICENSE_TYPE_BY_VOTE",
    `this chain registers license types by governance vote: governance.propose {kind: ${kind}, ...}`,
    { kind },
  );
}
