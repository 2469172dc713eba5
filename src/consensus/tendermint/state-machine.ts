/**
 * The Tendermint consensus algorithm for one validator, as a pure deterministic state machine:
 * Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus",
 * arXiv:1807.04938 (https://arxiv.org/abs/1807.04938). Line numbers in comments refer to it.
 *
 * No I/O, no clock, no randomness. Every input method returns the effects to carry out, in order:
 * messages to broadcast, timeouts to schedule, decisions, evidence, validation requests. The
 * caller owns the network, the timers, the signatures and the storage.
 *
 * Mapping to the paper:
 *   - "broadcast m" also delivers m to p itself: the machine counts its own votes and proposals at
 *     once (the caller must not feed them back, though a copy arriving later is just a duplicate).
 *   - valid(v) is `MachineConfig.validate`; it may answer `undefined` (not known yet), and the
 *     machine then emits a `validate` effect and waits for `onValidity` — every rule that needs
 *     valid(v) simply does not fire until then.
 *   - Every "upon" rule is a method below; after each input they are evaluated to a fixpoint, so a
 *     rule enabled by a state change (a new round, a new step) fires in the same call.
 *   - "for the first time" guards are kept per round (line34Round, line36Round, line47Round);
 *     "while decision_p[h_p] = nil" holds by construction because the machine moves to h_p + 1 on
 *     deciding (line 52–54).
 *   - Before broadcasting its own proposal or vote the machine asks `MachineConfig.sign`; a refusal
 *     (the double-sign guard) means the message is neither sent nor counted — the validator is
 *     silent for that step, which is always safe — but the step still advances as in the paper.
 *
 * Messages for height h_p + 1 are buffered (bounded) and replayed on entering that height;
 * messages of other heights are ignored (catching up is block sync's job: the caller delivers the
 * decided round's proposal and precommits, and line 49 decides on them).
 */
import { isQuorum } from "../../ledger/validators.js";
import {
  type Decision,
  type Effect,
  type Input,
  type Proposal,
  type ResumeState,
  STEP_ORDER,
  type Step,
  type Timeout,
  type TimeoutKind,
  type ValueId,
  VOTE_PRECOMMIT,
  VOTE_PREVOTE,
  type Vote,
  type VoteType,
} from "./types.js";
import { VoteSet } from "./vote-set.js";

export interface TimeoutConfig {
  proposeMs: number;
  proposeDeltaMs: number;
  prevoteMs: number;
  prevoteDeltaMs: number;
  precommitMs: number;
  precommitDeltaMs: number;
}

/** timeoutX(r) = xMs + r · xDeltaMs: grows linearly with the round, so that after GST it exceeds Δ. */
export const DEFAULT_TIMEOUTS: Readonly<TimeoutConfig> = {
  proposeMs: 3000,
  proposeDeltaMs: 500,
  prevoteMs: 1000,
  prevoteDeltaMs: 500,
  precommitMs: 1000,
  precommitDeltaMs: 500,
};

export function timeoutDuration(t: TimeoutConfig, kind: TimeoutKind, round: number): number {
  switch (kind) {
    case "propose":
      return t.proposeMs + round * t.proposeDeltaMs;
    case "prevote":
      return t.prevoteMs + round * t.prevoteDeltaMs;
    case "precommit":
      return t.precommitMs + round * t.precommitDeltaMs;
  }
}

/** What the machine asks the caller to sign; see `MachineConfig.sign`. */
/**
 * What the machine asks the caller to sign. A non-nil precommit carries `polka`: the 2f+1 prevotes
 * that justify it (line 36), which the double-sign guard persists with the lock so that a
 * restarted validator can still prove its lock to others (line 28 needs that polka).
 */
export type Signable =
  | { kind: "proposal"; proposal: Proposal }
  | { kind: "vote"; vote: Vote; polka?: Vote[] };
export type SignResult = { ok: true; signature?: Uint8Array } | { ok: false };

export interface MachineConfig {
  /** The validator set of every height this machine runs (set order = validator index). */
  validators: readonly { power: number }[];
  /** This validator's index, or −1 for a non-voting observer (it follows and decides, never sends). */
  selfIndex: number;
  /** proposer(h, r) — see proposer.ts. Must be the same pure function on every validator. */
  proposer(height: number, round: number): number;
  /** getValue() (line 18): the id of a new block to propose. Called only when this node proposes. */
  getValue(height: number, round: number): ValueId;
  /** valid(v): true/false, or undefined when the answer will come later through `onValidity`. */
  validate(height: number, valueId: ValueId): boolean | undefined;
  /**
   * Called synchronously before the machine broadcasts (and counts) its own message. The caller
   * consults the double-sign guard, persists its record, signs, and returns the signature; or
   * refuses. Default: always allowed, unsigned.
   */
  sign?(message: Signable): SignResult;
  timeouts?: Partial<TimeoutConfig>;
  /** Bound on buffered messages for height h_p + 1 (default 64 + 8 · validators). */
  maxBufferedNextHeight?: number;
}

/** A read-only view of the round state, for tests, metrics and the simulation. */
export interface RoundState {
  height: number;
  round: number;
  step: Step;
  lockedValue: ValueId | null;
  lockedRound: number;
  validValue: ValueId | null;
  validRound: number;
}

export class TendermintMachine {
  private readonly cfg: MachineConfig;
  private readonly timeouts: TimeoutConfig;
  private readonly powers: number[];
  private readonly maxBuffered: number;

  // Algorithm 1, lines 2–8 (per height; decision_p is the stream of `decide` effects).
  private started = false;
  private height = 0;
  private round = 0;
  private step: Step = "propose";
  private lockedValue: ValueId | null = null;
  private lockedRound = -1;
  private validValue: ValueId | null = null;
  private validRound = -1;

  // Messages received in the current height.
  private votes: VoteSet;
  private proposals = new Map<number, Proposal[]>();
  private reportedProposals = new Set<string>();
  private validity = new Map<ValueId, boolean>();
  private validationRequested = new Set<ValueId>();
  private future: Input[] = [];
  private futureKeys = new Set<string>();

  // "for the first time" guards: the round in which the rule last fired.
  private line34Round = -1;
  private line36Round = -1;
  private line47Round = -1;

  private out: Effect[] = [];

  constructor(config: MachineConfig) {
    this.cfg = config;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...(config.timeouts ?? {}) };
    this.powers = config.validators.map((v) => v.power);
    if (this.powers.length === 0 || this.powers.some((p) => !Number.isSafeInteger(p) || p <= 0))
      throw new RangeError("validators must be non-empty with positive integer power");
    this.maxBuffered = config.maxBufferedNextHeight ?? 64 + 8 * this.powers.length;
    this.votes = new VoteSet(0, this.powers);
  }

  get state(): RoundState {
    return {
      height: this.height,
      round: this.round,
      step: this.step,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
    };
  }

  /** Dispatches any input; equivalent to the specific methods below. */
  handle(input: Input): Effect[] {
    switch (input.kind) {
      case "start":
        return this.start(input.height, input.resume);
      case "proposal":
        return this.onProposal(input.proposal);
      case "vote":
        return this.onVote(input.vote);
      case "timeout":
        return this.onTimeout(input.timeout);
      case "validity":
        return this.onValidity(input.height, input.valueId, input.valid);
    }
  }

  /**
   * `upon start do StartRound(0)` (line 10), at `height`. A restarted validator passes the round
   * and lock it recovered from its persisted guard, and resumes there instead of round 0.
   */
  start(height: number, resume?: ResumeState): Effect[] {
    return this.call(() => {
      this.started = true;
      this.enterHeight(height);
      if (resume) {
        this.lockedValue = resume.lockedValue;
        this.lockedRound = resume.lockedValue === null ? -1 : resume.lockedRound;
        this.validValue = resume.validValue;
        this.validRound = resume.validValue === null ? -1 : resume.validRound;
      }
      this.startRound(resume?.round ?? 0);
    });
  }

  onProposal(p: Proposal): Effect[] {
    return this.call(() => this.receiveProposal(p));
  }

  onVote(v: Vote): Effect[] {
    return this.call(() => this.receiveVote(v));
  }

  /** Timeouts scheduled by this machine come back here (lines 57–67). */
  onTimeout(t: Timeout): Effect[] {
    return this.call(() => {
      if (!this.started) return;
      if (t.kind === "propose") this.onTimeoutPropose(t.height, t.round);
      else if (t.kind === "prevote") this.onTimeoutPrevote(t.height, t.round);
      else this.onTimeoutPrecommit(t.height, t.round);
    });
  }

  /** The application's asynchronous answer to valid(v) for a `validate` effect. */
  onValidity(height: number, valueId: ValueId, valid: boolean): Effect[] {
    return this.call(() => {
      if (height === this.height) this.validity.set(valueId, valid);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  private call(f: () => void): Effect[] {
    this.out = [];
    f();
    if (this.started) this.run();
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Evaluates every "upon" rule until none fires. Decisions first, then round skips. */
  private run(): void {
    for (;;) {
      if (this.uponDecision()) continue;
      if (this.uponRoundSkip()) continue;
      if (this.uponProposalInPropose()) continue;
      if (this.uponProposalWithPolkaPrevious()) continue;
      if (this.uponPolkaForValue()) continue;
      if (this.uponPolkaForNil()) continue;
      if (this.uponPrevoteQuorumAny()) continue;
      if (this.uponPrecommitQuorumAny()) continue;
      return;
    }
  }

  private enterHeight(height: number): void {
    this.height = height;
    this.round = 0;
    this.step = "propose";
    // Line 53: reset lockedRound, lockedValue, validRound and validValue to initial values.
    this.lockedValue = null;
    this.lockedRound = -1;
    this.validValue = null;
    this.validRound = -1;
    this.votes = new VoteSet(height, this.powers);
    this.proposals = new Map();
    this.reportedProposals = new Set();
    this.validity = new Map();
    this.validationRequested = new Set();
    this.line34Round = -1;
    this.line36Round = -1;
    this.line47Round = -1;
    const buffered = this.future;
    this.future = [];
    this.futureKeys = new Set();
    for (const m of buffered) {
      if (m.kind === "proposal" && m.proposal.height === height) this.storeProposal(m.proposal);
      else if (m.kind === "vote" && m.vote.height === height) this.storeVote(m.vote);
    }
  }

  private receiveProposal(p: Proposal): void {
    if (!this.started) return;
    if (p.height === this.height + 1) this.buffer({ kind: "proposal", proposal: p });
    else if (p.height === this.height) this.storeProposal(p);
  }

  private receiveVote(v: Vote): void {
    if (!this.started) return;
    if (v.height === this.height + 1) this.buffer({ kind: "vote", vote: v });
    else if (v.height === this.height) this.storeVote(v);
  }

  /** Buffers a message of height h_p + 1 (duplicates ignored; beyond the bound, dropped). */
  private buffer(m: Input): void {
    const key =
      m.kind === "proposal"
        ? `p:${m.proposal.round}:${m.proposal.valueId}:${m.proposal.validRound}`
        : m.kind === "vote"
          ? `v:${m.vote.type}:${m.vote.round}:${m.vote.validatorIndex}:${m.vote.valueId}`
          : "";
    if (this.futureKeys.has(key) || this.future.length >= this.maxBuffered) return;
    this.futureKeys.add(key);
    this.future.push(m);
  }

  /** Keeps every distinct proposal of the rightful proposer; a second one is evidence. */
  private storeProposal(p: Proposal): void {
    if (!Number.isSafeInteger(p.round) || p.round < 0) return;
    if (typeof p.valueId !== "string" || p.valueId.length === 0) return;
    if (!Number.isSafeInteger(p.validRound) || p.validRound < -1 || p.validRound >= p.round) return;
    if (p.proposerIndex !== this.cfg.proposer(p.height, p.round)) return;
    let list = this.proposals.get(p.round);
    if (!list) {
      list = [];
      this.proposals.set(p.round, list);
    }
    if (list.some((q) => q.valueId === p.valueId && q.validRound === p.validRound)) return;
    const first = list[0];
    list.push(p);
    this.votes.addProposer(p);
    if (first) {
      const key = `${p.round}:${p.valueId}:${p.validRound}`;
      if (!this.reportedProposals.has(key)) {
        this.reportedProposals.add(key);
        this.out.push({
          kind: "evidence",
          evidence: {
            kind: "proposal-equivocation",
            height: p.height,
            round: p.round,
            validatorIndex: p.proposerIndex,
            first,
            second: p,
          },
        });
      }
    }
  }

  private storeVote(v: Vote): void {
    if (v.type !== VOTE_PREVOTE && v.type !== VOTE_PRECOMMIT) return;
    if (v.valueId !== null && (typeof v.valueId !== "string" || v.valueId.length === 0)) return;
    const r = this.votes.add(v);
    if (r.status === "equivocation" && r.evidence) this.out.push({ kind: "evidence", evidence: r.evidence });
  }

  private proposalsIn(round: number): readonly Proposal[] {
    return this.proposals.get(round) ?? [];
  }

  /** valid(v), memoized per height; undefined while the application has not answered. */
  private valid(valueId: ValueId): boolean | undefined {
    const known = this.validity.get(valueId);
    if (known !== undefined) return known;
    const answer = this.cfg.validate(this.height, valueId);
    if (answer !== undefined) {
      this.validity.set(valueId, answer);
      return answer;
    }
    if (!this.validationRequested.has(valueId)) {
      this.validationRequested.add(valueId);
      this.out.push({ kind: "validate", height: this.height, valueId });
    }
    return undefined;
  }

  private schedule(kind: TimeoutKind): void {
    this.out.push({
      kind: "scheduleTimeout",
      timeout: { kind, height: this.height, round: this.round },
      durationMs: timeoutDuration(this.timeouts, kind, this.round),
    });
  }

  /** broadcast ⟨PROPOSAL, h_p, round_p, v, vr⟩ (line 19); returns false if refused by `sign`. */
  private broadcastProposal(valueId: ValueId, validRound: number): boolean {
    const proposal: Proposal = {
      height: this.height,
      round: this.round,
      valueId,
      validRound,
      proposerIndex: this.cfg.selfIndex,
    };
    const signed = this.cfg.sign ? this.cfg.sign({ kind: "proposal", proposal }) : { ok: true as const };
    if (!signed.ok) return false;
    if (signed.signature) proposal.signature = signed.signature;
    this.out.push({ kind: "broadcastProposal", proposal });
    this.storeProposal(proposal);
    return true;
  }

  /** broadcast ⟨PREVOTE|PRECOMMIT, h_p, round_p, id⟩; a refused vote is neither sent nor counted. */
  private broadcastVote(type: VoteType, valueId: ValueId | null, polka?: Vote[]): void {
    if (this.cfg.selfIndex < 0) return;
    const vote: Vote = {
      type,
      height: this.height,
      round: this.round,
      valueId,
      validatorIndex: this.cfg.selfIndex,
    };
    const signed = this.cfg.sign
      ? this.cfg.sign(polka ? { kind: "vote", vote, polka } : { kind: "vote", vote })
      : { ok: true as const };
    if (!signed.ok) return;
    if (signed.signature) vote.signature = signed.signature;
    this.out.push({ kind: "broadcastVote", vote });
    this.storeVote(vote);
  }

  private prevote(valueId: ValueId | null): void {
    this.broadcastVote(VOTE_PREVOTE, valueId);
    this.step = "prevote";
  }

  private precommit(valueId: ValueId | null): void {
    const polka = valueId === null ? undefined : this.votes.votesFor(this.round, VOTE_PREVOTE, valueId);
    this.broadcastVote(VOTE_PRECOMMIT, valueId, polka);
    this.step = "precommit";
  }

  // ---------------------------------------------------------------------------------------------
  // Algorithm 1

  /**
   * Lines 11–21, StartRound(round): round_p ← round, step_p ← propose; the proposer broadcasts
   * validValue_p (with validRound_p) if it has one, else getValue(); everyone else schedules
   * OnTimeoutPropose(h_p, round_p) after timeoutPropose(round_p).
   */
  private startRound(round: number): void {
    this.round = round;
    this.step = "propose";
    const self = this.cfg.selfIndex;
    if (self >= 0 && this.cfg.proposer(this.height, round) === self) {
      const value = this.validValue ?? this.cfg.getValue(this.height, round);
      this.broadcastProposal(value, this.validValue === null ? -1 : this.validRound);
    }
    // The paper schedules this for non-proposers only. The proposer schedules it too: line 57
    // acts only while still in step propose, which for a proposer means it could not prevote its
    // own proposal (validation pending, guard refusal after a restart, polka for vr lost with a
    // crash) — without the timeout it would sit in `propose` and could stall the round.
    this.schedule("propose");
  }

  /**
   * Lines 22–27: upon ⟨PROPOSAL, h_p, round_p, v, −1⟩ from proposer(h_p, round_p) while
   * step_p = propose: prevote id(v) if valid(v) ∧ (lockedRound_p = −1 ∨ lockedValue_p = v),
   * else nil; step_p ← prevote.
   */
  private uponProposalInPropose(): boolean {
    if (this.step !== "propose") return false;
    for (const p of this.proposalsIn(this.round)) {
      if (p.validRound !== -1) continue;
      if (!(this.lockedRound === -1 || this.lockedValue === p.valueId)) {
        this.prevote(null);
        return true;
      }
      const ok = this.valid(p.valueId);
      if (ok === undefined) continue;
      this.prevote(ok ? p.valueId : null);
      return true;
    }
    return false;
  }

  /**
   * Lines 28–33: upon ⟨PROPOSAL, h_p, round_p, v, vr⟩ from proposer(h_p, round_p) AND 2f+1
   * ⟨PREVOTE, h_p, vr, id(v)⟩ while step_p = propose ∧ (vr ≥ 0 ∧ vr < round_p): prevote id(v) if
   * valid(v) ∧ (lockedRound_p ≤ vr ∨ lockedValue_p = v), else nil; step_p ← prevote.
   * This is how a lock is released: a later polka (vr ≥ lockedRound_p) for another value.
   */
  private uponProposalWithPolkaPrevious(): boolean {
    if (this.step !== "propose") return false;
    for (const p of this.proposalsIn(this.round)) {
      const vr = p.validRound;
      if (!(vr >= 0 && vr < this.round)) continue;
      if (!this.votes.hasQuorumFor(vr, VOTE_PREVOTE, p.valueId)) continue;
      if (!(this.lockedRound <= vr || this.lockedValue === p.valueId)) {
        this.prevote(null);
        return true;
      }
      const ok = this.valid(p.valueId);
      if (ok === undefined) continue;
      this.prevote(ok ? p.valueId : null);
      return true;
    }
    return false;
  }

  /**
   * Lines 34–35: upon 2f+1 ⟨PREVOTE, h_p, round_p, ∗⟩ while step_p = prevote for the first time:
   * schedule OnTimeoutPrevote(h_p, round_p) after timeoutPrevote(round_p).
   */
  private uponPrevoteQuorumAny(): boolean {
    if (this.step !== "prevote" || this.line34Round === this.round) return false;
    if (!this.votes.hasQuorumAny(this.round, VOTE_PREVOTE)) return false;
    this.line34Round = this.round;
    this.schedule("prevote");
    return true;
  }

  /**
   * Lines 36–43: upon ⟨PROPOSAL, h_p, round_p, v, ∗⟩ from proposer(h_p, round_p) AND 2f+1
   * ⟨PREVOTE, h_p, round_p, id(v)⟩ while valid(v) ∧ step_p ≥ prevote for the first time:
   * if step_p = prevote, lock on v (lockedValue_p ← v, lockedRound_p ← round_p), precommit id(v)
   * and step_p ← precommit; in any case validValue_p ← v, validRound_p ← round_p.
   */
  private uponPolkaForValue(): boolean {
    if (this.line36Round === this.round || STEP_ORDER[this.step] < STEP_ORDER.prevote) return false;
    const polka = this.votes.quorumValue(this.round, VOTE_PREVOTE);
    if (!polka || polka.valueId === null) return false;
    const v = polka.valueId;
    if (!this.proposalsIn(this.round).some((p) => p.valueId === v)) return false;
    if (this.valid(v) !== true) return false;
    this.line36Round = this.round;
    if (this.step === "prevote") {
      this.lockedValue = v;
      this.lockedRound = this.round;
      this.precommit(v);
    }
    this.validValue = v;
    this.validRound = this.round;
    return true;
  }

  /**
   * Lines 44–46: upon 2f+1 ⟨PREVOTE, h_p, round_p, nil⟩ while step_p = prevote: precommit nil;
   * step_p ← precommit.
   */
  private uponPolkaForNil(): boolean {
    if (this.step !== "prevote") return false;
    if (!this.votes.hasQuorumFor(this.round, VOTE_PREVOTE, null)) return false;
    this.precommit(null);
    return true;
  }

  /**
   * Lines 47–48: upon 2f+1 ⟨PRECOMMIT, h_p, round_p, ∗⟩ for the first time: schedule
   * OnTimeoutPrecommit(h_p, round_p) after timeoutPrecommit(round_p).
   */
  private uponPrecommitQuorumAny(): boolean {
    if (this.line47Round === this.round) return false;
    if (!this.votes.hasQuorumAny(this.round, VOTE_PRECOMMIT)) return false;
    this.line47Round = this.round;
    this.schedule("precommit");
    return true;
  }

  /**
   * Lines 49–54: upon ⟨PROPOSAL, h_p, r, v, ∗⟩ from proposer(h_p, r) AND 2f+1 ⟨PRECOMMIT, h_p, r,
   * id(v)⟩ while decision_p[h_p] = nil, for ANY round r: if valid(v), decide v, move to h_p + 1,
   * reset the lock and valid value, StartRound(0).
   */
  private uponDecision(): boolean {
    for (const [r, list] of this.proposals) {
      for (const p of list) {
        if (!this.votes.hasQuorumFor(r, VOTE_PRECOMMIT, p.valueId)) continue;
        if (this.valid(p.valueId) !== true) continue;
        const decision: Decision = {
          height: this.height,
          round: r,
          valueId: p.valueId,
          proposal: p,
          precommits: this.votes.votesFor(r, VOTE_PRECOMMIT, p.valueId),
        };
        this.out.push({ kind: "decide", ...decision });
        this.enterHeight(this.height + 1);
        this.startRound(0);
        return true;
      }
    }
    return false;
  }

  /**
   * Lines 55–56: upon f+1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p: StartRound(round). "f+1" is
   * more than a third of the voting power, over distinct senders of any message of that round.
   * When several rounds qualify the highest is taken (the paper allows any order of firing).
   */
  private uponRoundSkip(): boolean {
    const r = this.votes.highestRoundOverOneThird();
    if (r <= this.round) return false;
    this.startRound(r);
    return true;
  }

  /** Lines 57–60: OnTimeoutPropose(h, r): if h = h_p ∧ r = round_p ∧ step_p = propose, prevote nil. */
  private onTimeoutPropose(height: number, round: number): void {
    if (height === this.height && round === this.round && this.step === "propose") this.prevote(null);
  }

  /** Lines 61–64: OnTimeoutPrevote(h, r): if h = h_p ∧ r = round_p ∧ step_p = prevote, precommit nil. */
  private onTimeoutPrevote(height: number, round: number): void {
    if (height === this.height && round === this.round && this.step === "prevote") this.precommit(null);
  }

  /** Lines 65–67: OnTimeoutPrecommit(h, r): if h = h_p ∧ r = round_p, StartRound(round_p + 1). */
  private onTimeoutPrecommit(height: number, round: number): void {
    if (height === this.height && round === this.round) this.startRound(this.round + 1);
  }
}

/** True if `power` is a quorum of the machine's validator set (helper for callers and tests). */
export function quorumOf(validators: readonly { power: number }[], power: number): boolean {
  return isQuorum(
    power,
    validators.reduce((s, v) => s + v.power, 0),
  );
}
