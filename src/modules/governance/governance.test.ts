import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CborValue } from "../../codec/cbor.js";
import { getSuite } from "../../crypto/index.js";
import { SUITE_IDS } from "../../crypto/suite.js";
import { readAccount, readOrg } from "../../execution/accounts.js";
import type { BlockResult } from "../../execution/engine.js";
import { executeBlock } from "../../execution/engine.js";
import { MemoryState, testChain } from "../../execution/test-chain.js";
import type { Event } from "../../ledger/block.js";
import { toHex } from "../../ledger/bytes.js";
import { parseGenesis } from "../../ledger/genesis.js";
import { Signer } from "../../sdk/signer.js";
import { readPending, readProposal } from "./state.js";
import { type GovChain, govChain, minimalGenesisJson, orgCode } from "./test-support.js";

const codes = (r: BlockResult) => r.receipts.map((x) => x.code);
const txEvents = (r: BlockResult): Event[] => r.receipts.flatMap((x) => x.events);
const types = (events: Event[]) => events.map((e) => e.type);

function query(
  c: { registry: GovChain["registry"]; state: GovChain["state"]; suite: GovChain["suite"] },
  name: string,
  params: Record<string, string> = {},
) {
  const q = c.registry.module("governance")!.queries[name]!;
  return q.run({ suite: c.suite, state: c.state }, q.parse(params) as never) as never;
}

const addValidator = (k: Signer, org: string, power = 5): CborValue => ({
  kind: "addValidator",
  publicKey: k.publicKey,
  power,
  org,
});

const keysOf = (set: Array<{ publicKey: Uint8Array; power: number }>) =>
  set.map((v) => `${toHex(v.publicKey)}:${v.power}`);

describe("governance: the more-than-two-thirds rule", () => {
  it("4 organizations: the proposer and one more (2 of 4) do not pass; a third (3 of 4) does", () => {
    const c = govChain("intl", { orgs: 4 });
    const k = Signer.generate(c.suite);
    const r1 = c.run([c.propose(c.admins[0]!, addValidator(k, "tax"))]);
    assert.deepEqual(codes(r1), ["OK"]);
    assert.deepEqual(types(txEvents(r1)), ["proposed", "voted"]);
    assert.equal(txEvents(r1)[0]!.attributes.id, 1);
    const r2 = c.run([c.vote(c.admins[1]!, 1)]);
    assert.deepEqual(types(txEvents(r2)), ["voted"]);
    assert.deepEqual(txEvents(r2)[0]!.attributes, {
      id: 1,
      org: "tax",
      approve: true,
      yes: 2,
      no: 0,
      active: 4,
    });
    assert.equal(readProposal(c.state, 1)!.status, "open");
    const r3 = c.run([c.vote(c.admins[2]!, 1)]);
    assert.deepEqual(types(txEvents(r3)), ["voted", "passed"]);
    const p = readProposal(c.state, 1)!;
    assert.deepEqual([p.status, p.decidedAt, p.applyAt, p.effectiveAt], ["passed", 3, 4, 5]);
  });

  it("3 organizations: 2 of 3 is not more than two thirds (6 > 6 is false); 3 of 3 passes", () => {
    const c = govChain("intl", { orgs: 3 });
    const k = Signer.generate(c.suite);
    c.run([c.propose(c.admins[0]!, addValidator(k, "tax")), c.vote(c.admins[1]!, 1)]);
    assert.equal(readProposal(c.state, 1)!.status, "open");
    const r = c.run([c.vote(c.admins[2]!, 1)]);
    assert.deepEqual(types(txEvents(r)), ["voted", "passed"]);
  });

  it("2 organizations (the shared test chain, default params): both must approve", () => {
    const c = testChain("intl");
    const k = Signer.generate(c.suite);
    const r1 = c.run([c.tx(c.adminA, "governance", "propose", { action: addValidator(k, "tax") })]);
    assert.deepEqual(codes(r1), ["OK"]);
    assert.equal(readProposal(c.state, 1)!.status, "open");
    const r2 = c.run([c.tx(c.adminB, "governance", "vote", { id: 1, approve: true })]);
    assert.deepEqual(types(txEvents(r2)), ["voted", "passed"]);
    // default validatorChangeDelay = 2: passed at 2, applied at the end of 3, effective from 4
    const p = readProposal(c.state, 1)!;
    assert.deepEqual([p.applyAt, p.effectiveAt], [3, 4]);
    const r3 = c.run([]);
    assert.deepEqual(types(r3.endBlockEvents), ["applied"]);
  });

  it("rejection when passing becomes impossible: 4 organizations, 2 no (2·3 ≥ 4); 3 organizations, 1 no", () => {
    const c4 = govChain("intl", { orgs: 4 });
    const k = Signer.generate(c4.suite);
    c4.run([c4.propose(c4.admins[0]!, addValidator(k, "tax")), c4.vote(c4.admins[1]!, 1, false)]);
    assert.equal(readProposal(c4.state, 1)!.status, "open");
    const r = c4.run([c4.vote(c4.admins[2]!, 1, false)]);
    assert.deepEqual(types(txEvents(r)), ["voted", "rejected"]);
    assert.equal(readProposal(c4.state, 1)!.status, "rejected");
    assert.deepEqual(codes(c4.run([c4.vote(c4.admins[3]!, 1)])), ["GOV_REJECTED"]);

    const c3 = govChain("intl", { orgs: 3 });
    const r3 = c3.run([c3.propose(c3.admins[0]!, addValidator(k, "tax")), c3.vote(c3.admins[1]!, 1, false)]);
    assert.deepEqual(types(txEvents(r3)), ["proposed", "voted", "voted", "rejected"]);
  });

  it("a one-organization consortium passes its proposals at once", () => {
    const c = govChain("intl", { orgs: 1 });
    const k = Signer.generate(c.suite);
    const r = c.run([c.propose(c.admins[0]!, addValidator(k, "market"))]);
    assert.deepEqual(types(txEvents(r)), ["proposed", "voted", "passed"]);
  });
});

describe("governance: forbidden paths", () => {
  it("a non-admin can neither propose nor vote (AUTH_ROLE_REQUIRED)", () => {
    const c = govChain("intl", { orgs: 4 });
    const official = Signer.generate(c.suite);
    c.run([
      c.tx(c.admins[1]!, "membership", "enroll", { publicKey: official.publicKey, roles: ["official"] }),
    ]);
    const k = Signer.generate(c.suite);
    const r = c.run([
      c.propose(official, addValidator(k, "tax")),
      c.propose(c.admins[0]!, addValidator(k, "tax")),
      c.vote(official, 1),
    ]);
    assert.deepEqual(codes(r), ["AUTH_ROLE_REQUIRED", "OK", "AUTH_ROLE_REQUIRED"]);
    assert.equal(readProposal(c.state, 1)!.votes.length, 1);
  });

  it("one vote per organization: a second vote, by the same or another admin of it, is GOV_ALREADY_VOTED", () => {
    const c = govChain("intl", { orgs: 4 });
    const admin2 = Signer.generate(c.suite);
    c.run([c.tx(c.admins[1]!, "membership", "enroll", { publicKey: admin2.publicKey, roles: ["admin"] })]);
    const k = Signer.generate(c.suite);
    const r = c.run([
      c.propose(c.admins[0]!, addValidator(k, "tax")),
      c.vote(c.admins[0]!, 1),
      c.vote(c.admins[1]!, 1),
      c.vote(c.admins[1]!, 1, false),
      c.vote(admin2, 1),
    ]);
    assert.deepEqual(codes(r), ["OK", "GOV_ALREADY_VOTED", "OK", "GOV_ALREADY_VOTED", "GOV_ALREADY_VOTED"]);
    assert.equal(readProposal(c.state, 1)!.status, "open");
  });

  it("votes are accepted up to expiresAt; the hook of that block expires it; a later vote is GOV_EXPIRED", () => {
    const c = govChain("intl", { orgs: 4, votingBlocks: 3 });
    const k = Signer.generate(c.suite);
    c.run([c.propose(c.admins[0]!, addValidator(k, "tax"))]); // height 1, expiresAt 4
    assert.equal(readProposal(c.state, 1)!.expiresAt, 4);
    c.runTo(4);
    const r4 = c.run([c.vote(c.admins[1]!, 1)]);
    assert.deepEqual(codes(r4), ["OK"]);
    assert.deepEqual(types(r4.endBlockEvents), ["expired"]);
    assert.equal(readProposal(c.state, 1)!.status, "expired");
    assert.deepEqual(codes(c.run([c.vote(c.admins[2]!, 1)])), ["GOV_EXPIRED"]);
  });

  it("votes on a passed or unknown proposal are refused", () => {
    const c = govChain("intl", { orgs: 3 });
    const k = Signer.generate(c.suite);
    c.run([
      c.propose(c.admins[0]!, addValidator(k, "tax")),
      c.vote(c.admins[1]!, 1),
      c.vote(c.admins[2]!, 1),
    ]);
    assert.equal(readProposal(c.state, 1)!.status, "passed");
    const r = c.run([c.vote(c.admins[1]!, 1), c.vote(c.admins[1]!, 7)]);
    assert.deepEqual(codes(r), ["GOV_ALREADY_PASSED", "GOV_NOT_FOUND"]);
    assert.equal(readProposal(c.state, 1)!.status, "applied"); // at the end of block 2
    assert.deepEqual(codes(c.run([c.vote(c.admins[2]!, 1)])), ["GOV_ALREADY_PASSED"]);
  });

  it("arguments are checked at parse time and against the suite and the state at propose time", () => {
    const c = govChain("intl", { orgs: 2 });
    const k = Signer.generate(c.suite);
    const key = k.publicKey;
    const existing = c.validatorKeys[0]!.publicKey;
    const r = c.run([
      c.propose(c.admins[0]!, { kind: "upgrade" }),
      c.propose(c.admins[0]!, "addValidator"),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: key, power: 0, org: "tax" }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: key, power: 1_000_001, org: "tax" }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: key, power: 1, org: "Tax!" }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: key, power: 1, org: "tax", extra: 1 }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: new Uint8Array(33), power: 1, org: "tax" }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: key, power: 1, org: "nobody" }),
      c.propose(c.admins[0]!, { kind: "addValidator", publicKey: existing, power: 1, org: "tax" }),
      c.propose(c.admins[0]!, { kind: "setPower", publicKey: key, power: 3 }),
      c.propose(c.admins[0]!, { kind: "setPower", publicKey: existing, power: 10 }),
      c.propose(c.admins[0]!, { kind: "removeValidator", publicKey: key }),
      c.propose(c.admins[0]!, {
        kind: "addOrg",
        id: "tax",
        name: "x",
        code: orgCode(9),
        rootPublicKey: key,
      }),
      c.propose(c.admins[0]!, {
        kind: "addOrg",
        id: "health",
        name: "x",
        code: orgCode(1),
        rootPublicKey: key,
      }),
      c.propose(c.admins[0]!, {
        kind: "addOrg",
        id: "health",
        name: "x",
        code: orgCode(9),
        rootPublicKey: c.admins[1]!.publicKey,
      }),
      c.propose(c.admins[0]!, {
        kind: "addOrg",
        id: "health",
        name: "x",
        code: "not-a-code",
        rootPublicKey: key,
      }),
      c.propose(c.admins[0]!, { kind: "removeOrg", id: "nobody" }),
      c.tx(c.admins[0]!, "governance", "vote", { id: 1, approve: "yes" }),
    ]);
    assert.deepEqual(codes(r), [
      "GOV_BAD_ACTION",
      "GOV_BAD_ACTION",
      "GOV_BAD_POWER",
      "GOV_BAD_POWER",
      "GOV_BAD_ORG",
      "GOV_BAD_ARGS",
      "GOV_BAD_KEY",
      "GOV_ORG_NOT_FOUND",
      "GOV_VALIDATOR_EXISTS",
      "GOV_VALIDATOR_NOT_FOUND",
      "GOV_NO_CHANGE",
      "GOV_VALIDATOR_NOT_FOUND",
      "GOV_ORG_EXISTS",
      "GOV_ORG_CODE_TAKEN",
      "GOV_KEY_ENROLLED",
      "GOV_BAD_ORG",
      "GOV_ORG_NOT_FOUND",
      "GOV_BAD_ARGS",
    ]);
    assert.equal(readProposal(c.state, 1), undefined);
  });

  it("the last validator cannot be removed, nor the organization that runs every validator, nor the last organization", () => {
    const c = govChain("intl", { orgs: 2, validatorsOf: [1, 0] });
    const r = c.run([
      c.propose(c.admins[1]!, { kind: "removeValidator", publicKey: c.validatorKeys[0]!.publicKey }),
      c.propose(c.admins[1]!, { kind: "removeOrg", id: "market" }),
    ]);
    assert.deepEqual(codes(r), ["GOV_LAST_VALIDATOR", "GOV_LAST_VALIDATOR"]);
    const solo = govChain("intl", { orgs: 1, validatorsOf: [2] });
    assert.deepEqual(codes(solo.run([solo.propose(solo.admins[0]!, { kind: "removeOrg", id: "market" })])), [
      "GOV_LAST_ORG",
    ]);
  });
});

for (const suiteId of SUITE_IDS) {
  describe(`governance end to end (${suiteId})`, () => {
    it("a validator change applies exactly at the end of block a + d − 1", () => {
      const d = 3;
      const c = govChain(suiteId, { orgs: 4, delay: d });
      const k = Signer.generate(c.suite);
      const genesisSet = c.setAfter[0]!;
      c.run([c.propose(c.admins[0]!, addValidator(k, "health", 7)), c.vote(c.admins[1]!, 1)]); // height 1
      const a = c.height; // 2
      const rA = c.run([c.vote(c.admins[2]!, 1)]);
      assert.deepEqual(types(txEvents(rA)), ["voted", "passed"]);
      assert.deepEqual(txEvents(rA)[1]!.attributes, {
        id: 1,
        kind: "addValidator",
        yes: 3,
        active: 4,
        applyAt: a + d - 1,
        effectiveAt: a + d,
      });
      assert.deepEqual(query(c, "pending"), [
        {
          id: 1,
          kind: "addValidator",
          action: { kind: "addValidator", publicKey: toHex(k.publicKey), power: 7, org: "health" },
          passedAt: a,
          applyAt: a + d - 1,
          effectiveAt: a + d,
        },
      ]);
      c.runTo(a + d);
      // The state after block a + d − 2 still holds the old set; after a + d − 1, the new one.
      assert.deepEqual(keysOf(c.setAfter[a + d - 2]!), keysOf(genesisSet));
      assert.deepEqual(keysOf(c.setAfter[a + d - 1]!), [...keysOf(genesisSet), `${toHex(k.publicKey)}:7`]);
      assert.deepEqual(types(c.results[a + d - 2]!.endBlockEvents), ["applied"]);
      assert.deepEqual(c.results[a + d - 2]!.endBlockEvents[0], {
        module: "governance",
        type: "applied",
        attributes: { id: 1, kind: "addValidator", height: a + d - 1 },
      });
      for (const h of [1, 2, 3]) assert.deepEqual(c.results[h - 1]!.endBlockEvents, []);
      assert.equal(readProposal(c.state, 1)!.status, "applied");
      assert.deepEqual(query(c, "pending"), []);
      const v = query(c, "validators") as { validators: unknown[]; totalPower: number };
      assert.equal(v.totalPower, 4 * 10 + 7);
      assert.deepEqual(v.validators.at(-1), { publicKey: toHex(k.publicKey), power: 7, org: "health" });
    });

    it("setPower and removeValidator change the set; a change that became invalid is skipped", () => {
      const c = govChain(suiteId, { orgs: 1, validatorsOf: [2] });
      const [v0, v1] = c.validatorKeys;
      c.run([
        c.propose(c.admins[0]!, { kind: "setPower", publicKey: v0!.publicKey, power: 99 }),
        c.propose(c.admins[0]!, { kind: "removeValidator", publicKey: v0!.publicKey }),
        c.propose(c.admins[0]!, { kind: "removeValidator", publicKey: v1!.publicKey }),
      ]);
      const r = c.run();
      assert.deepEqual(types(r.endBlockEvents), ["applied", "applied", "changeSkipped"]);
      assert.deepEqual(r.endBlockEvents[2]!.attributes.reason, "GOV_LAST_VALIDATOR");
      assert.deepEqual(keysOf(c.setAfter[2]!), [`${toHex(v1!.publicKey)}:10`]);
      const p3 = readProposal(c.state, 3)!;
      assert.deepEqual([p3.status, p3.skipReason], ["skipped", "GOV_LAST_VALIDATOR"]);
      assert.deepEqual(readPending(c.state), []);
    });

    it("removeOrg removes its validators, its accounts can no longer transact, and it stops counting", () => {
      const c = govChain(suiteId, { orgs: 4, validatorsOf: [1, 2, 1, 1] });
      const taxOfficial = Signer.generate(c.suite);
      c.run([
        c.tx(c.admins[1]!, "membership", "enroll", { publicKey: taxOfficial.publicKey, roles: ["official"] }),
      ]);
      c.run([
        c.propose(c.admins[0]!, { kind: "removeOrg", id: "tax" }),
        c.vote(c.admins[2]!, 1),
        c.vote(c.admins[3]!, 1),
      ]); // passes at 2, applied at the end of 3
      const r3 = c.run();
      assert.deepEqual(types(r3.endBlockEvents), ["applied"]);
      assert.equal(readOrg(c.state, "tax")!.status, "removed");
      assert.deepEqual(
        c.setAfter[3]!.map((v) => v.org),
        ["market", "health", "edu"],
      );
      const r4 = c.run([
        c.tx(taxOfficial, "attest", "record", { digest: new Uint8Array(32), kind: "x", provenance: {} }),
        c.propose(c.admins[1]!, { kind: "removeOrg", id: "market" }),
      ]);
      assert.deepEqual(r4.included.length, 0);
      assert.deepEqual(
        r4.excluded.map((x) => x.error.code),
        ["AUTH_ORG_INACTIVE", "AUTH_ORG_INACTIVE"],
      );
      // 3 active organizations now: 2 yes is not enough, 3 is
      const k = Signer.generate(c.suite);
      c.run([c.propose(c.admins[0]!, addValidator(k, "edu")), c.vote(c.admins[2]!, 2)]);
      assert.equal(readProposal(c.state, 2)!.status, "open");
      assert.deepEqual((query(c, "proposal", { id: "2" }) as { tally: unknown }).tally, {
        yes: 2,
        no: 0,
        active: 3,
      });
      assert.deepEqual(types(txEvents(c.run([c.vote(c.admins[3]!, 2)]))), ["voted", "passed"]);
      // a validator of a removed organization cannot be proposed
      assert.deepEqual(
        codes(c.run([c.propose(c.admins[0]!, addValidator(Signer.generate(c.suite), "tax"))])),
        ["GOV_ORG_NOT_ACTIVE"],
      );
    });

    it("addOrg enrols the new organization's admin, which then proposes, votes and counts", () => {
      const c = govChain(suiteId, { orgs: 3 });
      const root = Signer.generate(c.suite);
      c.run([
        c.propose(c.admins[0]!, {
          kind: "addOrg",
          id: "water",
          name: "水务局",
          code: orgCode(7),
          rootPublicKey: root.publicKey,
        }),
        c.vote(c.admins[1]!, 1),
        c.vote(c.admins[2]!, 1),
      ]);
      assert.equal(readAccount(c.state, root.address), undefined);
      const r2 = c.run(); // applied at the end of 2
      assert.deepEqual(types(r2.endBlockEvents), ["applied"]);
      const org = readOrg(c.state, "water")!;
      assert.deepEqual([org.status, org.code, org.name], ["active", orgCode(7), "水务局"]);
      const acct = readAccount(c.state, root.address)!;
      assert.deepEqual(
        [acct.org, acct.roles, acct.status, acct.enrolledAt],
        ["water", ["admin"], "active", 2],
      );
      // 4 active organizations: the new one proposes, two more approve → 3 of 4
      const k = Signer.generate(c.suite);
      const r3 = c.run([c.propose(root, addValidator(k, "water")), c.vote(c.admins[0]!, 2)]);
      assert.deepEqual(codes(r3), ["OK", "OK"]);
      assert.equal(txEvents(r3).at(-1)!.attributes.active, 4);
      assert.equal(readProposal(c.state, 2)!.status, "open");
      c.run([c.vote(c.admins[1]!, 2)]);
      c.run();
      assert.deepEqual(c.setAfter.at(-1)!.at(-1)!.org, "water");
      // and votes on others' proposals
      c.run([
        c.propose(c.admins[0]!, { kind: "setPower", publicKey: k.publicKey, power: 2 }),
        c.vote(root, 3),
      ]);
      assert.deepEqual(
        readProposal(c.state, 3)!.votes.map((v) => v.org),
        ["market", "water"],
      );
    });

    it("execution is deterministic: the same blocks on equal states give the same changes and events", () => {
      const build = () => govChain(suiteId, { orgs: 3, delay: 2 });
      const c = build();
      const k = Signer.generate(c.suite);
      const root = Signer.generate(c.suite);
      const blocks = [
        [
          c.propose(c.admins[0]!, addValidator(k, "tax")),
          c.propose(c.admins[1]!, {
            kind: "addOrg",
            id: "water",
            name: "水务局",
            code: orgCode(7),
            rootPublicKey: root.publicKey,
          }),
        ],
        [c.vote(c.admins[1]!, 1), c.vote(c.admins[2]!, 1), c.vote(c.admins[0]!, 2), c.vote(c.admins[2]!, 2)],
        [],
        [],
      ];
      const copy = new MemoryState();
      for (const [key, v] of c.state.map) copy.map.set(key, v);
      const ctxs: ReturnType<GovChain["ctx"]>[] = [];
      const first = blocks.map((txs) => {
        ctxs.push(c.ctx());
        return c.run(txs);
      });
      const second = blocks.map((txs, i) => {
        const r = executeBlock(copy, ctxs[i]!, c.registry, txs);
        copy.apply(r.state.changes());
        return r;
      });
      for (let i = 0; i < blocks.length; i++) {
        assert.deepEqual(second[i]!.receipts, first[i]!.receipts);
        assert.deepEqual(second[i]!.state.changes(), first[i]!.state.changes());
        assert.deepEqual(second[i]!.endBlockEvents, first[i]!.endBlockEvents);
      }
      assert.deepEqual(types(first[2]!.endBlockEvents), ["applied", "applied"]);
      assert.deepEqual([...copy.map.entries()].sort(), [...c.state.map.entries()].sort());
    });
  });
}

describe("governance: the end-of-block hook and the engine", () => {
  it("a block with nothing due gets no end-of-block writes or events", () => {
    const c = govChain("intl", { orgs: 2 });
    const r = c.run();
    assert.deepEqual(r.state.changes(), []);
    assert.deepEqual(r.endBlockEvents, []);
  });

  it("the due key is consumed when processed", () => {
    const c = govChain("intl", { orgs: 1 });
    c.run([c.propose(c.admins[0]!, addValidator(Signer.generate(c.suite), "market"))]);
    const r = c.run();
    const keys = r.state.changes().map((x) => Buffer.from(x.key).toString("latin1"));
    assert.ok(keys.includes("gov/due/2"));
    assert.equal(c.state.map.has("gov/due/2"), false);
  });

  it("proposals lists newest first, filters by status, and pages", () => {
    const c = govChain("intl", { orgs: 2 });
    const ks = [1, 2, 3].map(() => Signer.generate(c.suite));
    c.run(ks.map((k) => c.propose(c.admins[0]!, addValidator(k, "tax"))));
    c.run([c.vote(c.admins[1]!, 2)]);
    const all = query(c, "proposals") as {
      proposals: Array<{ id: number; status: string }>;
      next: number | null;
    };
    assert.deepEqual(
      all.proposals.map((p) => [p.id, p.status]),
      [
        [3, "open"],
        [2, "passed"],
        [1, "open"],
      ],
    );
    assert.equal(all.next, null);
    const open = query(c, "proposals", { status: "open", limit: "1" }) as typeof all;
    assert.deepEqual(
      open.proposals.map((p) => p.id),
      [3],
    );
    const more = query(c, "proposals", { status: "open", before: String(open.next) }) as typeof all;
    assert.deepEqual(
      more.proposals.map((p) => p.id),
      [1],
    );
    assert.throws(() => query(c, "proposals", { status: "maybe" }), { code: "QUERY_BAD_PARAM" });
    assert.equal(query(c, "proposal", { id: "9" }), null);
  });

  it("genesis requires validatorChangeDelay ≥ 2 and defaults both governance params", () => {
    const suite = getSuite("intl");
    const g = minimalGenesisJson(suite);
    const keyLen = () => suite.publicKeyLength;
    const parsed = parseGenesis(g, keyLen);
    assert.deepEqual([parsed.params.governanceVotingBlocks, parsed.params.validatorChangeDelay], [1000, 2]);
    assert.throws(() => parseGenesis({ ...g, params: { validatorChangeDelay: 1 } }, keyLen), {
      code: "GENESIS_INVALID",
    });
    assert.throws(() => parseGenesis({ ...g, params: { governanceVotingBlocks: 0 } }, keyLen), {
      code: "GENESIS_INVALID",
    });
  });
});
