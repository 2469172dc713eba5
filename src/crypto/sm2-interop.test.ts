import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { test } from "node:test";
import { getSuite } from "./index.js";
import { fromHex, toHex } from "./lru.js";
import { encodePublicKey } from "./sm2.js";

interface SmCrypto {
  sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(
      msg: string | number[],
      priv: string,
      opts?: { hash?: boolean; der?: boolean; publicKey?: string },
    ): string;
    doVerifySignature(
      msg: string | number[],
      sig: string,
      pub: string,
      opts?: { hash?: boolean; der?: boolean },
    ): boolean;
  };
}
const { sm2: smc } = createRequire(import.meta.url)("sm-crypto") as SmCrypto;
const gm = getSuite("gm");
// sm-crypto takes a string (UTF-8) or a byte array; pass bytes as number[].
const arr = (b: Uint8Array): number[] => Array.from(b);

test("sign here -> verify with sm-crypto (hash: true, der: false)", () => {
  for (let i = 0; i < 40; i++) {
    const kp = gm.generateKeyPair();
    const msg = new Uint8Array(randomBytes(i * 5));
    const sig = gm.sign(kp.privateKey, msg);
    const pubHex = toHex(encodePublicKey(kp.publicKey, false));
    assert.equal(
      smc.doVerifySignature(arr(msg), toHex(sig), pubHex, { hash: true, der: false }),
      true,
      `msg ${i}`,
    );
    const wrongMsg = Uint8Array.of(...msg, 1);
    assert.equal(smc.doVerifySignature(arr(wrongMsg), toHex(sig), pubHex, { hash: true, der: false }), false);
    const other = toHex(encodePublicKey(gm.generateKeyPair().publicKey, false));
    assert.equal(smc.doVerifySignature(arr(msg), toHex(sig), other, { hash: true, der: false }), false);
  }
});

test("sign with sm-crypto (hash: true) -> verify here", () => {
  for (let i = 0; i < 40; i++) {
    const kp = smc.generateKeyPairHex();
    const msg = new Uint8Array(randomBytes(1 + i * 3));
    const sig = fromHex(
      smc.doSignature(arr(msg), kp.privateKey, { hash: true, der: false }).padStart(128, "0"),
    );
    const pub = fromHex(kp.publicKey);
    assert.equal(gm.verify(pub, msg, sig), true, `msg ${i} (uncompressed key)`);
    const compressed = encodePublicKey(pub, true);
    assert.equal(gm.verify(compressed, msg, sig), true, `msg ${i} (compressed key)`);
    assert.equal(toHex(gm.publicKeyFromPrivate(fromHex(kp.privateKey.padStart(64, "0")))), toHex(compressed));
    assert.equal(gm.verify(compressed, Uint8Array.of(...msg, 0), sig), false);
    assert.equal(gm.verify(gm.generateKeyPair().publicKey, msg, sig), false);
  }
});
