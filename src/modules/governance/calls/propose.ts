/**
 * governance.propose (admin): proposes one change of the validator set, of the member
 * organizations, or of the license-type registry (a type defined by the proposer's organization).
 * The action must be valid against the current state; the proposer's organization
 * votes yes at once. The proposal is open for votes up to and including height
 * h + params.governanceVotingBlocks; the end-of-block hook of that height expires it if undecided.
 */
import { chainParams, defineCall } from "../../../execution/module.js";
import { checkAction } from "../rules.js";
import { readCount, scheduleAt, writeCount, writeProposal } from "../state.js";
import { type Action, actionToCbor, argMap, type Proposal, parseAction } from "../types.js";
import { castVote } from "./tally.js";

export const propose = defineCall<{ action: Action }>({
  roles: ["admin"],
  summary:
    "Propose a validator-set, membership or license-type change, decided by > 2/3 of the member organizations",
  parse(args) {
    const m = argMap(args, "args", ["action"]);
    return { action: parseAction(m.action, "args.action") };
  },
  handle(ctx, { action }) {
    checkAction(ctx.state, ctx.suite, action, ctx.sender.org);
    const id = readCount(ctx.state) + 1;
    writeCount(ctx.state, id);
    const expiresAt = ctx.height + chainParams(ctx).governanceVotingBlocks;
    const open: Proposal = {
      id,
      action,
      proposer: ctx.sender.address,
      proposerOrg: ctx.sender.org,
      height: ctx.height,
      expiresAt,
      status: "open",
      votes: [],
      decidedAt: null,
      applyAt: null,
      effectiveAt: null,
      skipReason: null,
    };
    ctx.emit("proposed", {
      id,
      kind: action.kind,
      action: actionToCbor(action),
      proposer: ctx.sender.address,
      org: ctx.sender.org,
      expiresAt,
    });
    const proposal = castVote(ctx, open, true);
    if (proposal.status === "open") scheduleAt(ctx.state, expiresAt, id);
    writeProposal(ctx.state, proposal);
  },
});
