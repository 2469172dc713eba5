/**
 * Rule-by-rule tests of the Tendermint state machine (arXiv:1807.04938, Algorithm 1), the vote
 * set, the proposer selection and the double-sign guard. Each test names the paper's lines.
 *
 * Unless stated otherwise: four validators of power 1 (total 4; quorum 2f+1 = 3; f+1 = 2),
 * proposer(h, r) = (h + r) % 4, and the machine under test is validator 0.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  advance,
  genesisProposerState,
  ProposerSchedule,
  proposerForRound,
  rebasePriorities,
} from "./proposer.js";
import {
  checkSign,
  DoubleSignGuard,
  lockProofVotes,
  MemorySignStateStore,
  resumeFor,
  SIGN_STEP_PRECOMMIT,
  SIGN_STEP_PREVOTE,
  SIGN_STEP_PROPOSAL,
  type SignState,
  signedMessages,
  signRequestOf,
} from "./safety-guard.js";
import { type MachineConfig, type Signable, TendermintMachine } from "./state-machine.js";
import {
  type Effect,
  type Proposal,
  VOTE_PRECOMMIT,
  VOTE_PREVOTE,
  type Vote,
  type VoteType,
} from "./types.js";
import { VoteSet } from "./vote-set.js";

const V = "aa".repeat(32);
const W = "bb".repeat(32);
const BAD = "ee".repeat(32);

const TIMEOUTS = {
  proposeMs: 100,
  proposeDeltaMs: 10,
  prevoteMs: 50,
  prevoteDeltaMs: 5,
  precommitMs: 70,
  precommitDeltaMs: 7,
};

function machine(over: Partial<MachineConfig> = {}): TendermintMachine {
  return new TendermintMachine({
    validators: [{ power: 1 }, { power: 1 }, { power: 1 }, { power: 1 }],
    selfIndex: 0,
    proposer: (h, r) => (h + r) % 4,
    getValue: () => V,
    validate: (_h, v) => v !== BAD,
    timeouts: TIMEOUTS,
    ...over,
  });
}

const proposal = (round: number, valueId: string, validRound = -1, height = 1): Proposal => ({
  height,
  round,
  valueId,
  validRound,
  proposerIndex: (height + round) % 4,
});
const vote = (
  type: VoteType,
  round: number,
  valueId: string | null,
  validatorIndex: number,
  height = 1,
): Vote => ({
  type,
  height,
  round,
  valueId,
  validatorIndex,
});
const prevote = (round: number, valueId: string | null, i: number, height = 1): Vote =>
  vote(VOTE_PREVOTE, round, valueId, i, height);
const precommit = (round: number, valueId: string | null, i: number, height = 1): Vote =>
  vote(VOTE_PRECOMMIT, round, valueId, i, height);

const votesOut = (effects: Effect[]): Vote[] =>
  effects.flatMap((e) => (e.kind === "broadcastVote" ? [e.vote] : []));
const timeoutsOut = (effects: Effect[]) => effects.flatMap((e) => (e.kind === "scheduleTimeout" ? [e] : []));
const feed = (m: TendermintMachine, votes: Vote[]): Effect[] => votes.flatMap((v) => m.onVote(v));

/** Brings validator 0 (not proposer at h=1, r=0) to a lock on `value` in round 0. */
function lockedOn(m: TendermintMachine, value: string): void {
  m.start(1);
  m.onProposal(proposal(0, value));
  feed(m, [prevote(0, value, 1), prevote(0, value, 2)]);
  assert.equal(m.state.lockedValue, value);
}

describe("StartRound (lines 11–21)", () => {
  test("the proposer broadcasts getValue() with validRound −1 and receives it itself", () => {
    const m = machine({ proposer: () => 0 });
    const out = m.start(1);
    const p = out.find((e) => e.kind === "broadcastProposal");
    assert.ok(p && p.kind === "broadcastProposal");
    assert.deepEqual(p.proposal, { height: 1, round: 0, valueId: V, validRound: -1, proposerIndex: 0 });
    // Line 22 fires on its own proposal: it prevotes it at once.
    assert.deepEqual(votesOut(out), [prevote(0, V, 0)]);
    // Deviation (documented): the proposer schedules timeoutPropose too; line 57 is a no-op for it
    // unless it could not prevote its own proposal.
    assert.deepEqual(
      timeoutsOut(out).map((t) => t.timeout.kind),
      ["propose"],
    );
  });

  test("a non-proposer schedules timeoutPropose(r) = base + r·delta", () => {
    const m = machine();
    const out = m.start(1);
    assert.deepEqual(timeoutsOut(out), [
      { kind: "scheduleTimeout", timeout: { kind: "propose", height: 1, round: 0 }, durationMs: 100 },
    ]);
    assert.equal(m.state.step, "propose");
  });

  test("a proposer with a validValue re-proposes it with its validRound (lines 15–16)", () => {
    const m = machine({ proposer: (_h, r) => (r === 1 ? 0 : 1) });
    m.start(1);
    m.onProposal({ ...proposal(0, W), proposerIndex: 1 });
    feed(m, [prevote(0, W, 1), prevote(0, W, 2)]);
    assert.equal(m.state.validValue, W);
    const out = m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    const p = out.find((e) => e.kind === "broadcastProposal");
    assert.ok(p && p.kind === "broadcastProposal");
    assert.equal(p.proposal.valueId, W);
    assert.equal(p.proposal.validRound, 0);
    assert.equal(p.proposal.round, 1);
  });
});

describe("prevote on a proposal (lines 22–27)", () => {
  test("valid value, not locked: prevote id(v)", () => {
    const m = machine();
    m.start(1);
    assert.deepEqual(votesOut(m.onProposal(proposal(0, V))), [prevote(0, V, 0)]);
    assert.equal(m.state.step, "prevote");
  });

  test("invalid value: prevote nil", () => {
    const m = machine();
    m.start(1);
    assert.deepEqual(votesOut(m.onProposal(proposal(0, BAD))), [prevote(0, null, 0)]);
  });

  test("a proposal from anyone but proposer(h, r) is ignored", () => {
    const m = machine();
    m.start(1);
    assert.deepEqual(m.onProposal({ ...proposal(0, V), proposerIndex: 3 }), []);
    assert.equal(m.state.step, "propose");
  });

  test("a value conflicting with the lock is prevoted nil", () => {
    const m = machine();
    lockedOn(m, V);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 }); // no-op: 2f+1 precommits not seen, but the handler only checks h/r
    assert.equal(m.state.round, 1);
    assert.deepEqual(votesOut(m.onProposal(proposal(1, W))), [prevote(1, null, 0)]);
    assert.equal(m.state.lockedValue, V);
  });

  test("the locked value itself is prevoted again", () => {
    const m = machine();
    lockedOn(m, V);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    assert.deepEqual(votesOut(m.onProposal(proposal(1, V))), [prevote(1, V, 0)]);
  });

  test("asynchronous validation: waits for onValidity, then prevotes", () => {
    const m = machine({ validate: () => undefined });
    m.start(1);
    const out = m.onProposal(proposal(0, V));
    assert.deepEqual(out, [{ kind: "validate", height: 1, valueId: V }]);
    assert.equal(m.state.step, "propose");
    assert.deepEqual(votesOut(m.onValidity(1, V, true)), [prevote(0, V, 0)]);
  });
});

describe("unlocking through a later polka (lines 28–33)", () => {
  test("locked on V in round 0; a proposal of W with a polka in round 1 ≥ lockedRound is prevoted", () => {
    const m = machine();
    lockedOn(m, V);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    m.onTimeout({ kind: "propose", height: 1, round: 1 }); // prevote nil in round 1
    feed(m, [prevote(1, W, 1), prevote(1, W, 2), prevote(1, W, 3)]);
    m.onTimeout({ kind: "precommit", height: 1, round: 1 });
    assert.equal(m.state.round, 2);
    assert.deepEqual(votesOut(m.onProposal(proposal(2, W, 1))), [prevote(2, W, 0)]);
    // Prevoting W does not move the lock: only line 36 does.
    assert.equal(m.state.lockedValue, V);
    assert.equal(m.state.lockedRound, 0);
  });

  test("without the polka at vr the proposal is not prevoted; the propose timeout prevotes nil", () => {
    const m = machine();
    lockedOn(m, V);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    assert.deepEqual(votesOut(m.onProposal(proposal(1, W, 0))), []);
    assert.equal(m.state.step, "propose");
    assert.deepEqual(votesOut(m.onTimeout({ kind: "propose", height: 1, round: 1 })), [prevote(1, null, 0)]);
  });

  test("a polka older than the lock (vr < lockedRound) does not unlock", () => {
    const m = machine();
    m.start(1, { round: 2, lockedRound: 1, lockedValue: V, validRound: 1, validValue: V });
    feed(m, [prevote(0, W, 1), prevote(0, W, 2), prevote(0, W, 3)]);
    assert.deepEqual(votesOut(m.onProposal(proposal(2, W, 0))), [prevote(2, null, 0)]);
  });

  test("an invalid value with a polka is still prevoted nil", () => {
    const m = machine();
    m.start(1, { round: 2, lockedRound: -1, lockedValue: null, validRound: -1, validValue: null });
    feed(m, [prevote(1, BAD, 1), prevote(1, BAD, 2), prevote(1, BAD, 3)]);
    assert.deepEqual(votesOut(m.onProposal(proposal(2, BAD, 1))), [prevote(2, null, 0)]);
  });
});

describe("polkas (lines 34–46)", () => {
  test("lines 36–43: 2f+1 prevotes for the proposed value lock it and precommit it", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    const out = feed(m, [prevote(0, V, 1), prevote(0, V, 2)]);
    assert.deepEqual(votesOut(out), [precommit(0, V, 0)]);
    assert.deepEqual(m.state, {
      height: 1,
      round: 0,
      step: "precommit",
      lockedValue: V,
      lockedRound: 0,
      validValue: V,
      validRound: 0,
    });
  });

  test("lines 36–43 in step precommit: only validValue/validRound move, no lock, no second precommit", () => {
    const m = machine();
    m.start(1);
    m.onTimeout({ kind: "propose", height: 1, round: 0 }); // prevote nil
    feed(m, [prevote(0, V, 1), prevote(0, V, 2)]); // 2f+1 of any kind → timeoutPrevote
    assert.deepEqual(votesOut(m.onTimeout({ kind: "prevote", height: 1, round: 0 })), [
      precommit(0, null, 0),
    ]);
    assert.deepEqual(votesOut(m.onVote(prevote(0, V, 3))), []); // polka for V, but no proposal yet
    assert.equal(m.state.validValue, null);
    assert.deepEqual(votesOut(m.onProposal(proposal(0, V))), []);
    assert.equal(m.state.step, "precommit");
    assert.equal(m.state.validValue, V);
    assert.equal(m.state.validRound, 0);
    assert.equal(m.state.lockedValue, null);
    assert.equal(m.state.lockedRound, -1);
  });

  test("line 34: timeoutPrevote is scheduled once, on 2f+1 prevotes of any value, in step prevote", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    assert.equal(timeoutsOut(m.onVote(prevote(0, W, 1))).length, 0);
    const t = timeoutsOut(m.onVote(prevote(0, null, 2)));
    assert.deepEqual(t, [
      { kind: "scheduleTimeout", timeout: { kind: "prevote", height: 1, round: 0 }, durationMs: 50 },
    ]);
    assert.equal(timeoutsOut(m.onVote(prevote(0, null, 3))).length, 0);
  });

  test("line 44: 2f+1 prevotes for nil precommit nil", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    const out = feed(m, [prevote(0, null, 1), prevote(0, null, 2), prevote(0, null, 3)]);
    assert.deepEqual(votesOut(out), [precommit(0, null, 0)]);
    assert.equal(m.state.lockedRound, -1);
  });

  test("weighted power: one validator of power 5 out of 8 is not a quorum; with power 1 more it is", () => {
    const m = machine({ validators: [{ power: 1 }, { power: 5 }, { power: 1 }, { power: 1 }] });
    m.start(1);
    m.onTimeout({ kind: "propose", height: 1, round: 0 }); // own nil prevote, power 1
    m.onProposal(proposal(0, V));
    assert.deepEqual(votesOut(m.onVote(prevote(0, V, 1))), []); // V holds 5 of 8: 15 > 16 is false
    // 6 of 8 (18 > 16) is a polka for V: line 36 locks and precommits although our prevote was nil.
    assert.deepEqual(votesOut(m.onVote(prevote(0, V, 2))), [precommit(0, V, 0)]);
    assert.equal(m.state.lockedValue, V);
  });
});

describe("precommits and decision (lines 47–54)", () => {
  test("line 47: timeoutPrecommit once on 2f+1 precommits of any value", () => {
    const m = machine();
    m.start(1);
    feed(m, [precommit(0, null, 1), precommit(0, W, 2)]);
    const t = timeoutsOut(m.onVote(precommit(0, null, 3)));
    assert.deepEqual(t, [
      { kind: "scheduleTimeout", timeout: { kind: "precommit", height: 1, round: 0 }, durationMs: 70 },
    ]);
  });

  test("lines 49–54: proposal + 2f+1 precommits decide, reset the lock and start height + 1", () => {
    const m = machine();
    lockedOn(m, V);
    const out = feed(m, [precommit(0, V, 1), precommit(0, V, 2)]);
    const d = out.find((e) => e.kind === "decide");
    assert.ok(d && d.kind === "decide");
    assert.equal(d.height, 1);
    assert.equal(d.round, 0);
    assert.equal(d.valueId, V);
    assert.deepEqual(
      d.precommits.map((v) => v.validatorIndex),
      [0, 1, 2],
    );
    assert.deepEqual(m.state, {
      height: 2,
      round: 0,
      step: "propose",
      lockedValue: null,
      lockedRound: -1,
      validValue: null,
      validRound: -1,
    });
  });

  test("decides on a round other than the current one (line 49 holds for any r)", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    feed(m, [prevote(3, null, 1), prevote(3, null, 2)]); // f+1 in round 3: skip there
    assert.equal(m.state.round, 3);
    const out = feed(m, [precommit(0, V, 1), precommit(0, V, 2), precommit(0, V, 3)]);
    assert.ok(out.some((e) => e.kind === "decide" && e.round === 0 && e.valueId === V));
  });

  test("2f+1 precommits for an invalid value never decide", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, BAD));
    const out = feed(m, [precommit(0, BAD, 1), precommit(0, BAD, 2), precommit(0, BAD, 3)]);
    assert.ok(!out.some((e) => e.kind === "decide"));
  });

  test("messages of height + 1 are buffered and replayed on entering it", () => {
    const m = machine();
    lockedOn(m, V);
    m.onProposal(proposal(0, W, -1, 2));
    feed(m, [prevote(0, W, 1, 2), prevote(0, W, 2, 2)]);
    const out = feed(m, [precommit(0, V, 1), precommit(0, V, 2)]);
    assert.ok(out.some((e) => e.kind === "decide" && e.height === 1));
    // At height 2 it saw the proposal and a polka for W: prevoted W and precommitted W.
    assert.deepEqual(votesOut(out).slice(-2), [prevote(0, W, 0, 2), precommit(0, W, 0, 2)]);
  });
});

describe("round skip (lines 55–56)", () => {
  test("f+1 messages of a higher round start that round", () => {
    const m = machine();
    m.start(1);
    m.onVote(prevote(5, null, 1));
    assert.equal(m.state.round, 0); // 1 of 4 is not more than a third
    const out = m.onVote(precommit(5, W, 2)); // any message type counts
    assert.equal(m.state.round, 5);
    assert.deepEqual(timeoutsOut(out), [
      { kind: "scheduleTimeout", timeout: { kind: "propose", height: 1, round: 5 }, durationMs: 150 },
    ]);
  });

  test("a validator counts once, and messages of lower rounds never skip", () => {
    const m = machine();
    m.start(1, { round: 4, lockedRound: -1, lockedValue: null, validRound: -1, validValue: null });
    feed(m, [prevote(6, null, 1), precommit(6, null, 1), prevote(2, null, 2), prevote(2, null, 3)]);
    assert.equal(m.state.round, 4);
  });
});

describe("timeouts (lines 57–67)", () => {
  test("OnTimeoutPropose prevotes nil only in (h_p, round_p, propose)", () => {
    const m = machine();
    m.start(1);
    assert.deepEqual(votesOut(m.onTimeout({ kind: "propose", height: 1, round: 1 })), []);
    assert.deepEqual(votesOut(m.onTimeout({ kind: "propose", height: 2, round: 0 })), []);
    assert.deepEqual(votesOut(m.onTimeout({ kind: "propose", height: 1, round: 0 })), [prevote(0, null, 0)]);
    assert.deepEqual(votesOut(m.onTimeout({ kind: "propose", height: 1, round: 0 })), []);
  });

  test("OnTimeoutPrevote precommits nil only in step prevote", () => {
    const m = machine();
    m.start(1);
    assert.deepEqual(votesOut(m.onTimeout({ kind: "prevote", height: 1, round: 0 })), []);
    m.onTimeout({ kind: "propose", height: 1, round: 0 });
    assert.deepEqual(votesOut(m.onTimeout({ kind: "prevote", height: 1, round: 0 })), [
      precommit(0, null, 0),
    ]);
  });

  test("OnTimeoutPrecommit starts the next round; a stale one is ignored", () => {
    const m = machine();
    m.start(1);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    assert.equal(m.state.round, 1);
    m.onTimeout({ kind: "precommit", height: 1, round: 0 });
    assert.equal(m.state.round, 1);
    const out = m.onTimeout({ kind: "precommit", height: 1, round: 1 });
    assert.equal(m.state.round, 2);
    // round 2's proposer is (1 + 2) % 4 = 3, so validator 0 waits: timeoutPropose(2) = 100 + 2·10.
    assert.deepEqual(timeoutsOut(out)[0]?.durationMs, 120);
  });
});

describe("vote set and equivocation evidence", () => {
  test("a duplicate is ignored; a conflicting vote is evidence and never double-counted", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    assert.deepEqual(m.onVote(prevote(0, V, 1)), []);
    assert.deepEqual(m.onVote(prevote(0, V, 1)), []);
    const out = m.onVote(prevote(0, W, 1));
    const ev = out.find((e) => e.kind === "evidence");
    assert.ok(ev && ev.kind === "evidence" && ev.evidence.kind === "vote-equivocation");
    assert.equal(ev.evidence.validatorIndex, 1);
    assert.equal(ev.evidence.first.valueId, V);
    assert.equal(ev.evidence.second.valueId, W);
    // Reported once.
    assert.ok(!m.onVote(prevote(0, W, 1)).some((e) => e.kind === "evidence"));
    // Own V + validator 1 counted once in "∗": 2 of 4, no timeoutPrevote yet.
    assert.equal(timeoutsOut(out).length, 0);
  });

  test("VoteSet: totals count a validator once; each value counts each validator at most once", () => {
    const vs = new VoteSet(1, [1, 1, 1, 1]);
    assert.equal(vs.add(prevote(0, V, 1)).status, "added");
    assert.equal(vs.add(prevote(0, V, 1)).status, "duplicate");
    assert.equal(vs.add(prevote(0, W, 1)).status, "equivocation");
    assert.equal(vs.add(prevote(0, W, 1)).status, "duplicate");
    assert.equal(vs.powerAny(0, VOTE_PREVOTE), 1);
    assert.equal(vs.powerFor(0, VOTE_PREVOTE, V), 1);
    assert.equal(vs.powerFor(0, VOTE_PREVOTE, W), 1);
    assert.equal(vs.add(prevote(0, V, 9)).status, "invalid");
    assert.equal(vs.add(prevote(0, V, 1, 2)).status, "invalid");
    assert.equal(vs.participationPower(0), 1);
  });

  test("two proposals from one proposer are evidence; both are kept", () => {
    const m = machine();
    m.start(1);
    m.onProposal(proposal(0, V));
    const out = m.onProposal(proposal(0, W));
    assert.ok(out.some((e) => e.kind === "evidence" && e.evidence.kind === "proposal-equivocation"));
    // W can still be decided if 2f+1 precommit it.
    const d = feed(m, [precommit(0, W, 1), precommit(0, W, 2), precommit(0, W, 3)]);
    assert.ok(d.some((e) => e.kind === "decide" && e.valueId === W));
  });
});

describe("double-sign guard (safety-guard.ts)", () => {
  const req = (round: number, step: 1 | 2 | 3, valueId: string | null, height = 1, validRound?: number) => ({
    height,
    round,
    step,
    valueId,
    ...(validRound === undefined ? {} : { validRound }),
  });

  test("refuses a conflicting signature at the same (height, round, step)", () => {
    const a = checkSign(undefined, req(0, SIGN_STEP_PREVOTE, V));
    assert.ok(a.ok);
    const b = checkSign(a.state, req(0, SIGN_STEP_PREVOTE, W));
    assert.equal(b.ok, false);
    assert.equal(!b.ok && b.code, "CONSENSUS_SIGN_CONFLICT");
    const nil = checkSign(a.state, req(0, SIGN_STEP_PREVOTE, null));
    assert.equal(!nil.ok && nil.code, "CONSENSUS_SIGN_CONFLICT");
  });

  test("refuses anything below the highest signed step; allows the identical message again", () => {
    let s: SignState | undefined;
    for (const r of [
      req(0, SIGN_STEP_PROPOSAL, V, 1, -1),
      req(0, SIGN_STEP_PREVOTE, V),
      req(0, SIGN_STEP_PRECOMMIT, V),
    ]) {
      const d = checkSign(s, r);
      assert.ok(d.ok && !d.resign);
      s = d.state;
    }
    const again = checkSign(s, req(0, SIGN_STEP_PREVOTE, V));
    assert.ok(again.ok && again.resign);
    const proposalOtherVr = checkSign(s, req(0, SIGN_STEP_PROPOSAL, V, 1, 0));
    assert.equal(!proposalOtherVr.ok && proposalOtherVr.code, "CONSENSUS_SIGN_CONFLICT");
    const s2 = checkSign(s, req(2, SIGN_STEP_PREVOTE, null));
    assert.ok(s2.ok);
    const back = checkSign(s2.state, req(1, SIGN_STEP_PRECOMMIT, null));
    assert.equal(!back.ok && back.code, "CONSENSUS_SIGN_REGRESSION");
    const lowerHeight = checkSign(s2.state, req(0, SIGN_STEP_PREVOTE, V, 0));
    assert.equal(!lowerHeight.ok && lowerHeight.code, "CONSENSUS_SIGN_REGRESSION");
  });

  test("tracks the lock (latest non-nil precommit) and resets it on a new height", () => {
    let s = checkSign(undefined, req(0, SIGN_STEP_PRECOMMIT, V));
    assert.ok(s.ok);
    s = checkSign(s.state, req(1, SIGN_STEP_PRECOMMIT, null));
    assert.ok(s.ok);
    assert.equal(s.state.lockedValue, V);
    assert.equal(s.state.lockedRound, 0);
    assert.deepEqual(resumeFor(s.state, 1), {
      round: 1,
      lockedRound: 0,
      lockedValue: V,
      validRound: 0,
      validValue: V,
    });
    assert.equal(resumeFor(s.state, 2), undefined);
    const next = checkSign(s.state, req(0, SIGN_STEP_PREVOTE, W, 2));
    assert.ok(next.ok);
    assert.equal(next.state.lockedValue, null);
    assert.equal(next.state.signed.length, 1);
  });

  test("a non-nil precommit's polka is kept as the lock proof and rebuilt as prevotes", () => {
    const signed: Signable[] = [];
    const m = machine({
      sign: (msg) => {
        signed.push(msg);
        return { ok: true, signature: new Uint8Array([msg.kind === "vote" ? msg.vote.type : 0]) };
      },
    });
    lockedOn(m, V);
    const pc = signed.at(-1);
    assert.ok(pc && pc.kind === "vote" && pc.vote.type === VOTE_PRECOMMIT);
    assert.deepEqual(
      pc.polka?.map((v) => v.validatorIndex),
      [0, 1, 2],
    );
    let st: SignState | undefined;
    for (const msg of signed) {
      const d = checkSign(st, signRequestOf(msg));
      assert.ok(d.ok);
      st = d.state;
    }
    assert.deepEqual(
      lockProofVotes(st, 1).map((v) => [v.type, v.round, v.valueId, v.validatorIndex]),
      [
        [VOTE_PREVOTE, 0, V, 0],
        [VOTE_PREVOTE, 0, V, 1],
        [VOTE_PREVOTE, 0, V, 2],
      ],
    );
    assert.deepEqual(lockProofVotes(st, 1)[0]?.signature, new Uint8Array([VOTE_PREVOTE]));
  });

  test("persists before allowing; a reloaded guard still refuses; signed messages can be rebuilt", () => {
    const store = new MemorySignStateStore();
    const g = new DoubleSignGuard(store);
    assert.ok(g.authorize(req(0, SIGN_STEP_PREVOTE, V)).ok);
    const reloaded = new DoubleSignGuard(store);
    assert.equal(reloaded.authorize(req(0, SIGN_STEP_PREVOTE, W)).ok, false);
    assert.deepEqual(signedMessages(reloaded.state, 1, 0), [{ kind: "vote", vote: prevote(0, V, 0) }]);
  });

  test("the machine neither sends nor counts a vote the guard refuses, but its step advances", () => {
    const store = new MemorySignStateStore();
    const guard = new DoubleSignGuard(store);
    guard.authorize(req(0, SIGN_STEP_PREVOTE, null)); // signed nil before a crash
    const signed: Signable[] = [];
    const m = machine({
      sign: (msg) => {
        signed.push(msg);
        const r = msg.kind === "vote" ? msg.vote : msg.proposal;
        const step =
          msg.kind === "proposal"
            ? SIGN_STEP_PROPOSAL
            : msg.vote.type === VOTE_PREVOTE
              ? SIGN_STEP_PREVOTE
              : SIGN_STEP_PRECOMMIT;
        return guard.authorize({ height: r.height, round: r.round, step, valueId: r.valueId }).ok
          ? { ok: true }
          : { ok: false };
      },
    });
    m.start(1);
    const out = m.onProposal(proposal(0, V));
    assert.equal(signed.length, 1);
    assert.deepEqual(votesOut(out), []);
    assert.equal(m.state.step, "prevote");
    // Its refused V prevote is not counted: two more V prevotes are only 2 of 4.
    assert.deepEqual(votesOut(feed(m, [prevote(0, V, 1), prevote(0, V, 2)])), []);
    assert.equal(m.state.lockedValue, null);
  });
});

describe("proposer selection (proposer.ts)", () => {
  const vals = [{ power: 1 }, { power: 2 }, { power: 3 }, { power: 4 }];

  test("frequency follows power over whole cycles", () => {
    const sched = new ProposerSchedule(vals);
    const counts = [0, 0, 0, 0];
    for (let h = 1; h <= 1000; h++) counts[sched.proposer(h, 0)]!++;
    assert.deepEqual(counts, [100, 200, 300, 400]);
  });

  test("equal powers rotate in index order (ties go to the lowest index)", () => {
    const sched = new ProposerSchedule([{ power: 1 }, { power: 1 }, { power: 1 }]);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((h) => sched.proposer(h, 0)),
      [0, 1, 2, 0, 1, 2],
    );
  });

  test("deterministic and consistent: (h, r) = r + 1 steps from S_h, whatever was asked before", () => {
    const a = new ProposerSchedule(vals);
    const b = new ProposerSchedule(vals);
    const seq = [];
    for (let h = 1; h < 300; h += 7) for (let r = 0; r < 4; r++) seq.push(a.proposer(h, r));
    const again = [];
    for (let h = 1; h < 300; h += 7) for (let r = 0; r < 4; r++) again.push(b.proposer(h, r));
    assert.deepEqual(seq, again);
    assert.equal(a.proposer(3, 0), b.proposer(3, 0)); // going backwards works
    const s5 = advance(vals, genesisProposerState(vals), 4).state;
    assert.equal(proposerForRound(vals, s5, 2), a.proposer(5, 2));
    assert.equal(a.proposer(5, 1), a.proposer(6, 0)); // one step per height
  });

  test("a new validator starts behind the others", () => {
    const prev = [
      { publicKey: new Uint8Array([1]), power: 1 },
      { publicKey: new Uint8Array([2]), power: 1 },
    ];
    const next = [...prev, { publicKey: new Uint8Array([3]), power: 1 }];
    const s = rebasePriorities(prev, advance(prev, genesisProposerState(prev), 1).state, next);
    assert.equal(
      s.priorities.reduce((a, b) => a + b, 0n),
      0n,
    ); // centered
    assert.ok(s.priorities[2]! < s.priorities[0]! && s.priorities[2]! < s.priorities[1]!);
    assert.notEqual(proposerForRound(next, s, 0), 2);
  });
});
