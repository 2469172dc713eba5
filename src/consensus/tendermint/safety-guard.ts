/**
 * Double-sign guard: the last (height, round, step, value) a validator signed, persisted BEFORE the
 * signature leaves the process, so that no crash, restart or bug makes it sign two different
 * messages for one (height, round, step) — the only way a validator can break Tendermint's safety
 * (Buchman, Kwon, Milosevic, arXiv:1807.04938: a correct process sends one message per step).
 *
 * Steps are ordered proposal (1) < prevote (2) < precommit (3). The record keeps every message
 * signed at the current height (at most three per round). A request is
 *   - allowed again (`resign: true`, nothing to save) if that exact message was signed before —
 *     re-broadcasting after a restart;
 *   - refused (`CONSENSUS_SIGN_CONFLICT`) if another value was signed for the same
 *     (height, round, step);
 *   - refused (`CONSENSUS_SIGN_REGRESSION`) if (height, round, step) is below the highest signed;
 *   - otherwise allowed and recorded.
 *
 * The record also keeps the validator's lock for that height — the value and round of its latest
 * non-nil precommit, exactly lockedValue_p/lockedRound_p of Algorithm 1 (lines 36–43) — so that a
 * restarted validator re-joins its height still locked (`resumeFor`), instead of forgetting a lock
 * that others counted on; the 2f+1 prevotes that justify that lock (`lockProofVotes`), without
 * which nobody may be able to accept its re-proposal (line 28) once a Byzantine validator stops
 * relaying its part of the polka; and its signed messages, which the node re-broadcasts on restart
 * (`signedMessages`) so that its own votes are not lost with its memory.
 *
 * Pure logic (`checkSign`) plus a small class over a `SignStateStore` the node implements with a
 * synchronous, durable write (write temp file, fsync, rename).
 */

import { fromHex, toHex } from "../../ledger/bytes.js";
import type { Signable } from "./state-machine.js";
import { VOTE_PRECOMMIT, VOTE_PREVOTE, type Vote } from "./types.js";

export const SIGN_STEP_PROPOSAL = 1;
export const SIGN_STEP_PREVOTE = 2;
export const SIGN_STEP_PRECOMMIT = 3;
export type SignStep = typeof SIGN_STEP_PROPOSAL | typeof SIGN_STEP_PREVOTE | typeof SIGN_STEP_PRECOMMIT;

export interface SignRequest {
  height: number;
  round: number;
  step: SignStep;
  /** The value id signed for; null for a nil vote. */
  valueId: string | null;
  /** Proposals only: the proposal's validRound (part of what is signed). */
  validRound?: number;
  /** Non-nil precommits: the prevotes (2f+1) justifying the lock, kept as its proof. */
  polka?: LockProofVote[];
}

/** A prevote for the locked value in the lock round, as persisted (signature in hex). */
export interface LockProofVote {
  validatorIndex: number;
  signature: string | null;
}

/** One message signed at the record's height. */
export interface SignedEntry {
  round: number;
  step: SignStep;
  valueId: string | null;
  /** Proposals: the validRound signed; votes: null. */
  validRound: number | null;
}

/** The persisted record (JSON-serialisable). */
export interface SignState {
  version: 1;
  /** The highest (height, round, step) signed, and its value. */
  height: number;
  round: number;
  step: SignStep;
  valueId: string | null;
  validRound: number | null;
  /** The lock at `height`: latest non-nil precommit; round −1 and value null when none. */
  lockedRound: number;
  lockedValue: string | null;
  /** The 2f+1 prevotes for lockedValue in lockedRound: what lets a restarted validator justify its lock. */
  lockProof: LockProofVote[];
  /** Every message signed at `height`, in signing order. */
  signed: SignedEntry[];
}

export interface SignStateStore {
  load(): SignState | undefined;
  /** Must be durable when it returns; the signature is produced only afterwards. */
  save(state: SignState): void;
}

export type SignDecision =
  | { ok: true; resign: boolean; state: SignState }
  | { ok: false; code: "CONSENSUS_SIGN_REGRESSION" | "CONSENSUS_SIGN_CONFLICT"; message: string };

function compareHrs(a: { height: number; round: number; step: number }, b: SignRequest): number {
  if (a.height !== b.height) return a.height - b.height;
  if (a.round !== b.round) return a.round - b.round;
  return a.step - b.step;
}

/** Pure: may `req` be signed given the last record `state`, and what is the next record? */
export function checkSign(state: SignState | undefined, req: SignRequest): SignDecision {
  const validRound = req.step === SIGN_STEP_PROPOSAL ? (req.validRound ?? -1) : null;
  const sameHeight = state !== undefined && state.height === req.height;
  if (state && sameHeight) {
    const prior = state.signed.find((e) => e.round === req.round && e.step === req.step);
    if (prior) {
      if (prior.valueId === req.valueId && prior.validRound === validRound)
        return { ok: true, resign: true, state };
      return {
        ok: false,
        code: "CONSENSUS_SIGN_CONFLICT",
        message: `refusing to sign ${req.valueId ?? "nil"} at ${req.height}/${req.round} step ${req.step}: already signed ${prior.valueId ?? "nil"}`,
      };
    }
  }
  if (state && compareHrs(state, req) > 0)
    return {
      ok: false,
      code: "CONSENSUS_SIGN_REGRESSION",
      message: `refusing to sign step ${req.step} at ${req.height}/${req.round}: already signed step ${state.step} at ${state.height}/${state.round}`,
    };
  let lockedRound = sameHeight ? state.lockedRound : -1;
  let lockedValue = sameHeight ? state.lockedValue : null;
  let lockProof = sameHeight ? state.lockProof : [];
  if (req.step === SIGN_STEP_PRECOMMIT && req.valueId !== null) {
    lockedRound = req.round;
    lockedValue = req.valueId;
    lockProof = req.polka ?? [];
  }
  const entry: SignedEntry = { round: req.round, step: req.step, valueId: req.valueId, validRound };
  return {
    ok: true,
    resign: false,
    state: {
      version: 1,
      height: req.height,
      round: req.round,
      step: req.step,
      valueId: req.valueId,
      validRound,
      lockedRound,
      lockedValue,
      lockProof,
      signed: sameHeight ? [...state.signed, entry] : [entry],
    },
  };
}

/** What a restarted validator resumes with at `height` (see TendermintMachine.start). */
export function resumeFor(
  state: SignState | undefined,
  height: number,
):
  | {
      round: number;
      lockedRound: number;
      lockedValue: string | null;
      validRound: number;
      validValue: string | null;
    }
  | undefined {
  if (!state || state.height !== height) return undefined;
  // The lock is also a valid value: a polka for it was seen in lockedRound (line 36).
  return {
    round: state.round,
    lockedRound: state.lockedRound,
    lockedValue: state.lockedValue,
    validRound: state.lockedRound,
    validValue: state.lockedValue,
  };
}

/** The messages signed at `height`, rebuilt for re-broadcast after a restart. */
export function signedMessages(state: SignState | undefined, height: number, selfIndex: number): Signable[] {
  if (!state || state.height !== height) return [];
  return state.signed.map((e) =>
    e.step === SIGN_STEP_PROPOSAL
      ? {
          kind: "proposal" as const,
          proposal: {
            height,
            round: e.round,
            valueId: e.valueId ?? "",
            validRound: e.validRound ?? -1,
            proposerIndex: selfIndex,
          },
        }
      : {
          kind: "vote" as const,
          vote: {
            type: e.step === SIGN_STEP_PREVOTE ? VOTE_PREVOTE : VOTE_PRECOMMIT,
            height,
            round: e.round,
            valueId: e.valueId,
            validatorIndex: selfIndex,
          },
        },
  );
}

/** The persisted lock proof as prevotes, to feed to a restarted machine and relay to peers. */
export function lockProofVotes(state: SignState | undefined, height: number): Vote[] {
  if (!state || state.height !== height || state.lockedValue === null) return [];
  const value = state.lockedValue;
  return state.lockProof.map((p) => {
    const v: Vote = {
      type: VOTE_PREVOTE,
      height,
      round: state.lockedRound,
      valueId: value,
      validatorIndex: p.validatorIndex,
    };
    if (p.signature !== null) v.signature = fromHex(p.signature);
    return v;
  });
}

export class DoubleSignGuard {
  private current: SignState | undefined;

  constructor(private readonly store: SignStateStore) {
    this.current = store.load();
  }

  get state(): SignState | undefined {
    return this.current;
  }

  /** Checks `req`; when allowed and new, saves the record durably BEFORE returning. */
  authorize(req: SignRequest): SignDecision {
    const d = checkSign(this.current, req);
    if (d.ok && !d.resign) {
      this.store.save(d.state);
      this.current = d.state;
    }
    return d;
  }
}

/** An in-memory store (tests and the simulation; its copy survives a simulated crash). */
export class MemorySignStateStore implements SignStateStore {
  private saved: string | undefined;
  load(): SignState | undefined {
    return this.saved === undefined ? undefined : (JSON.parse(this.saved) as SignState);
  }
  save(state: SignState): void {
    this.saved = JSON.stringify(state);
  }
}

/** The guard request for a message the state machine asks to sign. */
export function signRequestOf(m: Signable): SignRequest {
  if (m.kind === "proposal")
    return {
      height: m.proposal.height,
      round: m.proposal.round,
      step: SIGN_STEP_PROPOSAL,
      valueId: m.proposal.valueId,
      validRound: m.proposal.validRound,
    };
  const req: SignRequest = {
    height: m.vote.height,
    round: m.vote.round,
    step: m.vote.type === VOTE_PREVOTE ? SIGN_STEP_PREVOTE : SIGN_STEP_PRECOMMIT,
    valueId: m.vote.valueId,
  };
  if (m.polka)
    req.polka = m.polka.map((v) => ({
      validatorIndex: v.validatorIndex,
      signature: v.signature ? toHex(v.signature) : null,
    }));
  return req;
}
