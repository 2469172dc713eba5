import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decode } from "../codec/cbor.js";
import { SUITE_IDS } from "../crypto/suite.js";
import { encodeReceipt } from "../ledger/block.js";
import { fromHex, toHex } from "../ledger/bytes.js";
import { Signer } from "../sdk/signer.js";
import { type TxInclusion, verifyTxInclusion } from "../sdk/verify.js";
import { startTestNode, type TestNode } from "./test-node.js";

const provenance = { system: "qyxx", generatedAt: 1_700_000_000_000, method: "form" };

for (const suiteId of SUITE_IDS) {
  describe(`single-validator node (${suiteId})`, () => {
    let t: TestNode;
    before(async () => {
      t = await startTestNode(suiteId);
    });
    after(async () => {
      await t.close();
    });

    it("commits a transaction, serves it with its receipt, and proves the state it wrote", async () => {
      const official = Signer.generate(suiteId);
      const enrol = await t.client.send(
        t.admin,
        {
          module: "membership",
          call: "enroll",
          args: { publicKey: official.publicKey, roles: ["official"] },
        },
        { wait: true },
      );
      assert.equal(enrol.status, "committed");
      assert.equal(enrol.receipt!.code, "OK");
      const digest = new Uint8Array(32).fill(7);
      const r = await t.client.send(
        official,
        { module: "attest", call: "record", args: { digest, kind: "contract", provenance } },
        { wait: true },
      );
      assert.equal(r.receipt!.code, "OK");
      const got = (await t.client.getTx(r.id)) as { height: number; receipt: { code: string } };
      assert.equal(got.height, r.height);
      const v = await t.client.queryVerified(`attest/${toHex(digest)}`);
      assert.equal((decode(v.value!) as { kind: string }).kind, "contract");
      const absent = await t.client.queryVerified(`attest/${"00".repeat(32)}`);
      assert.equal(absent.value, null);
    });

    it("proves a transaction's inclusion and receipt against the committed header", async () => {
      const r = await t.client.send(
        t.admin,
        {
          module: "attest",
          call: "record",
          args: { digest: new Uint8Array(32).fill(21), kind: "x", provenance },
        },
        { wait: true },
      );
      const v = await t.client.getTxVerified(r.id);
      assert.equal(v.height, r.height);
      assert.equal(v.receipt.code, "OK");
      assert.equal(toHex(v.tx.body.sender), toHex(t.admin.publicKey));
      // A node that lies about the receipt is caught.
      const raw = (await t.client.getTx(r.id)) as { index: number; inclusion: TxInclusion };
      const forged = encodeReceipt({ ...v.receipt, code: "FORGED" });
      const g = await t.client.trustedGenesis();
      assert.throws(
        () =>
          verifyTxInclusion(t.node.suite, g.chainId, g.validators, fromHex(r.id), raw.index, {
            ...raw.inclusion,
            encodedReceipt: toHex(forged),
          }),
        { code: "PROOF_INVALID" },
      );
      assert.throws(
        () =>
          verifyTxInclusion(t.node.suite, "zl-other", g.validators, fromHex(r.id), raw.index, raw.inclusion),
        { code: "PROOF_WRONG_CHAIN" },
      );
    });

    it("serves earlier state with proofs: a value before and after it changed", async () => {
      const official = Signer.generate(suiteId);
      const a = await t.client.send(
        t.admin,
        {
          module: "membership",
          call: "enroll",
          args: { publicKey: official.publicKey, roles: ["official"] },
        },
        { wait: true },
      );
      const b = await t.client.send(
        t.admin,
        { module: "membership", call: "setRoles", args: { address: official.address, roles: ["issuer"] } },
        { wait: true },
      );
      assert.ok(b.height! > a.height!);
      const key = `acct/${official.addressHex}`;
      const then = await t.client.queryVerified(key, a.height);
      const now = await t.client.queryVerified(key, b.height);
      const before = await t.client.queryVerified(key, a.height! - 1);
      assert.deepEqual((decode(then.value!) as { roles: string[] }).roles, ["official"]);
      assert.deepEqual((decode(now.value!) as { roles: string[] }).roles, ["issuer"]);
      assert.equal(before.value, null);
    });

    it("rejects a bad signature, a replay and a foreign chain at admission with coded errors", async () => {
      const st = await t.client.status();
      const good = t.admin.sign("zl-test", {
        module: "attest",
        call: "record",
        args: { digest: new Uint8Array(32).fill(9), kind: "x", provenance },
        nonce: await t.client.nextNonce(t.admin.address),
        expiry: st.height + 100,
      });
      const tampered = new Uint8Array(good.bytes);
      tampered[tampered.length - 1]! ^= 1;
      await assert.rejects(t.client.submitRaw(tampered), { code: "TX_BAD_SIGNATURE", status: 422 });
      const ok = await t.client.submitRaw(good.bytes, { wait: true });
      assert.equal(ok.status, "committed");
      await assert.rejects(t.client.submitRaw(good.bytes), { code: "TX_NONCE_USED" });
      const foreign = t.admin.sign("zl-other", {
        module: "attest",
        call: "record",
        args: {},
        nonce: 99,
        expiry: 10_000,
      });
      await assert.rejects(t.client.submitRaw(foreign.bytes), { code: "TX_WRONG_CHAIN" });
      const stranger = Signer.generate(suiteId);
      const s = stranger.sign("zl-test", {
        module: "attest",
        call: "record",
        args: {},
        nonce: 0,
        expiry: 10_000,
      });
      await assert.rejects(t.client.submitRaw(s.bytes), { code: "AUTH_UNKNOWN_ACCOUNT" });
    });

    it("a role the sender lacks is refused at admission (AUTH_ROLE_REQUIRED)", async () => {
      const holder = Signer.generate(suiteId);
      await t.client.send(
        t.admin,
        { module: "membership", call: "enroll", args: { publicKey: holder.publicKey, roles: ["holder"] } },
        { wait: true },
      );
      await assert.rejects(
        t.client.send(holder, {
          module: "attest",
          call: "record",
          args: { digest: new Uint8Array(32).fill(3), kind: "x", provenance },
        }),
        { code: "AUTH_ROLE_REQUIRED", status: 422 },
      );
    });

    it("restarts at the same height with the same state root and keeps serving", async () => {
      const before = await t.client.status();
      const blockBefore = await t.client.getBlock(before.height);
      await t.restart();
      const after = await t.client.status();
      assert.equal(after.height, before.height);
      assert.equal(after.latestBlockHash, before.latestBlockHash);
      assert.deepEqual(await t.client.getBlock(before.height), blockBefore);
      const r = await t.client.send(
        t.admin,
        {
          module: "attest",
          call: "record",
          args: { digest: new Uint8Array(32).fill(11), kind: "x", provenance },
        },
        { wait: true },
      );
      assert.equal(r.height, before.height + 1);
    });
  });
}

describe("back-pressure", () => {
  it("a full mempool answers 503 MEMPOOL_FULL instead of growing", async () => {
    const t = await startTestNode("intl", {
      blockIntervalMs: 60_000,
      mempool: { maxTxs: 5, maxBytes: 1 << 20, maxNonceGap: 100 },
    });
    try {
      const txs = Array.from({ length: 8 }, (_, n) =>
        t.admin.sign("zl-test", {
          module: "attest",
          call: "record",
          args: { digest: new Uint8Array(32).fill(n + 1), kind: "x", provenance },
          // Nonce 0 never comes, so no block can take these in, however the producer is timed.
          nonce: n + 1,
          expiry: 1000,
        }),
      );
      const r = await t.client.submitBatch(txs.map((x) => x.bytes));
      assert.equal(r.accepted, 5);
      assert.deepEqual(
        r.results.slice(5).map((x) => x.error?.code),
        ["MEMPOOL_FULL", "MEMPOOL_FULL", "MEMPOOL_FULL"],
      );
      await assert.rejects(t.client.submitRaw(txs[7]!.bytes), { code: "MEMPOOL_FULL", status: 503 });
      assert.equal(t.node.mempool.size, 5);
    } finally {
      await t.close();
    }
  });
});

describe("block production and retention", () => {
  it("makes no empty blocks, and state older than the retention window is pruned with a coded answer", async () => {
    const t = await startTestNode("intl", { stateRetentionBlocks: 3 });
    try {
      const idle = (await t.client.status()).height;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await t.client.status()).height, idle, "an idle chain made blocks");
      let last = 0;
      for (let n = 0; n < 8; n++) {
        const r = await t.client.send(
          t.admin,
          {
            module: "attest",
            call: "record",
            args: { digest: new Uint8Array(32).fill(40 + n), kind: "x", provenance },
          },
          { wait: true },
        );
        last = r.height!;
      }
      const key = `nonce/${t.admin.addressHex}`;
      const recent = await t.client.queryVerified(key, last - 2);
      assert.ok(recent.value !== null);
      // Pruning runs in the background after a commit: wait for it, within a bound.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const pruned = await t.client.queryVerified(key, 1).then(
          () => false,
          (err: { code?: string; status?: number }) => {
            assert.deepEqual([err.code, err.status], ["STATE_HEIGHT_PRUNED", 404]);
            return true;
          },
        );
        if (pruned) break;
        assert.ok(Date.now() < deadline, "state at height 1 was not pruned");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await t.close();
    }
  });
});
