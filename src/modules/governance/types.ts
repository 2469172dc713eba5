/**
 * Governance records and their strict argument readers. A proposal carries one action: a change
 * of the validator set, of the member organizations, or of the license-type registry. Arguments
 * are checked here, at parse time, for everything that does not depend on state or on the chain's
 * crypto suite. License-type actions carry exactly the arguments of licenses.registerType /
 * updateType, read by the licenses module's own parser.
 */
import type { CborValue } from "../../codec/cbor.js";
import { InvalidInputError } from "../../errors/index.js";
import { ORG_ID_PATTERN, USCC_PATTERN } from "../../ledger/genesis.js";
import { parseTypeArgs, type TypeArgs, typeArgsToCbor } from "../licenses/type-registry.js";

export const MAX_POWER = 1_000_000;
/** Public keys of both suites are 32 (Ed25519) to 65 (SM2, uncompressed) bytes; the suite decides. */
export const MIN_KEY_BYTES = 32;
export const MAX_KEY_BYTES = 65;
export const MAX_ORG_NAME = 128;

export const ACTION_KINDS = [
  "addValidator",
  "removeValidator",
  "setPower",
  "addOrg",
  "removeOrg",
  "registerLicenseType",
  "updateLicenseType",
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export type Action =
  | { kind: "addValidator"; publicKey: Uint8Array; power: number; org: string }
  | { kind: "removeValidator"; publicKey: Uint8Array }
  | { kind: "setPower"; publicKey: Uint8Array; power: number }
  | { kind: "addOrg"; id: string; name: string; code: string; rootPublicKey: Uint8Array }
  | { kind: "removeOrg"; id: string }
  | ({ kind: "registerLicenseType" } & TypeArgs)
  | ({ kind: "updateLicenseType" } & TypeArgs);

export type LicenseTypeAction = Extract<Action, { kind: "registerLicenseType" | "updateLicenseType" }>;

/**
 * open → passed → applied | skipped, or open → rejected | expired. "passed" means scheduled:
 * the change is applied (or skipped, if it became invalid) at the end of block `applyAt`.
 */
export const PROPOSAL_STATUSES = ["open", "passed", "rejected", "expired", "applied", "skipped"] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export interface VoteRecord {
  org: string;
  approve: boolean;
  /** Address of the admin account that cast the organization's vote. */
  by: Uint8Array;
  height: number;
}

export interface Proposal {
  id: number;
  action: Action;
  proposer: Uint8Array;
  proposerOrg: string;
  /** Height of the block that made the proposal. */
  height: number;
  /** Last height at which a vote is accepted. */
  expiresAt: number;
  status: ProposalStatus;
  /** One vote per organization, in the order cast; the proposer's organization votes first. */
  votes: VoteRecord[];
  /** Height at which the proposal passed, was rejected or expired. */
  decidedAt: number | null;
  /** For a passed proposal: the block whose end-of-block hook applies it (a + d − 1). */
  applyAt: number | null;
  /** For a passed proposal: the first block the change governs (a + d). */
  effectiveAt: number | null;
  /** For a skipped proposal: the code of the rule the change no longer met. */
  skipReason: string | null;
}

type CborMap = { [key: string]: CborValue };

export function badArg(field: string, expected: string, code = "GOV_BAD_ARGS"): never {
  throw new InvalidInputError(code, `${field}: expected ${expected}`, { field });
}

/** A map with exactly the listed keys. */
export function argMap(v: CborValue | undefined, field: string, keys: readonly string[]): CborMap {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    badArg(field, "a map");
  const m = v as CborMap;
  for (const k of Object.keys(m))
    if (!keys.includes(k)) badArg(`${field}.${k}`, `no such argument; allowed: ${keys.join(", ")}`);
  for (const k of keys) if (!Object.hasOwn(m, k)) badArg(`${field}.${k}`, "a value (required)");
  return m;
}

function argKey(v: CborValue | undefined, field: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length < MIN_KEY_BYTES || v.length > MAX_KEY_BYTES)
    badArg(field, `a ${MIN_KEY_BYTES}- to ${MAX_KEY_BYTES}-byte public key ("0x…" in JSON)`, "GOV_BAD_KEY");
  return v;
}

function argPower(v: CborValue | undefined, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > MAX_POWER)
    badArg(field, `an integer voting power from 1 to ${MAX_POWER}`, "GOV_BAD_POWER");
  return v;
}

function argOrgId(v: CborValue | undefined, field: string): string {
  if (typeof v !== "string" || !ORG_ID_PATTERN.test(v))
    badArg(field, `an organization id matching ${ORG_ID_PATTERN}`, "GOV_BAD_ORG");
  return v;
}

export function argUint(v: CborValue | undefined, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) badArg(field, "a non-negative integer");
  return v;
}

/** `{kind, …}` with exactly the fields of that kind. */
export function parseAction(v: CborValue | undefined, field: string): Action {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    badArg(field, `a map {kind, …} with kind one of ${ACTION_KINDS.join(", ")}`, "GOV_BAD_ACTION");
  const kind = (v as CborMap).kind;
  switch (kind) {
    case "addValidator": {
      const m = argMap(v, field, ["kind", "publicKey", "power", "org"]);
      return {
        kind,
        publicKey: argKey(m.publicKey, `${field}.publicKey`),
        power: argPower(m.power, `${field}.power`),
        org: argOrgId(m.org, `${field}.org`),
      };
    }
    case "removeValidator": {
      const m = argMap(v, field, ["kind", "publicKey"]);
      return { kind, publicKey: argKey(m.publicKey, `${field}.publicKey`) };
    }
    case "setPower": {
      const m = argMap(v, field, ["kind", "publicKey", "power"]);
      return {
        kind,
        publicKey: argKey(m.publicKey, `${field}.publicKey`),
        power: argPower(m.power, `${field}.power`),
      };
    }
    case "addOrg": {
      const m = argMap(v, field, ["kind", "id", "name", "code", "rootPublicKey"]);
      const name = m.name;
      if (typeof name !== "string" || name.trim() === "" || name.length > MAX_ORG_NAME)
        badArg(`${field}.name`, `the organization's name (1 to ${MAX_ORG_NAME} characters)`);
      const code = m.code;
      if (typeof code !== "string" || !USCC_PATTERN.test(code))
        badArg(
          `${field}.code`,
          "an 18-character unified social credit code (统一社会信用代码)",
          "GOV_BAD_ORG",
        );
      return {
        kind,
        id: argOrgId(m.id, `${field}.id`),
        name,
        code,
        rootPublicKey: argKey(m.rootPublicKey, `${field}.rootPublicKey`),
      };
    }
    case "removeOrg": {
      const m = argMap(v, field, ["kind", "id"]);
      return { kind, id: argOrgId(m.id, `${field}.id`) };
    }
    case "registerLicenseType":
    case "updateLicenseType": {
      const args = Object.fromEntries(Object.entries(v as CborMap).filter(([k]) => k !== "kind"));
      return { kind, ...parseTypeArgs(args, field) };
    }
    default:
      return badArg(`${field}.kind`, `one of ${ACTION_KINDS.join(", ")}`, "GOV_BAD_ACTION");
  }
}

/** The action as CBOR, for the proposal record and events. */
export function actionToCbor(a: Action): CborMap {
  switch (a.kind) {
    case "registerLicenseType":
    case "updateLicenseType": {
      const { kind, ...args } = a;
      return { kind, ...typeArgsToCbor(args) };
    }
    default:
      return { ...a };
  }
}
