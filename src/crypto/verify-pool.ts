/**
 * Batch signature verification on a worker_threads pool.
 *
 * Every batch goes to the workers: in a node the calling (main) thread is the scarce one —
 * it executes blocks and serves the API — so even a single signature is verified off it.
 * Batches are split into at most one contiguous chunk per worker, of at least MIN_CHUNK items.
 * A chunk travels in a SharedArrayBuffer that carries the items one way and the results back
 * (verify-codec.ts), and the buffer is used again by later chunks: on the machines measured, a
 * fresh buffer per chunk (allocated, its pages first touched, transferred) cost the main thread
 * several times what the message itself does. If a worker dies, its pending chunks are rejected
 * with BusyError("CRYPTO_VERIFY_WORKER_DIED") and a replacement is spawned; the pool never hangs.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { BusyError, InvalidInputError } from "../errors/index.js";
import { getSuite } from "./index.js";
import type { CryptoSuite, SignatureItem, SuiteId } from "./suite.js";
import { packedSize, packInto } from "./verify-codec.js";

/** Batches smaller than this are verified on the calling thread (only the empty batch). */
export const INLINE_THRESHOLD = 1;
/**
 * Smallest chunk worth a worker round trip of its own. Each chunk costs the main thread a message
 * each way and a wake-up of a sleeping worker; 64 signatures take a worker 3–5 ms, so a smaller
 * batch is not worth splitting (measured in docs/performance.md, "Verifying threads' buffers").
 */
export const MIN_CHUNK = 64;
/** Smallest shared buffer allocated; sizes grow in powers of two from here. */
const MIN_BUFFER_BYTES = 64 * 1024;
/** Buffers larger than this are not kept for reuse (an unusually large batch). */
const MAX_KEPT_BUFFER_BYTES = 8 * 1024 * 1024;

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class VerifyPool {
  readonly suite: SuiteId;
  readonly threads: number;
  private readonly impl: CryptoSuite;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private rr = 0;
  private closed = false;
  /** Shared buffers of finished chunks, ready for the next ones. */
  private readonly spare: SharedArrayBuffer[] = [];

  constructor(suite: SuiteId, threads: number = availableParallelism()) {
    this.impl = getSuite(suite); // throws CRYPTO_UNKNOWN_SUITE
    this.suite = suite;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new InvalidInputError("CRYPTO_BAD_POOL_SIZE", "verify pool needs at least one thread", {
        threads,
      });
    }
    this.threads = threads;
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL("./verify-worker.js", import.meta.url), {
      workerData: { suite: this.suite },
    });
    worker.unref(); // only referenced while it has work (see dispatch)
    const slot: Slot = { worker, pending: new Map() };
    worker.on("message", (msg: { id: number }) => {
      const p = slot.pending.get(msg.id);
      if (p === undefined) return;
      slot.pending.delete(msg.id);
      if (slot.pending.size === 0) worker.unref();
      p.resolve();
    });
    const fail = (why: string) => {
      const idx = this.slots.indexOf(slot);
      if (idx < 0) return; // already replaced
      const err = new BusyError("CRYPTO_VERIFY_WORKER_DIED", `signature verification worker died: ${why}`, {
        suite: this.suite,
      });
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.closed) return;
      this.slots[idx] = this.spawn();
      void worker.terminate().catch(() => undefined);
    };
    worker.on("error", (e) => fail(e instanceof Error ? e.message : String(e)));
    worker.on("exit", (code) => fail(`exit code ${code}`));
    return slot;
  }

  /** Sends a packed chunk to a worker; resolves once its results are in `buf`. */
  private dispatch(slot: Slot, buf: SharedArrayBuffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, buf });
    });
  }

  /** A spare shared buffer of at least `size` bytes, or a new one. */
  private takeBuffer(size: number): SharedArrayBuffer {
    for (let i = 0; i < this.spare.length; i++) {
      const buf = this.spare[i] as SharedArrayBuffer;
      if (buf.byteLength >= size) {
        this.spare.splice(i, 1);
        return buf;
      }
    }
    let bytes = MIN_BUFFER_BYTES;
    while (bytes < size) bytes *= 2;
    return new SharedArrayBuffer(bytes);
  }

  /** Keeps a finished chunk's buffer, up to a few per thread; a chunk's worker is done with it. */
  private giveBack(buf: SharedArrayBuffer): void {
    if (buf.byteLength <= MAX_KEPT_BUFFER_BYTES && this.spare.length < 2 * this.threads + 2)
      this.spare.push(buf);
  }

  /** Verify many signatures; result i is true iff item i verifies. Never throws on bad items. */
  async verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]> {
    if (this.closed) throw new BusyError("CRYPTO_VERIFY_POOL_CLOSED", "verify pool is closed");
    const n = items.length;
    if (n < INLINE_THRESHOLD) {
      return items.map((it) => this.impl.verify(it.publicKey, it.message, it.signature));
    }
    const chunks = Math.min(this.slots.length, Math.ceil(n / MIN_CHUNK));
    const per = Math.ceil(n / chunks);
    const out: boolean[] = new Array(n);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < n; start += per) {
      const end = Math.min(n, start + per);
      const slot = this.slots[this.rr++ % this.slots.length] as Slot;
      const buf = this.takeBuffer(packedSize(items, start, end));
      const resultsAt = packInto(buf, items, start, end);
      jobs.push(
        this.dispatch(slot, buf).then(() => {
          const r = new Uint8Array(buf, resultsAt, end - start);
          for (let i = 0; i < r.length; i++) out[start + i] = r[i] === 1;
          this.giveBack(buf);
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  /** Test hook: make worker `index` exit abruptly (as a crash would). */
  crashWorkerForTesting(index = 0): void {
    this.slots[index]?.worker.postMessage({ id: 0, crash: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new BusyError("CRYPTO_VERIFY_POOL_CLOSED", "verify pool closed");
    const slots = this.slots.splice(0);
    for (const s of slots) {
      for (const p of s.pending.values()) p.reject(err);
      s.pending.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/**
 * Single-thread signatures verified per second on fresh keys and messages (every key is new,
 * so no key cache or per-key table helps: the cold worst case). Only verify time is counted.
 */
export function measureVerifyRate(suite: CryptoSuite, millis: number): number {
  const BATCH = 32;
  let verified = 0;
  let spent = 0;
  let seq = 0;
  while (spent < millis) {
    const batch: SignatureItem[] = [];
    for (let i = 0; i < BATCH; i++) {
      const kp = suite.generateKeyPair();
      const message = new TextEncoder().encode(`measureVerifyRate ${seq++} ${Math.random()}`);
      batch.push({ publicKey: kp.publicKey, message, signature: suite.sign(kp.privateKey, message) });
    }
    const t0 = performance.now();
    for (const it of batch) {
      if (!suite.verify(it.publicKey, it.message, it.signature))
        throw new Error("measureVerifyRate: self-check failed");
    }
    spent += performance.now() - t0;
    verified += BATCH;
  }
  return Math.round((verified * 1000) / spent);
}

/**
 * Single-thread signatures verified per second by a few known keys over fresh messages: the case
 * of a node whose senders are enrolled accounts, where parsed keys and per-key tables are cached.
 */
export function measureWarmVerifyRate(suite: CryptoSuite, millis: number): number {
  const keys = Array.from({ length: 16 }, () => suite.generateKeyPair());
  const items: SignatureItem[] = [];
  for (let i = 0; i < 256; i++) {
    const kp = keys[i % keys.length]!;
    const message = new TextEncoder().encode(`measureWarmVerifyRate ${i} ${Math.random()}`);
    items.push({ publicKey: kp.publicKey, message, signature: suite.sign(kp.privateKey, message) });
  }
  // One pass to fill the caches, then count.
  for (const it of items) suite.verify(it.publicKey, it.message, it.signature);
  let verified = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < millis) {
    for (const it of items) {
      if (!suite.verify(it.publicKey, it.message, it.signature))
        throw new Error("measureWarmVerifyRate: self-check failed");
    }
    verified += items.length;
  }
  return Math.round((verified * 1000) / (performance.now() - t0));
}
