/**
 * The state transition. `executeBlock` is a pure function of (state before, block context,
 * transactions): it returns the receipts and the buffered state changes, and performs no I/O.
 *
 * For each transaction, in block order:
 *  1. admission rules (`checkAdmission`): chain id, expiry, sender enrolled and active, its
 *     organization active, nonce equal to the sender's next nonce, module and call known.
 *     A transaction failing these cannot be in a valid block; the block builder leaves it out.
 *  2. the sender's nonce advances — whatever the outcome, so a failed transaction cannot be replayed.
 *  3. authorization: the sender holds one of the call's roles; otherwise receipt AUTH_ROLE_REQUIRED.
 *  4. arguments are parsed by the call's schema, then the handler runs against the block's
 *     overlay, which records what each write replaces; if it throws a coded error, its writes are
 *     taken back, its events discarded, and the receipt records the code.
 *
 * After the last transaction, each module's `endBlock` hook runs, in registry order, on the same
 * block overlay (its writes are part of the block's state changes); its events are listed in
 * `BlockResult.endBlockEvents`, since they belong to no transaction.
 */
import type { CborValue } from "../codec/cbor.js";
import { RejectedError, ZlError } from "../errors/index.js";
import { type Event, type Receipt, TX_FAILED, TX_OK } from "../ledger/block.js";
import type { DecodedTx } from "../ledger/tx.js";
import {
  type Account,
  encodeNonce,
  hasAnyRole,
  nonceKey,
  readAccount,
  readNonce,
  readOrg,
} from "./accounts.js";
import type { BlockContext, CallDef, EndBlockContext, Module, TxContext } from "./module.js";
import { Overlay, type StateReader } from "./state-view.js";

export class ModuleRegistry {
  private readonly modules = new Map<string, Module>();
  /** The modules with an end-of-block hook, in registry order (computed once). */
  readonly withEndBlock: readonly Module[];
  constructor(modules: Module[]) {
    for (const m of modules) this.modules.set(m.name, m);
    this.withEndBlock = [...this.modules.values()].filter((m) => m.endBlock !== undefined);
  }
  /** Whether any module has end-of-block work scheduled for block `height`. */
  workDue(state: StateReader, height: number): boolean {
    return this.withEndBlock.some((m) => m.workDue?.(state, height) === true);
  }
  call(module: string, call: string): CallDef<never> | undefined {
    const m = this.modules.get(module);
    return m && Object.hasOwn(m.calls, call) ? m.calls[call] : undefined;
  }
  module(name: string): Module | undefined {
    return this.modules.get(name);
  }
  list(): Module[] {
    return [...this.modules.values()];
  }
}

export interface Admission {
  account: Account;
  call: CallDef<never>;
  nonce: number;
}

export interface AdmissionOptions {
  /** Accept nonces ahead of the next one, up to this gap (the mempool queues them). */
  maxNonceGap?: number;
}

export function checkAdmission(
  state: StateReader,
  ctx: BlockContext,
  registry: ModuleRegistry,
  dtx: DecodedTx,
  opts: AdmissionOptions = {},
): Admission {
  const { body } = dtx.tx;
  if (body.chainId !== ctx.chainId)
    throw new RejectedError(
      "TX_WRONG_CHAIN",
      `transaction is for chain "${body.chainId}", this is "${ctx.chainId}"`,
    );
  if (body.expiry < ctx.height)
    throw new RejectedError(
      "TX_EXPIRED",
      `transaction expired at height ${body.expiry}; the chain is at ${ctx.height}`,
    );
  if (body.sender.length !== ctx.suite.publicKeyLength)
    throw new RejectedError(
      "TX_BAD_SENDER",
      `sender must be a ${ctx.suite.publicKeyLength}-byte ${ctx.suite.id} public key`,
    );
  const account = readAccount(state, dtx.addressHex);
  if (!account)
    throw new RejectedError(
      "AUTH_UNKNOWN_ACCOUNT",
      "sender is not an enrolled account of any member organization",
    );
  if (account.status !== "active")
    throw new RejectedError("AUTH_ACCOUNT_SUSPENDED", "sender account is suspended");
  const org = readOrg(state, account.org);
  if (!org || org.status !== "active")
    throw new RejectedError(
      "AUTH_ORG_INACTIVE",
      `sender's organization "${account.org}" is not an active member`,
    );
  const next = readNonce(state, dtx.addressHex);
  const gap = opts.maxNonceGap ?? 0;
  if (body.nonce < next)
    throw new RejectedError("TX_NONCE_USED", `nonce ${body.nonce} already used; next is ${next}`, { next });
  if (body.nonce > next + gap)
    throw new RejectedError("TX_NONCE_GAP", `nonce ${body.nonce} is ahead of the next nonce ${next}`, {
      next,
    });
  const call = registry.call(body.module, body.call);
  if (!call) throw new RejectedError("TX_UNKNOWN_CALL", `no call ${body.module}.${body.call}`);
  return { account, call, nonce: next };
}

export interface BlockResult {
  receipts: Receipt[];
  included: DecodedTx[];
  excluded: Array<{ tx: DecodedTx; error: ZlError }>;
  state: Overlay;
  /** Events of the modules' end-of-block hooks, in the order emitted. */
  endBlockEvents: Event[];
}

/** Executes one admitted transaction into `block`; returns its receipt. */
export function executeTx(block: Overlay, ctx: BlockContext, admission: Admission, dtx: DecodedTx): Receipt {
  const { account, call } = admission;
  block.set(nonceKey(dtx.addressHex), encodeNonce(admission.nonce + 1));
  const events: Event[] = [];
  const moduleName = dtx.tx.body.module;
  // The handler writes into the block's overlay; a coded error takes its writes back.
  block.begin();
  try {
    if (!hasAnyRole(account, call.roles))
      throw new RejectedError(
        "AUTH_ROLE_REQUIRED",
        `${moduleName}.${dtx.tx.body.call} requires one of: ${(call.roles as string[]).join(", ")}`,
      );
    const args = call.parse(dtx.tx.body.args);
    const txCtx: TxContext = {
      chainId: ctx.chainId,
      height: ctx.height,
      time: ctx.time,
      suite: ctx.suite,
      params: ctx.params,
      txId: dtx.id,
      sender: account,
      state: block,
      emit: (type: string, attributes: { [key: string]: CborValue }) =>
        events.push({ module: moduleName, type, attributes }),
    };
    call.handle(txCtx, args as never);
  } catch (err: unknown) {
    block.revert();
    // Only coded errors are outcomes of the protocol; anything else is a bug and must halt the node.
    if (!(err instanceof ZlError)) throw err;
    return { txId: dtx.id, status: TX_FAILED, code: err.code, events: [] };
  }
  block.keep();
  return { txId: dtx.id, status: TX_OK, code: "OK", events };
}

/**
 * Executes candidate transactions in order. With `strict` (validating a proposed block), a
 * transaction that fails admission is an error; otherwise (building a block) it is left out.
 */
export function executeBlock(
  base: StateReader,
  ctx: BlockContext,
  registry: ModuleRegistry,
  txs: readonly DecodedTx[],
  strict = false,
): BlockResult {
  const state = new Overlay(base);
  const receipts: Receipt[] = [];
  const included: DecodedTx[] = [];
  const excluded: BlockResult["excluded"] = [];
  for (const dtx of txs) {
    let admission: Admission;
    try {
      admission = checkAdmission(state, ctx, registry, dtx);
    } catch (err: unknown) {
      if (!(err instanceof ZlError) || strict) throw err;
      excluded.push({ tx: dtx, error: err });
      continue;
    }
    receipts.push(executeTx(state, ctx, admission, dtx));
    included.push(dtx);
  }
  const endBlockEvents = runEndBlock(state, ctx, registry);
  return { receipts, included, excluded, state, endBlockEvents };
}

/**
 * Runs every module's end-of-block hook on the block overlay. A hook reports protocol outcomes
 * as events, never by throwing: whatever it throws (coded or not) propagates and halts the node.
 */
function runEndBlock(state: Overlay, ctx: BlockContext, registry: ModuleRegistry): Event[] {
  const events: Event[] = [];
  for (const m of registry.withEndBlock) {
    const hookCtx: EndBlockContext = {
      ...ctx,
      state,
      emit: (type: string, attributes: { [key: string]: CborValue }) =>
        events.push({ module: m.name, type, attributes }),
    };
    m.endBlock?.(hookCtx);
  }
  return events;
}
