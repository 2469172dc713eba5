/**
 * Persistent layout of trie nodes (ADR 0004 §Spec "Node keys", ADR 0019 "Node records").
 *
 * The trie is binary (hashing and proofs, ADR 0004) but stored in pages of four binary levels: a
 * page at depth d (a multiple of 4) holds the binary nodes at depths d..d+3 of one subtree, and
 * its 16 slots are the subtrees at depth d+4, each EMPTY, a leaf, or another page. One record per
 * page instead of up to 15 records for its binary nodes: a key's path is about a quarter as many
 * records to read and write.
 *
 * Node key (10..42 bytes):
 *   [0..8)   version  u64 big-endian — the block height whose update created the node
 *   [8..10)  depth    u16 big-endian — a multiple of 4, 0 (root position) .. 256
 *   [10..)   path     ceil(depth/8) bytes: the first `depth` bits of the key hash, most
 *                     significant bit first; unused low bits of the last byte are zero
 * Keys sort by version first, so a storage engine can range-scan one version's nodes.
 *
 * Node record:
 *   Leaf:  0x00 | keyLen u32 BE | key | valueLen u32 BE | value        (exact length)
 *   Page:  0x02 | present u16 BE | leaves u16 BE | slots | inner hashes (exact length)
 *     Slot i (0..15, the 4 key-hash bits after the page's path, MSB first) is bit 15 - i of the
 *     masks: `present` marks the non-EMPTY slots, `leaves` those holding a leaf (the others hold
 *     pages). `slots` is, for each present slot in ascending order, its hash (32 bytes) and its
 *     version (u64 BE); the slot's node key is (version, d + 4, path ‖ i). `inner hashes` are the
 *     hashes of the page's binary nodes that are internal (see `innerInternalMask`), in heap order: node 1
 *     is the page's own position (depth d), node h has children 2h and 2h + 1, and nodes 16..31
 *     are the slots.
 *     A canonical page has at least two keys below it: not no slot, nor a lone leaf slot.
 */
import { FatalError, InvalidInputError } from "../errors/index.js";
import { HASH_BYTES, KEY_BITS } from "./hashing.js";

export const NODE_TAG_LEAF = 0x00;
/** 0x01 was the binary internal record of storage format 1 (before pages); it is not valid. */
export const NODE_TAG_PAGE = 0x02;

export const KIND_EMPTY = 0;
export const KIND_LEAF = 1;
/** A binary internal node; as a page's slot, a page. */
export const KIND_INTERNAL = 2;
export type ChildKind = 0 | 1 | 2;

export type DecodedNode =
  | { type: "leaf"; key: Uint8Array; value: Uint8Array }
  | { type: "page"; slots: PageSlot[]; inner: Array<Uint8Array | null> };

const TWO32 = 2 ** 32;
/** Stands for an absent part of a page (never read: only present slots and internal nodes are). */
const EMPTY_PART = new Uint8Array(HASH_BYTES);

export function assertVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0)
    throw new InvalidInputError(
      "STATE_BAD_VERSION",
      `version must be a non-negative safe integer, got ${version}`,
    );
}

function writeU64(out: Uint8Array, offset: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  const lo = v >>> 0;
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 0xff;
  out[offset + 2] = (hi >>> 8) & 0xff;
  out[offset + 3] = hi & 0xff;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 0xff;
  out[offset + 6] = (lo >>> 8) & 0xff;
  out[offset + 7] = lo & 0xff;
}

function writeU32(out: Uint8Array, offset: number, v: number): void {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

function readU32(b: Uint8Array, o: number): number {
  return (
    (((b[o] as number) << 24) >>> 0) +
    ((b[o + 1] as number) << 16) +
    ((b[o + 2] as number) << 8) +
    (b[o + 3] as number)
  );
}

function readU64(b: Uint8Array, o: number): number {
  const v = readU32(b, o) * TWO32 + readU32(b, o + 4);
  if (!Number.isSafeInteger(v)) throw new FatalError("STATE_CORRUPT_NODE", "version exceeds 2^53 - 1");
  return v;
}

/** Node key for the position at `depth` whose path is the first `depth` bits of `path`. */
export function makeNodeKey(version: number, depth: number, path: Uint8Array): Uint8Array {
  const pathBytes = (depth + 7) >> 3;
  const out = new Uint8Array(10 + pathBytes);
  writeU64(out, 0, version);
  out[8] = depth >>> 8;
  out[9] = depth & 0xff;
  for (let i = 0; i < pathBytes; i++) out[10 + i] = path[i] as number;
  const rest = depth & 7;
  if (rest !== 0)
    out[10 + pathBytes - 1] = (out[10 + pathBytes - 1] as number) & ((0xff << (8 - rest)) & 0xff);
  return out;
}

export function nodeKeyVersion(nodeKey: Uint8Array): number {
  return readU64(nodeKey, 0);
}

export function nodeKeyDepth(nodeKey: Uint8Array): number {
  return ((nodeKey[8] as number) << 8) | (nodeKey[9] as number);
}

/** The path bytes of a node key (first `depth` bits meaningful). */
export function nodeKeyPath(nodeKey: Uint8Array): Uint8Array {
  return nodeKey.subarray(10);
}

/** Structural validity of a node key (length matches depth, depth <= 256, padding bits zero). */
export function isValidNodeKey(nodeKey: unknown): nodeKey is Uint8Array {
  if (!(nodeKey instanceof Uint8Array) || nodeKey.length < 10) return false;
  const depth = nodeKeyDepth(nodeKey);
  if (depth > KEY_BITS || (depth & 3) !== 0 || nodeKey.length !== 10 + ((depth + 7) >> 3)) return false;
  if (!Number.isSafeInteger(readU32(nodeKey, 0) * TWO32 + readU32(nodeKey, 4))) return false;
  const rest = depth & 7;
  if (rest !== 0 && ((nodeKey[nodeKey.length - 1] as number) & (0xff >> rest)) !== 0) return false;
  return true;
}

/** Size of a leaf record. */
export function leafSize(key: Uint8Array, value: Uint8Array): number {
  return 9 + key.length + value.length;
}

/** Writes a leaf record into `out` (exactly `leafSize(key, value)` bytes). */
export function writeLeaf(out: Uint8Array, key: Uint8Array, value: Uint8Array): void {
  const kl = key.length;
  out[0] = NODE_TAG_LEAF;
  writeU32(out, 1, kl);
  out.set(key, 5);
  writeU32(out, 5 + kl, value.length);
  out.set(value, 9 + kl);
}

export function encodeLeaf(key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(leafSize(key, value));
  writeLeaf(out, key, value);
  return out;
}

/** Number of set bits of a 16-bit mask. */
export function popcount16(m: number): number {
  let x = m - ((m >>> 1) & 0x5555);
  x = (x & 0x3333) + ((x >>> 2) & 0x3333);
  x = (x + (x >>> 4)) & 0x0f0f;
  return (x + (x >>> 8)) & 0x1f;
}

/** Mask bit of slot `i` (slot 0 is the most significant bit). */
export function slotBit(i: number): number {
  return 0x8000 >>> i;
}

/** For heap node h (1..31), the mask of the slots below it. */
export const HEAP_SLOTS: readonly number[] = (() => {
  const out = new Array<number>(32).fill(0);
  for (let h = 31; h >= 1; h--)
    out[h] = h >= 16 ? slotBit(h - 16) : (out[2 * h] as number) | (out[2 * h + 1] as number);
  return out;
})();

/**
 * Kind of a page's binary node h (1..31) from its masks: EMPTY with no key below, a (lifted) leaf
 * with exactly one key below (a lone leaf slot), internal otherwise. This is the binary
 * specification's rule, in the one place it is applied to pages.
 */
export function heapNodeKind(present: number, leaves: number, h: number): ChildKind {
  const p = present & (HEAP_SLOTS[h] as number);
  if (p === 0) return KIND_EMPTY;
  if ((p & leaves) === p && popcount16(p) === 1) return KIND_LEAF;
  return KIND_INTERNAL;
}

/** Bit h (1..15) set for each internal binary node of a page: those whose hashes it stores. */
export function innerInternalMask(present: number, leaves: number): number {
  let m = 0;
  for (let h = 1; h < 16; h++) if (heapNodeKind(present, leaves, h) === KIND_INTERNAL) m |= 1 << h;
  return m;
}

/** Size of a page record. */
export function pageSize(present: number, innerMask: number): number {
  return 5 + popcount16(present) * (HASH_BYTES + 8) + popcount16(innerMask >>> 1) * HASH_BYTES;
}

/** The parsed view of a page record: offsets into the record, nothing copied. */
export interface PageView {
  enc: Uint8Array;
  present: number;
  leaves: number;
  /** Offset of slot i's hash (-1 if EMPTY). */
  slotOffset: Int32Array;
  /** Offset of inner node h's hash (-1 if not internal). */
  innerOffset: Int32Array;
}

/**
 * Checks that `b` is a well-formed page record, as the encoder writes it, and returns where its
 * parts are (in `into` if given). Throws FatalError STATE_CORRUPT_NODE otherwise.
 */
export function parsePage(b: Uint8Array, into?: PageView): PageView {
  if (b.length < 5 || b[0] !== NODE_TAG_PAGE) corrupt("expected a page record");
  const present = ((b[1] as number) << 8) | (b[2] as number);
  const leaves = ((b[3] as number) << 8) | (b[4] as number);
  if ((leaves & ~present) !== 0) corrupt("a leaf slot that is not present");
  if (present === 0 || (popcount16(present) === 1 && leaves === present))
    corrupt("non-canonical page (fewer than two keys below it)");
  const innerMask = innerInternalMask(present, leaves);
  if (b.length !== pageSize(present, innerMask)) corrupt("page length mismatch");
  const view = into ?? newPageView();
  const { slotOffset, innerOffset } = view;
  slotOffset.fill(-1);
  innerOffset.fill(-1);
  let o = 5;
  for (let i = 0; i < 16; i++) {
    if ((present & slotBit(i)) === 0) continue;
    slotOffset[i] = o;
    readU64(b, o + HASH_BYTES); // a version beyond 2^53 - 1 is corrupt
    o += HASH_BYTES + 8;
  }
  for (let h = 1; h < 16; h++) {
    if ((innerMask & (1 << h)) === 0) continue;
    innerOffset[h] = o;
    o += HASH_BYTES;
  }
  view.enc = b;
  view.present = present;
  view.leaves = leaves;
  return view;
}

/** An empty view for `parsePage` to fill (and refill: a hot path can keep one per depth). */
export function newPageView(): PageView {
  return {
    enc: EMPTY_PART,
    present: 0,
    leaves: 0,
    slotOffset: new Int32Array(16),
    innerOffset: new Int32Array(16),
  };
}

/** Version of slot `i` of a parsed page (which must be present). */
export function slotVersion(page: PageView, i: number): number {
  return readU64(page.enc, (page.slotOffset[i] as number) + HASH_BYTES);
}

export interface PageSlot {
  kind: ChildKind;
  hash: Uint8Array;
  version: number;
}

/**
 * Encodes a page from its 16 slots and the hashes of its internal binary nodes (`inner[h]` for
 * each h set in `innerInternalMask`). Writes into `out` if given (exactly `pageSize` bytes).
 */
export function encodePage(
  slots: readonly PageSlot[],
  inner: readonly (Uint8Array | undefined)[],
  out?: Uint8Array,
): Uint8Array {
  let present = 0;
  let leaves = 0;
  const bytes: Uint8Array[] = new Array<Uint8Array>(32).fill(EMPTY_PART);
  const versions = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    const s = slots[i] as PageSlot;
    if (s.kind === KIND_EMPTY) continue;
    present |= slotBit(i);
    if (s.kind === KIND_LEAF) leaves |= slotBit(i);
    bytes[16 + i] = s.hash;
    versions[i] = s.version;
  }
  const innerMask = innerInternalMask(present, leaves);
  for (let h = 1; h < 16; h++) {
    if ((innerMask & (1 << h)) === 0) continue;
    const hash = inner[h];
    if (hash === undefined) throw new FatalError("STATE_CORRUPT_NODE", `inner node ${h} has no hash`);
    bytes[h] = hash;
  }
  const b = out ?? new Uint8Array(pageSize(present, innerMask));
  writePageRecord(b, present, leaves, bytes, new Int32Array(32), versions);
  return b;
}

/**
 * Writes a page record into `out` (exactly `pageSize` bytes) from its masks and from where each of
 * its binary nodes' hashes lies, in heap order: node h's hash is the 32 bytes of `bytes[h]` at
 * offset `at[h]` (slot i is node 16 + i), and slot i's version is `versions[i]`. Only present slots
 * and internal inner nodes are read. The hashes are copied byte by byte, so a caller can point into
 * other records without making views of them.
 */
export function writePageRecord(
  out: Uint8Array,
  present: number,
  leaves: number,
  bytes: readonly Uint8Array[],
  at: Int32Array,
  versions: ArrayLike<number>,
): void {
  const innerMask = innerInternalMask(present, leaves);
  if (out.length !== pageSize(present, innerMask))
    throw new FatalError("STATE_CORRUPT_NODE", "page buffer has the wrong length");
  out[0] = NODE_TAG_PAGE;
  out[1] = present >>> 8;
  out[2] = present & 0xff;
  out[3] = leaves >>> 8;
  out[4] = leaves & 0xff;
  let o = 5;
  for (let i = 0; i < 16; i++) {
    if ((present & slotBit(i)) === 0) continue;
    copyHash(out, o, bytes[16 + i] as Uint8Array, at[16 + i] as number);
    writeU64(out, o + HASH_BYTES, versions[i] as number);
    o += HASH_BYTES + 8;
  }
  for (let h = 1; h < 16; h++) {
    if ((innerMask & (1 << h)) === 0) continue;
    copyHash(out, o, bytes[h] as Uint8Array, at[h] as number);
    o += HASH_BYTES;
  }
}

function copyHash(out: Uint8Array, o: number, src: Uint8Array, from: number): void {
  for (let k = 0; k < HASH_BYTES; k++) out[o + k] = src[from + k] as number;
}

/** The 4 key-hash bits at `depth` (a multiple of 4): the slot a key takes in the page there. */
export function nibbleAt(keyHash: Uint8Array, depth: number): number {
  const byte = keyHash[depth >> 3] as number;
  return (depth & 4) === 0 ? byte >>> 4 : byte & 0x0f;
}

/**
 * Node key of slot `nibble` of the page at `depth` whose path is the first `depth` bits of `path`
 * (the slot's position is depth + 4).
 */
export function slotNodeKey(version: number, depth: number, path: Uint8Array, nibble: number): Uint8Array {
  const out = makeNodeKey(version, depth + 4, path);
  const idx = 10 + (depth >> 3);
  out[idx] = (depth & 4) === 0 ? nibble << 4 : ((out[idx] as number) & 0xf0) | nibble;
  return out;
}

function corrupt(msg: string): never {
  throw new FatalError("STATE_CORRUPT_NODE", msg);
}

/** A leaf record's key and value (views into `b`); throws STATE_CORRUPT_NODE if it is not one. */
export function decodeLeaf(b: Uint8Array): { key: Uint8Array; value: Uint8Array } {
  if (b.length < 9 || b[0] !== NODE_TAG_LEAF) corrupt("expected a leaf record");
  const kl = readU32(b, 1);
  if (5 + kl + 4 > b.length) corrupt("truncated leaf key");
  const vl = readU32(b, 5 + kl);
  if (9 + kl + vl !== b.length) corrupt("leaf length mismatch");
  return { key: b.subarray(5, 5 + kl), value: b.subarray(9 + kl) };
}

/** Strict decoding of either record; throws FatalError STATE_CORRUPT_NODE on anything else. */
export function decodeNode(b: Uint8Array): DecodedNode {
  if (b.length < 1) corrupt("empty node record");
  if (b[0] === NODE_TAG_LEAF) return { type: "leaf", ...decodeLeaf(b) };
  if (b[0] === NODE_TAG_PAGE) {
    const page = parsePage(b);
    const slots: PageSlot[] = [];
    for (let i = 0; i < 16; i++) {
      const o = page.slotOffset[i] as number;
      if (o < 0) slots.push({ kind: KIND_EMPTY, hash: new Uint8Array(HASH_BYTES), version: 0 });
      else
        slots.push({
          kind: (page.leaves & slotBit(i)) !== 0 ? KIND_LEAF : KIND_INTERNAL,
          hash: b.subarray(o, o + HASH_BYTES),
          version: slotVersion(page, i),
        });
    }
    const inner: Array<Uint8Array | null> = [];
    for (let h = 0; h < 16; h++) {
      const o = page.innerOffset[h] as number;
      inner.push(o < 0 ? null : b.subarray(o, o + HASH_BYTES));
    }
    return { type: "page", slots, inner };
  }
  return corrupt(`unknown node tag ${b[0]}`);
}
