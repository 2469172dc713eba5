/**
 * The state as execution sees it: synchronous reads, buffered writes. Execution is a pure
 * function of (state before, block) — it reads through a `StateReader` and records every write
 * in an overlay; nothing touches storage until the block commits.
 */
import { latin1String, utf8 } from "../ledger/bytes.js";

export interface StateReader {
  /**
   * The value of `key`, if any. A caller that has `latin1String(key)` at hand passes it as
   * `keyString`, so that a reader keyed by strings (an overlay, a cache) need not convert again.
   */
  get(key: Uint8Array, keyString?: string): Uint8Array | undefined;
}

/** Keys are held as latin1 strings internally (`latin1String`, cheap and collision-free); back to bytes. */
export const keyBytes = (k: string): Uint8Array => new Uint8Array(Buffer.from(k, "latin1"));

export class Overlay implements StateReader {
  private readonly writes = new Map<string, Uint8Array | null>();
  /**
   * While a transaction runs (`begin`): each write's key and the value it replaced (undefined:
   * none), so that a failed transaction's writes can be taken back without an overlay of its own.
   */
  private undo: Array<[string, Uint8Array | null | undefined]> | undefined;
  constructor(private readonly base: StateReader) {}

  get(key: Uint8Array, keyString = latin1String(key)): Uint8Array | undefined {
    const w = this.writes.get(keyString);
    if (w !== undefined) return w ?? undefined;
    return this.base.get(key, keyString);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.write(latin1String(key), value);
  }

  delete(key: Uint8Array): void {
    this.write(latin1String(key), null);
  }

  private write(k: string, value: Uint8Array | null): void {
    if (this.undo !== undefined) this.undo.push([k, this.writes.get(k)]);
    this.writes.set(k, value);
  }

  /** Starts recording the writes that follow, so that `revert` can take them back. */
  begin(): void {
    this.undo = [];
  }

  /** Keeps the writes made since `begin`. */
  keep(): void {
    this.undo = undefined;
  }

  /** Takes back the writes made since `begin`, newest first: the state is as it was then. */
  revert(): void {
    const undo = this.undo;
    this.undo = undefined;
    if (undo === undefined) return;
    for (let i = undo.length - 1; i >= 0; i--) {
      const [k, previous] = undo[i]!;
      if (previous === undefined) this.writes.delete(k);
      else this.writes.set(k, previous);
    }
  }

  /** Moves this overlay's writes into `parent` (a transaction's writes into the block's). */
  mergeInto(parent: Overlay): void {
    // Through `write`, so that a transaction running on `parent` can still take them back.
    for (const [k, v] of this.writes) parent.write(k, v);
  }

  get size(): number {
    return this.writes.size;
  }

  changes(): Array<{ key: Uint8Array; value: Uint8Array | null }> {
    return [...this.writes].map(([k, v]) => ({ key: keyBytes(k), value: v }));
  }
}

export const stateKey = (...parts: string[]): Uint8Array => utf8(parts.join("/"));
