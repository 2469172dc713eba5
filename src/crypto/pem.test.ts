import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getSuite } from "./index.js";
import { toHex } from "./lru.js";

function openssl(args: string[]): string | undefined {
  try {
    return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // no CLI: skip that part
    throw err;
  }
}

for (const id of ["intl", "gm"] as const) {
  const suite = getSuite(id);
  test(`${id}: PEM round trip (PKCS#8 private, SPKI public)`, () => {
    const kp = suite.generateKeyPair();
    const privPem = suite.privateKeyToPem(kp.privateKey);
    const pubPem = suite.publicKeyToPem(kp.publicKey);
    assert.match(privPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pubPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal(toHex(suite.privateKeyFromPem(privPem)), toHex(kp.privateKey));
    assert.equal(toHex(suite.publicKeyFromPem(pubPem)), toHex(kp.publicKey));
    assert.throws(() => suite.publicKeyFromPem(privPem), { code: "CRYPTO_BAD_KEY" });
    assert.throws(() => suite.privateKeyFromPem("garbage"), { code: "CRYPTO_BAD_KEY" });
  });

  test(`${id}: openssl CLI parses our PEMs, and we parse OpenSSL's`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), `zl-pem-${id}-`));
    try {
      const kp = suite.generateKeyPair();
      writeFileSync(join(dir, "k.pem"), suite.privateKeyToPem(kp.privateKey));
      writeFileSync(join(dir, "p.pem"), suite.publicKeyToPem(kp.publicKey));
      const priv = openssl(["pkey", "-in", join(dir, "k.pem"), "-text", "-noout"]);
      if (priv === undefined) {
        t.skip("openssl CLI not available");
        return;
      }
      const pub = openssl(["pkey", "-pubin", "-in", join(dir, "p.pem"), "-text", "-noout"]);
      if (id === "gm") {
        assert.match(priv, /SM2/);
        assert.match(pub ?? "", /SM2/);
        // OpenSSL-generated SM2 key -> our reader.
        const gen = openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2"]) as string;
        const d = suite.privateKeyFromPem(gen);
        writeFileSync(join(dir, "g.pem"), gen);
        const genPub = openssl(["pkey", "-in", join(dir, "g.pem"), "-pubout"]) as string;
        assert.equal(toHex(suite.publicKeyFromPem(genPub)), toHex(suite.publicKeyFromPrivate(d)));
      } else {
        assert.match(priv, /ED25519/i);
        assert.match(pub ?? "", /ED25519/i);
      }
      // openssl re-encodes the public key from our private key identically.
      const derived = openssl(["pkey", "-in", join(dir, "k.pem"), "-pubout"]) as string;
      assert.equal(toHex(suite.publicKeyFromPem(derived)), toHex(kp.publicKey));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
