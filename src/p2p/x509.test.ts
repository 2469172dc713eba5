/**
 * Node certificates (src/p2p/x509.ts): the RFC 5280 profile with RFC 8410 Ed25519 keys, signed
 * with Ed25519 (intl) or SM2-with-SM3 (gm, GM/T 0015). Checked against independent parsers and
 * verifiers: the OpenSSL CLI and Node's X509Certificate (intl), sm-crypto (gm).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPublicKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { getSuite } from "../crypto/index.js";
import { encodePublicKey } from "../crypto/sm2.js";
import { InvalidInputError } from "../errors/index.js";
import { makeNode, makeOrg, rootsOf } from "./test-support.js";
import { generateTlsKeyPair, tlsPublicKeyFromPem } from "./tls-key.js";
import {
  certificateFromPem,
  certificateToPem,
  derToRawSignature,
  issueNodeCertificate,
  OID_ED25519,
  OID_SM2_WITH_SM3,
  parseCertificate,
  rawToDerSignature,
  verifyNodeCertificate,
} from "./x509.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const DAY = 86_400_000;

function openssl(args: string[]): string | undefined {
  try {
    return execFileSync("/usr/bin/openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

interface SmCrypto {
  sm2: {
    doVerifySignature(
      msg: number[],
      sig: string,
      pub: string,
      opts?: { hash?: boolean; der?: boolean },
    ): boolean;
  };
}
const { sm2: smc } = createRequire(import.meta.url)("sm-crypto") as SmCrypto;

function assertMalformed(f: () => unknown): void {
  assert.throws(f, (err: unknown) => err instanceof InvalidInputError && err.code === "P2P_CERT_MALFORMED");
}

/** Index of `needle` in `hay` (first occurrence), or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay).indexOf(Buffer.from(needle));
}

for (const id of ["intl", "gm"] as const) {
  const suite = getSuite(id);
  const other = getSuite(id === "intl" ? "gm" : "intl");
  const orgA = makeOrg(suite, "org-a");
  const orgB = makeOrg(suite, "org-b");
  const roots = rootsOf(orgA, orgB);

  describe(`node certificates (${id})`, () => {
    test("issue → parse round trip", () => {
      const tls = generateTlsKeyPair();
      const notBefore = new Date("2025-01-02T03:04:05Z");
      const notAfter = new Date("2060-06-07T08:09:10Z"); // GeneralizedTime from 2050 (RFC 5280)
      const der = issueNodeCertificate({
        suite,
        orgId: "org-a",
        orgPrivateKey: orgA.privateKey,
        nodeId: "node-1",
        tlsPublicKey: tls.publicKey,
        notBefore,
        notAfter,
        serial: Uint8Array.of(0x80, 1),
      });
      const c = parseCertificate(der);
      assert.deepEqual(c.subject, { org: "org-a", cn: "node-1" });
      assert.deepEqual(c.issuer, { org: "org-a", cn: "org-a root" });
      assert.equal(c.notBefore.getTime(), notBefore.getTime());
      assert.equal(c.notAfter.getTime(), notAfter.getTime());
      assert.equal(hex(c.tlsPublicKey), hex(tls.publicKey));
      assert.equal(hex(c.serial), "8001");
      assert.equal(c.signatureAlgorithm, id === "intl" ? OID_ED25519 : OID_SM2_WITH_SM3);
      assert.equal(hex(tlsPublicKeyFromPem(tls.privateKeyPem)), hex(tls.publicKey));
      const v = verifyNodeCertificate(der, { suite, orgRoots: roots, now: new Date("2030-01-01Z") });
      assert.deepEqual(v, { ok: true, org: "org-a", nodeId: "node-1", tlsPublicKey: tls.publicKey });
    });

    test("default serial is positive, 16 bytes, and differs between certificates", () => {
      const a = parseCertificate(makeNode(suite, orgA, "n").certDer).serial;
      const b = parseCertificate(makeNode(suite, orgA, "n").certDer).serial;
      assert.equal(a.length, 16);
      assert.notEqual(hex(a), hex(b));
    });

    test("PEM round trip", () => {
      const n = makeNode(suite, orgA, "node-1");
      assert.match(n.certPem, /^-----BEGIN CERTIFICATE-----\n/);
      assert.equal(hex(certificateFromPem(n.certPem)), hex(n.certDer));
      assertMalformed(() => certificateFromPem("no pem here"));
      assert.equal(hex(certificateFromPem(certificateToPem(Uint8Array.of(1, 2, 3)))), "010203");
    });

    test("the OpenSSL CLI parses the certificate", (t) => {
      const n = makeNode(suite, orgA, "node-1");
      const dir = mkdtempSync(join(tmpdir(), `zl-cert-${id}-`));
      try {
        writeFileSync(join(dir, "c.pem"), n.certPem);
        const text = openssl(["x509", "-in", join(dir, "c.pem"), "-noout", "-text"]);
        if (text === undefined) {
          t.skip("openssl CLI not available");
          return;
        }
        assert.match(text, /Subject: O ?= ?org-a, CN ?= ?node-1/);
        assert.match(text, /Issuer: O ?= ?org-a, CN ?= ?org-a root/);
        assert.match(text, /ED25519/i); // the subject key
        assert.match(
          text,
          id === "intl" ? /Signature Algorithm: ED25519/i : /Signature Algorithm: SM2-with-SM3/i,
        );
        assert.match(text, /CA:FALSE/);
        assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("an independent verifier accepts the signature", () => {
      const n = makeNode(suite, orgA, "node-1");
      const c = parseCertificate(n.certDer);
      if (id === "intl") {
        const x = new X509Certificate(n.certDer);
        assert.equal(x.verify(createPublicKey(suite.publicKeyToPem(orgA.publicKey))), true);
        assert.equal(x.verify(createPublicKey(suite.publicKeyToPem(orgB.publicKey))), false);
        assert.equal(x.subject, "O=org-a\nCN=node-1");
      } else {
        const pub = hex(encodePublicKey(orgA.publicKey, false));
        const tbs = Array.from(c.tbs);
        assert.equal(smc.doVerifySignature(tbs, hex(c.signature), pub, { hash: true, der: true }), true);
        const pubB = hex(encodePublicKey(orgB.publicKey, false));
        assert.equal(smc.doVerifySignature(tbs, hex(c.signature), pubB, { hash: true, der: true }), false);
      }
    });

    test("P2P_CERT_UNKNOWN_ORG: the issuing organization is not a member", () => {
      const n = makeNode(suite, orgB, "node-b");
      const v = verifyNodeCertificate(n.certDer, { suite, orgRoots: rootsOf(orgA), now: new Date() });
      assert.equal(v.ok, false);
      assert.equal(!v.ok && v.code, "P2P_CERT_UNKNOWN_ORG");
    });

    test("P2P_CERT_BAD_SIGNATURE: signed by another organization's key", () => {
      const n = makeNode(suite, orgA, "node-x", { signingKey: orgB.privateKey });
      const v = verifyNodeCertificate(n.certDer, { suite, orgRoots: roots, now: new Date() });
      assert.equal(!v.ok && v.code, "P2P_CERT_BAD_SIGNATURE");
    });

    test("P2P_CERT_BAD_SIGNATURE: tampered TBSCertificate (subject key and CN)", () => {
      const n = makeNode(suite, orgA, "node-1");
      const keyAt = indexOf(n.certDer, n.tlsPublicKey);
      assert.ok(keyAt > 0);
      const forged = new Uint8Array(n.certDer);
      forged[keyAt + 5] = (forged[keyAt + 5] as number) ^ 1;
      const v1 = verifyNodeCertificate(forged, { suite, orgRoots: roots, now: new Date() });
      assert.equal(!v1.ok && v1.code, "P2P_CERT_BAD_SIGNATURE");
      const cnAt = indexOf(n.certDer, new TextEncoder().encode("node-1"));
      const renamed = new Uint8Array(n.certDer);
      renamed[cnAt + 5] = "2".charCodeAt(0);
      assert.equal(parseCertificate(renamed).subject.cn, "node-2");
      const v2 = verifyNodeCertificate(renamed, { suite, orgRoots: roots, now: new Date() });
      assert.equal(!v2.ok && v2.code, "P2P_CERT_BAD_SIGNATURE");
    });

    test("P2P_CERT_EXPIRED and P2P_CERT_NOT_YET_VALID", () => {
      const n = makeNode(suite, orgA, "node-1", {
        notBefore: new Date("2030-01-01T00:00:00Z"),
        notAfter: new Date("2031-01-01T00:00:00Z"),
      });
      const at = (iso: string) =>
        verifyNodeCertificate(n.certDer, { suite, orgRoots: roots, now: new Date(iso) });
      const early = at("2029-12-31T23:59:59Z");
      assert.equal(!early.ok && early.code, "P2P_CERT_NOT_YET_VALID");
      assert.equal(at("2030-01-01T00:00:00Z").ok, true);
      assert.equal(at("2031-01-01T00:00:00Z").ok, true);
      const late = at("2031-01-01T00:00:01Z");
      assert.equal(!late.ok && late.code, "P2P_CERT_EXPIRED");
    });

    test("P2P_CERT_WRONG_ALGORITHM: a certificate of the other suite", () => {
      const foreignOrg = makeOrg(other, "org-a");
      const n = makeNode(other, foreignOrg, "node-1");
      const v = verifyNodeCertificate(n.certDer, { suite, orgRoots: roots, now: new Date() });
      assert.equal(!v.ok && v.code, "P2P_CERT_WRONG_ALGORITHM");
    });

    test("P2P_CERT_MALFORMED: garbage, truncation, trailing bytes, issuer of another org", () => {
      const n = makeNode(suite, orgA, "node-1");
      const cases: Array<[string, Uint8Array]> = [
        ["empty", new Uint8Array(0)],
        ["garbage", Uint8Array.of(1, 2, 3, 4)],
        ["truncated", n.certDer.subarray(0, n.certDer.length - 1)],
        ["trailing", Uint8Array.of(...n.certDer, 0)],
      ];
      for (const [what, der] of cases) {
        const v = verifyNodeCertificate(der, { suite, orgRoots: roots, now: new Date() });
        assert.equal(!v.ok && v.code, "P2P_CERT_MALFORMED", what);
        assertMalformed(() => parseCertificate(der));
      }
      // Issuer org-a but subject org-b: refused even though org-a's key signed it.
      const orgAb = { ...orgA, id: "org-b" };
      const cross = issueNodeCertificate({
        suite,
        orgId: "org-a",
        orgPrivateKey: orgA.privateKey,
        nodeId: "node-1",
        tlsPublicKey: n.tlsPublicKey,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + DAY),
      });
      const at = indexOf(cross, new TextEncoder().encode("org-a"));
      const patched = new Uint8Array(cross);
      // The issuer name comes first; patch the subject's O (the third "org-a": issuer O, issuer CN, subject O).
      let pos = at;
      for (let i = 0; i < 2; i++)
        pos = indexOf(patched.subarray(pos + 1), new TextEncoder().encode("org-a")) + pos + 1;
      patched[pos + 4] = "b".charCodeAt(0);
      assert.equal(parseCertificate(patched).subject.org, orgAb.id);
      const v = verifyNodeCertificate(patched, { suite, orgRoots: roots, now: new Date() });
      assert.equal(!v.ok && v.code, "P2P_CERT_MALFORMED");
    });

    test("verify never throws on mutated certificates", () => {
      const n = makeNode(suite, orgA, "node-1");
      fc.assert(
        fc.property(fc.nat(n.certDer.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
          const m = new Uint8Array(n.certDer);
          m[i] = (m[i] as number) ^ x;
          const v = verifyNodeCertificate(m, { suite, orgRoots: roots, now: new Date() });
          assert.equal(v.ok, false);
        }),
        { numRuns: 200 },
      );
    });

    test("bad issue requests are refused", () => {
      const tls = generateTlsKeyPair();
      const base = {
        suite,
        orgId: "org-a",
        orgPrivateKey: orgA.privateKey,
        nodeId: "n",
        tlsPublicKey: tls.publicKey,
        notBefore: new Date(),
        notAfter: new Date(Date.now() + DAY),
      };
      const code = { code: "P2P_CERT_BAD_REQUEST" };
      assert.throws(() => issueNodeCertificate({ ...base, tlsPublicKey: new Uint8Array(33) }), code);
      assert.throws(() => issueNodeCertificate({ ...base, notAfter: base.notBefore }), code);
      assert.throws(() => issueNodeCertificate({ ...base, nodeId: "" }), code);
      assert.throws(() => issueNodeCertificate({ ...base, serial: new Uint8Array(21) }), code);
    });
  });
}

test("SM2 signature DER ↔ r||s", () => {
  const raw = new Uint8Array(64);
  raw[0] = 0x80; // r needs a sign octet
  raw[63] = 1; // s is 1
  const der = rawToDerSignature(raw);
  assert.equal(hex(der.subarray(0, 5)), "3026022100");
  assert.equal(hex(derToRawSignature(der)), hex(raw));
  assertMalformed(() => derToRawSignature(Uint8Array.of(0x30, 0x00)));
  assertMalformed(() => derToRawSignature(Uint8Array.of(0x30, 0x06, 2, 1, 0x80, 2, 1, 1))); // negative r
  assertMalformed(() => derToRawSignature(Uint8Array.of(0x30, 0x07, 2, 2, 0, 1, 2, 1, 1))); // non-minimal r
});
