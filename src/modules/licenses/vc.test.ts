import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import * as jose from "jose";
import { getSuite } from "../../crypto/index.js";
import { encodePublicKey } from "../../crypto/sm2.js";
import { SUITE_IDS, type SuiteId } from "../../crypto/suite.js";
import { accountKey, encodeAccount, encodeOrg, orgKey } from "../../execution/accounts.js";
import type { StateReader } from "../../execution/state-view.js";
import { toHex } from "../../ledger/bytes.js";
import { addressOf } from "../../ledger/tx.js";
import { startTestNode, type TestNode } from "../../node/test-node.js";
import { prepareLicense } from "../../sdk/licenses.js";
import { Signer } from "../../sdk/signer.js";
import {
  accountDid,
  base64url,
  fromBase64url,
  jwkToPublicKey,
  orgDid,
  parseDid,
  publicKeyToJwk,
  resolveDid,
} from "./did.js";
import { buildLicenseId } from "./identifiers.js";
import { keySigner } from "./presentation.js";
import { entryStatus, type StatusListCredential } from "./status-list.js";
import { DAY_MS } from "./types.js";
import { didKeyResolver, type LicenseCredential, licenseToVc, signVcJwt, verifyVcJwt } from "./vc.js";

const CHAIN = "zl-test";
const MARKET = "11100000000000000X";
const TYPE = `${MARKET}001`;
const dec = new TextDecoder();

/** A state reader over a few encoded records. */
function memState(entries: Array<[Uint8Array, Uint8Array]>): StateReader {
  const m = new Map(entries.map(([k, v]) => [Buffer.from(k).toString("latin1"), v]));
  return { get: (k) => m.get(Buffer.from(k).toString("latin1")) };
}

function fixture(suiteId: SuiteId) {
  const suite = getSuite(suiteId);
  const root = suite.generateKeyPair();
  const issuerKp = suite.generateKeyPair();
  const holderKp = suite.generateKeyPair();
  const issuerAddress = addressOf(suite, issuerKp.publicKey);
  const holderAddress = addressOf(suite, holderKp.publicKey);
  const account = (publicKey: Uint8Array, address: Uint8Array, status: "active" | "suspended" = "active") =>
    encodeAccount({ address, publicKey, org: "market", roles: ["issuer"], status, enrolledAt: 1 });
  const state = memState([
    [
      orgKey("market"),
      encodeOrg({
        id: "market",
        name: "市场监督管理局",
        code: MARKET,
        rootPublicKey: root.publicKey,
        status: "active",
      }),
    ],
    [accountKey(issuerAddress), account(issuerKp.publicKey, issuerAddress)],
    [accountKey(holderAddress), account(holderKp.publicKey, holderAddress, "suspended")],
  ]);
  const chain = { chainId: CHAIN, suite: suiteId, state };
  const resolver = didKeyResolver(suite, (did) => resolveDid(chain, did));
  const now = Date.parse("2026-01-01T00:00:00Z");
  const credential = licenseToVc({
    chainId: CHAIN,
    licenseId: buildLicenseId({ typeCode: TYPE, issuerCode: MARKET, serial: "A0000001", version: 1 }),
    typeCode: TYPE,
    fields: { ZZBH: "91110000MA01ABCD2X", CZZT: "北京示例科技有限公司", KZ_ZP: new Uint8Array([1, 2]) },
    holderAccount: holderAddress,
    validFrom: now,
    validUntil: now + 365 * DAY_MS,
    issuerAddress,
    statusIndex: 7,
    statusBaseUrl: "https://zl.example.gov.cn/",
  });
  const signer = keySigner(suite, issuerKp.privateKey);
  return {
    suite,
    root,
    issuerKp,
    holderKp,
    issuerAddress,
    holderAddress,
    chain,
    resolver,
    credential,
    signer,
    now,
  };
}

describe("did:zl", () => {
  for (const suiteId of SUITE_IDS) {
    it(`${suiteId}: formats, parses and resolves organization and account DIDs from state`, () => {
      const f = fixture(suiteId);
      const oDid = orgDid(CHAIN, "market");
      const aDid = accountDid(CHAIN, f.issuerAddress);
      assert.equal(oDid, "did:zl:zl-test:market");
      assert.equal(aDid, `did:zl:zl-test:acct:${toHex(f.issuerAddress)}`);
      assert.deepEqual(parseDid(oDid), { chainId: CHAIN, kind: "org", orgId: "market" });
      assert.equal(parseDid(aDid)?.kind, "acct");
      for (const bad of [
        "did:web:x",
        "did:zl:zl-test",
        "did:zl:Zl:market",
        "did:zl:zl-test:acct:12",
        "did:zl:zl-test:a:b:c",
      ])
        assert.equal(parseDid(bad), undefined, bad);

      const org = resolveDid(f.chain, oDid)!;
      assert.equal(org.didDocument.id, oDid);
      assert.deepEqual(org.publicKey, f.root.publicKey);
      assert.equal(org.didDocumentMetadata.deactivated, false);
      const acct = resolveDid(f.chain, aDid)!;
      assert.equal(acct.didDocument.controller, oDid);
      const vm = acct.didDocument.verificationMethod[0]!;
      assert.equal(vm.id, `${aDid}#key-1`);
      assert.deepEqual(acct.didDocument.assertionMethod, [vm.id]);
      assert.deepEqual(jwkToPublicKey(suiteId, vm.publicKeyJwk), f.issuerKp.publicKey);
      if (suiteId === "intl")
        assert.deepEqual(vm.publicKeyJwk, { kty: "OKP", crv: "Ed25519", x: base64url(f.issuerKp.publicKey) });
      else {
        assert.equal(vm.publicKeyJwk.kty, "EC");
        assert.equal(vm.publicKeyJwk.crv, "SM2");
        const raw = encodePublicKey(f.issuerKp.publicKey, false);
        assert.deepEqual(fromBase64url(vm.publicKeyJwk.y!), raw.subarray(33));
      }
      // A suspended account is deactivated; other chains and unknown ids do not resolve.
      assert.equal(
        resolveDid(f.chain, accountDid(CHAIN, f.holderAddress))!.didDocumentMetadata.deactivated,
        true,
      );
      assert.equal(resolveDid(f.chain, orgDid("other-chain", "market")), undefined);
      assert.equal(resolveDid(f.chain, orgDid(CHAIN, "tax")), undefined);
    });
  }

  it("base64url round-trips and is strict", () => {
    for (let n = 0; n < 40; n++) {
      const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 255);
      assert.equal(base64url(b), Buffer.from(b).toString("base64url"));
      assert.deepEqual(fromBase64url(base64url(b)), b);
    }
    assert.equal(fromBase64url("a+b/"), undefined);
    assert.equal(fromBase64url("AB=="), undefined);
    assert.equal(fromBase64url("AB"), undefined); // non-zero trailing bits
  });
});

describe("license credential (VC DM 2.0, vc+jwt)", () => {
  it("has the Data Model 2.0 shape with two BitstringStatusListEntry", () => {
    const { credential: c, issuerAddress, holderAddress } = fixture("intl");
    assert.deepEqual(c["@context"], ["https://www.w3.org/ns/credentials/v2"]);
    assert.deepEqual(c.type, ["VerifiableCredential", "ZhengLianLicense"]);
    assert.match(c.id, /^urn:zl:license:1\.2\.156\.3005\.2\./);
    assert.equal(c.issuer, accountDid(CHAIN, issuerAddress));
    assert.equal(c.credentialSubject.id, accountDid(CHAIN, holderAddress));
    assert.equal(c.validFrom, "2026-01-01T00:00:00.000Z");
    assert.equal(c.credentialSubject.fields.KZ_ZP, "0x0102");
    assert.deepEqual(
      c.credentialStatus.map((e) => [e.type, e.statusPurpose, e.statusListIndex, e.statusListCredential]),
      [
        [
          "BitstringStatusListEntry",
          "revocation",
          "7",
          `https://zl.example.gov.cn/v1/licenses/status/${TYPE}/revocation`,
        ],
        [
          "BitstringStatusListEntry",
          "suspension",
          "7",
          `https://zl.example.gov.cn/v1/licenses/status/${TYPE}/suspension`,
        ],
      ],
    );
  });

  for (const suiteId of SUITE_IDS) {
    it(`${suiteId}: signs and verifies; refuses tampering, a foreign key, a wrong alg and expiry`, () => {
      const f = fixture(suiteId);
      const jwt = signVcJwt(suiteId, f.signer, f.credential as never);
      const [h, p, s] = jwt.split(".") as [string, string, string];
      const header = JSON.parse(dec.decode(fromBase64url(h)));
      assert.deepEqual(header, {
        alg: suiteId === "intl" ? "EdDSA" : "SM2SM3",
        typ: "vc+jwt",
        cty: "vc",
        kid: `${f.credential.issuer}#key-1`,
      });
      assert.deepEqual(JSON.parse(dec.decode(fromBase64url(p))), f.credential);
      const ok = verifyVcJwt(jwt, f.resolver, { now: f.now });
      assert.equal(ok.ok, true, JSON.stringify(ok));

      const forged = { ...f.credential, validUntil: "2099-01-01T00:00:00.000Z" };
      const tampered = `${h}.${base64url(new TextEncoder().encode(JSON.stringify(forged)))}.${s}`;
      assert.equal((verifyVcJwt(tampered, f.resolver) as { code: string }).code, "VC_BAD_SIGNATURE");
      // Signed by the org root key but claiming the account as kid: bad signature.
      const byRoot = signVcJwt(suiteId, keySigner(f.suite, f.root.privateKey), f.credential as never);
      assert.equal((verifyVcJwt(byRoot, f.resolver) as { code: string }).code, "VC_BAD_SIGNATURE");
      // A kid of another DID than the issuer.
      const otherKid = signVcJwt(
        suiteId,
        keySigner(f.suite, f.root.privateKey),
        f.credential as never,
        `${orgDid(CHAIN, "market")}#key-1`,
      );
      assert.equal((verifyVcJwt(otherKid, f.resolver) as { code: string }).code, "VC_ISSUER_MISMATCH");
      const wrongAlg = signVcJwt(suiteId === "intl" ? "gm" : "intl", f.signer, f.credential as never);
      assert.equal((verifyVcJwt(wrongAlg, f.resolver) as { code: string }).code, "VC_ALG_MISMATCH");
      assert.equal(
        (verifyVcJwt(jwt, f.resolver, { now: f.now + 400 * DAY_MS }) as { code: string }).code,
        "VC_EXPIRED",
      );
      assert.equal(
        (verifyVcJwt(jwt, f.resolver, { now: f.now - 1 }) as { code: string }).code,
        "VC_NOT_YET_VALID",
      );
      for (const bad of ["", "a.b", `${h}.${p}.!!`, `${h}.${p}`, 42 as never])
        assert.equal((verifyVcJwt(bad, f.resolver) as { code: string }).code, "VC_MALFORMED");
    });
  }

  it("intl interop: our vc+jwt verifies with jose (compactVerify, jwtVerify)", async () => {
    const f = fixture("intl");
    const jwt = signVcJwt("intl", f.signer, f.credential as never);
    const doc = resolveDid(f.chain, f.credential.issuer)!;
    const key = await jose.importJWK({ ...doc.didDocument.verificationMethod[0]!.publicKeyJwk }, "EdDSA");
    const cv = await jose.compactVerify(jwt, key, { algorithms: ["EdDSA"] });
    assert.deepEqual(JSON.parse(dec.decode(cv.payload)), f.credential);
    assert.equal(cv.protectedHeader.kid, `${f.credential.issuer}#key-1`);
    const jv = await jose.jwtVerify(jwt, key, { algorithms: ["EdDSA"], typ: "vc+jwt" });
    assert.equal(
      (jv.payload as unknown as LicenseCredential).credentialSubject.licenseId,
      f.credential.credentialSubject.licenseId,
    );
    assert.equal(jv.protectedHeader.cty, "vc");
    // A tampered token fails in jose too.
    const [h, , s] = jwt.split(".");
    const forged = base64url(
      new TextEncoder().encode(JSON.stringify({ ...f.credential, issuer: "did:zl:zl-test:market" })),
    );
    await assert.rejects(jose.compactVerify(`${h}.${forged}.${s}`, key), /signature verification failed/);
  });

  it("intl interop: a vc+jwt signed by jose verifies with ours", async () => {
    const f = fixture("intl");
    const jwk = { ...publicKeyToJwk("intl", f.issuerKp.publicKey), d: base64url(f.issuerKp.privateKey) };
    const key = await jose.importJWK(jwk, "EdDSA");
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(f.credential)))
      .setProtectedHeader({ alg: "EdDSA", typ: "vc+jwt", cty: "vc", kid: `${f.credential.issuer}#key-1` })
      .sign(key);
    const r = verifyVcJwt(jwt, f.resolver, { now: f.now });
    assert.equal(r.ok, true, JSON.stringify(r));
    // And with the JWT API (claims object as payload).
    const jwt2 = await new jose.SignJWT(f.credential as unknown as jose.JWTPayload)
      .setProtectedHeader({ alg: "EdDSA", typ: "vc+jwt", kid: `${f.credential.issuer}#key-1` })
      .sign(key);
    assert.equal(verifyVcJwt(jwt2, f.resolver).ok, true);
  });

  it("gm interop: the SM2SM3 signature verifies with sm-crypto over the JWS signing input", () => {
    const smc = (
      createRequire(import.meta.url)("sm-crypto") as {
        sm2: {
          doVerifySignature(m: number[], s: string, p: string, o: { hash: boolean; der: boolean }): boolean;
        };
      }
    ).sm2;
    const f = fixture("gm");
    const jwt = signVcJwt("gm", f.signer, f.credential as never);
    const [h, p, s] = jwt.split(".") as [string, string, string];
    const input = Array.from(new TextEncoder().encode(`${h}.${p}`));
    const pub = toHex(encodePublicKey(f.issuerKp.publicKey, false));
    assert.equal(
      smc.doVerifySignature(input, toHex(fromBase64url(s)!), pub, { hash: true, der: false }),
      true,
    );
    assert.equal(
      smc.doVerifySignature([...input, 0], toHex(fromBase64url(s)!), pub, { hash: true, der: false }),
      false,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// API routes on a real node

for (const suiteId of SUITE_IDS) {
  describe(`${suiteId}: credential routes on a real node`, () => {
    let t: TestNode;
    before(async () => {
      t = await startTestNode(suiteId);
    });
    after(async () => {
      await t.close();
    });

    const send = async (signer: Signer, module: string, call: string, args: unknown) => {
      const r = await t.client.send(signer, { module, call, args: args as never }, { wait: true });
      assert.equal(r.receipt?.code, "OK", `${module}.${call}: ${r.receipt?.code}`);
      return r;
    };
    const get = async (path: string) => {
      const res = await fetch(`${t.node.apiUrl}${path}`);
      return {
        status: res.status,
        headers: res.headers,
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    const verify = async (jwt: string) => {
      const res = await fetch(`${t.node.apiUrl}/v1/licenses/vc/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jwt }),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as Record<string, unknown>;
    };

    it("resolves DIDs, indexes the license, serves status lists and verifies the credential as status changes", async () => {
      const suite = getSuite(suiteId);
      const issuer = Signer.generate(suiteId);
      const holder = Signer.generate(suiteId);
      await send(t.admin, "membership", "enroll", { publicKey: issuer.publicKey, roles: ["issuer"] });
      await send(t.admin, "membership", "enroll", { publicKey: holder.publicKey, roles: ["holder"] });
      await send(t.admin, "licenses", "registerType", {
        typeCode: TYPE,
        name: "营业执照",
        fields: [
          { name: "ZZBH", type: "text", required: true },
          { name: "CZZT", type: "text", required: true },
        ],
        issuerOrgs: ["market"],
        maxValidityDays: 3650,
      });
      await send(t.admin, "licenses", "grantIssuer", { typeCode: TYPE, address: issuer.address });

      const issuerKey = keySigner(suite, suite.privateKeyFromPem(issuer.toPem()));
      const ids: string[] = [];
      const now = Date.now();
      let copy: ReturnType<typeof prepareLicense>["holderCopy"] | undefined;
      for (const serial of ["A0000001", "A0000002"]) {
        const licenseId = buildLicenseId({ typeCode: TYPE, issuerCode: MARKET, serial, version: 1 });
        const p = prepareLicense(suite, {
          licenseId,
          typeCode: TYPE,
          fields: { ZZBH: `91110000MA01ABCD${serial.slice(-2)}`, CZZT: "北京示例科技有限公司" },
          holderDid: accountDid(CHAIN, holder.address),
          holderAccount: holder.address,
          validFrom: now - DAY_MS,
          validUntil: now + 365 * DAY_MS,
          issuer: issuerKey,
        });
        await send(issuer, "licenses", "issue", p.onChainArgs);
        ids.push(licenseId);
        copy = p.holderCopy;
      }
      const licenseId = ids[1]!;

      // DIDs
      const orgDoc = await get(`/v1/dids/${orgDid(CHAIN, "market")}`);
      assert.equal(orgDoc.status, 200);
      assert.equal((orgDoc.body.didDocument as { id: string }).id, "did:zl:zl-test:market");
      const iDid = accountDid(CHAIN, issuer.address);
      const acctDoc = await get(`/v1/dids/${iDid}`);
      const vm = (acctDoc.body.didDocument as { verificationMethod: Array<{ publicKeyJwk: unknown }> })
        .verificationMethod[0]!;
      assert.deepEqual(jwkToPublicKey(suiteId, vm.publicKeyJwk), issuer.publicKey);
      assert.equal((await get(`/v1/dids/did:zl:zl-test:tax`)).status, 404);
      assert.equal((await get(`/v1/dids/did:web:example.com`)).status, 400);

      // Index: issue order within the type.
      const idx = await get(`/v1/licenses/${licenseId}/status-index`);
      assert.equal(idx.status, 200);
      assert.equal(idx.body.index, 1);
      assert.equal(idx.body.typeCode, TYPE);
      const base = t.node.apiUrl;

      // The credential: built from the holder copy, signed with the issuer's key.
      const credential = licenseToVc({
        chainId: CHAIN,
        licenseId,
        typeCode: TYPE,
        fields: Object.fromEntries(Object.entries(copy!.fields).map(([k, d]) => [k, d.value])),
        holderAccount: holder.address,
        validFrom: copy!.validFrom,
        validUntil: copy!.validUntil,
        issuerAddress: issuer.address,
        statusIndex: idx.body.index as number,
        statusBaseUrl: base,
      });
      assert.deepEqual(credential.credentialStatus, idx.body.credentialStatus);
      const jwt = signVcJwt(suiteId, issuerKey, credential as never);
      const ok = await verify(jwt);
      assert.deepEqual([ok.ok, ok.valid, ok.reason, ok.status], [true, true, "OK", "01"], JSON.stringify(ok));

      // A credential for the same license signed by another enrolled key is refused.
      const forged = signVcJwt(suiteId, keySigner(suite, suite.privateKeyFromPem(holder.toPem())), {
        ...credential,
        issuer: accountDid(CHAIN, holder.address),
      } as never);
      assert.equal((await verify(forged)).code, "VC_ISSUER_MISMATCH");
      assert.equal((await verify("x.y.z")).code, "VC_MALFORMED");

      const bit = async (purpose: "revocation" | "suspension") => {
        const entry = credential.credentialStatus.find((e) => e.statusPurpose === purpose)!;
        const url = entry.statusListCredential.slice(base.length);
        const res = await get(url);
        assert.equal(res.status, 200);
        assert.ok(Number(res.headers.get("zl-height")) > 0);
        assert.match(res.headers.get("zl-state-root") ?? "", /^[0-9a-f]{64}$/);
        const list = res.body as unknown as StatusListCredential;
        assert.equal(list.issuer, orgDid(CHAIN, "market"));
        return entryStatus(entry, list);
      };
      assert.deepEqual([await bit("revocation"), await bit("suspension")], [false, false]);

      await send(issuer, "licenses", "suspend", { licenseId, reasonCode: "INSPECTION" });
      assert.deepEqual([await bit("revocation"), await bit("suspension")], [false, true]);
      const sus = await verify(jwt);
      assert.deepEqual([sus.ok, sus.valid, sus.reason], [true, false, "SUSPENDED"]);

      await send(issuer, "licenses", "reinstate", { licenseId, reasonCode: "CLEARED" });
      assert.deepEqual([await bit("revocation"), await bit("suspension")], [false, false]);

      await send(issuer, "licenses", "revoke", {
        licenseId,
        reasonCode: "FRAUD",
        reasonText: "依据行政许可法第六十九条",
      });
      assert.deepEqual([await bit("revocation"), await bit("suspension")], [true, false]);
      const rev = await verify(jwt);
      assert.deepEqual([rev.ok, rev.valid, rev.reason, rev.status], [true, false, "REVOKED", "03"]);

      assert.equal((await get(`/v1/licenses/status/${MARKET}002/revocation`)).status, 404);
      assert.equal((await get(`/v1/licenses/status/${TYPE}/other`)).status, 400);
    });
  });
}
