/** Shared helpers for the state tests (node-only; not used by production code). */
import { createHash } from "node:crypto";
import { bitAt, compareBytes, EMPTY_HASH, type HashFn, internalHash, leafHash } from "./hashing.js";
import type { MemoryNodeStore } from "./memory-store.js";
import { decodeNode, KIND_EMPTY, makeNodeKey } from "./node.js";

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

/**
 * All node keys reachable from `rootKey` (throws if one is missing), checking along the way that
 * leaves sit at the position of their key hash's prefix.
 */
export function reachable(
  hash: HashFn,
  store: MemoryNodeStore,
  rootKey: Uint8Array | null,
  into = new Set<string>(),
): Set<string> {
  if (rootKey === null) return into;
  const walk = (nodeKey: Uint8Array, depth: number, path: Uint8Array): void => {
    const enc = store.getNode(nodeKey);
    if (enc === undefined) throw new Error(`missing node ${hex(nodeKey)}`);
    into.add(hex(nodeKey));
    const node = decodeNode(enc);
    if (node.type === "leaf") {
      const kh = hash(node.key);
      for (let i = 0; i < depth; i++)
        if (bitAt(kh, i) !== bitAt(path, i)) throw new Error("leaf off its path");
      return;
    }
    for (const [bit, c] of [
      [0, node.left],
      [1, node.right],
    ] as const) {
      if (c.kind === KIND_EMPTY) continue;
      const childPath = makeNodeKey(0, depth + 1, path, bit).subarray(10);
      const full = new Uint8Array(32);
      full.set(childPath);
      walk(makeNodeKey(c.version, depth + 1, full), depth + 1, full);
    }
  };
  walk(rootKey, 0, new Uint8Array(32));
  return into;
}
