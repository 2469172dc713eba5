import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "../ledger/bytes.js";
import { Overlay } from "./state-view.js";
import { MemoryState } from "./test-chain.js";

const k = (s: string) => utf8(s);
const v = (s: string) => utf8(s);
const read = (o: Overlay, key: string) => {
  const x = o.get(k(key));
  return x === undefined ? undefined : Buffer.from(x).toString();
};

describe("Overlay", () => {
  function base(): MemoryState {
    const m = new MemoryState();
    m.apply([
      { key: k("a"), value: v("a0") },
      { key: k("b"), value: v("b0") },
    ]);
    return m;
  }

  it("revert takes back every write since begin, newest first, including merged ones", () => {
    const o = new Overlay(base());
    o.set(k("a"), v("a1")); // before the transaction: kept
    o.begin();
    o.set(k("a"), v("a2"));
    o.set(k("a"), v("a3"));
    o.delete(k("b"));
    o.set(k("c"), v("c1"));
    const inner = new Overlay(o);
    inner.set(k("d"), v("d1"));
    inner.mergeInto(o);
    assert.equal(read(o, "d"), "d1");
    o.revert();
    assert.deepEqual(
      ["a", "b", "c", "d"].map((x) => read(o, x)),
      ["a1", "b0", undefined, undefined],
    );
    assert.deepEqual(
      o.changes().map((c) => [Buffer.from(c.key).toString(), c.value && Buffer.from(c.value).toString()]),
      [["a", "a1"]],
    );
  });

  it("keep ends the transaction: its writes stay, and a later revert does not touch them", () => {
    const o = new Overlay(base());
    o.begin();
    o.set(k("c"), v("c1"));
    o.delete(k("a"));
    o.keep();
    o.revert(); // nothing recorded since keep
    assert.equal(read(o, "c"), "c1");
    assert.equal(read(o, "a"), undefined);
    assert.equal(o.size, 2);
  });
});
