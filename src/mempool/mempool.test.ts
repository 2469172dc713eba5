/**
 * The mempool on its own, against a real genesis state and real signature verification: what it
 * admits and refuses (with which code), the order `reap` gives, back-pressure, clean-up after a
 * commit, and `heldTx`, by which a validator takes a proposed block's transactions from its pool
 * instead of decoding and verifying them again — only for byte-identical copies.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { BlockContext } from "../execution/module.js";
import { testChain } from "../execution/test-chain.js";
import { toHex } from "../ledger/bytes.js";
import { type DecodedTx, decodeTx, txBodySlice } from "../ledger/tx.js";
import { DEFAULT_MEMPOOL_LIMITS, Mempool } from "./mempool.js";

const provenance = { system: "mempool-test", generatedAt: 1_700_000_000_000, method: "test" };

function setup(limits = DEFAULT_MEMPOOL_LIMITS) {
  const c = testChain("intl");
  const verify = async (txs: DecodedTx[]) =>
    txs.map((t) => c.suite.verify(t.sender, txBodySlice(t.bytes), t.tx.signature));
  const pool = new Mempool(c.registry, verify, limits);
  const ctx: BlockContext = c.ctx();
  const attest = (nonce?: number) =>
    c.tx(c.adminA, "attest", "record", { digest: randomBytes(32), kind: "t", provenance }, { nonce });
  return { c, pool, ctx, attest };
}

const codes = (rs: Awaited<ReturnType<Mempool["add"]>>) => rs.map((r) => (r.ok ? "OK" : r.error.code));

describe("mempool", () => {
  it("admits valid transactions and refuses duplicates, used nonces, bad signatures and unknown senders with codes", async () => {
    const { c, pool, ctx, attest } = setup();
    const t0 = attest(0);
    const forged = attest(1);
    const badSig = { ...forged, tx: { ...forged.tx, signature: new Uint8Array(64) } };
    const stranger = c.tx(c.validator, "attest", "record", {
      digest: randomBytes(32),
      kind: "t",
      provenance,
    });
    const rs = await pool.add([t0, t0, badSig, stranger], c.state, ctx);
    assert.deepEqual(codes(rs), ["OK", "TX_DUPLICATE", "TX_BAD_SIGNATURE", "AUTH_UNKNOWN_ACCOUNT"]);
    assert.equal(pool.size, 1);
    assert.deepEqual(codes(await pool.add([t0], c.state, ctx)), ["TX_DUPLICATE"]);
  });

  it("reaps consecutive nonces only, and forgets a committed block's transactions", async () => {
    const { c, pool, ctx, attest } = setup();
    const [t0, t1, t3] = [attest(0), attest(1), attest(3)];
    assert.deepEqual(codes(await pool.add([t3, t1, t0], c.state, ctx)), ["OK", "OK", "OK"]);
    const reaped = pool.reap(100, 1 << 20);
    assert.deepEqual(
      reaped.map((t) => t.tx.body.nonce),
      [0, 1],
      "nonce 3 waits for 2",
    );
    const r = c.run(reaped);
    assert.deepEqual(
      r.receipts.map((x) => x.code),
      ["OK", "OK"],
    );
    pool.onCommitted(reaped, 2, c.state);
    assert.equal(pool.size, 1);
    assert.deepEqual(codes(await pool.add([t0], c.state, c.ctx())), ["TX_NONCE_USED"]);
  });

  it("after a block, drops pooled transactions whose nonces it used, even through other transactions", async () => {
    const { c, pool, ctx, attest } = setup();
    const pooled = [0, 1, 2, 3, 4].map((n) => attest(n));
    assert.deepEqual(codes(await pool.add(pooled, c.state, ctx)), ["OK", "OK", "OK", "OK", "OK"]);
    // Another node's block used nonces 0..2 with different transactions (same nonces, other digests).
    const elsewhere = [0, 1, 2].map((n) => attest(n));
    assert.deepEqual(
      c.run(elsewhere).receipts.map((x) => x.code),
      ["OK", "OK", "OK"],
    );
    pool.onCommitted(elsewhere, 2, c.state);
    assert.equal(pool.size, 2, "nonces 0..2 are used: their pooled transactions can never be included");
    assert.deepEqual(
      pool.reap(100, 1 << 20).map((t) => toHex(t.id)),
      pooled.slice(3).map((t) => toHex(t.id)),
    );
    assert.equal(pool.heldTx(toHex(pooled[0]!.id), pooled[0]!.bytes), undefined);
    // The next block uses 3: only 4 is left, and the sender's queue goes once it is empty.
    const next = c.run([pooled[3]!]);
    assert.equal(next.receipts[0]?.code, "OK");
    pool.onCommitted([pooled[3]!], 3, c.state);
    assert.equal(pool.size, 1);
    c.run([pooled[4]!]);
    pool.onCommitted([pooled[4]!], 4, c.state);
    assert.equal(pool.size, 0);
    assert.deepEqual(pool.reap(100, 1 << 20), []);
  });

  it("answers MEMPOOL_FULL at capacity instead of growing", async () => {
    const { c, pool, ctx, attest } = setup({ ...DEFAULT_MEMPOOL_LIMITS, maxTxs: 2 });
    const rs = await pool.add([attest(0), attest(1), attest(2)], c.state, ctx);
    assert.deepEqual(codes(rs), ["OK", "OK", "MEMPOOL_FULL"]);
    assert.equal(pool.size, 2);
  });

  it("heldTx gives the admitted transaction only for byte-identical copies", async () => {
    const { c, pool, ctx, attest } = setup();
    const t = attest(0);
    await pool.add([t], c.state, ctx);
    const idOf = (bytes: Uint8Array) => toHex(c.suite.hash(txBodySlice(bytes)));
    assert.equal(pool.heldTx(idOf(t.bytes), new Uint8Array(t.bytes)), t);
    // The same body with another signature has the same id, but is not what was verified.
    const resigned = new Uint8Array(t.bytes);
    resigned[resigned.length - 1]! ^= 1;
    assert.equal(idOf(resigned), toHex(t.id));
    assert.equal(pool.heldTx(idOf(resigned), resigned), undefined);
    // The id is that of decodeTx for canonical bytes.
    assert.equal(idOf(t.bytes), toHex(decodeTx(c.suite, t.bytes, 1 << 20).id));
    assert.equal(pool.heldTx(toHex(randomBytes(32)), t.bytes), undefined);
  });
});
