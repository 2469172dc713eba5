/**
 * Messages, inputs and effects of the Tendermint consensus core (Buchman, Kwon, Milosevic,
 * "The latest gossip on BFT consensus", arXiv:1807.04938, Algorithm 1).
 *
 * Values are named by their id: the lowercase hex of the block hash. The core never sees block
 * bytes; the caller carries them beside the proposal and answers `valid(v)` through
 * `MachineConfig.validate`.
 *
 * Vote types reuse the ledger's constants so that a vote's sign bytes are exactly
 * `voteSignBytes(chainId, type, height, round, hash)` from `src/ledger/block.ts`.
 */
import { VOTE_PRECOMMIT, VOTE_PREVOTE } from "../../ledger/block.js";

export { VOTE_PRECOMMIT, VOTE_PREVOTE };

export type VoteType = typeof VOTE_PREVOTE | typeof VOTE_PRECOMMIT;

/** A value id: lowercase hex of the proposed block's hash. `null` in a vote means nil. */
export type ValueId = string;

/** ⟨PROPOSAL, h, r, v, vr⟩. The caller has already checked the proposer's signature. */
export interface Proposal {
  height: number;
  round: number;
  valueId: ValueId;
  /** The paper's vr: −1, or the round of a polka for this value (0 ≤ vr < round). */
  validRound: number;
  /** Index of the signer in the validator set; must be proposer(height, round). */
  proposerIndex: number;
  /** Opaque to the core; carried through to `decide`. */
  signature?: Uint8Array;
}

/** ⟨PREVOTE, h, r, id(v)⟩ or ⟨PRECOMMIT, h, r, id(v)⟩; `valueId: null` is nil. */
export interface Vote {
  type: VoteType;
  height: number;
  round: number;
  valueId: ValueId | null;
  validatorIndex: number;
  /** Opaque to the core; carried through to `decide` so the caller can build a Commit. */
  signature?: Uint8Array;
}

export type Step = "propose" | "prevote" | "precommit";
export const STEP_ORDER: Readonly<Record<Step, number>> = { propose: 0, prevote: 1, precommit: 2 };

export type TimeoutKind = "propose" | "prevote" | "precommit";

export interface Timeout {
  kind: TimeoutKind;
  height: number;
  round: number;
}

/** Two different votes by one validator for the same (height, round, type). */
export interface VoteEquivocation {
  kind: "vote-equivocation";
  height: number;
  round: number;
  type: VoteType;
  validatorIndex: number;
  first: Vote;
  second: Vote;
}

/** Two different proposals by the proposer of (height, round). */
export interface ProposalEquivocation {
  kind: "proposal-equivocation";
  height: number;
  round: number;
  validatorIndex: number;
  first: Proposal;
  second: Proposal;
}

export type Evidence = VoteEquivocation | ProposalEquivocation;

export interface Decision {
  height: number;
  round: number;
  valueId: ValueId;
  /** The proposal whose value was decided (the block travels with it). */
  proposal: Proposal;
  /** The precommits for (height, round, valueId) that formed the quorum: the commit certificate. */
  precommits: Vote[];
}

export type Effect =
  | { kind: "broadcastProposal"; proposal: Proposal }
  | { kind: "broadcastVote"; vote: Vote }
  | { kind: "scheduleTimeout"; timeout: Timeout; durationMs: number }
  | ({ kind: "decide" } & Decision)
  | { kind: "evidence"; evidence: Evidence }
  /** valid(v) is not yet known: the application must answer with `onValidity`. */
  | { kind: "validate"; height: number; valueId: ValueId };

export type Input =
  | { kind: "start"; height: number; resume?: ResumeState }
  | { kind: "proposal"; proposal: Proposal }
  | { kind: "vote"; vote: Vote }
  | { kind: "timeout"; timeout: Timeout }
  | { kind: "validity"; height: number; valueId: ValueId; valid: boolean };

/**
 * What a restarted validator recovers from its persisted double-sign guard (see safety-guard.ts)
 * before re-joining a height: the round it last signed in and its lock.
 */
export interface ResumeState {
  round: number;
  lockedRound: number;
  lockedValue: ValueId | null;
  validRound: number;
  validValue: ValueId | null;
}

/** "More than one third" of `total` (the paper's f+1), without floating point. */
export function exceedsOneThird(power: number, total: number): boolean {
  return power * 3 > total;
}
