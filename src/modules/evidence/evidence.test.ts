/**
 * evidence.report: a validator's two conflicting signed votes go on record once, with its
 * organization, after execution has checked both signatures; anything short of real
 * equivocation by a current validator is refused with a coded receipt and changes nothing.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { decode } from "../../codec/cbor.js";
import type { KeyPair, SuiteId } from "../../crypto/suite.js";
import { executeBlock } from "../../execution/engine.js";
import { testChain } from "../../execution/test-chain.js";
import { proposalSignBytes, VOTE_PRECOMMIT, VOTE_PREVOTE, voteSignBytes } from "../../ledger/block.js";
import { addressOf } from "../../ledger/tx.js";
import type { Signer } from "../../sdk/signer.js";
import { EVIDENCE_MAX_AGE, evidenceKey } from "./index.js";

type Chain = ReturnType<typeof testChain>;

function vote(
  c: Chain,
  key: KeyPair,
  v: { type?: number; height?: number; round?: number; blockHash: Uint8Array | null },
) {
  const type = v.type ?? VOTE_PRECOMMIT;
  const height = v.height ?? 1;
  const round = v.round ?? 0;
  const bytes = voteSignBytes(c.chainId, type, height, round, v.blockHash);
  return {
    type,
    height,
    round,
    blockHash: v.blockHash,
    publicKey: key.publicKey,
    signature: c.suite.sign(key.privateKey, bytes),
  };
}

function report(c: Chain, votes: unknown[], by: Signer = c.adminB) {
  const r = c.run([c.tx(by, "evidence", "report", { votes } as never)]);
  return r.receipts[0]!;
}

for (const suiteId of ["intl", "gm"] as SuiteId[])
  describe(`evidence.report (${suiteId})`, () => {
    it("records a validator's two precommits for different blocks once, naming its organization", () => {
      const c = testChain(suiteId);
      const a = vote(c, c.validatorKey, { blockHash: randomBytes(32) });
      const b = vote(c, c.validatorKey, { blockHash: null });
      const ok = report(c, [a, b]);
      assert.equal(ok.code, "OK");
      assert.equal(ok.events[0]!.type, "equivocation");
      assert.equal(ok.events[0]!.attributes.org, "market");
      const address = addressOf(c.suite, c.validator.publicKey);
      const rec = decode(c.state.get(evidenceKey(address, 1, 0, VOTE_PRECOMMIT))!) as {
        org: string;
        reporterOrg: string;
        pair: Array<{ blockHash: Uint8Array | null }>;
      };
      assert.equal(rec.org, "market");
      assert.equal(rec.reporterOrg, "tax");
      assert.equal(rec.pair[0]!.blockHash, null, "the pair is stored in canonical order, nil first");
      const listed = c.registry.module("evidence")!.queries.list!.run({ suite: c.suite, state: c.state }, {
        from: 1,
        limit: 10,
      } as never) as { total: number; records: Array<{ address: string; kind: string }> };
      assert.equal(listed.total, 1);
      assert.equal(listed.records[0]!.kind, "precommit");
      // The same pair, in the other order, is the same evidence.
      assert.equal(report(c, [b, a], c.adminA).code, "EVIDENCE_EXISTS");
    });

    it("records two different proposals for one height and round; the same proposal twice is no evidence", () => {
      const c = testChain(suiteId);
      const proposal = (blockHash: Uint8Array, validRound = -1) => ({
        height: 1,
        round: 2,
        validRound,
        blockHash,
        publicKey: c.validatorKey.publicKey,
        signature: c.suite.sign(
          c.validatorKey.privateKey,
          proposalSignBytes(c.chainId, 1, 2, validRound, blockHash),
        ),
      });
      const h = randomBytes(32);
      const same = proposal(h);
      const proposals = (pair: unknown[]) =>
        c.run([c.tx(c.adminB, "evidence", "report", { proposals: pair } as never)]).receipts[0]!;
      assert.equal(proposals([same, same]).code, "EVIDENCE_NOT_CONFLICTING");
      // The same block re-proposed with another valid round is a different signed proposal.
      const ok = proposals([proposal(h, 1), proposal(h)]);
      assert.equal(ok.code, "OK");
      assert.equal(ok.events[0]!.attributes.kind, "proposal");
      const address = addressOf(c.suite, c.validatorKey.publicKey);
      assert.ok(c.state.get(evidenceKey(address, 1, 2, "proposal")));
      assert.equal(proposals([proposal(randomBytes(32)), proposal(h)]).code, "EVIDENCE_EXISTS");
      // Votes and proposals are not mixed in one report.
      const v = vote(c, c.validatorKey, { blockHash: h });
      assert.equal(
        c.run([c.tx(c.adminB, "evidence", "report", { votes: [v, v], proposals: [same, same] } as never)])
          .receipts[0]!.code,
        "LEDGER_MALFORMED",
      );
    });

    it("refuses what is not equivocation by a current validator, and changes nothing", () => {
      const c = testChain(suiteId);
      const outsider = c.suite.generateKeyPair();
      const h1 = randomBytes(32);
      const h2 = randomBytes(32);
      const cases: Array<[string, unknown[]]> = [
        [
          "EVIDENCE_NOT_CONFLICTING",
          [vote(c, c.validatorKey, { blockHash: h1 }), vote(c, c.validatorKey, { blockHash: h1 })],
        ],
        [
          "EVIDENCE_NOT_CONFLICTING",
          [vote(c, c.validatorKey, { blockHash: h1 }), vote(c, c.validatorKey, { blockHash: h2, round: 1 })],
        ],
        [
          "EVIDENCE_NOT_CONFLICTING",
          [
            vote(c, c.validatorKey, { blockHash: h1 }),
            vote(c, c.validatorKey, { blockHash: h2, type: VOTE_PREVOTE }),
          ],
        ],
        [
          "EVIDENCE_NOT_CONFLICTING",
          [vote(c, c.validatorKey, { blockHash: h1 }), vote(c, outsider, { blockHash: h2 })],
        ],
        [
          "EVIDENCE_NOT_VALIDATOR",
          [vote(c, outsider, { blockHash: h1 }), vote(c, outsider, { blockHash: h2 })],
        ],
        [
          "EVIDENCE_FUTURE",
          [
            vote(c, c.validatorKey, { blockHash: h1, height: 50 }),
            vote(c, c.validatorKey, { blockHash: h2, height: 50 }),
          ],
        ],
      ];
      const forged = vote(c, c.validatorKey, { blockHash: h2 });
      forged.signature[0]! ^= 1;
      cases.push(["EVIDENCE_BAD_SIGNATURE", [vote(c, c.validatorKey, { blockHash: h1 }), forged]]);
      // A vote signed for another chain does not verify here.
      const other = vote(c, c.validatorKey, { blockHash: h2 });
      other.signature = c.suite.sign(
        c.validatorKey.privateKey,
        voteSignBytes("other-chain", VOTE_PRECOMMIT, 1, 0, h2),
      );
      cases.push(["EVIDENCE_BAD_SIGNATURE", [vote(c, c.validatorKey, { blockHash: h1 }), other]]);
      const evidenceKeys = () => [...c.state.map.keys()].filter((k) => k.startsWith("evidence/"));
      for (const [code, votes] of cases) {
        const r = report(c, votes);
        assert.equal(r.code, code);
        assert.equal(r.status, 1);
        assert.deepEqual(evidenceKeys(), [], `${code} wrote evidence`);
      }
    });

    it("accepts evidence within the window and refuses it beyond", () => {
      const c = testChain(suiteId);
      const at = (height: number) => ({ ...c.ctx(), height });
      const pair = (height: number) => [
        vote(c, c.validatorKey, { blockHash: randomBytes(32), height }),
        vote(c, c.validatorKey, { blockHash: randomBytes(32), height }),
      ];
      const run = (blockHeight: number, votes: unknown[]) => {
        const tx = c.tx(c.adminB, "evidence", "report", { votes } as never, { expiry: 1_000_000 });
        const r = executeBlock(c.state, at(blockHeight), c.registry, [tx]);
        c.state.apply(r.state.changes());
        return r.receipts[0]!.code;
      };
      const now = EVIDENCE_MAX_AGE + 10;
      assert.equal(run(now, pair(10)), "OK");
      assert.equal(run(now, pair(9)), "EVIDENCE_TOO_OLD");
    });

    it("needs an admin or supervisor, and well-formed votes", () => {
      const c = testChain(suiteId);
      const official = c.tx(c.adminA, "membership", "enroll", {
        publicKey: c.validator.publicKey,
        roles: ["official"],
      });
      assert.equal(c.run([official]).receipts[0]!.code, "OK");
      const a = vote(c, c.validatorKey, { blockHash: randomBytes(32) });
      const b = vote(c, c.validatorKey, { blockHash: randomBytes(32) });
      assert.equal(report(c, [a, b], c.validator).code, "AUTH_ROLE_REQUIRED");
      assert.equal(report(c, [a]).code, "LEDGER_MALFORMED");
      assert.equal(report(c, [a, { ...b, type: 3 }]).code, "LEDGER_MALFORMED");
    });
  });
