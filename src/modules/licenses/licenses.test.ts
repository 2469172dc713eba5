import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { CborValue } from "../../codec/cbor.js";
import { SUITE_IDS, type SuiteId } from "../../crypto/suite.js";
import { testChain } from "../../execution/test-chain.js";
import { encodeReceipt, type Receipt } from "../../ledger/block.js";
import { toHex, utf8 } from "../../ledger/bytes.js";
import type { DecodedTx } from "../../ledger/tx.js";
import { Signer } from "../../sdk/signer.js";
import { commitField, holderPseudonym, verifyDisclosure } from "./commitments.js";
import { buildLicenseId } from "./identifiers.js";
import { licenseStatus } from "./state.js";
import { DAY_MS, type Grant, type License, type LicenseType, type UseEntry } from "./types.js";

const MARKET = "11100000000000000X";
const TAX = "11100000000000001X";
const TYPE_A = `${MARKET}001`;
const TYPE_B = `${MARKET}002`;
const FIELDS = [
  { name: "ZZBH", type: "text", required: true },
  { name: "CZZT", type: "text", required: true },
  { name: "CZZTDM", type: "text", required: true },
  { name: "ZZBFRQ", type: "date", required: true },
  { name: "KZ_JYFW", type: "text", required: false },
];
const typeArgs = (typeCode: string, issuerOrgs = ["market"], maxValidityDays = 3650) => ({
  typeCode,
  name: "营业执照",
  fields: FIELDS,
  issuerOrgs,
  maxValidityDays,
});
const licenseIdOf = (serial: string, version = 1, typeCode = TYPE_A, issuerCode = MARKET) =>
  buildLicenseId({ typeCode, issuerCode, serial, version });
const salt = () => new Uint8Array(randomBytes(16));
const zeros32 = new Uint8Array(32);

/**
 * The shared test chain (src/execution/test-chain.ts), composed with a movable clock, the
 * accounts of a license flow, and helpers that run one call per block.
 */
function world(suiteId: SuiteId) {
  const c = testChain(suiteId);
  let offset = 0;
  const baseCtx = c.ctx.bind(c);
  c.ctx = () => {
    const b = baseCtx();
    return { ...b, time: b.time + offset };
  };
  const hash = (d: Uint8Array) => c.suite.hash(d);
  const txs: DecodedTx[] = [];
  const receipts: Receipt[] = [];

  const runAll = (batch: DecodedTx[]) => {
    txs.push(...batch);
    const r = c.run(batch);
    assert.equal(
      r.included.length,
      batch.length,
      `excluded: ${r.excluded.map((e) => e.error.code).join(", ")}`,
    );
    receipts.push(...r.receipts);
    return r.receipts;
  };
  const call = (signer: Signer, name: string, args: CborValue, module = "licenses") =>
    runAll([c.tx(signer, module, name, args)])[0]!;
  const ok = (signer: Signer, name: string, args: CborValue, module = "licenses") => {
    const r = call(signer, name, args, module);
    assert.equal(r.code, "OK", `${module}.${name}`);
    return r;
  };
  /** The call fails with `code` and changes nothing but the sender's nonce. */
  const rejects = (signer: Signer, name: string, args: CborValue, code: string) => {
    const before = new Map(c.state.map);
    const r = call(signer, name, args);
    assert.equal(r.code, code, `licenses.${name}`);
    assert.equal(r.events.length, 0);
    const changed = [...new Set([...before.keys(), ...c.state.map.keys()])].filter(
      (k) => before.get(k) !== c.state.map.get(k),
    );
    assert.deepEqual(changed, [`nonce/${signer.addressHex}`]);
  };
  const enrol = (admin: Signer, roles: string[]) => {
    const s = Signer.generate(c.suite);
    ok(admin, "enroll", { publicKey: s.publicKey, roles }, "membership");
    return s;
  };
  const query = (name: string, params: Record<string, string>): unknown => {
    const q = c.registry.module("licenses")!.queries[name]!;
    return q.run({ suite: c.suite, state: c.state }, q.parse(params) as never);
  };

  // The cast: the market department defines and issues; tax hosts the bank-like relying party
  // and a supervisor.
  const issuer = enrol(c.adminA, ["issuer"]);
  const holder = enrol(c.adminA, ["holder"]);
  const bank = enrol(c.adminB, ["official"]);
  const supervisor = enrol(c.adminB, ["supervisor"]);
  ok(c.adminA, "registerType", typeArgs(TYPE_A));
  ok(c.adminA, "grantIssuer", { typeCode: TYPE_A, address: issuer.address });

  const now = () => c.ctx().time;
  const face = {
    ZZBH: "91110000MA01ABCD2X",
    CZZT: "北京示例科技有限公司",
    CZZTDM: "91110000MA01ABCD2X",
    ZZBFRQ: "2024-01-02",
  } as Record<string, string>;
  const commitmentsFor = (values: Record<string, string>) => {
    const out: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(values)) out[k] = commitField(hash, k, v, salt());
    return out;
  };
  const holderId = holderPseudonym(hash, salt(), `did:zl:holder:${holder.addressHex}`);
  const issueArgs = (serial: string, over: Record<string, CborValue> = {}) => ({
    licenseId: licenseIdOf(serial),
    holder: holderId,
    holderAccount: holder.address,
    commitments: commitmentsFor(face),
    validFrom: now(),
    validUntil: now() + 365 * DAY_MS,
    ...over,
  });
  const license = (id: string) => query("license", { licenseId: id }) as License | null;
  const grantArgs = (licenseId: string, over: Record<string, CborValue> = {}) => ({
    licenseId,
    relyingParty: bank.address,
    purpose: "个人经营贷款审核",
    fields: ["CZZT", "CZZTDM"],
    from: now(),
    until: now() + 30 * DAY_MS,
    ...over,
  });
  const useArgs = (licenseId: string, grantId = "0000000001") => ({
    licenseId,
    grantId,
    serviceItemCode: "11100000000013127D3000117000",
    businessSerial: "LOAN-2024-000001",
    reasonCommitment: commitField(hash, "reason", "贷款审核", salt()),
  });

  return {
    c,
    hash,
    txs,
    receipts,
    issuer,
    holder,
    bank,
    supervisor,
    face,
    holderId,
    advance: (ms: number) => {
      offset += ms;
    },
    now,
    call,
    ok,
    rejects,
    enrol,
    query,
    license,
    commitmentsFor,
    issueArgs,
    grantArgs,
    useArgs,
  };
}

for (const suiteId of SUITE_IDS) {
  describe(`licenses (${suiteId})`, () => {
    it("happy path: register, grant issuer, issue, grant a bank, record a use, revoke", () => {
      const w = world(suiteId);
      const type = w.query("type", { typeCode: TYPE_A }) as LicenseType;
      assert.deepEqual(
        [type.definingOrg, type.version, type.issuerOrgs, type.fields.length],
        ["market", 1, ["market"], 5],
      );
      const id = licenseIdOf("A0000001");
      const args = w.issueArgs("A0000001");
      const issued = w.ok(w.issuer, "issue", args);
      const issueHeight = w.c.ctx().height - 1;
      assert.equal(issued.events[0]!.type, "issued");
      assert.equal(issued.events[0]!.attributes.licenseId, id);

      const rec = w.license(id)!;
      assert.equal(rec.status, "01");
      assert.equal(rec.issuerOrg, "market");
      assert.deepEqual(rec.issuer, w.issuer.address);
      assert.deepEqual(rec.holderAccount, w.holder.address);
      assert.equal(rec.typeVersion, 1);
      assert.equal(rec.issuedAt, issueHeight);
      assert.equal(rec.previous, null);
      assert.deepEqual(Object.keys(rec.commitments).sort(), ["CZZT", "CZZTDM", "ZZBFRQ", "ZZBH"]);
      // A disclosed field opens its on-chain commitment; a wrong value does not.
      const s = salt();
      const c2 = commitField(w.hash, "CZZT", w.face.CZZT!, s);
      assert.ok(verifyDisclosure(w.hash, c2, "CZZT", w.face.CZZT!, s));
      assert.ok(!verifyDisclosure(w.hash, rec.commitments.CZZT!, "CZZT", "别的公司", s));
      assert.deepEqual(w.query("status", { licenseId: id, time: String(w.now()) }), {
        licenseId: id,
        valid: true,
        reason: "OK",
        status: "01",
        next: null,
      });
      assert.equal(
        w.query("issuerAt", { typeCode: TYPE_A, address: w.issuer.addressHex, height: String(issueHeight) }),
        true,
      );

      const granted = w.ok(w.holder, "grant", w.grantArgs(id));
      assert.equal(granted.events[0]!.attributes.grantId, "0000000001");
      const grants = w.query("grants", { licenseId: id }) as Grant[];
      assert.equal(grants.length, 1);
      assert.deepEqual(grants[0]!.relyingParty, w.bank.address);
      assert.equal(grants[0]!.withdrawnAt, null);

      const used = w.ok(w.bank, "recordUse", w.useArgs(id));
      assert.equal(used.events[0]!.type, "used");
      assert.equal(used.events[0]!.attributes.org, "tax");
      w.ok(w.bank, "recordUse", { ...w.useArgs(id), businessSerial: "LOAN-2024-000002" });
      const uses = w.query("uses", { licenseId: id }) as UseEntry[];
      assert.deepEqual(
        uses.map((u) => [u.seq, u.grantId, u.org, u.businessSerial]),
        [
          [1, "0000000001", "tax", "LOAN-2024-000001"],
          [2, "0000000001", "tax", "LOAN-2024-000002"],
        ],
      );
      assert.deepEqual(uses[0]!.by, w.bank.address);
      assert.equal((w.query("uses", { licenseId: id, from: "2", limit: "1" }) as UseEntry[])[0]!.seq, 2);

      const revoked = w.ok(w.issuer, "revoke", {
        licenseId: id,
        reasonCode: "FRAUD",
        reasonText: "依据行政许可法第六十九条",
      });
      const ev = revoked.events[0]!;
      assert.equal(ev.type, "statusChanged");
      assert.deepEqual(
        [ev.attributes.licenseId, ev.attributes.from, ev.attributes.to, ev.attributes.org],
        [id, "01", "03", "market"],
      );
      assert.deepEqual(ev.attributes.by, w.issuer.address);
      assert.deepEqual(ev.attributes.reason, { code: "FRAUD", text: "依据行政许可法第六十九条" });
      const after = w.license(id)!;
      assert.equal(after.status, "03");
      assert.deepEqual(after.statusReason, { code: "FRAUD", text: "依据行政许可法第六十九条" });
      assert.deepEqual(after.statusBy, w.issuer.address);
      assert.deepEqual(w.query("status", { licenseId: id, time: String(w.now()) }), {
        licenseId: id,
        valid: false,
        reason: "REVOKED",
        status: "03",
        next: null,
      });
      w.rejects(w.bank, "recordUse", w.useArgs(id), "LICENSE_REVOKED");
      w.rejects(w.issuer, "reinstate", { licenseId: id, reasonCode: "APPEAL" }, "LICENSE_BAD_TRANSITION");
    });

    it("an issuer never granted the type is refused (LICENSE_ISSUER_NOT_GRANTED); grants follow org and role", () => {
      const w = world(suiteId);
      const stranger = w.enrol(w.c.adminA, ["issuer"]);
      w.rejects(stranger, "issue", w.issueArgs("B0000001"), "LICENSE_ISSUER_NOT_GRANTED");
      const official = w.enrol(w.c.adminA, ["official"]);
      w.rejects(official, "issue", w.issueArgs("B0000002"), "AUTH_ROLE_REQUIRED");
      w.rejects(
        w.c.adminA,
        "grantIssuer",
        { typeCode: TYPE_A, address: official.address },
        "LICENSE_NOT_ISSUER_ACCOUNT",
      );
      const taxIssuer = w.enrol(w.c.adminB, ["issuer"]);
      // tax is not an issuer organization of the type; market's admin cannot act for tax accounts.
      w.rejects(
        w.c.adminB,
        "grantIssuer",
        { typeCode: TYPE_A, address: taxIssuer.address },
        "LICENSE_ORG_NOT_ISSUER",
      );
      w.rejects(
        w.c.adminA,
        "grantIssuer",
        { typeCode: TYPE_A, address: taxIssuer.address },
        "LICENSE_WRONG_ORG",
      );
      w.rejects(
        w.c.adminA,
        "grantIssuer",
        { typeCode: TYPE_A, address: w.issuer.address },
        "LICENSE_ISSUER_ALREADY_GRANTED",
      );
      w.rejects(
        w.issuer,
        "grantIssuer",
        { typeCode: TYPE_A, address: stranger.address },
        "AUTH_ROLE_REQUIRED",
      );
      // An identifier naming another organization as issuer is refused even for a granted issuer.
      const foreignId = licenseIdOf("B0000003", 1, TYPE_A, TAX);
      w.rejects(w.issuer, "issue", w.issueArgs("B0000003", { licenseId: foreignId }), "LICENSE_ID_MISMATCH");
    });

    it("an issuer of one type cannot issue another type", () => {
      const w = world(suiteId);
      w.ok(w.c.adminA, "registerType", typeArgs(TYPE_B));
      const idB = licenseIdOf("C0000001", 1, TYPE_B);
      w.rejects(w.issuer, "issue", w.issueArgs("C0000001", { licenseId: idB }), "LICENSE_ISSUER_NOT_GRANTED");
      w.ok(w.issuer, "issue", w.issueArgs("C0000002"));
    });

    it("a withdrawn issuer is refused, and issuerAt proves it was authorized at the issue height", () => {
      const w = world(suiteId);
      const late = w.enrol(w.c.adminA, ["issuer"]);
      // Same block: the grant takes effect from the next height, so this issue fails.
      const [g, early] = w.c.run([
        w.c.tx(w.c.adminA, "licenses", "grantIssuer", { typeCode: TYPE_A, address: late.address }),
        w.c.tx(late, "licenses", "issue", w.issueArgs("D0000001")),
      ]).receipts;
      assert.deepEqual([g!.code, early!.code], ["OK", "LICENSE_ISSUER_NOT_GRANTED"]);
      const grantHeight = w.c.ctx().height - 1;
      w.ok(late, "issue", w.issueArgs("D0000002"));
      const issueHeight = w.license(licenseIdOf("D0000002"))!.issuedAt;
      w.ok(w.c.adminA, "withdrawIssuer", { typeCode: TYPE_A, address: late.address });
      const withdrawHeight = w.c.ctx().height - 1;
      w.rejects(late, "issue", w.issueArgs("D0000003"), "LICENSE_ISSUER_NOT_GRANTED");
      w.rejects(
        w.c.adminA,
        "withdrawIssuer",
        { typeCode: TYPE_A, address: late.address },
        "LICENSE_ISSUER_NOT_GRANTED",
      );
      const at = (h: number) =>
        w.query("issuerAt", { typeCode: TYPE_A, address: late.addressHex, height: String(h) }) as boolean;
      assert.deepEqual(
        [at(grantHeight), at(grantHeight + 1), at(issueHeight), at(withdrawHeight), at(withdrawHeight + 1)],
        [false, true, true, true, false],
      );
      assert.deepEqual(w.query("issuer", { typeCode: TYPE_A, address: late.addressHex }), {
        org: "market",
        grants: [{ from: grantHeight + 1, until: withdrawHeight + 1 }],
      });
      // The license issued while authorized stays valid; a re-grant opens a new period.
      assert.equal(w.license(licenseIdOf("D0000002"))!.status, "01");
      w.ok(w.c.adminA, "grantIssuer", { typeCode: TYPE_A, address: late.address });
      w.ok(late, "issue", w.issueArgs("D0000004"));
      assert.equal(at(withdrawHeight + 1), false);
    });

    it("another organization cannot suspend a license (LICENSE_WRONG_ORG); the issuing org can", () => {
      const w = world(suiteId);
      const id = licenseIdOf("E0000001");
      w.ok(w.issuer, "issue", w.issueArgs("E0000001"));
      const reason = { licenseId: id, reasonCode: "INSPECTION" };
      w.rejects(w.c.adminB, "suspend", reason, "LICENSE_WRONG_ORG");
      const taxIssuer = w.enrol(w.c.adminB, ["issuer"]);
      w.rejects(taxIssuer, "suspend", reason, "LICENSE_WRONG_ORG");
      w.rejects(w.holder, "suspend", reason, "AUTH_ROLE_REQUIRED");
      w.rejects(w.issuer, "suspend", { licenseId: id }, "LICENSE_BAD_ARGS");
      w.rejects(w.issuer, "suspend", { licenseId: id, reasonCode: "bad code" }, "LICENSE_BAD_REASON");
      const r = w.ok(w.c.adminA, "suspend", reason);
      assert.deepEqual([r.events[0]!.attributes.from, r.events[0]!.attributes.to], ["01", "02"]);
      w.rejects(w.issuer, "suspend", reason, "LICENSE_BAD_TRANSITION");
      w.ok(w.issuer, "reinstate", { licenseId: id, reasonCode: "RECTIFIED" });
      assert.equal(w.license(id)!.status, "01");
    });

    it("a supervisor of any org must state a reason (LICENSE_REASON_REQUIRED)", () => {
      const w = world(suiteId);
      const id = licenseIdOf("F0000001");
      w.ok(w.issuer, "issue", w.issueArgs("F0000001"));
      w.rejects(w.supervisor, "suspend", { licenseId: id, reasonCode: "AUDIT" }, "LICENSE_REASON_REQUIRED");
      w.rejects(
        w.supervisor,
        "suspend",
        { licenseId: id, reasonCode: "AUDIT", reasonText: "  " },
        "LICENSE_REASON_REQUIRED",
      );
      const r = w.ok(w.supervisor, "suspend", {
        licenseId: id,
        reasonCode: "AUDIT",
        reasonText: "监管检查：经营场所与登记不符",
      });
      const ev = r.events[0]!.attributes;
      assert.deepEqual([ev.org, ev.to], ["tax", "02"]);
      assert.deepEqual(ev.by, w.supervisor.address);
      const rec = w.license(id)!;
      assert.deepEqual(rec.statusReason, { code: "AUDIT", text: "监管检查：经营场所与登记不符" });
      assert.deepEqual(rec.statusBy, w.supervisor.address);
      w.ok(w.supervisor, "revoke", { licenseId: id, reasonCode: "AUDIT", reasonText: "吊销", status: "07" });
      assert.equal(w.license(id)!.status, "07");
    });

    it("only the holder account grants and withdraws (LICENSE_NOT_HOLDER); grant fields are the license's", () => {
      const w = world(suiteId);
      const id = licenseIdOf("G0000001");
      w.ok(w.issuer, "issue", w.issueArgs("G0000001"));
      const other = w.enrol(w.c.adminA, ["holder"]);
      w.rejects(other, "grant", w.grantArgs(id), "LICENSE_NOT_HOLDER");
      w.rejects(w.bank, "grant", w.grantArgs(id), "AUTH_ROLE_REQUIRED");
      w.rejects(w.holder, "grant", w.grantArgs(id, { fields: ["KZ_JYFW"] }), "LICENSE_UNKNOWN_FIELD");
      w.rejects(
        w.holder,
        "grant",
        w.grantArgs(id, { relyingParty: new Uint8Array(20).fill(7) }),
        "LICENSE_ACCOUNT_NOT_FOUND",
      );
      w.rejects(
        w.holder,
        "grant",
        w.grantArgs(id, { until: w.now() + 400 * DAY_MS }),
        "LICENSE_GRANT_PERIOD",
      );
      w.rejects(w.holder, "grant", w.grantArgs(id, { purpose: "" }), "LICENSE_BAD_ARGS");
      w.rejects(w.holder, "grant", w.grantArgs(licenseIdOf("G0000009")), "LICENSE_NOT_FOUND");
      w.ok(w.holder, "grant", w.grantArgs(id));
      w.rejects(other, "withdrawGrant", { licenseId: id, grantId: "0000000001" }, "LICENSE_NOT_HOLDER");
      w.rejects(
        w.holder,
        "withdrawGrant",
        { licenseId: id, grantId: "0000000002" },
        "LICENSE_GRANT_NOT_FOUND",
      );
    });

    it("a use after withdrawal, by another party or outside the grant period is refused", () => {
      const w = world(suiteId);
      const id = licenseIdOf("H0000001");
      w.ok(w.issuer, "issue", w.issueArgs("H0000001"));
      w.ok(w.holder, "grant", w.grantArgs(id, { until: w.now() + 2 * DAY_MS }));
      w.rejects(w.supervisor, "recordUse", w.useArgs(id), "LICENSE_NOT_RELYING_PARTY");
      w.ok(w.bank, "recordUse", w.useArgs(id));
      w.advance(3 * DAY_MS);
      w.rejects(w.bank, "recordUse", w.useArgs(id), "LICENSE_GRANT_NOT_ACTIVE");
      w.ok(w.holder, "grant", w.grantArgs(id));
      w.ok(w.bank, "recordUse", w.useArgs(id, "0000000002"));
      const r = w.ok(w.holder, "withdrawGrant", { licenseId: id, grantId: "0000000002" });
      assert.equal(r.events[0]!.type, "grantWithdrawn");
      w.rejects(w.bank, "recordUse", w.useArgs(id, "0000000002"), "LICENSE_GRANT_WITHDRAWN");
      w.rejects(
        w.holder,
        "withdrawGrant",
        { licenseId: id, grantId: "0000000002" },
        "LICENSE_GRANT_WITHDRAWN",
      );
      const grants = w.query("grants", { licenseId: id }) as Grant[];
      assert.deepEqual(
        grants.map((g) => [g.grantId, g.withdrawnAt === null]),
        [
          ["0000000001", true],
          ["0000000002", false],
        ],
      );
      assert.equal((w.query("uses", { licenseId: id }) as UseEntry[]).length, 2);
    });

    it("a use of a suspended, revoked or expired license is refused with its reason", () => {
      const w = world(suiteId);
      const ids = ["J0000001", "J0000002", "J0000003"].map((s) => licenseIdOf(s));
      w.ok(w.issuer, "issue", w.issueArgs("J0000001"));
      w.ok(w.issuer, "issue", w.issueArgs("J0000002"));
      w.ok(w.issuer, "issue", w.issueArgs("J0000003", { validUntil: w.now() + DAY_MS }));
      for (const id of ids) w.ok(w.holder, "grant", w.grantArgs(id, { until: w.license(id)!.validUntil }));
      w.ok(w.issuer, "suspend", { licenseId: ids[0]!, reasonCode: "INSPECTION" });
      w.rejects(w.bank, "recordUse", w.useArgs(ids[0]!), "LICENSE_SUSPENDED");
      w.ok(w.issuer, "reinstate", { licenseId: ids[0]!, reasonCode: "RECTIFIED" });
      w.ok(w.bank, "recordUse", w.useArgs(ids[0]!));
      w.ok(w.issuer, "revoke", { licenseId: ids[1]!, reasonCode: "FRAUD" });
      w.rejects(w.bank, "recordUse", w.useArgs(ids[1]!), "LICENSE_REVOKED");
      w.ok(w.bank, "recordUse", w.useArgs(ids[2]!));
      w.advance(DAY_MS + 1);
      w.rejects(w.bank, "recordUse", w.useArgs(ids[2]!), "LICENSE_EXPIRED");
      w.rejects(w.holder, "grant", w.grantArgs(ids[2]!), "LICENSE_EXPIRED");
      // Expiry is computed, never stored.
      assert.equal(w.license(ids[2]!)!.status, "01");
      const st = w.query("status", { licenseId: ids[2]!, time: String(w.now()) }) as { reason: string };
      assert.equal(st.reason, "EXPIRED");
    });

    it("licenseStatus: the recorded status first, then the validity window (inclusive)", () => {
      const r = (status: License["status"], time: number) =>
        licenseStatus({ status, validFrom: 100, validUntil: 200 }, time).reason;
      assert.deepEqual(
        [r("01", 99), r("01", 100), r("01", 200), r("01", 201)],
        ["NOT_YET_VALID", "OK", "OK", "EXPIRED"],
      );
      assert.deepEqual(
        (["02", "03", "04", "05", "06", "07", "99"] as const).map((s) => r(s, 150)),
        ["SUSPENDED", "REVOKED", "CANCELLED", "SUPERSEDED", "TRANSFERRED", "PENALTY_REVOKED", "OTHER"],
      );
      assert.equal(licenseStatus({ status: "01", validFrom: 100, validUntil: 200 }, 150).valid, true);
      assert.equal(licenseStatus({ status: "02", validFrom: 100, validUntil: 200 }, 150).valid, false);
    });

    it("renew links the versions: the new one names the old, the old becomes 05 with next", () => {
      const w = world(suiteId);
      const id = licenseIdOf("K0000001");
      const id2 = licenseIdOf("K0000001", 2);
      w.ok(w.issuer, "issue", w.issueArgs("K0000001"));
      w.ok(w.holder, "grant", w.grantArgs(id));
      const renewArgs = (newLicenseId: string) => ({
        licenseId: id,
        newLicenseId,
        commitments: w.commitmentsFor(w.face),
        validFrom: w.now(),
        validUntil: w.now() + 3 * 365 * DAY_MS,
      });
      w.rejects(w.issuer, "renew", renewArgs(licenseIdOf("K0000001", 3)), "LICENSE_RENEW_ID");
      w.rejects(w.issuer, "renew", renewArgs(licenseIdOf("K0000002")), "LICENSE_RENEW_ID");
      const taxIssuer = w.enrol(w.c.adminB, ["issuer"]);
      w.rejects(taxIssuer, "renew", renewArgs(id2), "LICENSE_WRONG_ORG");
      const r = w.ok(w.issuer, "renew", renewArgs(id2));
      assert.deepEqual(
        r.events.map((e) => e.type),
        ["statusChanged", "issued", "renewed"],
      );
      const old = w.license(id)!;
      const neu = w.license(id2)!;
      assert.deepEqual([old.status, old.next, old.statusReason?.code], ["05", id2, "RENEWED"]);
      assert.deepEqual([neu.status, neu.previous, neu.next], ["01", id, null]);
      assert.deepEqual(neu.holder, old.holder);
      assert.deepEqual(neu.holderAccount, old.holderAccount);
      assert.deepEqual(w.query("status", { licenseId: id, time: String(w.now()) }), {
        licenseId: id,
        valid: false,
        reason: "SUPERSEDED",
        status: "05",
        next: id2,
      });
      // The old version's grants lapse with it; the new version needs its own.
      w.rejects(w.bank, "recordUse", w.useArgs(id), "LICENSE_SUPERSEDED");
      w.rejects(w.issuer, "renew", renewArgs(id2), "LICENSE_BAD_TRANSITION");
      w.rejects(w.issuer, "suspend", { licenseId: id, reasonCode: "X" }, "LICENSE_BAD_TRANSITION");
      w.ok(w.holder, "grant", w.grantArgs(id2));
      w.ok(w.bank, "recordUse", w.useArgs(id2));
    });

    it("issue and type rules: fields, validity, uniqueness, holder account, identifiers, catalogue", () => {
      const w = world(suiteId);
      const face = { ...w.face };
      delete face.ZZBFRQ;
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { commitments: w.commitmentsFor(face) }),
        "LICENSE_MISSING_FIELD",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { commitments: w.commitmentsFor({ ...w.face, KZ_OTHER: "x" }) }),
        "LICENSE_UNKNOWN_FIELD",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { commitments: { ...w.commitmentsFor(w.face), ZZBH: new Uint8Array(31) } }),
        "LICENSE_BAD_COMMITMENT",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { validUntil: w.now() + 3651 * DAY_MS }),
        "LICENSE_VALIDITY_TOO_LONG",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { validFrom: w.now() - 10 * DAY_MS, validUntil: w.now() - DAY_MS }),
        "LICENSE_ALREADY_EXPIRED",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { validFrom: w.now() + 2, validUntil: w.now() + 1 }),
        "LICENSE_BAD_PERIOD",
      );
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { holderAccount: w.bank.address }),
        "LICENSE_HOLDER_ACCOUNT",
      );
      const id = licenseIdOf("L0000001");
      const badCheck = id.slice(0, -1) + (id.endsWith("0") ? "1" : "0");
      w.rejects(w.issuer, "issue", w.issueArgs("L0000001", { licenseId: badCheck }), "LICENSE_BAD_ID");
      w.rejects(w.issuer, "issue", { ...w.issueArgs("L0000001"), extra: 1 }, "LICENSE_BAD_ARGS");
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000001", { holder: new Uint8Array(20) }),
        "LICENSE_BAD_ARGS",
      );
      // Optional fields may be left out; the identifier is unique.
      w.ok(w.issuer, "issue", w.issueArgs("L0000001"));
      w.rejects(w.issuer, "issue", w.issueArgs("L0000001"), "LICENSE_EXISTS");
      // A new fresh issue under an unknown type code.
      const unknownType = licenseIdOf("L0000002", 1, `${MARKET}009`);
      w.rejects(
        w.issuer,
        "issue",
        w.issueArgs("L0000002", { licenseId: unknownType }),
        "LICENSE_TYPE_NOT_FOUND",
      );

      // Catalogue rules.
      w.rejects(w.c.adminA, "registerType", typeArgs(TYPE_A), "LICENSE_TYPE_EXISTS");
      w.rejects(w.c.adminB, "registerType", typeArgs(`${MARKET}003`), "LICENSE_TYPE_CODE_ORG");
      w.rejects(w.c.adminB, "registerType", typeArgs(`${TAX}001`, ["tax", "nowhere"]), "LICENSE_UNKNOWN_ORG");
      w.rejects(w.c.adminA, "registerType", typeArgs("11100000000000000I001"), "LICENSE_BAD_TYPE_CODE");
      w.rejects(
        w.c.adminA,
        "registerType",
        { ...typeArgs(`${MARKET}004`), fields: [FIELDS[0]!, FIELDS[0]!] },
        "LICENSE_BAD_FIELDS",
      );
      w.rejects(w.issuer, "registerType", typeArgs(`${MARKET}005`), "AUTH_ROLE_REQUIRED");
      w.rejects(w.c.adminB, "updateType", typeArgs(TYPE_A, ["market", "tax"]), "LICENSE_WRONG_ORG");
      w.rejects(w.c.adminA, "updateType", typeArgs(TYPE_A, ["tax"]), "LICENSE_ISSUER_ORG_REMOVED");
      const up = w.ok(w.c.adminA, "updateType", {
        ...typeArgs(TYPE_A, ["market", "tax"]),
        fields: [...FIELDS, { name: "KZ_ZCZB", type: "int", required: true }],
      });
      assert.equal(up.events[0]!.attributes.version, 2);
      const t = w.query("type", { typeCode: TYPE_A }) as LicenseType;
      assert.deepEqual([t.version, t.issuerOrgs, t.fields.length], [2, ["market", "tax"], 6]);
      // A license issued under v1 keeps its version; new ones need the new required field.
      assert.equal(w.license(id)!.typeVersion, 1);
      w.rejects(w.issuer, "issue", w.issueArgs("L0000003"), "LICENSE_MISSING_FIELD");
      w.ok(
        w.issuer,
        "issue",
        w.issueArgs("L0000003", { commitments: w.commitmentsFor({ ...w.face, KZ_ZCZB: "100" }) }),
      );
      assert.equal(w.license(licenseIdOf("L0000003"))!.typeVersion, 2);
      // The tax department, now an issuer organization, grants its own issuer.
      const taxIssuer = w.enrol(w.c.adminB, ["issuer"]);
      w.ok(w.c.adminB, "grantIssuer", { typeCode: TYPE_A, address: taxIssuer.address });
      // The defining organization may withdraw any issuer of its type.
      w.ok(w.c.adminA, "withdrawIssuer", { typeCode: TYPE_A, address: taxIssuer.address });
      // Queries validate their parameters.
      assert.throws(() => w.query("license", { licenseId: "nope" }), { code: "QUERY_BAD_PARAM" });
      assert.throws(() => w.query("uses", { licenseId: id, limit: "0" }), { code: "QUERY_BAD_PARAM" });
      assert.equal(w.query("license", { licenseId: licenseIdOf("ZZZ") }), null);
    });

    it("privacy: no state value, key, transaction, receipt or event holds a license's personal data", () => {
      const w = world(suiteId);
      const personal = {
        name: "欧阳娜娜测试",
        residentId: "11010519491231002X",
        number: "京(2024)朝阳区第0098765号",
        address: "北京市朝阳区建国路88号",
      };
      const face = {
        ZZBH: personal.number,
        CZZT: personal.name,
        CZZTDM: personal.residentId,
        ZZBFRQ: "1949-12-31",
        KZ_JYFW: personal.address,
      };
      const id = licenseIdOf("P0000001");
      w.ok(w.issuer, "issue", w.issueArgs("P0000001", { commitments: w.commitmentsFor(face) }));
      w.ok(w.holder, "grant", w.grantArgs(id, { fields: ["CZZT", "CZZTDM"] }));
      w.ok(w.bank, "recordUse", w.useArgs(id));
      w.ok(w.supervisor, "suspend", { licenseId: id, reasonCode: "AUDIT", reasonText: "监管抽查" });
      w.ok(w.issuer, "reinstate", { licenseId: id, reasonCode: "RECTIFIED" });
      w.ok(w.issuer, "renew", {
        licenseId: id,
        newLicenseId: licenseIdOf("P0000001", 2),
        commitments: w.commitmentsFor(face),
        validFrom: w.now(),
        validUntil: w.now() + 365 * DAY_MS,
      });
      w.ok(w.issuer, "revoke", { licenseId: licenseIdOf("P0000001", 2), reasonCode: "FRAUD" });

      const needles = Object.values(personal).map((s) => ({ s, bytes: Buffer.from(utf8(s)) }));
      const haystacks: Array<[string, Uint8Array]> = [];
      for (const [k, v] of w.c.state.map) {
        haystacks.push([`state value ${k}`, v]);
        haystacks.push([`state key ${k}`, Buffer.from(k, "latin1")]);
      }
      for (const t of w.txs) haystacks.push([`tx ${toHex(t.id)}`, t.bytes]);
      for (const r of w.receipts) haystacks.push([`receipt ${toHex(r.txId)}`, encodeReceipt(r)]);
      assert.ok(w.receipts.some((r) => r.events.length > 0));
      assert.ok(w.c.state.map.size > 10);
      for (const [where, bytes] of haystacks)
        for (const n of needles)
          assert.equal(Buffer.from(bytes).indexOf(n.bytes), -1, `${where} contains personal data`);
      // Nor do the decoded JSON views the API serves.
      const views = JSON.stringify(
        [w.license(id), w.query("grants", { licenseId: id }), w.query("uses", { licenseId: id })],
        (_k, v) => (v instanceof Uint8Array ? toHex(v) : v),
      );
      for (const n of needles) assert.ok(!views.includes(n.s));
      // The commitments still open for the holder's disclosures (checked against zero to be sure
      // the commitments are real hashes, not placeholders).
      const rec = w.license(id)!;
      for (const c of Object.values(rec.commitments)) assert.notDeepEqual(c, zeros32);
    });
  });
}
