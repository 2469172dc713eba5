/**
 * The node's durable store: LevelDB (classic-level), one database per node. Everything a block
 * brings — the block, its commit certificate, receipts, transaction index, the latest values of
 * changed keys, new state-trie nodes, the stale-node index and the new head — is written in ONE
 * atomic batch with sync, so a crash at any moment leaves either the whole block or none of it.
 *
 * Key layout (one-byte prefixes; heights as u64 big-endian so they sort numerically):
 *   'H'                     → head: encode([height, blockHash, stateRoot, rootNodeKey|null, time])
 *   'G'                     → genesis hash
 *   'F'                     → storage format (u8), written with genesis: STORAGE_FORMAT
 *   'b' height              → block (canonical CBOR)
 *   'c' height              → commit certificate
 *   'r' height              → receipts: encode([receipt...])
 *   't' txId                → encode([height, index])
 *   's' key                 → latest value of a state key
 *   'n' nodeKey             → state-trie node
 *   'z' staleSince          → encode([nodeKey...]): the nodes that block replaced
 *   'R' height              → trie root node key at that height (empty value = empty tree)
 *   'P'                     → oldest height whose state is still provable (after pruning)
 */
import { ClassicLevel } from "classic-level";
import { allocOffHeap, offHeap } from "../codec/alloc.js";
import { decode, encode } from "../codec/cbor.js";
import { FatalError } from "../errors/index.js";
import { latin1String, readU64be, u64be } from "../ledger/bytes.js";
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

/**
 * The layout of the records above. 2: state-trie nodes are pages of four binary levels (ADR
 * 0019). A store of format 1 (binary trie records, no 'F' record) cannot be read by this code.
 */
export const STORAGE_FORMAT = 2;

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
  private readonly nodeCache = new Lru<string, Bytes>(200_000);
  private readonly valueCache = new Lru<string, Bytes | null>(100_000);
  private headCache: Head | undefined;
  /** The native batch between writes; taken while a write is in flight, so writes never share one. */
  private spareBatch: ReusableBatch | undefined;

  constructor(readonly dir: string) {
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
      this.checkFormat();
    } catch (err: unknown) {
      await this.db.close();
      throw err;
    }
    const raw = this.db.getSync(HEAD);
    this.headCache = raw ? decodeHead(raw) : undefined;
    this.spareBatch = this.newBatch();
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

  /** A store written by another layout is refused before anything reads it. */
  private checkFormat(): void {
    if (this.db.getSync(GENESIS) === undefined) return; // a new store: the format comes with genesis
    const raw = this.db.getSync(FORMAT);
    const format = raw === undefined ? 1 : raw.length === 1 ? (raw[0] as number) : -1;
    if (format !== STORAGE_FORMAT)
      throw new FatalError(
        "STORAGE_FORMAT_UNSUPPORTED",
        `the database at ${this.dir} has storage format ${format}, this node reads format ${STORAGE_FORMAT}; move the data directory aside and start the node again: a node with peers syncs the chain from them`,
        { format, supported: STORAGE_FORMAT },
      );
  }

  async close(): Promise<void> {
    await this.db.close();
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
      this.addStateWrites(batch, write);
      batch.put(HEAD, encodeHead(write.head));
    });
    this.afterStateWrite(write);
  }

  /** Writes a whole block atomically and durably. */
  async commitBlock(w: BlockWrite): Promise<void> {
    const h = u64be(w.height);
    await this.writeAtomically((batch) => {
      batch.put(key("b", h), w.blockBytes);
      batch.put(key("c", h), w.commitBytes);
      batch.put(key("r", h), w.receiptsBytes);
      for (let i = 0; i < w.txIds.length; i++)
        batch.put(key("t", w.txIds[i]!), offHeap(encode([w.height, i])));
      this.addStateWrites(batch, w);
      batch.put(HEAD, encodeHead(w.head));
    });
    this.afterStateWrite(w);
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

  /** Caches see a block's values only once they are durable. */
  private afterStateWrite(w: Pick<BlockWrite, "changes" | "newNodes" | "head">): void {
    for (const { key: k, value } of w.changes) this.valueCache.set(latin1String(k), value);
    for (const [nk, node] of w.newNodes) this.nodeCache.set(latin1String(nk), node);
    this.headCache = w.head;
  }

  private addStateWrites(
    batch: RecordWriter,
    w: Pick<BlockWrite, "height" | "changes" | "newNodes" | "staleNodeKeys" | "head">,
  ): void {
    const h = u64be(w.height);
    for (const { key: k, value } of w.changes) {
      if (value === null) batch.del(key("s", k));
      else batch.put(key("s", k), offHeap(value));
    }
    for (const [nk, node] of w.newNodes) batch.put(key("n", nk), offHeap(node));
    // One record per block lists the nodes it made stale (one put instead of one per node).
    if (w.staleNodeKeys.length > 0) batch.put(key("z", h), encode(w.staleNodeKeys));
    batch.put(key("R", h), w.head.rootNodeKey ?? new Uint8Array(0));
  }

  /**
   * Latest committed value of a state key (synchronous: execution reads through it); `ck` is
   * `latin1String(k)` when the caller already has it.
   */
  getState(k: Bytes, ck = latin1String(k)): Bytes | undefined {
    const cached = this.valueCache.get(ck);
    if (cached !== undefined) return cached ?? undefined;
    const v = this.db.getSync(key("s", k)) ?? null;
    this.valueCache.set(ck, v);
    return v ?? undefined;
  }

  getNode(nodeKey: Bytes): Bytes | undefined {
    const ck = latin1String(nodeKey);
    const cached = this.nodeCache.get(ck);
    if (cached) return cached;
    const v = this.db.getSync(key("n", nodeKey));
    if (v) this.nodeCache.set(ck, v);
    return v;
  }

  /** Root node key of the state trie at `height`: undefined if unknown or pruned, null if empty. */
  rootNodeKeyAt(height: number): Bytes | null | undefined {
    const v = this.db.getSync(key("R", u64be(height)));
    if (v === undefined) return undefined;
    return v.length === 0 ? null : v;
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
   * Deletes trie nodes that became stale at or before `upToHeight`, and the root pointers of
   * heights before it: state at heights >= upToHeight stays provable. Returns nodes deleted.
   */
  async pruneState(upToHeight: number, oldestKept: number): Promise<number> {
    const batch = this.db.batch();
    let deleted = 0;
    for await (const [k, v] of this.db.iterator({ gte: key("z"), lt: key("z", u64be(upToHeight + 1)) })) {
      for (const nodeKey of decode(v) as Uint8Array[]) {
        batch.del(key("n", nodeKey));
        this.nodeCache.delete(latin1String(nodeKey));
        deleted++;
      }
      batch.del(k);
    }
    for await (const k of this.db.keys({ gte: key("R"), lt: key("R", u64be(oldestKept)) })) batch.del(k);
    batch.put(key("P"), u64be(oldestKept));
    await batch.write({ sync: true });
    return deleted;
  }

  /** Oldest height whose state can still be proven (0 if nothing was pruned). */
  oldestProvableHeight(): number {
    const v = this.db.getSync(key("P"));
    return v ? readU64be(v) : 0;
  }
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
