/** In-process notifications of committed blocks, for subscribers and commit waiters. */
import type { Block, Receipt } from "../ledger/block.js";
import { toHex } from "../ledger/bytes.js";

export interface CommittedBlock {
  height: number;
  hash: Uint8Array;
  block: Block;
  receipts: Receipt[];
  txIds: Uint8Array[];
}

type Listener = (b: CommittedBlock) => void;

export interface TxOutcome {
  height: number;
  index: number;
  receipt: Receipt;
}

export class CommitBus {
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Map<string, Array<(o: TxOutcome) => void>>();
  private readonly heightWaiters = new Set<{ height: number; done: (reached: boolean) => void }>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Resolves when the transaction commits, or with null after `timeoutMs`. */
  waitForTx(txId: Uint8Array, timeoutMs: number): Promise<TxOutcome | null> {
    const key = toHex(txId);
    return new Promise((resolve) => {
      const done = (o: TxOutcome | null) => {
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(key);
        if (list) {
          const rest = list.filter((f) => f !== done);
          if (rest.length) this.waiters.set(key, rest);
          else this.waiters.delete(key);
        }
        resolve(null);
      }, timeoutMs);
      const list = this.waiters.get(key) ?? [];
      list.push(done);
      this.waiters.set(key, list);
    });
  }

  /**
   * Resolves true once a block at `height` or above is published, or false after `timeoutMs`.
   * The caller checks its current height first: the bus only sees blocks published from now on.
   */
  waitForHeight(height: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        height,
        done: (reached: boolean) => {
          clearTimeout(timer);
          this.heightWaiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.heightWaiters.add(waiter);
    });
  }

  publish(b: CommittedBlock): void {
    for (const w of this.heightWaiters) if (w.height <= b.height) w.done(true);
    if (this.waiters.size > 0) {
      for (let i = 0; i < b.txIds.length; i++) {
        const key = toHex(b.txIds[i]!);
        const list = this.waiters.get(key);
        if (!list) continue;
        this.waiters.delete(key);
        for (const f of list) f({ height: b.height, index: i, receipt: b.receipts[i]! });
      }
    }
    for (const l of this.listeners) l(b);
  }
}
