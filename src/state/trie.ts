/**
 * Binary sparse Merkle trie with leaf shortcuts and versioned node keys (ADR 0004), stored in
 * pages of four binary levels (ADR 0019, node.ts).
 *
 * Keys are placed by keyHash = H(key) (256 bits, MSB first). A subtree holding no key is EMPTY
 * (32 zero bytes); a subtree holding exactly one key is that key's leaf, stored at the highest
 * position (shortest prefix) where it is alone; every other subtree is an internal node. The
 * shape, hence the root, is a pure function of the key/value set.
 *
 * Records (pages and leaves) are immutable once written and stored under versioned node keys; an
 * update at version v writes only new records (keyed with v) and reports which records of the base
 * tree it replaced (`staleNodeKeys`), so that old roots stay readable until those are pruned.
 *
 * Positions: a record sits at a depth that is a multiple of 4. A leaf is stored at the slot of the
 * page whose subtree holds it (or at the root); inside that page, the binary hashing lifts it to
 * the highest position where it is alone, exactly as the binary specification says.
 */
import { allocBytes } from "../codec/alloc.js";
import { FatalError, InvalidInputError, NotFoundError } from "../errors/index.js";
import {
  bytesEqual,
  compareBytes,
  EMPTY_HASH,
  HASH_BYTES,
  type HashFn,
  INTERNAL_PREFIX,
  KEY_BITS,
  LEAF_PREFIX,
} from "./hashing.js";
import {
  assertVersion,
  decodeLeaf,
  HEAP_SLOTS,
  heapNodeKind,
  isValidNodeKey,
  KIND_EMPTY,
  KIND_INTERNAL,
  KIND_LEAF,
  leafSize,
  makeNodeKey,
  NODE_TAG_LEAF,
  newPageView,
  nibbleAt,
  nodeKeyDepth,
  nodeKeyPath,
  nodeKeyVersion,
  type PageView,
  pageSize,
  parsePage,
  slotBit,
  slotNodeKey,
  slotVersion,
  writeLeaf,
  writePageRecord,
} from "./node.js";
import type { StateProof } from "./proof.js";

export type { HashFn } from "./hashing.js";
export { EMPTY_HASH } from "./hashing.js";
export type { StateProof, StateProofLeaf } from "./proof.js";

export interface NodeReader {
  getNode(nodeKey: Uint8Array): Uint8Array | undefined;
}

/** `value: null` deletes the key. */
export interface StateChange {
  key: Uint8Array;
  value: Uint8Array | null;
}

export interface TrieUpdate {
  /** Root hash of the new tree (EMPTY_HASH for the empty tree). */
  root: Uint8Array;
  /** Node key of the new root node, null for the empty tree. May be an older key if nothing changed. */
  rootNodeKey: Uint8Array | null;
  /** Nodes to write, all keyed with the update's version. */
  newNodes: Array<[nodeKey: Uint8Array, encoded: Uint8Array]>;
  /** Nodes of the base tree that are not part of the new tree. */
  staleNodeKeys: Uint8Array[];
}

/**
 * The content of a slot position during an update: EMPTY, a leaf, or a page (kind internal). One
 * shape for every kind, so that the hot paths stay monomorphic. Leaves are "floating" until
 * their final position is known.
 */
interface Sub {
  kind: 0 | 1 | 2;
  /** EMPTY_HASH for kind 0. */
  hash: Uint8Array;
  /** Version of an existing record (its node key's); unused for a new leaf and for EMPTY. */
  version: number;
  /**
   * Node key of an existing record. Null for EMPTY, for a new leaf, and for an unchanged slot
   * until it is needed (a leaf that is lifted out of its page gets one then).
   */
  nodeKey: Uint8Array | null;
  /** Position (a multiple of 4) of an existing record; -1 for a new leaf. */
  depth: number;
  /** Encoded record of a leaf, if already known (always set for a new leaf). */
  encoded: Uint8Array | null;
  /** Key hash of a leaf, if known (always set for a new leaf or a loaded existing leaf). */
  keyHash: Uint8Array | null;
}

interface Prepared {
  keyHash: Uint8Array;
  /** First 4 bytes of keyHash (u32 BE), to sort without a byte loop in the common case. */
  k0: number;
  key: Uint8Array;
  value: Uint8Array | null;
  i: number;
}

const EMPTY_SUB: Sub = {
  kind: KIND_EMPTY,
  hash: EMPTY_HASH,
  version: 0,
  nodeKey: null,
  depth: -1,
  encoded: null,
  keyHash: null,
};

interface Ctx {
  version: number;
  newNodes: Array<[Uint8Array, Uint8Array]>;
  stale: Uint8Array[];
}

export class StateTrie {
  private readonly hash: HashFn;
  private readonly reader: NodeReader;
  /** Input of the leaf and internal hashes (prefix || 32 bytes || 32 bytes), reused. */
  private readonly scratch = new Uint8Array(1 + 2 * HASH_BYTES);
  /**
   * While a page is written: where each of its binary nodes' hashes lies (heap order, 1..31;
   * node 16 + i is slot i), as bytes and offset, so that hashes kept from the old record are
   * read in place; and each slot's version.
   */
  private readonly heapBytes: Uint8Array[] = new Array<Uint8Array>(32).fill(EMPTY_HASH);
  private readonly heapAt = new Int32Array(32);
  private readonly slotVersions = new Float64Array(16);
  /**
   * Per page depth (depth / 4): the parsed page being updated there and its slots. An update's
   * recursion visits each depth at most once at a time, so one of each per depth suffices.
   */
  private readonly pageViews: PageView[] = [];
  private readonly slotArrays: Array<Array<Sub | undefined>> = [];

  /**
   * `hash` is called synchronously and must not keep a reference to its input (the trie reuses
   * the input buffer); it must return a new 32-byte array each time.
   */
  constructor(hash: HashFn, reader: NodeReader) {
    this.hash = hash;
    this.reader = reader;
  }

  /**
   * Apply `changes` to the tree rooted at `baseRootKey` (null = empty), creating records at
   * `version`, which must be greater than the version of `baseRootKey`. Duplicate keys: the
   * last change wins. Reads each affected record once; writes each new record once.
   */
  update(baseRootKey: Uint8Array | null, version: number, changes: StateChange[]): TrieUpdate {
    assertVersion(version);
    if (baseRootKey !== null) {
      this.checkRootKey(baseRootKey);
      if (version <= nodeKeyVersion(baseRootKey))
        throw new InvalidInputError(
          "STATE_BAD_VERSION",
          `update version ${version} must exceed the base root's version ${nodeKeyVersion(baseRootKey)}`,
        );
    }
    const prepared = this.prepare(changes);
    const ctx: Ctx = { version, newNodes: [], stale: [] };
    const base = baseRootKey === null ? EMPTY_SUB : this.rootSub(baseRootKey, "update");
    const result = this.updateAt(ctx, 0, base, prepared, 0, prepared.length);
    if (result.kind === KIND_EMPTY) {
      return {
        root: EMPTY_HASH.slice(),
        rootNodeKey: null,
        newNodes: ctx.newNodes,
        staleNodeKeys: ctx.stale,
      };
    }
    let rootNodeKey: Uint8Array;
    if (result.kind === KIND_LEAF) {
      const refVersion = this.materialize(ctx, result, 0);
      rootNodeKey =
        result.nodeKey !== null && result.depth === 0
          ? result.nodeKey
          : makeNodeKey(refVersion, 0, EMPTY_HASH);
    } else {
      rootNodeKey = result.nodeKey as Uint8Array;
    }
    return {
      root: result.hash.slice(),
      rootNodeKey: rootNodeKey.slice(),
      newNodes: ctx.newNodes,
      staleNodeKeys: ctx.stale,
    };
  }

  /** The value of `key` in the tree rooted at `rootKey`, or undefined if absent. */
  get(rootKey: Uint8Array | null, key: Uint8Array): Uint8Array | undefined {
    if (!(key instanceof Uint8Array))
      throw new InvalidInputError("STATE_BAD_KEY", "key must be a byte array");
    if (rootKey === null) return undefined;
    this.checkRootKey(rootKey);
    const keyHash = this.hash(key);
    let enc = this.load(rootKey, "get");
    if (enc[0] === NODE_TAG_LEAF) return valueIfKey(enc, key);
    for (let depth = 0; ; depth += 4) {
      const page = parsePage(enc); // a page slot must hold a page
      const n = nibbleAt(keyHash, depth);
      if ((page.present & slotBit(n)) === 0) return undefined;
      enc = this.load(slotNodeKey(slotVersion(page, n), depth, keyHash, n), "get");
      if ((page.leaves & slotBit(n)) !== 0) return valueIfKey(enc, key);
    }
  }

  /** Proof of inclusion (key present) or non-inclusion (absent) under the tree at `rootKey`. */
  prove(rootKey: Uint8Array | null, key: Uint8Array): StateProof {
    if (!(key instanceof Uint8Array))
      throw new InvalidInputError("STATE_BAD_KEY", "key must be a byte array");
    const siblings: Uint8Array[] = [];
    if (rootKey === null) return { siblings, leaf: null };
    this.checkRootKey(rootKey);
    const keyHash = this.hash(key);
    let enc = this.load(rootKey, "prove");
    if (enc[0] === NODE_TAG_LEAF) return { siblings, leaf: this.proofLeaf(enc) };
    for (let depth = 0; ; depth += 4) {
      const page = parsePage(enc);
      const n = nibbleAt(keyHash, depth);
      // Walk the page's four binary levels: each pushes the sibling of the side taken.
      let h = 1;
      for (let j = 0; j < 4; j++) {
        const bit = (n >> (3 - j)) & 1;
        const child = 2 * h + bit;
        siblings.push(heapHash(page, 2 * h + 1 - bit).slice());
        const kind = heapKind(page, child);
        if (kind === KIND_EMPTY) return { siblings, leaf: null };
        if (kind === KIND_LEAF) {
          const slot = loneSlot(page.present & (HEAP_SLOTS[child] as number));
          const leafKey = slotNodeKey(slotVersion(page, slot), depth, keyHash, slot);
          return { siblings, leaf: this.proofLeaf(this.load(leafKey, "prove")) };
        }
        h = child;
      }
      enc = this.load(slotNodeKey(slotVersion(page, n), depth, keyHash, n), "prove");
    }
  }

  /** Root hash of the tree at `rootKey` (EMPTY_HASH for null). */
  rootHash(rootKey: Uint8Array | null): Uint8Array {
    if (rootKey === null) return EMPTY_HASH.slice();
    this.checkRootKey(rootKey);
    const sub = this.rootSub(rootKey, "get");
    return sub.kind === KIND_EMPTY ? EMPTY_HASH.slice() : sub.hash.slice();
  }

  // ---------------------------------------------------------------- internals

  private checkRootKey(rootKey: Uint8Array): void {
    if (!isValidNodeKey(rootKey) || nodeKeyDepth(rootKey) !== 0)
      throw new InvalidInputError("STATE_BAD_ROOT_KEY", "root node key must be a valid depth-0 node key");
  }

  private load(nodeKey: Uint8Array, op: "update" | "get" | "prove"): Uint8Array {
    const enc = this.reader.getNode(nodeKey);
    if (enc === undefined) {
      const meta = { version: nodeKeyVersion(nodeKey), depth: nodeKeyDepth(nodeKey) };
      const msg = "trie node not found (pruned or never written)";
      if (op === "update") throw new FatalError("STATE_NODE_MISSING", msg, meta);
      throw new NotFoundError("STATE_NODE_MISSING", msg, meta);
    }
    return enc;
  }

  private proofLeaf(enc: Uint8Array): { keyHash: Uint8Array; valueHash: Uint8Array } {
    const leaf = decodeLeaf(enc);
    return { keyHash: this.hash(leaf.key), valueHash: this.hash(leaf.value) };
  }

  private rootSub(rootKey: Uint8Array, op: "update" | "get"): Sub {
    const enc = this.load(rootKey, op);
    const version = nodeKeyVersion(rootKey);
    if (enc[0] === NODE_TAG_LEAF) {
      const leaf = decodeLeaf(enc);
      const keyHash = this.hash(leaf.key);
      return {
        kind: KIND_LEAF,
        hash: this.hashPair(LEAF_PREFIX, keyHash, this.hash(leaf.value)),
        version,
        nodeKey: rootKey,
        depth: 0,
        encoded: enc,
        keyHash,
      };
    }
    return {
      kind: KIND_INTERNAL,
      hash: heapHash(parsePage(enc), 1),
      version,
      nodeKey: rootKey,
      depth: 0,
      encoded: null,
      keyHash: null,
    };
  }

  /** H(prefix || a || b) for two 32-byte hashes. */
  private hashPair(prefix: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    return this.hashPairAt(prefix, a, 0, b, 0);
  }

  /** H(prefix || a[aAt..+32) || b[bAt..+32)), through the reused input buffer, read in place (no views). */
  private hashPairAt(prefix: number, a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): Uint8Array {
    const s = this.scratch;
    s[0] = prefix;
    for (let k = 0; k < HASH_BYTES; k++) {
      s[1 + k] = a[aAt + k] as number;
      s[1 + HASH_BYTES + k] = b[bAt + k] as number;
    }
    return this.hash(s);
  }

  /** Hash keys, sort by key hash, keep the last change per key. */
  private prepare(changes: StateChange[]): Prepared[] {
    if (!Array.isArray(changes)) throw new InvalidInputError("STATE_BAD_CHANGE", "changes must be an array");
    const items: Prepared[] = new Array(changes.length);
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i];
      if (c === null || typeof c !== "object" || !(c.key instanceof Uint8Array))
        throw new InvalidInputError("STATE_BAD_CHANGE", `change ${i}: key must be a byte array`);
      if (c.value !== null && !(c.value instanceof Uint8Array))
        throw new InvalidInputError("STATE_BAD_CHANGE", `change ${i}: value must be a byte array or null`);
      const keyHash = this.hash(c.key);
      const k0 =
        (((keyHash[0] as number) << 24) |
          ((keyHash[1] as number) << 16) |
          ((keyHash[2] as number) << 8) |
          (keyHash[3] as number)) >>>
        0;
      items[i] = { keyHash, k0, key: c.key, value: c.value, i };
    }
    items.sort((a, b) => a.k0 - b.k0 || compareBytes(a.keyHash, b.keyHash) || a.i - b.i);
    const out: Prepared[] = [];
    for (let j = 0; j < items.length; j++) {
      const it = items[j] as Prepared;
      const next = items[j + 1];
      if (next !== undefined && next.k0 === it.k0 && bytesEqual(next.keyHash, it.keyHash)) continue; // a later change wins
      out.push(it);
    }
    return out;
  }

  private newLeaf(p: Prepared, value: Uint8Array): Sub {
    // Records are immutable once written, so many share a pool (src/codec/alloc.ts).
    const encoded = allocBytes(leafSize(p.key, value));
    writeLeaf(encoded, p.key, value);
    return {
      kind: KIND_LEAF,
      hash: this.hashPair(LEAF_PREFIX, p.keyHash, this.hash(value)),
      version: 0,
      nodeKey: null,
      depth: -1,
      encoded,
      keyHash: p.keyHash,
    };
  }

  /** The slot position at `depth` after applying changes[lo, hi) (all sharing its prefix). */
  private updateAt(ctx: Ctx, depth: number, existing: Sub, ch: Prepared[], lo: number, hi: number): Sub {
    if (lo === hi) return existing;
    if (existing.kind === KIND_INTERNAL) return this.updatePage(ctx, depth, existing, ch, lo, hi);

    const leaves: Sub[] = [];
    if (existing.kind === KIND_EMPTY) {
      for (let i = lo; i < hi; i++) {
        const p = ch[i] as Prepared;
        if (p.value !== null) leaves.push(this.newLeaf(p, p.value));
      }
      return this.build(ctx, depth, leaves, 0, leaves.length);
    }

    // Existing leaf: merge it with the changes, in key-hash order.
    const enc = existing.encoded ?? this.load(existing.nodeKey as Uint8Array, "update");
    const node = decodeLeaf(enc);
    const keyHash = existing.keyHash ?? this.hash(node.key);
    let keepOld = true;
    let oldPos = -1;
    for (let i = lo; i < hi; i++) {
      const p = ch[i] as Prepared;
      const cmp = compareBytes(p.keyHash, keyHash);
      if (cmp > 0 && oldPos < 0) oldPos = leaves.length;
      if (cmp === 0) {
        if (p.value !== null && bytesEqual(p.value, node.value)) continue; // same value: no-op
        keepOld = false;
      }
      if (p.value !== null) leaves.push(this.newLeaf(p, p.value));
    }
    if (keepOld) {
      const old: Sub = {
        kind: KIND_LEAF,
        hash: existing.hash,
        version: existing.version,
        nodeKey: existing.nodeKey,
        depth: existing.depth,
        encoded: enc,
        keyHash,
      };
      leaves.splice(oldPos < 0 ? leaves.length : oldPos, 0, old);
    } else if (existing.nodeKey !== null) ctx.stale.push(existing.nodeKey);
    return this.build(ctx, depth, leaves, 0, leaves.length);
  }

  /**
   * An existing page: descend into the slots that have changes. The others stay undefined in
   * `slots`: writePage takes them from the old record as they are.
   */
  private updatePage(ctx: Ctx, depth: number, existing: Sub, ch: Prepared[], lo: number, hi: number): Sub {
    const nodeKey = existing.nodeKey as Uint8Array;
    const level = depth >> 2;
    const page = parsePage(this.load(nodeKey, "update"), this.pageViewAt(level));
    const pfx = (ch[lo] as Prepared).keyHash;
    const markNew = ctx.newNodes.length;
    const markStale = ctx.stale.length;
    ctx.stale.push(nodeKey);
    const slots = this.slotsAt(level);
    let changed = 0;
    let i = lo;
    for (let n = 0; n < 16 && i < hi; n++) {
      let j = i;
      while (j < hi && nibbleAt((ch[j] as Prepared).keyHash, depth) === n) j++;
      if (j === i) continue;
      const old = slotSub(page, n, depth, pfx, true);
      const r = this.updateAt(ctx, depth + 4, old, ch, i, j);
      if (r !== old) changed |= slotBit(n);
      slots[n] = r;
      i = j;
    }
    if (changed !== 0) {
      const result = this.writePage(ctx, depth, pfx, slots, page, changed);
      // Same hash = same key/value set below = same shape: keep the existing records.
      if (result.kind !== KIND_INTERNAL || !bytesEqual(result.hash, existing.hash)) return result;
    }
    ctx.newNodes.length = markNew;
    ctx.stale.length = markStale;
    return existing;
  }

  /** The slots array of page depth `level`, cleared. */
  private slotsAt(level: number): Array<Sub | undefined> {
    let slots = this.slotArrays[level];
    if (slots === undefined) {
      slots = new Array<Sub | undefined>(16);
      this.slotArrays[level] = slots;
    }
    return slots.fill(undefined);
  }

  /** The page view of page depth `level`, for parsePage to refill. */
  private pageViewAt(level: number): PageView {
    let view = this.pageViews[level];
    if (view === undefined) {
      view = newPageView();
      this.pageViews[level] = view;
    }
    return view;
  }

  /** Canonical content of the slot position at `depth` holding exactly `leaves[lo, hi)` (sorted). */
  private build(ctx: Ctx, depth: number, leaves: Sub[], lo: number, hi: number): Sub {
    if (lo === hi) return EMPTY_SUB;
    if (hi - lo === 1) return leaves[lo] as Sub;
    if (depth >= KEY_BITS)
      throw new FatalError("STATE_KEY_HASH_COLLISION", "two keys share a 256-bit key hash");
    const slots = this.slotsAt(depth >> 2);
    let i = lo;
    for (let n = 0; n < 16; n++) {
      let j = i;
      while (j < hi && nibbleAt((leaves[j] as Sub).keyHash as Uint8Array, depth) === n) j++;
      slots[n] = this.build(ctx, depth + 4, leaves, i, j);
      i = j;
    }
    return this.writePage(ctx, depth, (leaves[lo] as Sub).keyHash as Uint8Array, slots, null, 0xffff);
  }

  /**
   * The page at `depth` with these 16 slots: EMPTY if all are, the leaf itself if it is alone
   * (it lifts into the parent's slot), otherwise a new page record. `old` is the page it
   * replaces: an undefined slot is as it was there, and the inner hashes above the slots not in
   * `changed` (a mask) are kept.
   */
  private writePage(
    ctx: Ctx,
    depth: number,
    pfx: Uint8Array,
    slots: ReadonlyArray<Sub | undefined>,
    old: PageView | null,
    changed: number,
  ): Sub {
    let present = 0;
    let leaves = 0;
    for (let n = 0; n < 16; n++) {
      const s = slots[n];
      const bit = slotBit(n);
      if (s !== undefined) {
        if (s.kind === KIND_EMPTY) continue;
        present |= bit;
        if (s.kind === KIND_LEAF) leaves |= bit;
      } else if (old !== null && (old.present & bit) !== 0) {
        present |= bit;
        leaves |= old.leaves & bit;
      }
    }
    const top = heapNodeKind(present, leaves, 1);
    if (top === KIND_EMPTY) return EMPTY_SUB;
    if (top === KIND_LEAF) {
      const n = loneSlot(present);
      const lone = slots[n] ?? slotSub(old as PageView, n, depth, pfx, false);
      // An existing leaf lifted out of this page moves, so it needs its old key to mark it stale.
      if (lone.nodeKey === null && lone.depth >= 0) lone.nodeKey = slotNodeKey(lone.version, depth, pfx, n);
      return lone;
    }
    const bytes = this.heapBytes;
    const at = this.heapAt;
    const versions = this.slotVersions;
    for (let n = 0; n < 16; n++) {
      const s = slots[n];
      if (s !== undefined) {
        bytes[16 + n] = s.hash;
        at[16 + n] = 0;
        versions[n] = this.materialize(ctx, s, depth + 4);
      } else if (old !== null && (old.present & slotBit(n)) !== 0) {
        bytes[16 + n] = old.enc;
        at[16 + n] = old.slotOffset[n] as number;
        versions[n] = slotVersion(old, n);
      } else {
        bytes[16 + n] = EMPTY_HASH;
        at[16 + n] = 0;
      }
    }
    // The binary nodes inside the page, bottom-up: an internal one is hashed (or its hash kept from
    // `old` if no slot below it changed); the others are EMPTY or the lone leaf below them.
    let innerMask = 0;
    for (let h = 15; h >= 1; h--) {
      const kind = heapNodeKind(present, leaves, h);
      if (kind === KIND_EMPTY) {
        bytes[h] = EMPTY_HASH;
        at[h] = 0;
      } else if (kind === KIND_LEAF) {
        const slot = 16 + loneSlot(present & (HEAP_SLOTS[h] as number));
        bytes[h] = bytes[slot] as Uint8Array;
        at[h] = at[slot] as number;
      } else {
        innerMask |= 1 << h;
        const kept =
          old !== null && (changed & (HEAP_SLOTS[h] as number)) === 0 ? (old.innerOffset[h] as number) : -1;
        if (kept >= 0) {
          bytes[h] = (old as PageView).enc;
          at[h] = kept;
        } else {
          const l = 2 * h;
          bytes[h] = this.hashPairAt(
            INTERNAL_PREFIX,
            bytes[l] as Uint8Array,
            at[l] as number,
            bytes[l + 1] as Uint8Array,
            at[l + 1] as number,
          );
          at[h] = 0;
        }
      }
    }
    const encoded = allocBytes(pageSize(present, innerMask));
    writePageRecord(encoded, present, leaves, bytes, at, versions);
    const nodeKey = makeNodeKey(ctx.version, depth, pfx);
    ctx.newNodes.push([nodeKey, encoded]);
    // Node 1 is internal and above every changed slot, so its hash is a new one (offset 0).
    return {
      kind: KIND_INTERNAL,
      hash: bytes[1] as Uint8Array,
      version: ctx.version,
      nodeKey,
      depth,
      encoded: null,
      keyHash: null,
    };
  }

  /** Fix `sub` at position `depth`; returns the version its parent records for it. */
  private materialize(ctx: Ctx, sub: Sub, depth: number): number {
    if (sub.kind === KIND_EMPTY) return 0;
    if (sub.kind === KIND_INTERNAL || sub.depth === depth) return sub.version;
    // A new leaf, or an existing one moving to another position: (re)write it under the new key.
    // A leaf moving down has been loaded (keyHash known); one moving up has a longer path.
    const path = sub.keyHash ?? nodeKeyPath(sub.nodeKey as Uint8Array);
    const encoded = sub.encoded ?? this.load(sub.nodeKey as Uint8Array, "update");
    ctx.newNodes.push([makeNodeKey(ctx.version, depth, path), encoded]);
    if (sub.nodeKey !== null) ctx.stale.push(sub.nodeKey);
    return ctx.version;
  }
}

/** Index of the one slot set in `mask`. */
function loneSlot(mask: number): number {
  return Math.clz32(mask) - 16;
}

/** Kind of binary node `h` (1..31) of a parsed page. */
function heapKind(page: PageView, h: number): number {
  return heapNodeKind(page.present, page.leaves, h);
}

/** A leaf record's value if its key is `key`, else undefined. */
function valueIfKey(enc: Uint8Array, key: Uint8Array): Uint8Array | undefined {
  const leaf = decodeLeaf(enc);
  return bytesEqual(leaf.key, key) ? leaf.value.slice() : undefined;
}

/** Hash of binary node `h` (1..31) of a parsed page (a view into the record, or EMPTY_HASH). */
function heapHash(page: PageView, h: number): Uint8Array {
  const kind = heapKind(page, h);
  if (kind === KIND_EMPTY) return EMPTY_HASH;
  const at =
    kind === KIND_LEAF
      ? (page.slotOffset[loneSlot(page.present & (HEAP_SLOTS[h] as number))] as number)
      : h >= 16
        ? (page.slotOffset[h - 16] as number)
        : (page.innerOffset[h] as number);
  return page.enc.subarray(at, at + HASH_BYTES);
}

/**
 * Slot `n` of a parsed page at `depth`, as an update sees it. Its node key is made only if it
 * will be loaded (`withKey`: the slot has changes).
 */
function slotSub(page: PageView, n: number, depth: number, pfx: Uint8Array, withKey: boolean): Sub {
  const at = page.slotOffset[n] as number;
  if (at < 0) return EMPTY_SUB;
  const version = slotVersion(page, n);
  return {
    kind: (page.leaves & slotBit(n)) !== 0 ? KIND_LEAF : KIND_INTERNAL,
    hash: page.enc.subarray(at, at + HASH_BYTES),
    version,
    nodeKey: withKey ? slotNodeKey(version, depth, pfx, n) : null,
    depth: depth + 4,
    encoded: null,
    keyHash: null,
  };
}
