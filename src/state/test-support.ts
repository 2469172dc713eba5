/** Shared helpers for the state tests (node-only; not used by production code). */
import { createHash } from "node:crypto";
import { bitAt, compareBytes, EMPTY_HASH, type HashFn, internalHash, leafHash } from "./hashing.js";
import type { MemoryNodeStore } from "./memory-store.js";
import { decodeNode, KIND_EMPTY, KIND_INTERNAL, KIND_LEAF, slotNodeKey } from "./node.js";
import type { StateChange } from "./trie.js";

export const sha256: HashFn = (d) => new Uint8Array(createHash("sha256").update(d).digest());
export const sm3: HashFn = (d) => new Uint8Array(createHash("sm3").update(d).digest());
/**
 * SHA-256, except that 3-byte inputs starting with 0xEE hash to 30 zero bytes followed by the
 * two remaining bytes: keys sharing 240+ prefix bits, to exercise deep paths (down to depth 256).
 */
export const deepHash: HashFn = (d) => {
  if (d.length === 3 && d[0] === 0xee) {
    const out = new Uint8Array(32);
    out[30] = d[1] as number;
    out[31] = d[2] as number;
    return out;
  }
  return sha256(d);
};

export const HASHES: Array<[string, HashFn]> = [
  ["sha256", sha256],
  ["sm3", sm3],
];

/** Naive reference: the root computed directly from the sorted key set. */
export function referenceRoot(hash: HashFn, model: Map<string, [Uint8Array, Uint8Array]>): Uint8Array {
  const items = [...model.values()].map(([k, v]) => ({ kh: hash(k), vh: hash(v) }));
  items.sort((a, b) => compareBytes(a.kh, b.kh));
  const rec = (depth: number, lo: number, hi: number): Uint8Array => {
    if (hi === lo) return EMPTY_HASH;
    if (hi - lo === 1) {
      const it = items[lo] as { kh: Uint8Array; vh: Uint8Array };
      return leafHash(hash, it.kh, it.vh);
    }
    let mid = lo;
    while (mid < hi && bitAt((items[mid] as { kh: Uint8Array }).kh, depth) === 0) mid++;
    return internalHash(hash, rec(depth + 1, lo, mid), rec(depth + 1, mid, hi));
  };
  return rec(0, 0, items.length);
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A key/value state as the tests model it: hex(key) → [key, value]. */
export type Model = Map<string, [Uint8Array, Uint8Array]>;

/** The model after `changes` (null deletes). */
export function applyModel(model: Model, changes: StateChange[]): Model {
  const next: Model = new Map(model);
  for (const c of changes) {
    if (c.value === null) next.delete(hex(c.key));
    else next.set(hex(c.key), [c.key, c.value]);
  }
  return next;
}

/**
 * All node keys reachable from `rootKey` (throws if one is missing), checking along the way that
 * leaves sit at the position of their key hash's prefix, that each slot's kind and hash match the
 * record it points to, and that each page stores exactly the hashes of its internal binary nodes.
 */
export function reachable(
  hash: HashFn,
  store: MemoryNodeStore,
  rootKey: Uint8Array | null,
  into = new Set<string>(),
): Set<string> {
  if (rootKey === null) return into;
  /** Returns the record's kind and hash. */
  const walk = (nodeKey: Uint8Array, depth: number, path: Uint8Array): [number, Uint8Array] => {
    const enc = store.getNode(nodeKey);
    if (enc === undefined) throw new Error(`missing node ${hex(nodeKey)}`);
    into.add(hex(nodeKey));
    const node = decodeNode(enc);
    if (node.type === "leaf") {
      const kh = hash(node.key);
      for (let i = 0; i < depth; i++)
        if (bitAt(kh, i) !== bitAt(path, i)) throw new Error("leaf off its path");
      return [KIND_LEAF, leafHash(hash, kh, hash(node.value))];
    }
    const kinds: number[] = new Array(32).fill(KIND_EMPTY);
    const hashes: Uint8Array[] = new Array(32).fill(EMPTY_HASH);
    node.slots.forEach((slot, nibble) => {
      if (slot.kind === KIND_EMPTY) return;
      const childKey = slotNodeKey(slot.version, depth, path, nibble);
      const full = new Uint8Array(32);
      full.set(childKey.subarray(10));
      const [kind, h] = walk(childKey, depth + 4, full);
      if (kind !== slot.kind || hex(h) !== hex(slot.hash)) throw new Error("slot does not match its record");
      kinds[16 + nibble] = kind;
      hashes[16 + nibble] = h;
    });
    for (let h = 15; h >= 1; h--) {
      const [kl, kr] = [kinds[2 * h] as number, kinds[2 * h + 1] as number];
      if (kl === KIND_EMPTY && kr !== KIND_INTERNAL)
        [kinds[h], hashes[h]] = [kr, hashes[2 * h + 1] as Uint8Array];
      else if (kr === KIND_EMPTY && kl !== KIND_INTERNAL)
        [kinds[h], hashes[h]] = [kl, hashes[2 * h] as Uint8Array];
      else {
        kinds[h] = KIND_INTERNAL;
        hashes[h] = internalHash(hash, hashes[2 * h] as Uint8Array, hashes[2 * h + 1] as Uint8Array);
      }
      const stored = node.inner[h];
      if ((kinds[h] === KIND_INTERNAL) !== (stored !== null))
        throw new Error(`inner node ${h}: stored iff internal`);
      if (stored !== null && stored !== undefined && hex(stored) !== hex(hashes[h] as Uint8Array))
        throw new Error(`inner node ${h}: wrong hash`);
    }
    if (kinds[1] !== KIND_INTERNAL) throw new Error("a page with fewer than two keys below it");
    return [KIND_INTERNAL, hashes[1] as Uint8Array];
  };
  walk(rootKey, 0, new Uint8Array(32));
  return into;
}
