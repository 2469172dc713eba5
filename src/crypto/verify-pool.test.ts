import assert from "node:assert/strict";
import { test } from "node:test";
import { getSuite } from "./index.js";
import type { SignatureItem } from "./suite.js";
import { measureVerifyRate, VerifyPool } from "./verify-pool.js";

function mixedBatch(id: "intl" | "gm", n: number): { items: SignatureItem[]; expected: boolean[] } {
  const suite = getSuite(id);
  const keys = Array.from({ length: 8 }, () => suite.generateKeyPair());
  const items: SignatureItem[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const kp = keys[i % keys.length] as (typeof keys)[number];
    const message = new TextEncoder().encode(`tx ${i}`);
    const signature = suite.sign(kp.privateKey, message);
    switch (i % 5) {
      case 0: // valid
      case 1:
        items.push({ publicKey: kp.publicKey, message, signature });
        expected.push(true);
        break;
      case 2: {
        // flipped signature bit
        const bad = signature.slice();
        bad[10] = (bad[10] as number) ^ 4;
        items.push({ publicKey: kp.publicKey, message, signature: bad });
        expected.push(false);
        break;
      }
      case 3: // wrong key
        items.push({
          publicKey: (keys[(i + 1) % keys.length] as (typeof keys)[number]).publicKey,
          message,
          signature,
        });
        expected.push(false);
        break;
      default: // malformed lengths
        items.push({ publicKey: kp.publicKey.subarray(2), message, signature: signature.subarray(0, 60) });
        expected.push(false);
    }
  }
  return { items, expected };
}

for (const id of ["intl", "gm"] as const) {
  test(`${id}: mixed valid/invalid batch across 2 workers gives exactly the right booleans`, async () => {
    const pool = new VerifyPool(id, 2);
    try {
      const { items, expected } = mixedBatch(id, 203);
      assert.deepEqual(await pool.verifyBatch(items), expected);
      const small = mixedBatch(id, 10); // inline path
      assert.deepEqual(await pool.verifyBatch(small.items), small.expected);
      assert.deepEqual(await pool.verifyBatch([]), []);
      // Concurrent batches.
      const [a, b] = await Promise.all([
        pool.verifyBatch(items.slice(0, 50)),
        pool.verifyBatch(items.slice(50)),
      ]);
      assert.deepEqual([...a, ...b], expected);
    } finally {
      await pool.close();
    }
  });
}

test("a dying worker rejects its pending work with a coded error and is respawned", async () => {
  const pool = new VerifyPool("intl", 2);
  try {
    const { items, expected } = mixedBatch("intl", 400);
    pool.crashWorkerForTesting(0);
    const outcome = await pool.verifyBatch(items).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    if (outcome.ok)
      assert.deepEqual(outcome.r, expected); // crash may land before dispatch
    else assert.equal((outcome.e as { code?: string }).code, "CRYPTO_VERIFY_WORKER_DIED");
    // Pool keeps working after the respawn.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await pool.verifyBatch(items), expected);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.verifyBatch([]), { code: "CRYPTO_VERIFY_POOL_CLOSED" });
});

test("measureVerifyRate returns a positive rate", () => {
  assert.ok(measureVerifyRate(getSuite("intl"), 50) > 0);
  assert.ok(measureVerifyRate(getSuite("gm"), 50) > 0);
});

test("chunks in flight at once each get their own results, and buffers are used again", async () => {
  const pool = new VerifyPool("intl", 2);
  try {
    const { items, expected } = mixedBatch("intl", 300);
    // Many batches of different sizes at once, three rounds: later rounds reuse the buffers the
    // earlier ones returned, and no batch may see another's results.
    const cuts = [0, 17, 20, 64, 65, 130, 161, 250, 300];
    for (let round = 0; round < 3; round++) {
      const parts = cuts.slice(1).map((end, i) => [cuts[i] as number, end] as const);
      const results = await Promise.all(parts.map(([a, b]) => pool.verifyBatch(items.slice(a, b))));
      for (const [i, [a, b]] of parts.entries())
        assert.deepEqual(results[i], expected.slice(a, b), `round ${round}, items ${a}..${b}`);
    }
    // Valid items only, then invalid only, through the same buffers: stale results would show.
    const valid = items.filter((_, i) => expected[i]);
    const invalid = items.filter((_, i) => !expected[i]);
    assert.deepEqual(
      await pool.verifyBatch(valid),
      valid.map(() => true),
    );
    assert.deepEqual(
      await pool.verifyBatch(invalid),
      invalid.map(() => false),
    );
    assert.deepEqual(
      await pool.verifyBatch(valid),
      valid.map(() => true),
    );
  } finally {
    await pool.close();
  }
});
