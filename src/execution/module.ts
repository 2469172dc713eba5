/**
 * The one interface through which execution reaches a module. A module is an explicit method
 * table: every call names the roles allowed to make it and parses (validates) its arguments
 * before the handler runs. Native system modules and, later, sandboxed contracts sit behind it.
 */
import type { CborValue } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import type { Event } from "../ledger/block.js";
import { type ChainParams, DEFAULT_PARAMS } from "../ledger/genesis.js";
import type { Account, Role } from "./accounts.js";
import type { Overlay, StateReader } from "./state-view.js";

export interface BlockContext {
  chainId: string;
  height: number;
  time: number;
  suite: CryptoSuite;
  /**
   * The chain's parameters from genesis. Nodes must pass them; when absent (unit tests that
   * build a context by hand), modules use DEFAULT_PARAMS — see `chainParams`.
   */
  params?: ChainParams;
}

/** What a module's end-of-block hook sees: the block, its state overlay and an event sink. */
export interface EndBlockContext extends BlockContext {
  state: Overlay;
  emit(type: string, attributes: { [key: string]: CborValue }): void;
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
  /**
   * Runs once per block after its transactions, in registry order, writing to the block's
   * overlay. It must be deterministic and cheap when nothing is due (one state read, say). It
   * must not throw for a protocol outcome: anything thrown here is a bug and halts the node.
   */
  endBlock?(ctx: EndBlockContext): void;
  /**
   * Whether `endBlock` has work at the end of block `height` (state: the latest committed), so
   * that a chain with no transactions still produces that block (a scheduled validator change).
   */
  workDue?(state: StateReader, height: number): boolean;
}

/** The chain parameters in force for a block: those of genesis, or the defaults in tests. */
export function chainParams(ctx: BlockContext): ChainParams {
  return ctx.params ?? DEFAULT_PARAMS;
}

export function defineCall<A>(def: CallDef<A>): CallDef<never> {
  return def as unknown as CallDef<never>;
}

export function defineQuery<P>(def: QueryDef<P>): QueryDef<never> {
  return def as unknown as QueryDef<never>;
}

export type EventSink = (e: Event) => void;
