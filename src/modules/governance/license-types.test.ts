import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CborValue } from "../../codec/cbor.js";
import { getSuite } from "../../crypto/index.js";
import type { BlockResult } from "../../execution/engine.js";
import type { Event } from "../../ledger/block.js";
import { encodeGenesis, parseGenesis } from "../../ledger/genesis.js";
import { readType } from "../licenses/state.js";
import { refuseDirectTypeCall } from "../licenses/type-registry.js";
import { readCount, readProposal } from "./state.js";
import { type GovChain, govChain, minimalGenesisJson, orgCode } from "./test-support.js";

const codes = (r: BlockResult) => r.receipts.map((x) => x.code);
const types = (events: Event[]) => events.map((e) => e.type);

/** market (org 0) defines its types under its own USCC. */
const MARKET_TYPE = `${orgCode(0)}001`;
const FIELDS = [
  { name: "ZZBH", type: "text", required: true },
  { name: "CZZT", type: "text", required: true },
];
const typeArgs = (typeCode: string, issuerOrgs = ["market"], name = "营业执照") => ({
  typeCode,
  name,
  fields: FIELDS,
  issuerOrgs,
  maxValidityDays: 3650,
});
const action = (
  kind: "registerLicenseType" | "updateLicenseType",
  args = typeArgs(MARKET_TYPE),
): CborValue => ({
  kind,
  ...args,
});

/** Proposal `id` by market, approved by tax and health: 3 of 4 > 2/3, passed in the vote block. */
function passByVote(c: GovChain, act: CborValue, id: number): BlockResult {
  const r1 = c.run([c.propose(c.admins[0]!, act)]);
  assert.deepEqual(codes(r1), ["OK"]);
  const r2 = c.run([c.vote(c.admins[1]!, id), c.vote(c.admins[2]!, id)]);
  assert.deepEqual(codes(r2), ["OK", "OK"]);
  assert.equal(readProposal(c.state, id)!.status, "passed");
  return r2;
}

describe("governance: license types by vote", () => {
  it("a proposal by the defining organization passes with > 2/3; the type appears exactly at a + d − 1", () => {
    const c = govChain("intl", { orgs: 4, delay: 3 });
    c.run([c.propose(c.admins[0]!, action("registerLicenseType")), c.vote(c.admins[1]!, 1)]);
    assert.equal(readProposal(c.state, 1)!.status, "open", "2 of 4 is not more than two thirds");
    const r = c.run([c.vote(c.admins[2]!, 1)]);
    assert.deepEqual(types(r.receipts.flatMap((x) => x.events)), ["voted", "passed"]);
    const p = readProposal(c.state, 1)!;
    assert.deepEqual([p.decidedAt, p.applyAt, p.effectiveAt], [2, 4, 5]);
    assert.equal(p.action.kind, "registerLicenseType");
    c.run();
    assert.equal(readType(c.state, MARKET_TYPE), undefined, "not yet at a + d − 2");
    const applied = c.run();
    assert.equal(c.height - 1, 4);
    assert.deepEqual(types(applied.endBlockEvents), ["applied"]);
    const t = readType(c.state, MARKET_TYPE)!;
    assert.deepEqual(
      [t.definingOrg, t.version, t.registeredAt, t.updatedAt, t.name, t.issuerOrgs],
      ["market", 1, 4, 4, "营业执照", ["market"]],
    );
    assert.deepEqual(t.fields, FIELDS);
    assert.equal(readProposal(c.state, 1)!.status, "applied");
  });

  it("propose-time refusals: another org's namespace, a registered code, an unknown issuer org, another org's type", () => {
    const c = govChain("intl", { orgs: 4 });
    const r = c.run([
      c.propose(c.admins[1]!, action("registerLicenseType")),
      c.propose(
        c.admins[0]!,
        action("registerLicenseType", typeArgs(`${MARKET_TYPE.slice(0, 18)}002`, ["nowhere"])),
      ),
      c.propose(c.admins[0]!, action("updateLicenseType")),
      c.propose(c.admins[0]!, { kind: "registerLicenseType", typeCode: MARKET_TYPE }),
    ]);
    assert.deepEqual(codes(r), [
      "LICENSE_TYPE_CODE_ORG",
      "LICENSE_UNKNOWN_ORG",
      "LICENSE_TYPE_NOT_FOUND",
      "LICENSE_BAD_ARGS",
    ]);
    assert.equal(readCount(c.state), 0, "no proposal recorded");

    passByVote(c, action("registerLicenseType"), 1);
    c.run();
    assert.ok(readType(c.state, MARKET_TYPE));
    const r2 = c.run([
      c.propose(c.admins[0]!, action("registerLicenseType")),
      c.propose(c.admins[1]!, action("updateLicenseType", typeArgs(MARKET_TYPE, ["market", "tax"]))),
      c.propose(c.admins[0]!, action("updateLicenseType", typeArgs(MARKET_TYPE, ["tax"]))),
    ]);
    assert.deepEqual(codes(r2), ["LICENSE_TYPE_EXISTS", "LICENSE_WRONG_ORG", "LICENSE_ISSUER_ORG_REMOVED"]);
    assert.equal(readCount(c.state), 1);
  });

  it("an update by vote bumps the version and keeps registeredAt and definingOrg", () => {
    const c = govChain("intl", { orgs: 4 });
    passByVote(c, action("registerLicenseType"), 1);
    c.run();
    const update = action("updateLicenseType", typeArgs(MARKET_TYPE, ["market", "tax"], "营业执照（新版）"));
    passByVote(c, update, 2);
    assert.equal(readType(c.state, MARKET_TYPE)!.version, 1, "not applied before a + d − 1");
    const r = c.run();
    assert.deepEqual(types(r.endBlockEvents), ["applied"]);
    const t = readType(c.state, MARKET_TYPE)!;
    assert.deepEqual(
      [t.version, t.definingOrg, t.registeredAt, t.updatedAt, t.name, t.issuerOrgs],
      [2, "market", 3, 6, "营业执照（新版）", ["market", "tax"]],
    );
  });

  it("a change that became invalid is skipped at apply time (changeSkipped), never thrown", () => {
    const c = govChain("intl", { orgs: 4 });
    c.run([
      c.propose(c.admins[0]!, action("registerLicenseType")),
      c.propose(c.admins[0]!, action("registerLicenseType", typeArgs(MARKET_TYPE, ["market", "tax"]))),
    ]);
    c.run([
      c.vote(c.admins[1]!, 1),
      c.vote(c.admins[2]!, 1),
      c.vote(c.admins[1]!, 2),
      c.vote(c.admins[2]!, 2),
    ]);
    const r = c.run();
    assert.deepEqual(types(r.endBlockEvents), ["applied", "changeSkipped"]);
    const skipped = readProposal(c.state, 2)!;
    assert.deepEqual([skipped.status, skipped.skipReason], ["skipped", "LICENSE_TYPE_EXISTS"]);
    assert.deepEqual(readType(c.state, MARKET_TYPE)!.issuerOrgs, ["market"], "the first one wins");
  });

  it("licenseTypesByVote = true: the direct calls fail with LICENSE_TYPE_BY_VOTE; the vote path works", () => {
    const c = govChain("intl", { orgs: 4, licenseTypesByVote: true });
    const r = c.run([
      c.tx(c.admins[0]!, "licenses", "registerType", typeArgs(MARKET_TYPE)),
      c.tx(c.admins[0]!, "licenses", "updateType", typeArgs(MARKET_TYPE)),
    ]);
    assert.deepEqual(codes(r), ["LICENSE_TYPE_BY_VOTE", "LICENSE_TYPE_BY_VOTE"]);
    assert.throws(() => refuseDirectTypeCall("registerLicenseType"), {
      code: "LICENSE_TYPE_BY_VOTE",
      message: /governance\.propose \{kind: registerLicenseType, \.\.\.\}/,
    });
    passByVote(c, action("registerLicenseType"), 1);
    c.run();
    assert.equal(readType(c.state, MARKET_TYPE)!.version, 1);
    assert.deepEqual(codes(c.run([c.tx(c.admins[0]!, "licenses", "updateType", typeArgs(MARKET_TYPE))])), [
      "LICENSE_TYPE_BY_VOTE",
    ]);
    passByVote(c, action("updateLicenseType"), 2);
    c.run();
    assert.equal(readType(c.state, MARKET_TYPE)!.version, 2);
  });

  it("by default both paths work: direct registration and update, then an update by vote", () => {
    const c = govChain("intl", { orgs: 4 });
    assert.equal(c.params.licenseTypesByVote, false);
    const r = c.run([
      c.tx(c.admins[0]!, "licenses", "registerType", typeArgs(MARKET_TYPE)),
      c.tx(c.admins[0]!, "licenses", "updateType", typeArgs(MARKET_TYPE, ["market", "tax"])),
    ]);
    assert.deepEqual(codes(r), ["OK", "OK"]);
    assert.equal(readType(c.state, MARKET_TYPE)!.version, 2);
    passByVote(c, action("updateLicenseType", typeArgs(MARKET_TYPE, ["market", "tax", "health"])), 1);
    c.run();
    const t = readType(c.state, MARKET_TYPE)!;
    assert.deepEqual([t.version, t.issuerOrgs], [3, ["market", "tax", "health"]]);
  });

  it("genesis: licenseTypesByVote defaults to false, accepts only a boolean, and is in the genesis hash", () => {
    const suite = getSuite("intl");
    const g = minimalGenesisJson(suite);
    const keyLen = () => suite.publicKeyLength;
    const byDefault = parseGenesis(g, keyLen);
    assert.equal(byDefault.params.licenseTypesByVote, false);
    const byVote = parseGenesis({ ...g, params: { licenseTypesByVote: true } }, keyLen);
    assert.equal(byVote.params.licenseTypesByVote, true);
    assert.notDeepEqual(encodeGenesis(byDefault), encodeGenesis(byVote));
    for (const bad of [1, "true", null])
      assert.throws(() => parseGenesis({ ...g, params: { licenseTypesByVote: bad } }, keyLen), {
        code: "GENESIS_INVALID",
      });
    assert.throws(() => parseGenesis({ ...g, params: { maxTxBytes: true } }, keyLen), {
      code: "GENESIS_INVALID",
    });
  });
});
