/**
 * The governance end-of-block hook. At height h it reads one key, gov/due/<h>: the proposals whose
 * voting period ends at h (expired if still open) and the passed proposals whose change applies
 * at the end of h (h = a + d − 1 for a proposal passed at a). With nothing due it does one read
 * and no write. A change that no longer meets the rules is skipped with an event, never thrown:
 * the block stays valid whatever was scheduled.
 */
import { ZlError } from "../../errors/index.js";
import type { EndBlockContext } from "../../execution/module.js";
import { Overlay } from "../../execution/state-view.js";
import { applyAction } from "./rules.js";
import { decodeIds, dueKey, readProposal, removePending, writeProposal } from "./state.js";
import type { Proposal } from "./types.js";

function expire(ctx: EndBlockContext, p: Proposal): void {
  writeProposal(ctx.state, { ...p, status: "expired", decidedAt: ctx.height });
  ctx.emit("expired", { id: p.id, kind: p.action.kind, height: ctx.height });
}

function apply(ctx: EndBlockContext, p: Proposal): void {
  removePending(ctx.state, p.id);
  const change = new Overlay(ctx.state);
  try {
    applyAction(change, ctx.suite, p.action, p.proposerOrg, ctx.height);
  } catch (err: unknown) {
    if (!(err instanceof ZlError)) throw err;
    writeProposal(ctx.state, { ...p, status: "skipped", skipReason: err.code });
    ctx.emit("changeSkipped", { id: p.id, kind: p.action.kind, reason: err.code, message: err.message });
    return;
  }
  change.mergeInto(ctx.state);
  writeProposal(ctx.state, { ...p, status: "applied" });
  ctx.emit("applied", { id: p.id, kind: p.action.kind, height: ctx.height });
}

export function governanceEndBlock(ctx: EndBlockContext): void {
  const key = dueKey(ctx.height);
  const raw = ctx.state.get(key);
  if (!raw) return;
  ctx.state.delete(key);
  for (const id of decodeIds(raw)) {
    const p = readProposal(ctx.state, id);
    if (p?.status === "open" && p.expiresAt === ctx.height) expire(ctx, p);
    else if (p?.status === "passed" && p.applyAt === ctx.height) apply(ctx, p);
  }
}
