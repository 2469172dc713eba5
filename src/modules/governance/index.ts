/**
 * Governance module (联盟治理): the member organizations (departments) decide, by a vote of more
 * than two thirds of them, one organization one vote, on changes of the validator set (add,
 * remove, change power), of the membership (admit, remove an organization) and of the license-type
 * registry (register or update a type, proposed by its defining organization). A passed change
 * takes effect params.validatorChangeDelay blocks later. docs/governance.md describes it in full;
 * ADR 0016 records why.
 *
 * State (keys built with `stateKey`, values canonical CBOR):
 *
 *   gov/count                 → the last proposal id (uint; ids start at 1)
 *   gov/proposal/<id>         → {id, action: {kind, …}, proposer, proposerOrg, height, expiresAt,
 *                                status: open|passed|rejected|expired|applied|skipped,
 *                                votes: [{org, approve, by, height}], decidedAt, applyAt,
 *                                effectiveAt, skipReason}          (id: 10 digits, zero-padded)
 *   gov/due/<height>          → [id…] proposals the end-of-block hook of that height looks at
 *                                (expiry of open ones, application of passed ones); deleted then
 *   gov/pending               → [id…] passed proposals not yet applied, in the order they passed
 *
 * It also writes `validators` (the validator set, src/execution/genesis-state.ts), `orgs`,
 * `org/<id>` and the new organization's root `acct/<address>` (src/execution/accounts.ts), and
 * `lictype/<typeCode>` through the licenses module's registry (src/modules/licenses/type-registry.ts).
 */
import { InvalidInputError } from "../../errors/index.js";
import { defineQuery, type Module } from "../../execution/module.js";
import type { StateReader } from "../../execution/state-view.js";
import { toHex } from "../../ledger/bytes.js";
import { totalPower } from "../../ledger/validators.js";
import { propose } from "./calls/propose.js";
import { vote } from "./calls/vote.js";
import { governanceEndBlock } from "./end-block.js";
import {
  dueKey,
  readCount,
  readPending,
  readProposal,
  readValidators,
  tally,
  validatorJson,
} from "./state.js";
import { type Action, PROPOSAL_STATUSES, type Proposal, type ProposalStatus } from "./types.js";

export type { Action, Proposal, ProposalStatus } from "./types.js";

const MAX_PAGE = 100;
/** A `proposals` query reads at most this many records, whatever the filter. */
const MAX_SCAN = 1000;

function badParam(message: string): never {
  throw new InvalidInputError("QUERY_BAD_PARAM", message);
}

function pUint(p: Record<string, string>, name: string, dflt?: number): number {
  const v = p[name];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== "string" || !/^[0-9]{1,15}$/.test(v)) badParam(`${name}: a non-negative integer`);
  return Number(v);
}

function actionJson(a: Action): Record<string, unknown> {
  switch (a.kind) {
    case "addValidator":
    case "removeValidator":
    case "setPower":
      return { ...a, publicKey: toHex(a.publicKey) };
    case "addOrg":
      return { ...a, rootPublicKey: toHex(a.rootPublicKey) };
    case "removeOrg":
    case "registerLicenseType":
    case "updateLicenseType":
      return { ...a };
  }
}

/** A proposal as JSON, with its current tally (votes of organizations active now). */
function proposalJson(state: StateReader, p: Proposal) {
  return {
    ...p,
    action: actionJson(p.action),
    proposer: toHex(p.proposer),
    votes: p.votes.map((v) => ({ ...v, by: toHex(v.by) })),
    tally: tally(state, p),
  };
}

export const governanceModule: Module = {
  name: "governance",
  calls: { propose, vote },
  queries: {
    proposal: defineQuery<{ id: number }>({
      summary: "A governance proposal: its action, votes, tally, status and schedule",
      parse: (p) => ({ id: pUint(p, "id") }),
      run(ctx, { id }) {
        const p = readProposal(ctx.state, id);
        return p ? proposalJson(ctx.state, p) : null;
      },
    }),
    proposals: defineQuery<{ status: ProposalStatus | undefined; before: number | undefined; limit: number }>(
      {
        summary: `Proposals newest first (status?, before? id, limit ≤ ${MAX_PAGE}); next: where to continue`,
        parse(p) {
          const status = p.status;
          if (status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(status))
            badParam(`status: one of ${PROPOSAL_STATUSES.join(", ")}`);
          const limit = pUint(p, "limit", 20);
          if (limit < 1 || limit > MAX_PAGE) badParam(`limit: 1 to ${MAX_PAGE}`);
          const before = p.before === undefined ? undefined : pUint(p, "before");
          return { status: status as ProposalStatus | undefined, before, limit };
        },
        run(ctx, { status, before, limit }) {
          const out = [];
          let id = Math.min(readCount(ctx.state), (before ?? Number.MAX_SAFE_INTEGER) - 1);
          for (let scanned = 0; id >= 1 && out.length < limit && scanned < MAX_SCAN; id--, scanned++) {
            const p = readProposal(ctx.state, id);
            if (p && (status === undefined || p.status === status)) out.push(proposalJson(ctx.state, p));
          }
          return { proposals: out, next: id >= 1 ? id + 1 : null };
        },
      },
    ),
    validators: defineQuery<Record<string, never>>({
      summary: "The validator set in state now (it governs the block after the latest)",
      parse: () => ({}),
      run(ctx) {
        const set = readValidators(ctx.state);
        return { validators: set.map(validatorJson), totalPower: totalPower(set) };
      },
    }),
    pending: defineQuery<Record<string, never>>({
      summary: "Passed changes not yet applied, with the heights at which they apply and take effect",
      parse: () => ({}),
      run(ctx) {
        return readPending(ctx.state).flatMap((id) => {
          const p = readProposal(ctx.state, id);
          return p
            ? [
                {
                  id,
                  kind: p.action.kind,
                  action: actionJson(p.action),
                  passedAt: p.decidedAt,
                  applyAt: p.applyAt,
                  effectiveAt: p.effectiveAt,
                },
              ]
            : [];
        });
      },
    }),
  },
  endBlock: governanceEndBlock,
  workDue: (state, height) => state.get(dueKey(height)) !== undefined,
};
