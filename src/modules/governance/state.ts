/**
 * Governance state: keys, record encodings, the vote tally and the schedule of the end-of-block
 * hook. Records are canonical CBOR maps; the layout is listed at the top of index.ts.
 */
import { type CborValue, decode, encode } from "../../codec/cbor.js";
import { FatalError, RejectedError } from "../../errors/index.js";
import { activeOrgIds } from "../../execution/accounts.js";
import { decodeValidators, encodeValidators, VALIDATORS_KEY } from "../../execution/genesis-state.js";
import { type Overlay, type StateReader, stateKey } from "../../execution/state-view.js";
import { toHex } from "../../ledger/bytes.js";
import { readArray, readBytes, readMap, readText, readUint } from "../../ledger/shape.js";
import type { Validator } from "../../ledger/validators.js";
import {
  actionToCbor,
  PROPOSAL_STATUSES,
  type Proposal,
  type ProposalStatus,
  parseAction,
  type VoteRecord,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Keys

/** Proposal ids are sequence numbers, zero-padded to 10 digits in keys so they sort by number. */
export const idText = (id: number): string => String(id).padStart(10, "0");

export const COUNT_KEY = stateKey("gov", "count");
export const PENDING_KEY = stateKey("gov", "pending");
export const proposalKey = (id: number) => stateKey("gov", "proposal", idText(id));
export const dueKey = (height: number) => stateKey("gov", "due", String(height));

// ---------------------------------------------------------------------------------------------
// Records

export function encodeProposal(p: Proposal): Uint8Array {
  return encode({
    id: p.id,
    action: actionToCbor(p.action),
    proposer: p.proposer,
    proposerOrg: p.proposerOrg,
    height: p.height,
    expiresAt: p.expiresAt,
    status: p.status,
    votes: p.votes.map((v) => ({ org: v.org, approve: v.approve, by: v.by, height: v.height })),
    decidedAt: p.decidedAt,
    applyAt: p.applyAt,
    effectiveAt: p.effectiveAt,
    skipReason: p.skipReason,
  });
}

const nullableUint = (v: CborValue | undefined, field: string): number | null =>
  v === null ? null : readUint(v, field);

export function decodeProposal(bytes: Uint8Array): Proposal {
  const m = readMap(decode(bytes), "proposal");
  const status = readText(m.status, "proposal.status", 16);
  if (!(PROPOSAL_STATUSES as readonly string[]).includes(status))
    throw new FatalError("GOV_CORRUPT", `proposal record has unknown status ${status}`);
  return {
    id: readUint(m.id, "proposal.id"),
    action: parseAction(m.action, "proposal.action"),
    proposer: readBytes(m.proposer, "proposal.proposer", 20, 20),
    proposerOrg: readText(m.proposerOrg, "proposal.proposerOrg", 32),
    height: readUint(m.height, "proposal.height"),
    expiresAt: readUint(m.expiresAt, "proposal.expiresAt"),
    status: status as ProposalStatus,
    votes: readArray(m.votes, "proposal.votes").map((x): VoteRecord => {
      const v = readMap(x, "proposal.vote");
      if (typeof v.approve !== "boolean")
        throw new FatalError("GOV_CORRUPT", "proposal vote has no boolean approve");
      return {
        org: readText(v.org, "vote.org", 32),
        approve: v.approve,
        by: readBytes(v.by, "vote.by", 20, 20),
        height: readUint(v.height, "vote.height"),
      };
    }),
    decidedAt: nullableUint(m.decidedAt, "proposal.decidedAt"),
    applyAt: nullableUint(m.applyAt, "proposal.applyAt"),
    effectiveAt: nullableUint(m.effectiveAt, "proposal.effectiveAt"),
    skipReason: m.skipReason === null ? null : readText(m.skipReason, "proposal.skipReason", 64),
  };
}

export function readProposal(state: StateReader, id: number): Proposal | undefined {
  const raw = state.get(proposalKey(id));
  return raw ? decodeProposal(raw) : undefined;
}

export const writeProposal = (state: Overlay, p: Proposal): void =>
  state.set(proposalKey(p.id), encodeProposal(p));

export function readCount(state: StateReader): number {
  const raw = state.get(COUNT_KEY);
  return raw ? readUint(decode(raw), "gov/count") : 0;
}

export const writeCount = (state: Overlay, n: number): void => state.set(COUNT_KEY, encode(n));

// ---------------------------------------------------------------------------------------------
// Id lists: the proposals due at a height, and the passed ones not yet applied

function readIds(state: StateReader, key: Uint8Array): number[] {
  const raw = state.get(key);
  return raw ? decodeIds(raw) : [];
}

export const decodeIds = (raw: Uint8Array): number[] =>
  readArray(decode(raw), "ids").map((x) => readUint(x, "id"));

function writeIds(state: Overlay, key: Uint8Array, ids: readonly number[]): void {
  if (ids.length === 0) state.delete(key);
  else state.set(key, encode([...ids]));
}

/** Asks the end-of-block hook of `height` to look at proposal `id` (expiry or application). */
export function scheduleAt(state: Overlay, height: number, id: number): void {
  const key = dueKey(height);
  const ids = readIds(state, key);
  if (!ids.includes(id)) writeIds(state, key, [...ids, id]);
}

export const readPending = (state: StateReader): number[] => readIds(state, PENDING_KEY);

export function addPending(state: Overlay, id: number): void {
  writeIds(state, PENDING_KEY, [...readPending(state), id]);
}

export function removePending(state: Overlay, id: number): void {
  writeIds(
    state,
    PENDING_KEY,
    readPending(state).filter((x) => x !== id),
  );
}

// ---------------------------------------------------------------------------------------------
// Validator set

export function readValidators(state: StateReader): Validator[] {
  const raw = state.get(VALIDATORS_KEY);
  if (!raw) throw new FatalError("STATE_NO_VALIDATORS", "state holds no validator set");
  return decodeValidators(raw);
}

export const writeValidators = (state: Overlay, set: readonly Validator[]): void =>
  state.set(VALIDATORS_KEY, encodeValidators(set));

export const validatorJson = (v: Validator) => ({
  publicKey: toHex(v.publicKey),
  power: v.power,
  org: v.org,
});

// ---------------------------------------------------------------------------------------------
// Tally

export interface Tally {
  /** Active organizations that voted yes / no. */
  yes: number;
  no: number;
  /** Active member organizations now. */
  active: number;
}

/**
 * Counts the votes of organizations that are active members now; an organization removed since
 * it voted no longer counts, on either side of the fraction.
 */
export function tally(state: StateReader, p: Proposal): Tally {
  const active = new Set(activeOrgIds(state));
  let yes = 0;
  let no = 0;
  for (const v of p.votes) {
    if (!active.has(v.org)) continue;
    if (v.approve) yes++;
    else no++;
  }
  return { yes, no, active: active.size };
}

/** More than two thirds of the active organizations approve (integer arithmetic, as `isQuorum`). */
export const passes = (t: Tally): boolean => t.yes * 3 > t.active * 2;

/**
 * Passing is no longer possible: even if every organization yet to vote approved, the yes votes
 * would be at most active − no, and (active − no) · 3 > active · 2 ⇔ no · 3 < active.
 */
export const cannotPass = (t: Tally): boolean => t.no * 3 >= t.active;

export function requireProposal(state: StateReader, id: number): Proposal {
  const p = readProposal(state, id);
  if (!p)
    throw new RejectedError(
      "GOV_NOT_FOUND",
      `no governance proposal ${id}; see the query governance/proposals`,
      {
        id,
      },
    );
  return p;
}
