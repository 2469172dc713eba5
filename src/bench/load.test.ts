/**
 * The load generator against a real node whose mempool is smaller than the batch: transactions
 * the pool refuses as full are sent again, so none is lost and no sender is left behind a gap.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { submitUntilAccepted } from "./load.js";

const provenance = { system: "qyxx", generatedAt: 1_700_000_000_000, method: "form" };

describe("submitUntilAccepted", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode("intl", { mempool: { maxTxs: 8, maxBytes: 1024 * 1024, maxNonceGap: 1000 } });
  });
  after(() => t.close());

  it("sends again what a full pool refused, until every transaction is admitted and committed", async () => {
    const first = await t.client.nextNonce(t.admin.address);
    const height = (await t.client.status()).height;
    const txs = Array.from({ length: 40 }, (_, i) =>
      t.admin.sign("zl-test", {
        module: "attest",
        call: "record",
        args: { digest: new Uint8Array(32).fill(i + 1), kind: "load-test", provenance },
        nonce: first + i,
        expiry: height + 1_000,
      }),
    );
    // One batch of 40 into a pool of 8: most of it is refused as full the first time.
    assert.equal(await submitUntilAccepted(t.client, txs), 0, "nothing refused for another reason");
    const deadline = Date.now() + 30_000;
    while ((await t.client.nextNonce(t.admin.address)) < first + txs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await t.client.nextNonce(t.admin.address), first + txs.length, "all 40 committed");
  });

  it("counts what the node refuses for other reasons, without sending it again", async () => {
    const used = t.admin.sign("zl-test", {
      module: "attest",
      call: "record",
      args: { digest: new Uint8Array(32).fill(99), kind: "load-test", provenance },
      nonce: 0,
      expiry: (await t.client.status()).height + 1_000,
    });
    assert.equal(await submitUntilAccepted(t.client, [used]), 1);
  });
});
