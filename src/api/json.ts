/** JSON views of ledger objects: bytes as lowercase hex, big integers as decimal strings. */
import type { Block, Commit, Header, Receipt } from "../ledger/block.js";
import { toHex } from "../ledger/bytes.js";
import type { SignedTx } from "../ledger/tx.js";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object") {
    // for…in with an own-property check, not Object.entries: no array per property, and the
    // event attributes of every receipt of every block pass through here for subscribers.
    const out: { [k: string]: Json } = {};
    const o = v as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) out[k] = toJson(o[k]);
    return out;
  }
  return v as Json;
}

export const headerJson = (h: Header) => toJson(h);
export const commitJson = (c: Commit) => toJson(c);
export const receiptJson = (r: Receipt) => ({
  txId: toHex(r.txId),
  status: r.status === 0 ? "ok" : "failed",
  code: r.code,
  events: toJson(r.events),
});
export const txJson = (t: SignedTx) => toJson(t);
export const blockJson = (b: Block, hash: Uint8Array, ids: Uint8Array[]) => ({
  hash: toHex(hash),
  header: headerJson(b.header),
  txs: ids.map(toHex),
});
