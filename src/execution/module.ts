/**
 * The one interface through which execution reaches a module. A module is an explicit method
 * table: every call names the roles allowed to make it and parses (validates) its arguments
 * before the handler runs. Native system modules and, later, sandboxed contracts sit behind it.
 */
import type { CborValue } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import type { Event } from "../ledger/block.js";
import type { Account, Role } from "./accounts.js";
import type { Overlay, StateReader } from "./state-view.js";

export interface BlockContext {
  chainId: string;
  height: number;
  time: number;
  suite: CryptoSuite;
}

export interface TxContext extends BlockContext {
  txId: Uint8Array;
  sender: Account;
  state: Overlay;
  emit(type: string, attributes: { [key: string]: CborValue }): void;
}

export interface QueryContext {
  suite: CryptoSuite;
  state: StateReader;
}

export interface CallDef<A = unknown> {
  /** Roles any one of which allows the call; "any" lets every enrolled, active account call it. */
  roles: readonly Role[] | "any";
  /** Human-readable purpose, shown in the API's module listing. */
  summary: string;
  parse(args: CborValue): A;
  handle(ctx: TxContext, args: A): void;
}

export interface QueryDef<P = unknown> {
  summary: string;
  parse(params: Record<string, string>): P;
  run(ctx: QueryContext, params: P): unknown;
}

export interface Module {
  name: string;
  calls: Record<string, CallDef<never>>;
  queries: Record<string, QueryDef<never>>;
}

export function defineCall<A>(def: CallDef<A>): CallDef<never> {
  return def as unknown as CallDef<never>;
}

export function defineQuery<P>(def: QueryDef<P>): QueryDef<never> {
  return def as unknown as QueryDef<never>;
}

export type EventSink = (e: Event) => void;
