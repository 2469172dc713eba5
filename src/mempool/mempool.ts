/**
 * The mempool: transactions admitted but not yet committed.
 *
 * Admission (in this order, cheapest first): size and chain, de-duplication, capacity
 * (back-pressure: a full pool answers MEMPOOL_FULL instead of growing), the execution layer's
 * admission rules against the latest committed state (sender enrolled and active, organization
 * active, nonce not used and at most `maxNonceGap` ahead, expiry, known call), the sender's role
 * for the call where it is knowable now, and the signature (verified in worker threads, batched).
 *
 * Ordering: per sender by nonce; senders in order of arrival. `reap` returns only runs of
 * consecutive nonces starting at each sender's next nonce, so a block never holds a gap.
 */
import { BusyError, RejectedError, type ZlError } from "../errors/index.js";
import { hasAnyRole, readNonce } from "../execution/accounts.js";
import { checkAdmission, type ModuleRegistry } from "../execution/engine.js";
import type { BlockContext } from "../execution/module.js";
import type { StateReader } from "../execution/state-view.js";
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
  maxNonceGap: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = {
  maxTxs: 200_000,
  maxBytes: 256 * 1024 * 1024,
  maxNonceGap: 1_000,
};

export type SignatureChecker = (txs: DecodedTx[]) => Promise<boolean[]>;

/** One account's pending transactions: nonces are per account, so queues are keyed by its address (hex). */
interface SenderQueue {
  /** Next nonce expected by committed state. */
  next: number;
  byNonce: Map<number, DecodedTx>;
}

export type AddResult = { ok: true; id: Uint8Array } | { ok: false; id: Uint8Array | null; error: ZlError };

export class Mempool {
  private readonly byId = new Map<string, DecodedTx>();
  private readonly senders = new Map<string, SenderQueue>();
  private bytes = 0;
  /** Admitted but still awaiting signature checks: counted toward capacity. */
  private inFlight = 0;
  private inFlightBytes = 0;

  constructor(
    private readonly registry: ModuleRegistry,
    private readonly checkSignatures: SignatureChecker,
    private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  has(id: Uint8Array): boolean {
    return this.byId.has(toHex(id));
  }

  /**
   * The admitted transaction with exactly these signed bytes, if it is here: its signature was
   * checked and it was decoded at admission, so a proposed block's copy needs neither again. The
   * id alone is not enough, since it excludes the signature.
   */
  heldTx(id: string, bytes: Uint8Array): DecodedTx | undefined {
    const held = this.byId.get(id);
    if (!held || held.bytes.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (held.bytes[i] !== bytes[i]) return undefined;
    return held;
  }

  /**
   * Admits a batch. `state` is the latest committed state and `ctx` the context of the next block.
   * Results are in input order; one bad transaction does not affect the others.
   */
  async add(txs: DecodedTx[], state: StateReader, ctx: BlockContext): Promise<AddResult[]> {
    const results: AddResult[] = new Array(txs.length);
    const pending: number[] = [];
    let pendingBytes = 0;
    const seen = new Set<string>();
    for (let i = 0; i < txs.length; i++) {
      const dtx = txs[i]!;
      const idHex = dtx.idHex;
      try {
        if (this.byId.has(idHex) || seen.has(idHex))
          throw new RejectedError("TX_DUPLICATE", "this transaction is already in the mempool");
        if (
          this.byId.size + this.inFlight + pending.length >= this.limits.maxTxs ||
          this.bytes + this.inFlightBytes + pendingBytes + dtx.bytes.length > this.limits.maxBytes
        )
          throw new BusyError("MEMPOOL_FULL", "the mempool is full; retry after the next block");
        const { account, call } = checkAdmission(state, ctx, this.registry, dtx, {
          maxNonceGap: this.limits.maxNonceGap,
        });
        if (!hasAnyRole(account, call.roles))
          throw new RejectedError(
            "AUTH_ROLE_REQUIRED",
            `${dtx.tx.body.module}.${dtx.tx.body.call} requires one of: ${(call.roles as string[]).join(", ")}`,
          );
        seen.add(idHex);
        pending.push(i);
        pendingBytes += dtx.bytes.length;
      } catch (err: unknown) {
        results[i] = { ok: false, id: dtx.id, error: err as ZlError };
        if (!(err instanceof RejectedError || err instanceof BusyError)) throw err;
      }
    }
    this.inFlight += pending.length;
    this.inFlightBytes += pendingBytes;
    let valid: boolean[];
    try {
      valid = await this.checkSignatures(pending.map((i) => txs[i]!));
    } finally {
      this.inFlight -= pending.length;
      this.inFlightBytes -= pendingBytes;
    }
    for (let k = 0; k < pending.length; k++) {
      const i = pending[k]!;
      const dtx = txs[i]!;
      if (!valid[k]) {
        results[i] = {
          ok: false,
          id: dtx.id,
          error: new RejectedError(
            "TX_BAD_SIGNATURE",
            "the signature does not verify against the sender key",
          ),
        };
        continue;
      }
      results[i] = this.insert(dtx, state);
    }
    return results;
  }

  private insert(dtx: DecodedTx, state: StateReader): AddResult {
    const idHex = dtx.idHex;
    if (this.byId.has(idHex))
      return {
        ok: false,
        id: dtx.id,
        error: new RejectedError("TX_DUPLICATE", "this transaction is already in the mempool"),
      };
    const addressHex = dtx.addressHex;
    let q = this.senders.get(addressHex);
    if (!q) {
      q = { next: readNonce(state, addressHex), byNonce: new Map() };
      this.senders.set(addressHex, q);
    }
    const nonce = dtx.tx.body.nonce;
    if (nonce < q.next)
      return {
        ok: false,
        id: dtx.id,
        error: new RejectedError("TX_NONCE_USED", `nonce ${nonce} already used; next is ${q.next}`),
      };
    if (q.byNonce.has(nonce))
      return {
        ok: false,
        id: dtx.id,
        error: new RejectedError(
          "TX_NONCE_PENDING",
          `another transaction with nonce ${nonce} is pending for this sender`,
        ),
      };
    q.byNonce.set(nonce, dtx);
    this.byId.set(idHex, dtx);
    this.bytes += dtx.bytes.length;
    return { ok: true, id: dtx.id };
  }

  /** Candidates for the next block: consecutive nonces per sender, within the limits. */
  reap(maxTxs: number, maxBytes: number): DecodedTx[] {
    const out: DecodedTx[] = [];
    let bytes = 0;
    for (const q of this.senders.values()) {
      for (let n = q.next; ; n++) {
        const dtx = q.byNonce.get(n);
        if (!dtx) break;
        if (out.length >= maxTxs || bytes + dtx.bytes.length > maxBytes) return out;
        out.push(dtx);
        bytes += dtx.bytes.length;
      }
    }
    return out;
  }

  /**
   * After a block commits: drop its transactions, advance the senders' nonces, and drop what
   * can no longer be included (used nonces, expired).
   */
  onCommitted(included: readonly DecodedTx[], nextHeight: number, state: StateReader): void {
    const touched = new Set<string>();
    for (const dtx of included) {
      this.remove(dtx);
      touched.add(dtx.addressHex);
    }
    for (const addressHex of touched) {
      const q = this.senders.get(addressHex);
      if (!q) continue;
      // Only nonces in [old next, new next) can have become used: a nonce below the old next was
      // refused at insert or dropped by an earlier block. Walking that range instead of the
      // sender's whole queue keeps a block's cost proportional to the block, not to the pool.
      const before = q.next;
      q.next = readNonce(state, addressHex);
      for (let nonce = before; nonce < q.next; nonce++) {
        const dtx = q.byNonce.get(nonce);
        if (dtx !== undefined) this.remove(dtx);
      }
      if (q.byNonce.size === 0) this.senders.delete(addressHex);
    }
    if (nextHeight % 16 === 0) this.dropExpired(nextHeight);
  }

  /** Removes transactions that a block builder found inadmissible (e.g. expired, nonce used). */
  evict(txs: ReadonlyArray<{ tx: DecodedTx; error: ZlError }>): void {
    for (const { tx, error } of txs) if (error.code !== "TX_NONCE_GAP") this.remove(tx);
  }

  private dropExpired(height: number): void {
    for (const dtx of this.byId.values()) if (dtx.tx.body.expiry < height) this.remove(dtx);
  }

  private remove(dtx: DecodedTx): void {
    if (!this.byId.delete(dtx.idHex)) return;
    this.bytes -= dtx.bytes.length;
    const q = this.senders.get(dtx.addressHex);
    if (q) {
      q.byNonce.delete(dtx.tx.body.nonce);
      if (q.byNonce.size === 0) this.senders.delete(dtx.addressHex);
    }
  }
}
