/**
 * Persistent layout of trie nodes (ADR 0004 §Spec "Node keys" and "Node encoding").
 *
 * Node key (10..42 bytes):
 *   [0..8)   version  u64 big-endian — the block height whose update created the node
 *   [8..10)  depth    u16 big-endian — 0 (root position) .. 256
 *   [10..)   path     ceil(depth/8) bytes: the first `depth` bits of the key hash, most
 *                     significant bit first; unused low bits of the last byte are zero
 * Keys sort by version first, so a storage engine can range-scan one version's nodes.
 *
 * Node record:
 *   Leaf:      0x00 | keyLen u32 BE | key | valueLen u32 BE | value        (exact length)
 *   Internal:  0x01 | kinds u8 | [left child] | [right child]
 *     kinds = leftKind | (rightKind << 2), upper 4 bits zero; kind 0 = EMPTY, 1 = leaf,
 *     2 = internal (3 invalid). Each non-EMPTY child is: hash (32 bytes) | version u64 BE.
 *     The child's node key is (version, depth + 1, parent path + branch bit).
 *     A canonical internal node never has two EMPTY children nor one EMPTY child and one leaf.
 */
import { FatalError, InvalidInputError } from "../errors/index.js";
import { HASH_BYTES, KEY_BITS } from "./hashing.js";

export const NODE_TAG_LEAF = 0x00;
export const NODE_TAG_INTERNAL = 0x01;

export const KIND_EMPTY = 0;
export const KIND_LEAF = 1;
export const KIND_INTERNAL = 2;
export type ChildKind = 0 | 1 | 2;

export interface ChildRef {
  kind: ChildKind;
  /** EMPTY_HASH-like zeros are not stored; for kind 0 this is unused. */
  hash: Uint8Array;
  version: number;
}

export type DecodedNode =
  | { type: "leaf"; key: Uint8Array; value: Uint8Array }
  | { type: "internal"; left: ChildRef; right: ChildRef };

const TWO32 = 2 ** 32;

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

/**
 * Node key for the position at `depth` whose path is the first `depth` bits of `path`.
 * If `lastBit` is 0 or 1, bit `depth - 1` is forced to that value (child of a known parent).
 */
export function makeNodeKey(version: number, depth: number, path: Uint8Array, lastBit = -1): Uint8Array {
  const pathBytes = (depth + 7) >> 3;
  const out = new Uint8Array(10 + pathBytes);
  writeU64(out, 0, version);
  out[8] = depth >>> 8;
  out[9] = depth & 0xff;
  for (let i = 0; i < pathBytes; i++) out[10 + i] = path[i] as number;
  const rest = depth & 7;
  if (rest !== 0)
    out[10 + pathBytes - 1] = (out[10 + pathBytes - 1] as number) & ((0xff << (8 - rest)) & 0xff);
  if (lastBit >= 0) {
    const i = depth - 1;
    const idx = 10 + (i >> 3);
    const m = 1 << (7 - (i & 7));
    out[idx] = lastBit ? (out[idx] as number) | m : (out[idx] as number) & ~m;
  }
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
  if (depth > KEY_BITS || nodeKey.length !== 10 + ((depth + 7) >> 3)) return false;
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

/** Size of an internal record whose children have these kinds. */
export function internalSize(leftKind: number, rightKind: number): number {
  return 2 + (leftKind !== KIND_EMPTY ? HASH_BYTES + 8 : 0) + (rightKind !== KIND_EMPTY ? HASH_BYTES + 8 : 0);
}

/** Writes an internal record into `out` (exactly `internalSize(leftKind, rightKind)` bytes). */
export function writeInternal(
  out: Uint8Array,
  leftKind: number,
  leftHash: Uint8Array,
  leftVersion: number,
  rightKind: number,
  rightHash: Uint8Array,
  rightVersion: number,
): void {
  out[0] = NODE_TAG_INTERNAL;
  out[1] = leftKind | (rightKind << 2);
  let o = 2;
  if (leftKind !== KIND_EMPTY) {
    out.set(leftHash, o);
    writeU64(out, o + HASH_BYTES, leftVersion);
    o += HASH_BYTES + 8;
  }
  if (rightKind !== KIND_EMPTY) {
    out.set(rightHash, o);
    writeU64(out, o + HASH_BYTES, rightVersion);
  }
}

export function encodeInternal(left: ChildRef, right: ChildRef): Uint8Array {
  const out = new Uint8Array(internalSize(left.kind, right.kind));
  writeInternal(out, left.kind, left.hash, left.version, right.kind, right.hash, right.version);
  return out;
}

/**
 * Checks that `b` is a well-formed internal record, as `decodeNode` would, and returns its kinds
 * byte (leftKind | rightKind << 2). The children are then at offset 2 and, for the right one,
 * 2 + 40 if the left is not EMPTY: hash (32 bytes) | version u64 BE (`childVersion`).
 */
export function internalKinds(b: Uint8Array): number {
  if (b.length < 2 || b[0] !== NODE_TAG_INTERNAL) corrupt("expected an internal record");
  const kinds = b[1] as number;
  const lk = kinds & 3;
  const rk = (kinds >> 2) & 3;
  if (kinds > 0x0f || lk === 3 || rk === 3) corrupt("bad child kinds");
  if ((lk === KIND_EMPTY && rk !== KIND_INTERNAL) || (rk === KIND_EMPTY && lk !== KIND_INTERNAL))
    corrupt("non-canonical internal node");
  if (b.length !== internalSize(lk, rk)) corrupt("internal node length mismatch");
  return kinds;
}

/** Version of the child whose reference starts at `offset` of an internal record. */
export function childVersion(b: Uint8Array, offset: number): number {
  return readU64(b, offset + HASH_BYTES);
}

const EMPTY_CHILD: ChildRef = { kind: KIND_EMPTY, hash: new Uint8Array(HASH_BYTES), version: 0 };

function corrupt(msg: string): never {
  throw new FatalError("STATE_CORRUPT_NODE", msg);
}

/** Strict decoding; throws FatalError STATE_CORRUPT_NODE on anything `encode*` would not produce. */
export function decodeNode(b: Uint8Array): DecodedNode {
  if (b.length < 1) corrupt("empty node record");
  if (b[0] === NODE_TAG_LEAF) {
    if (b.length < 9) corrupt("truncated leaf");
    const kl = readU32(b, 1);
    if (5 + kl + 4 > b.length) corrupt("truncated leaf key");
    const vl = readU32(b, 5 + kl);
    if (9 + kl + vl !== b.length) corrupt("leaf length mismatch");
    return { type: "leaf", key: b.subarray(5, 5 + kl), value: b.subarray(9 + kl) };
  }
  if (b[0] === NODE_TAG_INTERNAL) {
    // internalKinds checks the kinds, canonical form and exact length, so the reads stay in bounds.
    const kinds = internalKinds(b);
    let o = 2;
    const read = (kind: number): ChildRef => {
      if (kind === KIND_EMPTY) return EMPTY_CHILD;
      const ref: ChildRef = {
        kind: kind as ChildKind,
        hash: b.subarray(o, o + HASH_BYTES),
        version: readU64(b, o + HASH_BYTES),
      };
      o += HASH_BYTES + 8;
      return ref;
    };
    const left = read(kinds & 3);
    return { type: "internal", left, right: read((kinds >> 2) & 3) };
  }
  return corrupt(`unknown node tag ${b[0]}`);
}
