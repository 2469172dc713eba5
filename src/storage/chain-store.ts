/**
 * The node's durable store: LevelDB (classic-level), one database per node. Everything a block
 * brings — the block, its commit certificate, receipts, transaction index, its state changes and
 * the new head — is written in ONE atomic batch with sync, so a crash at any moment leaves either
 * the whole block or none of it.
 *
 * The state index (latest value per key) and the state trie's records are derived from the
 * blocks' change sets, and are written at checkpoints (ADR 0021): every `checkpointBlocks`
 * blocks, or sooner when the trie records waiting in memory reach `checkpointBytes`. Between
 * checkpoints they live in memory, so a record replaced a few blocks later is never written at
 * all. On open after a crash, `Chain.init` replays the change sets since the last checkpoint and
 * checks each state root against its header (`pendingHeights`, `changesAt`, `restoreBlock`).
 *
 * Key layout (one-byte prefixes; heights as u64 big-endian so they sort numerically):
 *   'H'                     → head: encode([height, blockHash, stateRoot, rootNodeKey|null, time])
 *   'G'                     → genesis hash
 *   'F'                     → storage format (u8), written with genesis: STORAGE_FORMAT
 *   'W'                     → checkpoint height (u64): state index and trie are on disk up to it
 *   'b' height              → block (canonical CBOR)
 *   'c' height              → commit certificate
 *   'r' height              → receipts: encode([receipt...])
 *   't' txId                → encode([height, index])
 *   'd' height              → the block's state changes: encode([[key, value|null]...]), for a
 *                             block that is not a checkpoint
 *   's' key                 → value of a state key at the checkpoint
 *   'n' nodeKey             → state-trie node
 *   'z' checkpoint          → encode([nodeKey...]): nodes of the previous checkpoint's tree that
 *                             the blocks up to this checkpoint replaced
 *   'R' checkpoint          → trie root node key at that checkpoint (empty value = empty tree)
 *   'P'                     → oldest height whose state is still provable (after pruning)
 */
import { ClassicLevel } from "classic-level";
import { allocOffHeap, offHeap } from "../codec/alloc.js";
import { decode, encode } from "../codec/cbor.js";
import { FatalError } from "../errors/index.js";
import { latin1String, readU64be, u64be } from "../ledger/bytes.js";
import { nodeKeyVersion } from "../state/node.js";
import { KeyFilter } from "./key-filter.js";
import { Lru } from "./lru.js";

type Bytes = Uint8Array;

/** What filling a block's write needs: records to put and to delete. */
interface RecordWriter {
  put(key: Bytes, value: Bytes): void;
  del(key: Bytes): void;
}

/**
 * A chained batch driven through abstract-level's implementation interface (`_put`, `_del`,
 * `_clear`, `_write`), which classic-level 3 implements as direct calls into its native batch.
 * Used that way, one native batch serves block after block: its buffer keeps its capacity, where a
 * new batch per block would grow a new buffer into fresh memory and free it only when V8 collects
 * the JavaScript object (ADR 0006, "One write batch, reused").
 */
interface ReusableBatch {
  _put(key: Bytes, value: Bytes): void;
  _del(key: Bytes): void;
  _clear(): void;
  _write(options: { sync: boolean }): Promise<void>;
}

export interface Head {
  height: number;
  blockHash: Bytes;
  stateRoot: Bytes;
  rootNodeKey: Bytes | null;
  time: number;
}

export interface BlockWrite {
  height: number;
  blockBytes: Bytes;
  commitBytes: Bytes;
  receiptsBytes: Bytes;
  txIds: Bytes[];
  changes: Array<{ key: Bytes; value: Bytes | null }>;
  newNodes: Array<[Bytes, Bytes]>;
  staleNodeKeys: Bytes[];
  head: Head;
}

const P = (c: string) => new Uint8Array([c.charCodeAt(0)]);
const HEAD = P("H");
const GENESIS = P("G");
const FORMAT = P("F");
const CHECKPOINT = P("W");
const EMPTY = new Uint8Array(0);

/**
 * The layout of the records above. 3: the state index and trie are written at checkpoints, and
 * each block stores its change set ('d', 'W'; ADR 0021). 2: state-trie nodes are pages of four
 * binary levels (ADR 0019); a store of format 2 opens as format 3 whose checkpoint is its head.
 * A store of format 1 (binary trie records, no 'F' record) cannot be read by this code.
 */
export const STORAGE_FORMAT = 3;
const UPGRADABLE_FORMATS: readonly number[] = [2];

export interface StoreOptions {
  /** Write the state index and the trie at least every this many blocks (1: with every block). */
  checkpointBlocks: number;
  /** ... or as soon as the trie records held in memory since the last checkpoint reach this. */
  checkpointBytes: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  checkpointBlocks: 32,
  checkpointBytes: 4 * 1024 * 1024,
};

/** A record key: one prefix byte, then `part` (a height, a transaction id, a state or node key). */
function key(prefix: string, part?: Bytes): Bytes {
  if (part === undefined) return P(prefix);
  const out = allocOffHeap(1 + part.length);
  out[0] = prefix.charCodeAt(0);
  out.set(part, 1);
  return out;
}

export class ChainStore {
  private readonly db: ClassicLevel<Uint8Array, Uint8Array>;
  private readonly opts: StoreOptions;
  private readonly nodeCache = new Lru<string, Bytes>(200_000);
  private readonly valueCache = new Lru<string, Bytes | null>(100_000);
  private headCache: Head | undefined;
  /** The native batch between writes; taken while a write is in flight, so writes never share one. */
  private spareBatch: ReusableBatch | undefined;
  /** Height up to which the state index and the trie are on disk ('W'). */
  private checkpointHeight = 0;
  /** Since the checkpoint: the latest value of every changed key (null: deleted), by latin1 key. */
  private readonly pendingValues = new Map<string, { key: Bytes; value: Bytes | null }>();
  /** Since the checkpoint: trie records made by a block and not yet replaced, by latin1 node key. */
  private readonly pendingNodes = new Map<string, { key: Bytes; node: Bytes }>();
  private pendingNodeBytes = 0;
  /** 'P', read once on open: every state query checks it. */
  private oldestProvable = 0;
  /** Heights of the checkpoints on disk ('R'), ascending. */
  private checkpoints: number[] = [];
  /** Records of the checkpoint's tree that blocks since then replaced. */
  private replacedSinceCheckpoint: Bytes[] = [];
  /**
   * Every key of the state index ('s'): those on disk at open, added by a scan in the background,
   * and every key a checkpoint writes since (`putValue`). Consulted, after the values held since
   * the checkpoint and the value cache, only once the scan is complete (`stateKeysComplete`).
   */
  private readonly stateKeys = new KeyFilter();
  private stateKeysComplete = false;
  private stateKeyScan: Promise<void> | undefined;
  private closing = false;
  /** State lookups the key filter answered "absent" without reading the database. */
  private absentByFilter = 0;

  constructor(
    readonly dir: string,
    opts: Partial<StoreOptions> = {},
  ) {
    this.opts = { ...DEFAULT_STORE_OPTIONS, ...opts };
    for (const name of ["checkpointBlocks", "checkpointBytes"] as const)
      if (!Number.isSafeInteger(this.opts[name]) || this.opts[name] < 1)
        throw new FatalError(
          "STORAGE_BAD_OPTION",
          `${name} must be a positive integer, got ${this.opts[name]}`,
        );
    // A large write buffer means fewer level-0 files and fewer write stalls under load; the block
    // cache keeps hot trie nodes and values in memory.
    this.db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: "view",
      valueEncoding: "view",
      writeBufferSize: 64 * 1024 * 1024,
      cacheSize: 256 * 1024 * 1024,
    });
  }

  async open(): Promise<void> {
    try {
      await this.db.open();
    } catch (err: unknown) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new FatalError("STORAGE_OPEN_FAILED", `cannot open the database at ${this.dir}: ${cause}`);
    }
    try {
      await this.checkFormat();
    } catch (err: unknown) {
      await this.db.close();
      throw err;
    }
    const raw = this.db.getSync(HEAD);
    this.headCache = raw ? decodeHead(raw) : undefined;
    const checkpoint = this.db.getSync(CHECKPOINT);
    // A store of format 2 wrote everything with every block: its head is its checkpoint.
    this.checkpointHeight = checkpoint ? readU64be(checkpoint) : (this.headCache?.height ?? 0);
    // Every 'R' record, whose keys run from "R" up to (not including) the next prefix "S".
    for await (const k of this.db.keys({ gte: key("R"), lt: key("S") }))
      this.checkpoints.push(readU64be(k, 1));
    const oldest = this.db.getSync(key("P"));
    this.oldestProvable = oldest ? readU64be(oldest) : 0;
    this.spareBatch = this.newBatch();
    // The iterator reads a snapshot taken now, before anything is written; later writes add
    // their keys themselves (putValue).
    this.stateKeyScan = this.scanStateKeys(this.db.keys({ gte: key("s"), lt: key("t") }));
  }

  /**
   * Adds the keys of the state index on disk to the filter. A store that is closed first, or
   * whose scan fails, simply never uses the filter: every lookup then reads the database.
   */
  private async scanStateKeys(keys: AsyncIterable<Bytes> & { close(): Promise<void> }): Promise<void> {
    try {
      for await (const k of keys) {
        if (this.closing) return;
        this.stateKeys.add(k.subarray(1));
      }
      this.stateKeysComplete = !this.closing;
    } catch {
      this.stateKeysComplete = false;
    } finally {
      await keys.close().catch(() => {});
    }
  }

  /** The state-key filter's figures (for metrics): keys held, its size, lookups it answered. */
  stateKeyFilterStats(): { ready: boolean; keys: number; bytes: number; absentAnswers: number } {
    return {
      ready: this.stateKeysComplete,
      keys: this.stateKeys.size,
      bytes: this.stateKeys.bytes,
      absentAnswers: this.absentByFilter,
    };
  }

  /** False only when the state index certainly holds no value for `k` (the filter's answer). */
  mayHoldStateKey(k: Bytes): boolean {
    return !this.stateKeysComplete || this.stateKeys.mightContain(k);
  }

  /** Resolves once the filter is in use, or the scan has stopped (tests and benchmarks). */
  async stateKeyFilterSettled(): Promise<boolean> {
    await this.stateKeyScan;
    return this.stateKeysComplete;
  }

  /** A chained batch, checked to offer the interface `writeAtomically` drives it through. */
  private newBatch(): ReusableBatch {
    const batch = this.db.batch() as unknown as Partial<ReusableBatch>;
    for (const method of ["_put", "_del", "_clear", "_write"] as const)
      if (typeof batch[method] !== "function")
        throw new FatalError(
          "STORAGE_BATCH_INTERFACE",
          `this classic-level's chained batch has no ${method}(); install the version in package-lock.json (npm ci)`,
        );
    return batch as ReusableBatch;
  }

  /**
   * A store written by another layout is refused before anything reads it; one of a format this
   * code upgrades in place is marked with the current format (older code then refuses it).
   */
  private async checkFormat(): Promise<void> {
    if (this.db.getSync(GENESIS) === undefined) return; // a new store: the format comes with genesis
    const raw = this.db.getSync(FORMAT);
    const format = raw === undefined ? 1 : raw.length === 1 ? (raw[0] as number) : -1;
    if (format === STORAGE_FORMAT) return;
    if (UPGRADABLE_FORMATS.includes(format)) {
      await this.db.put(FORMAT, Uint8Array.of(STORAGE_FORMAT), { sync: true });
      return;
    }
    throw new FatalError(
      "STORAGE_FORMAT_UNSUPPORTED",
      `the database at ${this.dir} has storage format ${format}, this node reads format ${STORAGE_FORMAT}; move the data directory aside and start the node again: a node with peers syncs the chain from them`,
      { format, supported: STORAGE_FORMAT },
    );
  }

  /** Writes a checkpoint of what is held in memory, then closes the database. */
  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.stateKeyScan;
      await this.checkpoint();
    } finally {
      await this.db.close();
    }
  }

  head(): Head | undefined {
    return this.headCache;
  }

  genesisHash(): Bytes | undefined {
    return this.db.getSync(GENESIS);
  }

  async writeGenesis(
    genesisHash: Bytes,
    write: Omit<BlockWrite, "blockBytes" | "commitBytes" | "receiptsBytes" | "txIds">,
  ): Promise<void> {
    await this.writeAtomically((batch) => {
      batch.put(GENESIS, genesisHash);
      batch.put(FORMAT, Uint8Array.of(STORAGE_FORMAT));
      // Genesis is the first checkpoint.
      this.addCheckpoint(batch, write.height, write.head.rootNodeKey, write);
      batch.put(HEAD, encodeHead(write.head));
    });
    this.afterCheckpoint(write.height, NONE_SUPERSEDED, write);
    this.headCache = write.head;
  }

  /**
   * Writes a whole block atomically and durably: with a checkpoint when one is due. Blocks are
   * committed one after another (the chain awaits each commit before building on it).
   */
  async commitBlock(w: BlockWrite): Promise<void> {
    const h = u64be(w.height);
    let newBytes = 0;
    for (const [, node] of w.newNodes) newBytes += node.length;
    // A block whose own records reach half the limit is written at once: a large block shares
    // most upper pages already, so holding it saves little and costs its change set.
    const checkpoint =
      w.height - this.checkpointHeight >= this.opts.checkpointBlocks ||
      this.pendingNodeBytes + newBytes >= this.opts.checkpointBytes ||
      2 * newBytes >= this.opts.checkpointBytes;
    let superseded: ReadonlySet<string> | undefined;
    await this.writeAtomically((batch) => {
      batch.put(key("b", h), w.blockBytes);
      batch.put(key("c", h), w.commitBytes);
      batch.put(key("r", h), w.receiptsBytes);
      for (let i = 0; i < w.txIds.length; i++)
        batch.put(key("t", w.txIds[i]!), offHeap(encode([w.height, i])));
      // Replays start after a checkpoint, so the block a checkpoint falls on needs no change set
      // (at saturation that is nearly every block, whose change set would be megabytes).
      if (checkpoint) superseded = this.addCheckpoint(batch, w.height, w.head.rootNodeKey, w);
      else batch.put(key("d", h), encodeChanges(w.changes));
      batch.put(HEAD, encodeHead(w.head));
    });
    if (superseded) this.afterCheckpoint(w.height, superseded, w);
    else this.holdPending(w);
    this.headCache = w.head;
  }

  /**
   * Writes the state index and trie held in memory, making the head the checkpoint. A no-op when
   * the head is already one. `close` calls it; a crash instead leaves the change sets to replay.
   */
  async checkpoint(): Promise<void> {
    const head = this.headCache;
    if (!head || head.height === this.checkpointHeight) return;
    await this.writeAtomically((batch) => {
      this.addCheckpoint(batch, head.height, head.rootNodeKey);
    });
    this.afterCheckpoint(head.height, NONE_SUPERSEDED);
  }

  /**
   * Adds a checkpoint at `height` to a batch: the values and live trie records held in memory,
   * with those of `block` (the block written in the same batch) on top. Returns the keys of the
   * held records that `block` replaced, which are not written.
   */
  private addCheckpoint(
    batch: RecordWriter,
    height: number,
    rootNodeKey: Bytes | null,
    block?: Pick<BlockWrite, "changes" | "newNodes" | "staleNodeKeys">,
  ): ReadonlySet<string> {
    // Later puts of a key win, in the batch as in the caches after it.
    for (const { key: k, value } of this.pendingValues.values()) putValue(batch, k, value, this.stateKeys);
    for (const { key: k, value } of block?.changes ?? []) putValue(batch, k, value, this.stateKeys);
    // Nothing held is changed before the write succeeds: a failed write leaves memory as it was.
    const replacedNow: Bytes[] = [];
    let superseded: Set<string> | undefined;
    for (const nk of block?.staleNodeKeys ?? []) {
      if (nodeKeyVersion(nk) <= this.checkpointHeight) replacedNow.push(nk);
      else {
        superseded ??= new Set();
        superseded.add(latin1String(nk));
      }
    }
    const replaced =
      replacedNow.length === 0
        ? this.replacedSinceCheckpoint
        : this.replacedSinceCheckpoint.concat(replacedNow);
    for (const [ck, { key: nk, node }] of this.pendingNodes)
      if (!superseded?.has(ck)) batch.put(key("n", nk), offHeap(node));
    for (const [nk, node] of block?.newNodes ?? []) batch.put(key("n", nk), offHeap(node));
    const at = u64be(height);
    // One record per checkpoint lists the records it made stale (one put instead of one per node).
    if (replaced.length > 0) batch.put(key("z", at), encode(replaced));
    batch.put(key("R", at), rootNodeKey ?? EMPTY);
    batch.put(CHECKPOINT, at);
    return superseded ?? NONE_SUPERSEDED;
  }

  /** Caches see a checkpoint's values and records only once they are durable. */
  private afterCheckpoint(
    height: number,
    superseded: ReadonlySet<string>,
    block?: Pick<BlockWrite, "changes" | "newNodes">,
  ): void {
    // Values the cache holds are refreshed; the others are read from disk when first asked for.
    // Most keys a block writes are new (an attestation's) and never read again: caching them all
    // kept up to 200,000 values alive for nothing, and cost an insertion each.
    for (const [ck, { value }] of this.pendingValues) this.valueCache.replace(ck, value);
    for (const { key: k, value } of block?.changes ?? []) this.valueCache.replace(latin1String(k), value);
    for (const [ck, { node }] of this.pendingNodes) if (!superseded.has(ck)) this.nodeCache.set(ck, node);
    for (const [nk, node] of block?.newNodes ?? []) this.nodeCache.set(latin1String(nk), node);
    this.pendingValues.clear();
    this.pendingNodes.clear();
    this.pendingNodeBytes = 0;
    this.replacedSinceCheckpoint = [];
    this.checkpointHeight = height;
    this.checkpoints.push(height);
  }

  /** Holds a durable block's state in memory until the next checkpoint. */
  private holdPending(w: Pick<BlockWrite, "changes" | "newNodes" | "staleNodeKeys">): void {
    for (const change of w.changes) this.pendingValues.set(latin1String(change.key), change);
    for (const [nk, node] of w.newNodes) {
      this.pendingNodes.set(latin1String(nk), { key: nk, node });
      this.pendingNodeBytes += node.length;
    }
    for (const nk of w.staleNodeKeys) {
      if (nodeKeyVersion(nk) <= this.checkpointHeight) {
        this.replacedSinceCheckpoint.push(nk);
        continue;
      }
      // Made and replaced since the checkpoint: never written.
      const ck = latin1String(nk);
      const held = this.pendingNodes.get(ck);
      if (held === undefined) continue;
      this.pendingNodeBytes -= held.node.length;
      this.pendingNodes.delete(ck);
    }
  }

  /** Heights committed since the checkpoint, whose state recovery replays (empty when none). */
  pendingHeights(): { from: number; to: number } {
    return { from: this.checkpointHeight + 1, to: this.headCache?.height ?? 0 };
  }

  /** Height of the last checkpoint. */
  get checkpointAt(): number {
    return this.checkpointHeight;
  }

  /**
   * Restores a block's trie update, recomputed by replaying its change set on open, into memory
   * (as `commitBlock` held it before the crash). Heights must come in order from `pendingHeights`.
   */
  restoreBlock(w: Pick<BlockWrite, "changes" | "newNodes" | "staleNodeKeys">): void {
    this.holdPending(w);
  }

  /** The change set block `height` stored, or undefined if the block is unknown or pruned. */
  changesAt(height: number): Array<{ key: Bytes; value: Bytes | null }> | undefined {
    const raw = this.db.getSync(key("d", u64be(height)));
    return raw === undefined ? undefined : decodeChanges(raw);
  }

  /**
   * Builds one LevelDB write batch and commits it with sync. The chained form hands each record
   * to LevelDB as it is added; the array form of `batch(ops)` costs about five times more main-
   * thread time per record (it clones and re-encodes every operation), and a block has thousands.
   * The native batch is reused from one write to the next (see `ReusableBatch`).
   */
  private async writeAtomically(fill: (batch: RecordWriter) => void): Promise<void> {
    const batch = this.spareBatch ?? this.newBatch();
    this.spareBatch = undefined;
    batch._clear();
    fill({ put: (k, v) => batch._put(k, v), del: (k) => batch._del(k) });
    await batch._write({ sync: true });
    // Only a batch whose write succeeded is kept; after a failure it is left to the collector.
    this.spareBatch = batch;
  }

  /**
   * Latest committed value of a state key (synchronous: execution reads through it); `ck` is
   * `latin1String(k)` when the caller already has it.
   */
  getState(k: Bytes, ck = latin1String(k)): Bytes | undefined {
    const pending = this.pendingValues.get(ck);
    if (pending !== undefined) return pending.value ?? undefined;
    const cached = this.valueCache.get(ck);
    if (cached !== undefined) return cached ?? undefined;
    // A key never written (a new attestation's, looked up to refuse duplicates) ends here.
    if (!this.mayHoldStateKey(k)) {
      this.absentByFilter++;
      return undefined;
    }
    const v = this.db.getSync(key("s", k)) ?? null;
    this.valueCache.set(ck, v);
    return v ?? undefined;
  }

  getNode(nodeKey: Bytes): Bytes | undefined {
    const ck = latin1String(nodeKey);
    const pending = this.pendingNodes.get(ck);
    if (pending !== undefined) return pending.node;
    const cached = this.nodeCache.get(ck);
    if (cached) return cached;
    const v = this.db.getSync(key("n", nodeKey));
    if (v) this.nodeCache.set(ck, v);
    return v;
  }

  /**
   * The latest checkpoint at or below `height` whose trie is on disk, with its root node key
   * (null: empty tree), or undefined if there is none (pruned).
   */
  checkpointAtOrBelow(height: number): { height: number; rootNodeKey: Bytes | null } | undefined {
    const list = this.checkpoints;
    let lo = 0;
    let hi = list.length; // first index whose height exceeds `height`
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as number) <= height) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const at = list[lo - 1] as number;
    const v = this.db.getSync(key("R", u64be(at)));
    if (v === undefined) return undefined;
    return { height: at, rootNodeKey: v.length === 0 ? null : v };
  }

  getBlockBytes(height: number): Bytes | undefined {
    return this.db.getSync(key("b", u64be(height)));
  }

  getCommitBytes(height: number): Bytes | undefined {
    return this.db.getSync(key("c", u64be(height)));
  }

  getReceiptsBytes(height: number): Bytes | undefined {
    return this.db.getSync(key("r", u64be(height)));
  }

  txLocation(txId: Bytes): { height: number; index: number } | undefined {
    const v = this.db.getSync(key("t", txId));
    if (!v) return undefined;
    const [height, index] = decode(v) as [number, number];
    return { height, index };
  }

  /**
   * Keeps state at heights >= `oldestKept` provable, and deletes what only older heights need:
   * replays start from the latest checkpoint C <= oldestKept, so the records replaced up to C, the
   * checkpoints' roots below C and the change sets up to C go. Returns trie records deleted.
   */
  async pruneState(oldestKept: number): Promise<number> {
    const base = this.checkpointAtOrBelow(oldestKept)?.height;
    if (base === undefined) return 0;
    const upTo = u64be(base + 1);
    const batch = this.db.batch();
    let deleted = 0;
    for await (const [k, v] of this.db.iterator({ gte: key("z"), lt: key("z", upTo) })) {
      for (const nodeKey of decode(v, v.length) as Uint8Array[]) {
        batch.del(key("n", nodeKey));
        this.nodeCache.delete(latin1String(nodeKey));
        deleted++;
      }
      batch.del(k);
    }
    for await (const k of this.db.keys({ gte: key("R"), lt: key("R", u64be(base)) })) batch.del(k);
    for await (const k of this.db.keys({ gte: key("d"), lt: key("d", upTo) })) batch.del(k);
    batch.put(key("P"), u64be(oldestKept));
    await batch.write({ sync: true });
    this.checkpoints = this.checkpoints.filter((c) => c >= base);
    this.oldestProvable = oldestKept;
    return deleted;
  }

  /** Oldest height whose state can still be proven (0 if nothing was pruned). */
  oldestProvableHeight(): number {
    return this.oldestProvable;
  }
}

const NONE_SUPERSEDED: ReadonlySet<string> = new Set<string>();

function putValue(batch: RecordWriter, k: Bytes, value: Bytes | null, keys: KeyFilter): void {
  if (value === null) batch.del(key("s", k));
  else {
    // Added before the write lands: a "maybe" too early is harmless, an "absent" too late is not.
    keys.add(k);
    batch.put(key("s", k), offHeap(value));
  }
}

/** A block's change set: encode([[key, value | null], ...]). */
function encodeChanges(changes: ReadonlyArray<{ key: Bytes; value: Bytes | null }>): Bytes {
  return encode(changes.map((c) => [c.key, c.value]));
}

function decodeChanges(raw: Bytes): Array<{ key: Bytes; value: Bytes | null }> {
  // The store's own record, as large as a block's changes (beyond the codec's default bound).
  const list = decode(raw, raw.length);
  if (!Array.isArray(list)) throw new FatalError("STORAGE_CORRUPT", "a block's change set is malformed");
  return list.map((entry: unknown) => {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      !(entry[0] instanceof Uint8Array) ||
      !(entry[1] === null || entry[1] instanceof Uint8Array)
    )
      throw new FatalError("STORAGE_CORRUPT", "a block's change set is malformed");
    return { key: entry[0], value: entry[1] };
  });
}

function encodeHead(h: Head): Bytes {
  return encode([h.height, h.blockHash, h.stateRoot, h.rootNodeKey, h.time]);
}

function decodeHead(raw: Bytes): Head {
  const a = decode(raw);
  if (!Array.isArray(a) || a.length !== 5)
    throw new FatalError("STORAGE_CORRUPT", "head record is malformed");
  return {
    height: a[0] as number,
    blockHash: a[1] as Bytes,
    stateRoot: a[2] as Bytes,
    rootNodeKey: a[3] as Bytes | null,
    time: a[4] as number,
  };
}
