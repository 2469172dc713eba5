/**
 * Records one organization's vote, counts the votes and, when the outcome is certain, decides the
 * proposal. Passing at height a schedules the change for the end of block a + d − 1, so that
 * block a + d is the first it governs (d = params.validatorChangeDelay ≥ 2).
 */
import { chainParams, type TxContext } from "../../../execution/module.js";
import { addPending, cannotPass, passes, scheduleAt, tally } from "../state.js";
import type { Proposal } from "../types.js";

/** Returns the proposal with the vote added and, if decided, its new status. Emits voted, passed, rejected. */
export function castVote(ctx: TxContext, p: Proposal, approve: boolean): Proposal {
  const org = ctx.sender.org;
  const voted: Proposal = {
    ...p,
    votes: [...p.votes, { org, approve, by: ctx.sender.address, height: ctx.height }],
  };
  const t = tally(ctx.state, voted);
  ctx.emit("voted", { id: p.id, org, approve, yes: t.yes, no: t.no, active: t.active });
  if (passes(t)) {
    const d = chainParams(ctx).validatorChangeDelay;
    const applyAt = ctx.height + d - 1;
    const effectiveAt = ctx.height + d;
    scheduleAt(ctx.state, applyAt, p.id);
    addPending(ctx.state, p.id);
    ctx.emit("passed", { id: p.id, kind: p.action.kind, yes: t.yes, active: t.active, applyAt, effectiveAt });
    return { ...voted, status: "passed", decidedAt: ctx.height, applyAt, effectiveAt };
  }
  if (cannotPass(t)) {
    ctx.emit("rejected", { id: p.id, kind: p.action.kind, yes: t.yes, no: t.no, active: t.active });
    return { ...voted, status: "rejected", decidedAt: ctx.height };
  }
  return voted;
}
