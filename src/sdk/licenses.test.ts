/**
 * Online verification of licenses through the SDK against a real node, including use under the
 * holder's grant (授权用证): missing, withdrawn, wrong party, fields beyond the grant, revoked.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CborValue } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import { buildLicenseId } from "../modules/licenses/identifiers.js";
import { DAY_MS } from "../modules/licenses/types.js";
import { startTestNetwork, startTestNode } from "../node/test-node.js";
import type { ZlClient } from "./client.js";
import { keySigner, prepareLicense, verifyLicenseOnline } from "./licenses.js";
import { Signer } from "./signer.js";

const FIELDS = [
  { name: "ZZBH", type: "text", required: true },
  { name: "CZZT", type: "text", required: true },
  { name: "KZ_FDDBR", type: "text", required: false },
];

/** Where the flow runs: who sends, who verifies (another node on a network), which department. */
interface Setup {
  client: ZlClient;
  verifier: ZlClient;
  admin: Signer;
  org: string;
  code: string;
  close(): Promise<void>;
}

const SETUPS: Array<{ name: string; start(): Promise<Setup> }> = [
  {
    name: "one node",
    async start() {
      const t = await startTestNode("intl");
      return {
        client: t.client,
        verifier: t.client,
        admin: t.admin,
        org: "market",
        code: "11100000000000000X",
        close: () => t.close(),
      };
    },
  },
  {
    name: "4 department nodes over TLS, verified at another department's node",
    async start() {
      const n = await startTestNetwork("intl", 4);
      return {
        client: n.clients[0]!,
        verifier: n.clients[2]!,
        admin: n.admins[0]!,
        org: n.orgIds[0]!,
        code: n.orgCodes[0]!,
        close: () => n.close(),
      };
    },
  },
];

for (const setup of SETUPS)
  describe(`online license verification under grants (SDK, ${setup.name})`, () => {
    let t: Setup;
    let MARKET: string;
    let TYPE: string;
    /** The height of the last write seen committed: reads at the verifier's node start there. */
    let minHeight = 0;
    const send = async (signer: Signer, call: string, module: string, args: CborValue) => {
      const r = await t.client.send(signer, { module, call, args }, { wait: true });
      assert.equal(r.receipt?.code, "OK", `${module}.${call}: ${r.receipt?.code}`);
      minHeight = Math.max(minHeight, r.height ?? 0);
      return r;
    };
    before(async () => {
      t = await setup.start();
      MARKET = t.code;
      TYPE = `${MARKET}001`;
    });
    after(async () => {
      await t.close();
    });

    it("accepts a grant in force and names every way it can fail", async () => {
      const suite = getSuite("intl");
      const issuer = Signer.generate(suite);
      const holder = Signer.generate(suite);
      const bank = Signer.generate(suite);
      const other = Signer.generate(suite);
      await send(t.admin, "enroll", "membership", { publicKey: issuer.publicKey, roles: ["issuer"] });
      await send(t.admin, "enroll", "membership", { publicKey: holder.publicKey, roles: ["holder"] });
      await send(t.admin, "enroll", "membership", { publicKey: bank.publicKey, roles: ["official"] });
      await send(t.admin, "enroll", "membership", { publicKey: other.publicKey, roles: ["official"] });
      await send(t.admin, "registerType", "licenses", {
        typeCode: TYPE,
        name: "营业执照",
        fields: FIELDS,
        issuerOrgs: [t.org],
        maxValidityDays: 3650,
      });
      await send(t.admin, "grantIssuer", "licenses", { typeCode: TYPE, address: issuer.address });
      await send(t.admin, "enroll", "membership", {
        publicKey: Signer.generate(suite).publicKey,
        roles: ["holder"],
      }); // grants apply from the next block
      const now = Date.now();
      const p = prepareLicense(suite, {
        licenseId: buildLicenseId({ typeCode: TYPE, issuerCode: MARKET, serial: "SDK1", version: 1 }),
        typeCode: TYPE,
        fields: { ZZBH: "91110000000000001X", CZZT: "北京示例科技有限公司", KZ_FDDBR: "张三" },
        holderDid: `did:zl:${holder.addressHex}`,
        holderAccount: holder.address,
        validFrom: now - DAY_MS,
        validUntil: now + 30 * DAY_MS,
        issuer: keySigner(suite, suite.privateKeyFromPem(issuer.toPem())),
      });
      await send(issuer, "issue", "licenses", p.onChainArgs as CborValue);
      const id = p.onChainArgs.licenseId;
      const name = { CZZT: p.holderCopy.fields.CZZT! };
      await send(holder, "grant", "licenses", {
        licenseId: id,
        relyingParty: bank.address,
        purpose: "开户核验",
        fields: ["CZZT"],
        from: now - 1000,
        until: now + DAY_MS,
      });
      const grant = { grantId: "0000000001", relyingParty: bank.address };

      const ok = await verifyLicenseOnline(t.verifier, id, name, { grant, minHeight });
      assert.equal(ok.ok, true, JSON.stringify(ok));
      const missing = await verifyLicenseOnline(t.verifier, id, name, {
        grant: { ...grant, grantId: "0000000009" },
        minHeight,
      });
      assert.equal(missing.ok ? "OK" : missing.code, "GRANT_MISSING");
      const party = await verifyLicenseOnline(t.verifier, id, name, {
        grant: { ...grant, relyingParty: other.address },
        minHeight,
      });
      assert.equal(party.ok ? "OK" : party.code, "GRANT_WRONG_PARTY");
      const beyond = await verifyLicenseOnline(
        t.client,
        id,
        { ...name, KZ_FDDBR: p.holderCopy.fields.KZ_FDDBR! },
        { grant, minHeight },
      );
      assert.equal(beyond.ok ? "OK" : beyond.code, "GRANT_FIELD_NOT_ALLOWED");
      const tampered = await verifyLicenseOnline(
        t.client,
        id,
        { CZZT: { ...name.CZZT, value: "另一家公司" } },
        { grant, minHeight },
      );
      assert.equal(tampered.ok ? "OK" : tampered.code, "FIELD_TAMPERED");

      await send(holder, "withdrawGrant", "licenses", { licenseId: id, grantId: grant.grantId });
      const withdrawn = await verifyLicenseOnline(t.verifier, id, name, { grant, minHeight });
      assert.equal(withdrawn.ok ? "OK" : withdrawn.code, "GRANT_WITHDRAWN");

      const revoke = await send(issuer, "revoke", "licenses", {
        licenseId: id,
        reasonCode: "03",
        reasonText: "依法撤销",
      });
      const revoked = await verifyLicenseOnline(t.verifier, id, name, { minHeight });
      assert.equal(revoked.ok ? "OK" : revoked.code, "LICENSE_REVOKED");
      assert.equal(revoked.ok ? 0 : (revoked as { statusHeight?: number }).statusHeight, revoke.height);
    });
  });
