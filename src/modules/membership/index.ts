/**
 * Membership module (身份与角色): an organization's admins enrol its accounts, give them roles
 * and suspend them. An admin acts only within its own organization. Organizations themselves
 * are listed in genesis (admission of new ones by vote belongs to governance).
 */
import { InvalidInputError, RejectedError } from "../../errors/index.js";
import {
  accountKey,
  decodeAccount,
  encodeAccount,
  isRole,
  ROLES,
  type Role,
  readAccount,
  readOrg,
} from "../../execution/accounts.js";
import { defineCall, defineQuery, type Module } from "../../execution/module.js";
import { fromHexOrUndefined, toHex } from "../../ledger/bytes.js";
import { readArray, readBytes, readMap } from "../../ledger/shape.js";
import { addressOf } from "../../ledger/tx.js";

function parseRoles(v: unknown): Role[] {
  const roles = readArray(v as never, "args.roles");
  if (roles.length === 0 || roles.length > ROLES.length)
    throw new InvalidInputError(
      "MEMBERSHIP_BAD_ROLES",
      `roles: give 1 to ${ROLES.length} of ${ROLES.join(", ")}`,
    );
  const out = new Set<Role>();
  for (const r of roles) {
    if (!isRole(r))
      throw new InvalidInputError(
        "MEMBERSHIP_BAD_ROLES",
        `unknown role ${String(r)}; roles are ${ROLES.join(", ")}`,
      );
    out.add(r);
  }
  return [...out].sort();
}

function parseAddress(v: unknown, field: string): Uint8Array {
  return readBytes(v as never, field, 20, 20);
}

export const membershipModule: Module = {
  name: "membership",
  calls: {
    enroll: defineCall<{ publicKey: Uint8Array; roles: Role[] }>({
      roles: ["admin"],
      summary: "Enrol an account in the sender's organization with the given roles",
      parse(args) {
        const m = readMap(args, "args");
        return { publicKey: readBytes(m.publicKey, "args.publicKey", 32, 65), roles: parseRoles(m.roles) };
      },
      handle(ctx, { publicKey, roles }) {
        if (publicKey.length !== ctx.suite.publicKeyLength)
          throw new RejectedError(
            "MEMBERSHIP_BAD_KEY",
            `publicKey must be a ${ctx.suite.publicKeyLength}-byte ${ctx.suite.id} key`,
          );
        const address = addressOf(ctx.suite, publicKey);
        if (ctx.state.get(accountKey(address)))
          throw new RejectedError("MEMBERSHIP_EXISTS", `account ${toHex(address)} is already enrolled`);
        const org = ctx.sender.org;
        ctx.state.set(
          accountKey(address),
          encodeAccount({ address, publicKey, org, roles, status: "active", enrolledAt: ctx.height }),
        );
        ctx.emit("enrolled", { address, org, roles });
      },
    }),
    setRoles: defineCall<{ address: Uint8Array; roles: Role[] }>({
      roles: ["admin"],
      summary: "Replace the roles of an account of the sender's organization",
      parse(args) {
        const m = readMap(args, "args");
        return { address: parseAddress(m.address, "args.address"), roles: parseRoles(m.roles) };
      },
      handle(ctx, { address, roles }) {
        const acct = readAccount(ctx.state, address);
        if (!acct) throw new RejectedError("MEMBERSHIP_NOT_FOUND", `no account ${toHex(address)}`);
        if (acct.org !== ctx.sender.org)
          throw new RejectedError(
            "AUTH_WRONG_ORG",
            `account belongs to "${acct.org}"; the sender administers "${ctx.sender.org}"`,
          );
        ctx.state.set(accountKey(address), encodeAccount({ ...acct, roles }));
        ctx.emit("rolesChanged", { address, org: acct.org, roles });
      },
    }),
    setStatus: defineCall<{ address: Uint8Array; status: "active" | "suspended" }>({
      roles: ["admin"],
      summary: "Suspend or reactivate an account of the sender's organization",
      parse(args) {
        const m = readMap(args, "args");
        if (m.status !== "active" && m.status !== "suspended")
          throw new InvalidInputError("MEMBERSHIP_BAD_STATUS", "status must be active or suspended");
        return { address: parseAddress(m.address, "args.address"), status: m.status };
      },
      handle(ctx, { address, status }) {
        const acct = readAccount(ctx.state, address);
        if (!acct) throw new RejectedError("MEMBERSHIP_NOT_FOUND", `no account ${toHex(address)}`);
        if (acct.org !== ctx.sender.org)
          throw new RejectedError(
            "AUTH_WRONG_ORG",
            `account belongs to "${acct.org}"; the sender administers "${ctx.sender.org}"`,
          );
        if (address.every((b, i) => b === ctx.sender.address[i]))
          throw new RejectedError("MEMBERSHIP_SELF", "an admin cannot change its own status");
        ctx.state.set(accountKey(address), encodeAccount({ ...acct, status }));
        ctx.emit("statusChanged", { address, org: acct.org, status });
      },
    }),
  },
  queries: {
    account: defineQuery<{ address: Uint8Array }>({
      summary: "An account's organization, roles and status",
      parse(p) {
        const address = fromHexOrUndefined(p.address ?? "");
        if (!address || address.length !== 20)
          throw new InvalidInputError("QUERY_BAD_PARAM", "address: 40 hex characters");
        return { address };
      },
      run(ctx, { address }) {
        const raw = ctx.state.get(accountKey(address));
        return raw ? decodeAccount(raw) : null;
      },
    }),
    org: defineQuery<{ id: string }>({
      summary: "A member organization",
      parse(p) {
        if (typeof p.id !== "string" || p.id.length > 32)
          throw new InvalidInputError("QUERY_BAD_PARAM", "id: organization id");
        return { id: p.id };
      },
      run(ctx, { id }) {
        return readOrg(ctx.state, id) ?? null;
      },
    }),
  },
};
