/**
 * governance.vote (admin): casts the sender's organization's one vote on an open proposal. The
 * votes are counted at once against the organizations active now; the proposal passes when more
 * than two thirds approve, and is rejected as soon as that has become impossible.
 */
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import { requireProposal, writeProposal } from "../state.js";
import { argMap, argUint, badArg, type Proposal } from "../types.js";
import { castVote } from "./tally.js";

function requireOpen(p: Proposal, height: number): void {
  const meta = { id: p.id, status: p.status };
  if (p.status === "expired" || (p.status === "open" && height > p.expiresAt))
    throw new RejectedError(
      "GOV_EXPIRED",
      `proposal ${p.id} expired at height ${p.expiresAt} without a decision; propose it again`,
      meta,
    );
  if (p.status === "rejected")
    throw new RejectedError("GOV_REJECTED", `proposal ${p.id} was rejected at height ${p.decidedAt}`, meta);
  if (p.status !== "open")
    throw new RejectedError(
      "GOV_ALREADY_PASSED",
      `proposal ${p.id} passed at height ${p.decidedAt} and is ${p.status}; votes are closed`,
      meta,
    );
}

export const vote = defineCall<{ id: number; approve: boolean }>({
  roles: ["admin"],
  summary: "Cast the sender's organization's vote (approve: true or false) on an open proposal",
  parse(args) {
    const m = argMap(args, "args", ["id", "approve"]);
    if (typeof m.approve !== "boolean") badArg("args.approve", "true or false");
    return { id: argUint(m.id, "args.id"), approve: m.approve };
  },
  handle(ctx, { id, approve }) {
    const p = requireProposal(ctx.state, id);
    requireOpen(p, ctx.height);
    const org = ctx.sender.org;
    const earlier = p.votes.find((v) => v.org === org);
    if (earlier)
      throw new RejectedError(
        "GOV_ALREADY_VOTED",
        `organization "${org}" already voted on proposal ${id} at height ${earlier.height}; one vote per organization`,
        { id, org },
      );
    writeProposal(ctx.state, castVote(ctx, p, approve));
  },
});
