/**
 * Weighted vote tallies for one height.
 *
 * Counting follows the paper's message semantics (Buchman, Kwon, Milosevic, arXiv:1807.04938,
 * Algorithm 1): "2f+1 ⟨PRECOMMIT, h, r, id(v)⟩" is the power of the DISTINCT validators from which
 * that exact vote was received, and "2f+1 ⟨PREVOTE, h, r, ∗⟩" the power of the distinct validators
 * from which any prevote of round r was received. Hence:
 *   - an identical copy of a vote is a duplicate and ignored;
 *   - the per-(round, type) total ("∗") counts a validator once, with its first vote;
 *   - a second, different vote by a validator for the same (height, round, type) is equivocation:
 *     it is reported as evidence (once per distinct conflicting vote), and it counts only toward
 *     its own value's tally — never twice toward one value, never twice toward the total.
 *
 * Why the conflicting vote still counts toward its own value: a Byzantine validator may send v to
 * one honest node and nil to another. If the node that counted v decides and moves on, the other
 * must be able to decide from the very same precommits relayed to it (the paper's gossip
 * assumption), or it is stuck forever at that height. Quorum intersection is unaffected: two
 * quorums for different values in one round overlap in more than a third of the power, which
 * faulty validators (less than a third) cannot cover, so the overlap still contains an honest
 * validator that voted twice — impossible. (CometBFT reaches the same place through peer
 * "maj23" claims; this is the paper's counting, stated directly.)
 *
 * Also tracks, per round, the power of the distinct validators that sent any message of that
 * round (votes of either type and the proposal), for the f+1 round-skip rule (line 55).
 */
import { isQuorum } from "../../ledger/validators.js";
import {
  exceedsOneThird,
  type Proposal,
  type ValueId,
  type Vote,
  type VoteEquivocation,
  type VoteType,
} from "./types.js";

export type AddVoteResult =
  | { status: "added" }
  | { status: "duplicate" }
  /** Counted toward its own value only; evidence is undefined when already reported. */
  | { status: "equivocation"; evidence: VoteEquivocation | undefined }
  | { status: "invalid"; reason: string };

interface ValueTally {
  /** validatorIndex → its vote for this value. */
  readonly voters: Map<number, Vote>;
  power: number;
}

interface Tally {
  /** validatorIndex → its first vote in this slot (what the "∗" total counts). */
  readonly votes: Map<number, Vote>;
  /** valueId (null = nil) → the distinct validators that voted for it. */
  readonly byValue: Map<ValueId | null, ValueTally>;
  total: number;
}

interface Participation {
  readonly who: Set<number>;
  power: number;
}

export class VoteSet {
  private readonly tallies = new Map<string, Tally>();
  private readonly participation = new Map<number, Participation>();
  private readonly reported = new Set<string>();
  private maxRoundOverOneThird = -1;
  readonly totalPower: number;

  constructor(
    readonly height: number,
    private readonly powers: readonly number[],
  ) {
    this.totalPower = powers.reduce((s, p) => s + p, 0);
  }

  /** Adds a vote of this height. Never counts two votes of one validator in one slot. */
  add(vote: Vote): AddVoteResult {
    if (vote.height !== this.height) return { status: "invalid", reason: "height" };
    if (!Number.isSafeInteger(vote.round) || vote.round < 0) return { status: "invalid", reason: "round" };
    const power = this.powers[vote.validatorIndex];
    if (!Number.isInteger(vote.validatorIndex) || power === undefined)
      return { status: "invalid", reason: "validatorIndex" };
    const tally = this.tally(vote.round, vote.type, true);
    let forValue = tally.byValue.get(vote.valueId);
    if (forValue?.voters.has(vote.validatorIndex)) return { status: "duplicate" };
    if (!forValue) {
      forValue = { voters: new Map(), power: 0 };
      tally.byValue.set(vote.valueId, forValue);
    }
    forValue.voters.set(vote.validatorIndex, vote);
    forValue.power += power;
    const prior = tally.votes.get(vote.validatorIndex);
    if (prior) {
      const key = `${vote.round}:${vote.type}:${vote.validatorIndex}:${vote.valueId ?? ""}`;
      if (this.reported.has(key)) return { status: "equivocation", evidence: undefined };
      this.reported.add(key);
      return {
        status: "equivocation",
        evidence: {
          kind: "vote-equivocation",
          height: this.height,
          round: vote.round,
          type: vote.type,
          validatorIndex: vote.validatorIndex,
          first: prior,
          second: vote,
        },
      };
    }
    tally.votes.set(vote.validatorIndex, vote);
    tally.total += power;
    this.participate(vote.round, vote.validatorIndex);
    return { status: "added" };
  }

  /** Counts the proposer of a round as a participant of that round (line 55 counts any message). */
  addProposer(proposal: Proposal): void {
    if (this.powers[proposal.proposerIndex] !== undefined)
      this.participate(proposal.round, proposal.proposerIndex);
  }

  /** Power of the votes of (round, type) for `valueId` (null = nil). */
  powerFor(round: number, type: VoteType, valueId: ValueId | null): number {
    return this.tally(round, type, false)?.byValue.get(valueId)?.power ?? 0;
  }

  /** Power of all votes of (round, type), whatever their value. */
  powerAny(round: number, type: VoteType): number {
    return this.tally(round, type, false)?.total ?? 0;
  }

  hasQuorumFor(round: number, type: VoteType, valueId: ValueId | null): boolean {
    return isQuorum(this.powerFor(round, type, valueId), this.totalPower);
  }

  hasQuorumAny(round: number, type: VoteType): boolean {
    return isQuorum(this.powerAny(round, type), this.totalPower);
  }

  /**
   * The value (or null for nil) holding a quorum of (round, type), if any. While faulty power is
   * below a third at most one value can; the first found in insertion order is returned regardless.
   */
  quorumValue(round: number, type: VoteType): { valueId: ValueId | null } | undefined {
    const t = this.tally(round, type, false);
    if (!t) return undefined;
    for (const [valueId, v] of t.byValue) if (isQuorum(v.power, this.totalPower)) return { valueId };
    return undefined;
  }

  /** The counted votes of (round, type) for `valueId`, in validator-index order. */
  votesFor(round: number, type: VoteType, valueId: ValueId | null): Vote[] {
    const forValue = this.tally(round, type, false)?.byValue.get(valueId);
    if (!forValue) return [];
    return [...forValue.voters.values()].sort((a, b) => a.validatorIndex - b.validatorIndex);
  }

  /** The first vote of a validator in (round, type), if any. */
  voteOf(round: number, type: VoteType, validatorIndex: number): Vote | undefined {
    return this.tally(round, type, false)?.votes.get(validatorIndex);
  }

  /** Power of the distinct validators that sent any message in `round`. */
  participationPower(round: number): number {
    return this.participation.get(round)?.power ?? 0;
  }

  /** The highest round whose participants hold more than a third of the power (f+1), or −1. */
  highestRoundOverOneThird(): number {
    return this.maxRoundOverOneThird;
  }

  /** Rounds with any participation, ascending. */
  rounds(): number[] {
    return [...this.participation.keys()].sort((a, b) => a - b);
  }

  private participate(round: number, index: number): void {
    let p = this.participation.get(round);
    if (!p) {
      p = { who: new Set(), power: 0 };
      this.participation.set(round, p);
    }
    if (p.who.has(index)) return;
    p.who.add(index);
    p.power += this.powers[index] ?? 0;
    if (round > this.maxRoundOverOneThird && exceedsOneThird(p.power, this.totalPower))
      this.maxRoundOverOneThird = round;
  }

  private tally(round: number, type: VoteType, create: true): Tally;
  private tally(round: number, type: VoteType, create: false): Tally | undefined;
  private tally(round: number, type: VoteType, create: boolean): Tally | undefined {
    const key = `${round}:${type}`;
    let t = this.tallies.get(key);
    if (!t && create) {
      t = { votes: new Map(), byValue: new Map(), total: 0 };
      this.tallies.set(key, t);
    }
    return t;
  }
}
