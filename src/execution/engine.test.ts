import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode } from "../codec/cbor.js";
import { SUITE_IDS } from "../crypto/suite.js";
import { attestKey } from "../modules/attest/index.js";
import { Signer } from "../sdk/signer.js";
import { readAccount, readNonce } from "./accounts.js";
import { executeBlock } from "./engine.js";
import { MemoryState, testChain } from "./test-chain.js";

const digest = (n: number) => new Uint8Array(32).fill(n);
const provenance = { system: "qyxx", generatedAt: 1_700_000_000_000, method: "form" };

for (const suiteId of SUITE_IDS) {
  describe(`execution (${suiteId})`, () => {
    it("an admin enrols an official who then attests; the record names org and sender", () => {
      const c = testChain(suiteId);
      const official = Signer.generate(c.suite);
      const r1 = c.run([
        c.tx(c.adminA, "membership", "enroll", { publicKey: official.publicKey, roles: ["official"] }),
      ]);
      assert.equal(r1.receipts[0]!.code, "OK");
      const acct = readAccount(c.state, official.address)!;
      assert.deepEqual([acct.org, acct.roles, acct.status], ["market", ["official"], "active"]);
      const r2 = c.run([
        c.tx(official, "attest", "record", { digest: digest(1), kind: "contract", provenance }),
      ]);
      assert.equal(r2.receipts[0]!.code, "OK");
      assert.equal(r2.receipts[0]!.events[0]!.type, "attested");
      const rec = decode(c.state.get(attestKey(digest(1)))!) as Record<string, unknown>;
      assert.equal(rec.org, "market");
      assert.deepEqual(rec.by, official.address);
    });

    it("a wrong role gets AUTH_ROLE_REQUIRED in its receipt and changes nothing but the nonce", () => {
      const c = testChain(suiteId);
      const holder = Signer.generate(c.suite);
      c.run([c.tx(c.adminA, "membership", "enroll", { publicKey: holder.publicKey, roles: ["holder"] })]);
      const before = new Map(c.state.map);
      const r = c.run([c.tx(holder, "attest", "record", { digest: digest(2), kind: "x", provenance })]);
      assert.equal(r.receipts[0]!.status, 1);
      assert.equal(r.receipts[0]!.code, "AUTH_ROLE_REQUIRED");
      assert.equal(c.state.get(attestKey(digest(2))), undefined);
      assert.equal(readNonce(c.state, holder.address), 1);
      const changed = [...c.state.map.keys()].filter((k) => before.get(k) !== c.state.map.get(k));
      assert.deepEqual(changed, [`nonce/${holder.addressHex}`]);
    });

    it("an admin cannot change accounts of another organization (AUTH_WRONG_ORG)", () => {
      const c = testChain(suiteId);
      const r = c.run([
        c.tx(c.adminB, "membership", "setRoles", { address: c.adminA.address, roles: ["holder"] }),
      ]);
      assert.equal(r.receipts[0]!.code, "AUTH_WRONG_ORG");
      assert.deepEqual(readAccount(c.state, c.adminA.address)!.roles, ["admin"]);
    });

    it("a suspended account is refused at admission", () => {
      const c = testChain(suiteId);
      const official = Signer.generate(c.suite);
      c.run([c.tx(c.adminA, "membership", "enroll", { publicKey: official.publicKey, roles: ["official"] })]);
      c.run([c.tx(c.adminA, "membership", "setStatus", { address: official.address, status: "suspended" })]);
      const r = c.run([c.tx(official, "attest", "record", { digest: digest(3), kind: "x", provenance })]);
      assert.equal(r.included.length, 0);
      assert.equal(r.excluded[0]!.error.code, "AUTH_ACCOUNT_SUSPENDED");
    });

    it("replays, nonce gaps, expired, foreign-chain and unknown senders are left out of blocks", () => {
      const c = testChain(suiteId);
      const t = c.tx(c.adminA, "attest", "record", { digest: digest(4), kind: "x", provenance });
      assert.equal(c.run([t]).included.length, 1);
      const replay = c.run([t]);
      assert.equal(replay.excluded[0]!.error.code, "TX_NONCE_USED");
      const gap = c.run([
        c.tx(c.adminA, "attest", "record", { digest: digest(5), kind: "x", provenance }, { nonce: 9 }),
      ]);
      assert.equal(gap.excluded[0]!.error.code, "TX_NONCE_GAP");
      const expired = c.run([
        c.tx(
          c.adminA,
          "attest",
          "record",
          { digest: digest(6), kind: "x", provenance },
          { nonce: 1, expiry: 1 },
        ),
      ]);
      assert.equal(expired.excluded[0]!.error.code, "TX_EXPIRED");
      const foreign = c.run([
        c.tx(
          c.adminA,
          "attest",
          "record",
          { digest: digest(7), kind: "x", provenance },
          { nonce: 1, chainId: "other" },
        ),
      ]);
      assert.equal(foreign.excluded[0]!.error.code, "TX_WRONG_CHAIN");
      const stranger = Signer.generate(c.suite);
      const unknown = c.run([
        c.tx(stranger, "attest", "record", { digest: digest(8), kind: "x", provenance }),
      ]);
      assert.equal(unknown.excluded[0]!.error.code, "AUTH_UNKNOWN_ACCOUNT");
    });

    it("bad arguments fail with a coded receipt and no state change", () => {
      const c = testChain(suiteId);
      const r = c.run([
        c.tx(c.adminA, "attest", "record", { digest: new Uint8Array(3), kind: "x", provenance }),
        c.tx(c.adminA, "membership", "enroll", {
          publicKey: new Uint8Array(c.suite.publicKeyLength),
          roles: ["wizard"],
        }),
      ]);
      assert.deepEqual(
        r.receipts.map((x) => x.code),
        ["LEDGER_MALFORMED", "MEMBERSHIP_BAD_ROLES"],
      );
    });

    it("a second attestation of the same digest fails with ATTEST_EXISTS", () => {
      const c = testChain(suiteId);
      const r = c.run([
        c.tx(c.adminA, "attest", "record", { digest: digest(9), kind: "x", provenance }),
        c.tx(c.adminA, "attest", "record", { digest: digest(9), kind: "y", provenance }),
      ]);
      assert.deepEqual(
        r.receipts.map((x) => x.code),
        ["OK", "ATTEST_EXISTS"],
      );
    });

    it("execution is deterministic: the same block on equal states gives identical changes and receipts", () => {
      const c = testChain(suiteId);
      const txs = [1, 2, 3].map((n) =>
        c.tx(c.adminA, "attest", "record", { digest: digest(10 + n), kind: "x", provenance }),
      );
      const copy = new MemoryState();
      for (const [k, v] of c.state.map) copy.map.set(k, v);
      const r1 = executeBlock(c.state, c.ctx(), c.registry, txs);
      const r2 = executeBlock(copy, c.ctx(), c.registry, txs);
      assert.equal(r1.included.length, 3);
      assert.deepEqual(r1.receipts, r2.receipts);
      assert.deepEqual(r1.state.changes(), r2.state.changes());
    });
  });
}
