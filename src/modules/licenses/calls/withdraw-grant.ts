/**
 * licenses.withdrawGrant (holder, from the license's holder account): withdraws a grant at once;
 * the relying party's later uses are refused. The grant record keeps the withdrawal height.
 */
import type { CborValue } from "../../../codec/cbor.js";
import { RejectedError } from "../../../errors/index.js";
import { defineCall } from "../../../execution/module.js";
import type { StateReader } from "../../../execution/state-view.js";
import { encodeGrant, grantKey, parseId, readGrant, requireLicense } from "../state.js";
import { argMap, argText, type Grant } from "../types.js";
import { requireHolder } from "./grant.js";

export interface GrantRef {
  licenseId: string;
  grantId: string;
}

export const GRANT_ID_PATTERN = /^[0-9]{10}$/;

export function parseGrantRef(m: { [k: string]: CborValue }): GrantRef {
  const licenseId = argText(m.licenseId, "args.licenseId", 160);
  parseId(licenseId, "args.licenseId");
  return { licenseId, grantId: argText(m.grantId, "args.grantId", 10, GRANT_ID_PATTERN) };
}

export function requireGrant(state: StateReader, ref: GrantRef): Grant {
  const g = readGrant(state, ref.licenseId, ref.grantId);
  if (!g)
    throw new RejectedError(
      "LICENSE_GRANT_NOT_FOUND",
      `license ${ref.licenseId} has no grant ${ref.grantId}`,
    );
  return g;
}

export const withdrawGrant = defineCall<GrantRef>({
  roles: ["holder"],
  summary: "Withdraw a grant to use a license",
  parse: (args) => parseGrantRef(argMap(args, "args", ["licenseId", "grantId"])),
  handle(ctx, ref) {
    const license = requireLicense(ctx.state, ref.licenseId);
    requireHolder(ctx, license);
    const g = requireGrant(ctx.state, ref);
    if (g.withdrawnAt !== null)
      throw new RejectedError(
        "LICENSE_GRANT_WITHDRAWN",
        `grant ${ref.grantId} was withdrawn at height ${g.withdrawnAt}`,
      );
    ctx.state.set(grantKey(ref.licenseId, ref.grantId), encodeGrant({ ...g, withdrawnAt: ctx.height }));
    ctx.emit("grantWithdrawn", {
      licenseId: ref.licenseId,
      grantId: ref.grantId,
      relyingParty: g.relyingParty,
    });
  },
});
