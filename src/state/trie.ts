/**
 * Binary sparse Merkle trie with leaf shortcuts and versioned node keys (ADR 0004).
 *
 * Keys are placed by keyHash = H(key) (256 bits, MSB first). A subtree holding no key is EMPTY
 * (32 zero bytes); a subtree holding exactly one key is that key's leaf, stored at the highest
 * position (shortest prefix) where it is alone; every other subtree is an internal node. The
 * shape, hence the root, is a pure function of the key/value set.
 *
 * Nodes are immutable once written and stored under versioned node keys (see node.ts); an update
 * at version v writes only new nodes (keyed with v) and reports which nodes of the base tree it
 * replaced (`staleNodeKeys`), so that old roots stay readable until those are pruned.
 */
import { allocBytes } from "../codec/alloc.js";
import { FatalError, InvalidInputError, NotFoundError } from "../errors/index.js";
import {
  bitAt,
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
  type ChildRef,
  childVersion,
  decodeNode,
  internalKinds,
  internalSize,
  isValidNodeKey,
  KIND_EMPTY,
  KIND_INTERNAL,
  KIND_LEAF,
  leafSize,
  makeNodeKey,
  nodeKeyDepth,
  nodeKeyPath,
  nodeKeyVersion,
  writeInternal,
  writeLeaf,
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
 * A subtree during an update. One shape for every kind, so that the hot paths stay monomorphic.
 * Leaves are "floating" until their final position is known.
 */
interface Sub {
  kind: 0 | 1 | 2;
  /** EMPTY_HASH for kind 0. */
  hash: Uint8Array;
  /** Version of an existing node (its node key's); unused for a new leaf and for EMPTY. */
  version: number;
  /**
   * Node key of an existing node. Null for EMPTY, for a new leaf, and for an unchanged sibling
   * until it is needed (a sibling leaf that is lifted gets one then).
   */
  nodeKey: Uint8Array | null;
  /** Position of an existing node; -1 for a new leaf. */
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
   * `hash` is called synchronously and must not keep a reference to its input (the trie reuses
   * the input buffer); it must return a new 32-byte array each time.
   */
  constructor(hash: HashFn, reader: NodeReader) {
    this.hash = hash;
    this.reader = reader;
  }

  /**
   * Apply `changes` to the tree rooted at `baseRootKey` (null = empty), creating nodes at
   * `version`, which must be greater than the version of `baseRootKey`. Duplicate keys: the
   * last change wins. Reads each affected node once; writes each new node once.
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
    const pfx = prepared.length > 0 ? (prepared[0] as Prepared).keyHash : EMPTY_HASH;
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
      const refVersion = this.materialize(ctx, result, 0, pfx);
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
    let nodeKey = rootKey;
    for (let depth = 0; ; depth++) {
      const node = decodeNode(this.load(nodeKey, "get"));
      if (node.type === "leaf") return bytesEqual(node.key, key) ? node.value.slice() : undefined;
      const child = bitAt(keyHash, depth) === 0 ? node.left : node.right;
      if (child.kind === KIND_EMPTY) return undefined;
      nodeKey = makeNodeKey(child.version, depth + 1, keyHash);
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
    let nodeKey = rootKey;
    for (let depth = 0; ; depth++) {
      const node = decodeNode(this.load(nodeKey, "prove"));
      if (node.type === "leaf") {
        return { siblings, leaf: { keyHash: this.hash(node.key), valueHash: this.hash(node.value) } };
      }
      const bit = bitAt(keyHash, depth);
      const child = bit === 0 ? node.left : node.right;
      const sibling = bit === 0 ? node.right : node.left;
      siblings.push(sibling.kind === KIND_EMPTY ? EMPTY_HASH.slice() : sibling.hash.slice());
      if (child.kind === KIND_EMPTY) return { siblings, leaf: null };
      nodeKey = makeNodeKey(child.version, depth + 1, keyHash);
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

  private rootSub(rootKey: Uint8Array, op: "update" | "get"): Sub {
    const enc = this.load(rootKey, op);
    const node = decodeNode(enc);
    const version = nodeKeyVersion(rootKey);
    if (node.type === "leaf") {
      const keyHash = this.hash(node.key);
      return {
        kind: KIND_LEAF,
        hash: this.hashPair(LEAF_PREFIX, keyHash, this.hash(node.value)),
        version,
        nodeKey: rootKey,
        depth: 0,
        encoded: enc,
        keyHash,
      };
    }
    return {
      kind: KIND_INTERNAL,
      hash: this.hashPair(INTERNAL_PREFIX, childHash(node.left), childHash(node.right)),
      version,
      nodeKey: rootKey,
      depth: 0,
      encoded: null,
      keyHash: null,
    };
  }

  /** H(prefix || a || b), through the reused input buffer. */
  private hashPair(prefix: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    const s = this.scratch;
    s[0] = prefix;
    s.set(a, 1);
    s.set(b, 1 + HASH_BYTES);
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

  /** The subtree at `depth` after applying changes[lo, hi) (all sharing the position's prefix). */
  private updateAt(ctx: Ctx, depth: number, existing: Sub, ch: Prepared[], lo: number, hi: number): Sub {
    if (lo === hi) return existing;
    if (existing.kind === KIND_INTERNAL) return this.updateInternal(ctx, depth, existing, ch, lo, hi);

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
    const node = decodeNode(enc);
    if (node.type !== "leaf") throw new FatalError("STATE_CORRUPT_NODE", "expected a leaf record");
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

  /** An existing internal node: descend into the sides that have changes. */
  private updateInternal(
    ctx: Ctx,
    depth: number,
    existing: Sub,
    ch: Prepared[],
    lo: number,
    hi: number,
  ): Sub {
    const nodeKey = existing.nodeKey as Uint8Array;
    const enc = this.load(nodeKey, "update");
    const kinds = internalKinds(enc);
    const lk = kinds & 3;
    const rk = kinds >> 2;
    const pfx = (ch[lo] as Prepared).keyHash;
    const markNew = ctx.newNodes.length;
    const markStale = ctx.stale.length;
    ctx.stale.push(nodeKey);
    let mid = lo;
    while (mid < hi && bitAt((ch[mid] as Prepared).keyHash, depth) === 0) mid++;
    const leftOld = childSub(enc, 2, lk, depth + 1, pfx, 0, lo < mid);
    const rightOld = childSub(enc, lk === KIND_EMPTY ? 2 : 2 + CHILD_BYTES, rk, depth + 1, pfx, 1, mid < hi);
    const left = this.updateAt(ctx, depth + 1, leftOld, ch, lo, mid);
    const right = this.updateAt(ctx, depth + 1, rightOld, ch, mid, hi);
    if (left === leftOld && right === rightOld) {
      ctx.newNodes.length = markNew;
      ctx.stale.length = markStale;
      return existing;
    }
    // An untouched sibling leaf whose other side emptied is lifted, hence moved: it needs its key.
    if (left.kind === KIND_EMPTY && right.kind === KIND_LEAF && right.nodeKey === null && right.depth >= 0)
      right.nodeKey = makeNodeKey(right.version, depth + 1, pfx, 1);
    if (right.kind === KIND_EMPTY && left.kind === KIND_LEAF && left.nodeKey === null && left.depth >= 0)
      left.nodeKey = makeNodeKey(left.version, depth + 1, pfx, 0);
    const result = this.combine(ctx, depth, pfx, left, right);
    if (result.kind === KIND_INTERNAL && bytesEqual(result.hash, existing.hash)) {
      // Same hash = same key/value set below = same shape: keep the existing nodes.
      ctx.newNodes.length = markNew;
      ctx.stale.length = markStale;
      return existing;
    }
    return result;
  }

  /** Canonical subtree at `depth` holding exactly `leaves[lo, hi)` (sorted by key hash). */
  private build(ctx: Ctx, depth: number, leaves: Sub[], lo: number, hi: number): Sub {
    if (lo === hi) return EMPTY_SUB;
    if (hi - lo === 1) return leaves[lo] as Sub;
    if (depth >= KEY_BITS)
      throw new FatalError("STATE_KEY_HASH_COLLISION", "two keys share a 256-bit key hash");
    let mid = lo;
    while (mid < hi && bitAt((leaves[mid] as Sub).keyHash as Uint8Array, depth) === 0) mid++;
    const left = this.build(ctx, depth + 1, leaves, lo, mid);
    const right = this.build(ctx, depth + 1, leaves, mid, hi);
    return this.combine(ctx, depth, (leaves[lo] as Sub).keyHash as Uint8Array, left, right);
  }

  /** Parent at `depth` of `left`/`right`; lifts a lone leaf, otherwise writes an internal node. */
  private combine(ctx: Ctx, depth: number, pfx: Uint8Array, left: Sub, right: Sub): Sub {
    if (left.kind === KIND_EMPTY && right.kind !== KIND_INTERNAL) return right;
    if (right.kind === KIND_EMPTY && left.kind !== KIND_INTERNAL) return left;
    const lv = this.materialize(ctx, left, depth + 1, pfx);
    const rv = this.materialize(ctx, right, depth + 1, pfx);
    const encoded = allocBytes(internalSize(left.kind, right.kind));
    writeInternal(encoded, left.kind, left.hash, lv, right.kind, right.hash, rv);
    const nodeKey = makeNodeKey(ctx.version, depth, pfx);
    ctx.newNodes.push([nodeKey, encoded]);
    return {
      kind: KIND_INTERNAL,
      hash: this.hashPair(INTERNAL_PREFIX, left.hash, right.hash),
      version: ctx.version,
      nodeKey,
      depth,
      encoded: null,
      keyHash: null,
    };
  }

  /** Fix `sub` at position `depth`; returns the version its parent records for it. */
  private materialize(ctx: Ctx, sub: Sub, depth: number, pfx: Uint8Array): number {
    if (sub.kind === KIND_EMPTY) return 0;
    if (sub.kind === KIND_INTERNAL || sub.depth === depth) return sub.version;
    // A new leaf, or an existing one moving to another position: (re)write it under the new key.
    let path: Uint8Array;
    if (sub.keyHash !== null) path = sub.keyHash;
    else if (sub.nodeKey !== null && depth <= sub.depth) path = nodeKeyPath(sub.nodeKey);
    else path = pfx; // unreachable: a leaf moving down has been loaded (keyHash known)
    const encoded = sub.encoded ?? this.load(sub.nodeKey as Uint8Array, "update");
    ctx.newNodes.push([makeNodeKey(ctx.version, depth, path), encoded]);
    if (sub.nodeKey !== null) ctx.stale.push(sub.nodeKey);
    return ctx.version;
  }
}

const CHILD_BYTES = HASH_BYTES + 8;

function childHash(c: ChildRef): Uint8Array {
  return c.kind === KIND_EMPTY ? EMPTY_HASH : c.hash;
}

/**
 * The child of an internal record whose reference starts at `offset`, at position `depth`. Its
 * node key is made only if it will be loaded (`withKey`: the side has changes).
 */
function childSub(
  enc: Uint8Array,
  offset: number,
  kind: number,
  depth: number,
  pfx: Uint8Array,
  bit: number,
  withKey: boolean,
): Sub {
  if (kind === KIND_EMPTY) return EMPTY_SUB;
  const version = childVersion(enc, offset);
  return {
    kind: kind as 1 | 2,
    hash: enc.subarray(offset, offset + HASH_BYTES),
    version,
    nodeKey: withKey ? makeNodeKey(version, depth, pfx, bit) : null,
    depth,
    encoded: null,
    keyHash: null,
  };
}
