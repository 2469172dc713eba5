/**
 * The rules an action must meet against the state, checked twice: when it is proposed (so a
 * proposal that cannot succeed is refused at once) and when it is applied, blocks later (when a
 * change that became invalid is skipped). `applyAction` writes the change; it throws a coded
 * RejectedError, and writes nothing, when a rule is not met.
 *
 * Invariants of the validator set: never empty, no key twice, every validator's organization an
 * active member.
 *
 * License-type actions are decided on behalf of the proposer's organization, which must be an
 * active member and becomes (or already is) the type's defining organization; their rules and
 * their write are the licenses module's own (../licenses/type-registry.ts).
 */
import type { CryptoSuite } from "../../crypto/suite.js";
import { RejectedError } from "../../errors/index.js";
import {
  activeOrgIds,
  encodeOrg,
  encodeOrgIds,
  ORGS_KEY,
  orgKey,
  readAccount,
  readOrg,
  readOrgIds,
} from "../../execution/accounts.js";
import { orgRecords } from "../../execution/genesis-state.js";
import type { Overlay, StateReader } from "../../execution/state-view.js";
import { equalBytes, toHex } from "../../ledger/bytes.js";
import { addressOf } from "../../ledger/tx.js";
import type { Validator } from "../../ledger/validators.js";
import {
  checkNewType,
  checkTypeUpdate,
  registerTypeRecord,
  updateTypeRecord,
} from "../licenses/type-registry.js";
import { readValidators, writeValidators } from "./state.js";
import type { Action, LicenseTypeAction } from "./types.js";

/** Keys must fit the chain's suite; checked in the handler, since parsing does not know the suite. */
export function checkKeyLengths(suite: CryptoSuite, action: Action): void {
  const key =
    action.kind === "addOrg" ? action.rootPublicKey : "publicKey" in action ? action.publicKey : undefined;
  if (key && key.length !== suite.publicKeyLength)
    throw new RejectedError(
      "GOV_BAD_KEY",
      `public keys on this chain are ${suite.publicKeyLength}-byte ${suite.id} keys; got ${key.length} bytes`,
    );
}

function requireActiveOrg(state: StateReader, id: string): void {
  const org = readOrg(state, id);
  if (!org) throw new RejectedError("GOV_ORG_NOT_FOUND", `"${id}" is not a member organization`, { org: id });
  if (org.status !== "active")
    throw new RejectedError(
      "GOV_ORG_NOT_ACTIVE",
      `organization "${id}" is ${org.status}, not an active member`,
      {
        org: id,
      },
    );
}

function indexOfValidator(set: readonly Validator[], publicKey: Uint8Array): number {
  const i = set.findIndex((v) => equalBytes(v.publicKey, publicKey));
  if (i < 0)
    throw new RejectedError(
      "GOV_VALIDATOR_NOT_FOUND",
      `${toHex(publicKey)} is not in the validator set; see the query governance/validators`,
    );
  return i;
}

function lastValidator(what: string): never {
  throw new RejectedError(
    "GOV_LAST_VALIDATOR",
    `${what} would leave the validator set empty; add another validator first`,
  );
}

/** The validator set after a validator action (the state is not touched). */
function nextValidatorSet(state: StateReader, action: Action): Validator[] {
  const set = readValidators(state);
  switch (action.kind) {
    case "addValidator": {
      requireActiveOrg(state, action.org);
      if (set.some((v) => equalBytes(v.publicKey, action.publicKey)))
        throw new RejectedError(
          "GOV_VALIDATOR_EXISTS",
          `${toHex(action.publicKey)} is already a validator; propose setPower to change its power`,
        );
      return [...set, { publicKey: action.publicKey, power: action.power, org: action.org }];
    }
    case "removeValidator": {
      const i = indexOfValidator(set, action.publicKey);
      if (set.length === 1) lastValidator("removing the last validator");
      return set.filter((_, j) => j !== i);
    }
    case "setPower": {
      const i = indexOfValidator(set, action.publicKey);
      if (set[i]!.power === action.power)
        throw new RejectedError("GOV_NO_CHANGE", `the validator already has power ${action.power}`);
      return set.map((v, j) => (j === i ? { ...v, power: action.power } : v));
    }
    case "removeOrg":
      return set.filter((v) => v.org !== action.id);
    case "addOrg":
    case "registerLicenseType":
    case "updateLicenseType":
      return set;
  }
}

function checkAddOrg(
  state: StateReader,
  suite: CryptoSuite,
  action: Extract<Action, { kind: "addOrg" }>,
): void {
  const ids = readOrgIds(state);
  if (ids.includes(action.id) || readOrg(state, action.id))
    throw new RejectedError(
      "GOV_ORG_EXISTS",
      `organization id "${action.id}" is taken (ids of removed organizations are not reused)`,
      { org: action.id },
    );
  for (const id of ids)
    if (readOrg(state, id)?.code === action.code)
      throw new RejectedError("GOV_ORG_CODE_TAKEN", `code ${action.code} belongs to organization "${id}"`, {
        org: id,
      });
  const address = addressOf(suite, action.rootPublicKey);
  if (readAccount(state, address))
    throw new RejectedError(
      "GOV_KEY_ENROLLED",
      `rootPublicKey is already enrolled as account ${toHex(address)}; give the new organization its own key`,
    );
}

function checkRemoveOrg(state: StateReader, id: string, next: readonly Validator[]): void {
  requireActiveOrg(state, id);
  if (activeOrgIds(state).length === 1)
    throw new RejectedError("GOV_LAST_ORG", `"${id}" is the last active member organization`, { org: id });
  if (next.length === 0) lastValidator(`removing organization "${id}", which runs every validator,`);
}

/** The proposer's organization is active, and may register (or update) the type. */
function checkLicenseType(state: StateReader, action: LicenseTypeAction, proposerOrg: string): void {
  requireActiveOrg(state, proposerOrg);
  const { kind, ...args } = action;
  if (kind === "registerLicenseType") checkNewType(state, proposerOrg, args);
  else checkTypeUpdate(state, proposerOrg, args);
}

/**
 * Checks an action, proposed by an admin of `proposerOrg`, against `state`; throws the coded
 * RejectedError of the first rule not met.
 */
export function checkAction(
  state: StateReader,
  suite: CryptoSuite,
  action: Action,
  proposerOrg: string,
): void {
  checkKeyLengths(suite, action);
  if (action.kind === "registerLicenseType" || action.kind === "updateLicenseType") {
    checkLicenseType(state, action, proposerOrg);
    return;
  }
  if (action.kind === "addOrg") {
    checkAddOrg(state, suite, action);
    return;
  }
  const next = nextValidatorSet(state, action);
  if (action.kind === "removeOrg") checkRemoveOrg(state, action.id, next);
}

/**
 * The invariants of a validator set about to be written (the last guard: the rules above should
 * already ensure them). Organizations are checked in `state`, before the action's own writes.
 */
function checkValidatorSet(state: StateReader, set: readonly Validator[], removing?: string): void {
  if (set.length === 0) lastValidator("this change");
  const seen = new Set<string>();
  for (const v of set) {
    const hex = toHex(v.publicKey);
    if (seen.has(hex))
      throw new RejectedError("GOV_INVALID_SET", `validator ${hex} would be in the set twice`);
    seen.add(hex);
    if (v.org === removing || readOrg(state, v.org)?.status !== "active")
      throw new RejectedError(
        "GOV_INVALID_SET",
        `validator ${hex} would belong to "${v.org}", which is not an active member`,
      );
  }
}

/**
 * Applies an action at `height` (the end of block a + d − 1). Checks every rule again first and
 * writes nothing when one fails.
 */
export function applyAction(
  state: Overlay,
  suite: CryptoSuite,
  action: Action,
  proposerOrg: string,
  height: number,
): void {
  checkAction(state, suite, action, proposerOrg);
  switch (action.kind) {
    case "registerLicenseType":
    case "updateLicenseType": {
      const { kind, ...args } = action;
      if (kind === "registerLicenseType") registerTypeRecord(state, proposerOrg, args, height);
      else updateTypeRecord(state, proposerOrg, args, height);
      return;
    }
    case "addOrg": {
      for (const { key, value } of orgRecords(suite, action, height)) state.set(key, value);
      state.set(ORGS_KEY, encodeOrgIds([...readOrgIds(state), action.id]));
      return;
    }
    case "removeOrg": {
      const before = readValidators(state);
      const set = before.filter((v) => v.org !== action.id);
      checkValidatorSet(state, set, action.id);
      const org = readOrg(state, action.id)!;
      state.set(orgKey(org.id), encodeOrg({ ...org, status: "removed" }));
      if (set.length !== before.length) writeValidators(state, set);
      return;
    }
    default: {
      const set = nextValidatorSet(state, action);
      checkValidatorSet(state, set);
      writeValidators(state, set);
    }
  }
}
