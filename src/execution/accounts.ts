/**
 * Accounts, organizations and roles as they live in state. These records are the source of
 * truth for authorization: every transaction is checked against them at execution.
 *
 *   orgs              → [orgId…] every organization ever admitted, in admission order
 *   org/<orgId>       → {id, name, code, rootPublicKey, status: active|suspended|removed}
 *   acct/<address>    → {publicKey, org, roles, status, enrolledAt}
 *   nonce/<address>   → next nonce (uint)
 *
 * Only an active organization's accounts may transact (admission: AUTH_ORG_INACTIVE). An
 * organization removed by governance keeps its record and id, which are never reused.
 */
import { type CborValue, decode, encode } from "../codec/cbor.js";
import { RejectedError } from "../errors/index.js";
import { latin1String, toHex } from "../ledger/bytes.js";
import { readArray, readBytes, readMap, readText, readUint } from "../ledger/shape.js";
import { type StateReader, stateKey } from "./state-view.js";

export const ROLES = ["admin", "issuer", "official", "approver", "supervisor", "holder"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === "string" && (ROLES as readonly string[]).includes(v);
}

export type Status = "active" | "suspended";
export type OrgStatus = Status | "removed";

export interface Organization {
  id: string;
  name: string;
  /** Unified social credit code (统一社会信用代码) of the department. */
  code: string;
  rootPublicKey: Uint8Array;
  status: OrgStatus;
}

export interface Account {
  address: Uint8Array;
  publicKey: Uint8Array;
  org: string;
  roles: Role[];
  status: Status;
  enrolledAt: number;
}

export { ORG_ID_PATTERN } from "../ledger/genesis.js";

export const orgKey = (id: string) => stateKey("org", id);

/**
 * Every transaction's admission reads its sender's organization: the few organizations' keys are
 * built once, with the string form that readers key by, instead of per read.
 */
const orgKeys = new Map<string, { key: Uint8Array; keyString: string }>();
const MAX_CACHED_ORG_KEYS = 4096;
function cachedOrgKey(id: string): { key: Uint8Array; keyString: string } {
  let k = orgKeys.get(id);
  if (k === undefined) {
    const key = orgKey(id);
    k = { key, keyString: latin1String(key) };
    if (orgKeys.size < MAX_CACHED_ORG_KEYS) orgKeys.set(id, k);
  }
  return k;
}
/** An address as its bytes, or as the lowercase hex a decoded transaction already carries. */
export type AddressRef = Uint8Array | string;
const addressHex = (a: AddressRef): string => (typeof a === "string" ? a : toHex(a));
export const accountKey = (address: AddressRef) => stateKey("acct", addressHex(address));
export const nonceKey = (address: AddressRef) => stateKey("nonce", addressHex(address));

export function encodeOrg(o: Organization): Uint8Array {
  return encode({ id: o.id, name: o.name, code: o.code, rootPublicKey: o.rootPublicKey, status: o.status });
}

export function decodeOrg(bytes: Uint8Array): Organization {
  const m = readMap(decode(bytes), "org");
  return {
    id: readText(m.id, "org.id", 32),
    name: readText(m.name, "org.name", 128),
    code: readText(m.code, "org.code", 18),
    rootPublicKey: readBytes(m.rootPublicKey, "org.rootPublicKey"),
    status: readText(m.status, "org.status", 16) as OrgStatus,
  };
}

export const ORGS_KEY = stateKey("orgs");

export const encodeOrgIds = (ids: readonly string[]): Uint8Array => encode([...ids]);

/** Every organization ever admitted (active or not), in admission order. */
export function readOrgIds(state: StateReader): string[] {
  const raw = state.get(ORGS_KEY);
  if (!raw) return [];
  return readArray(decode(raw), "orgs").map((id) => readText(id, "orgs[]", 32));
}

/** The organizations that are members now: those whose record says active. */
export function activeOrgIds(state: StateReader): string[] {
  return readOrgIds(state).filter((id) => readOrg(state, id)?.status === "active");
}

export function encodeAccount(a: Account): Uint8Array {
  return encode({
    address: a.address,
    publicKey: a.publicKey,
    org: a.org,
    roles: a.roles,
    status: a.status,
    enrolledAt: a.enrolledAt,
  });
}

export function decodeAccount(bytes: Uint8Array): Account {
  const m = readMap(decode(bytes), "account");
  return {
    address: readBytes(m.address, "account.address", 20, 20),
    publicKey: readBytes(m.publicKey, "account.publicKey"),
    org: readText(m.org, "account.org", 32),
    roles: readArray(m.roles, "account.roles").map((r) => readText(r, "account.role", 16) as Role),
    status: readText(m.status, "account.status", 16) as Status,
    enrolledAt: readUint(m.enrolledAt, "account.enrolledAt"),
  };
}

/**
 * Decoded records keyed by the identity of their (immutable) encoded bytes: the store hands out
 * the same byte array for repeated reads of an unchanged value, so every transaction of a busy
 * sender does not decode its account again. A changed value is a new array, so a new entry.
 */
const decodedAccounts = new WeakMap<Uint8Array, Account>();
const decodedOrgs = new WeakMap<Uint8Array, Organization>();

export function readAccount(state: StateReader, address: AddressRef): Account | undefined {
  const raw = state.get(accountKey(address));
  if (!raw) return undefined;
  let account = decodedAccounts.get(raw);
  if (!account) {
    account = Object.freeze(decodeAccount(raw));
    decodedAccounts.set(raw, account);
  }
  return account;
}

export function readOrg(state: StateReader, id: string): Organization | undefined {
  const { key, keyString } = cachedOrgKey(id);
  const raw = state.get(key, keyString);
  if (!raw) return undefined;
  let org = decodedOrgs.get(raw);
  if (!org) {
    org = Object.freeze(decodeOrg(raw));
    decodedOrgs.set(raw, org);
  }
  return org;
}

export function readNonce(state: StateReader, address: AddressRef): number {
  const raw = state.get(nonceKey(address));
  return raw ? (decode(raw) as number) : 0;
}

export const encodeNonce = (n: number): Uint8Array => encode(n);

export function hasAnyRole(account: Account, roles: readonly Role[] | "any"): boolean {
  return roles === "any" || account.roles.some((r) => roles.includes(r));
}

export function requireRole(account: Account, roles: readonly Role[], what: string): void {
  if (!hasAnyRole(account, roles))
    throw new RejectedError("AUTH_ROLE_REQUIRED", `${what} requires one of the roles ${roles.join(", ")}`, {
      have: account.roles as CborValue,
    });
}
