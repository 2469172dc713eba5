import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { encode } from "../codec/cbor.js";
import { toHex } from "../ledger/bytes.js";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { type BlockEvent, subscribeBlocks } from "../sdk/events.js";

describe("HTTP API input validation", () => {
  let t: TestNode;
  let api: string;
  before(async () => {
    t = await startTestNode("intl");
    api = t.node.apiUrl;
  });
  after(async () => {
    await t.close();
  });

  const post = (path: string, body: string, type = "application/json") =>
    fetch(`${api}${path}`, { method: "POST", headers: { "content-type": type }, body });

  const attestArgs = (digest: number) => ({
    digest: new Uint8Array(32).fill(digest),
    kind: "cbor-api",
    provenance: { system: "api-test", generatedAt: 1, method: "form" },
  });

  async function expectError(res: Response, status: number, code: string | RegExp): Promise<void> {
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    if (typeof code === "string") assert.equal(body.error.code, code);
    else assert.match(body.error.code, code);
    assert.ok(body.error.message.length > 0);
  }

  it("rejects malformed JSON, wrong shapes and bad hex with 400 and a code", async () => {
    await expectError(await post("/v1/txs", "{not json"), 400, /.+/);
    await expectError(await post("/v1/txs", JSON.stringify({ tx: "zz" })), 400, "API_BAD_REQUEST");
    await expectError(await post("/v1/txs", JSON.stringify({ tx: "abc" })), 400, "API_BAD_REQUEST");
    await expectError(await post("/v1/txs", JSON.stringify({})), 400, "API_BAD_REQUEST");
    await expectError(
      await post("/v1/txs", JSON.stringify({ tx: "00", txs: ["00"] })),
      400,
      "API_BAD_REQUEST",
    );
    await expectError(await post("/v1/txs", JSON.stringify({ tx: "00", extra: 1 })), 400, "API_BAD_REQUEST");
  });

  it("rejects transactions that are not canonical CBOR or have the wrong structure", async () => {
    await expectError(await post("/v1/txs", JSON.stringify({ tx: "ff" })), 400, "CODEC_MALFORMED");
    await expectError(
      await post("/v1/txs", JSON.stringify({ tx: "1817" })),
      400,
      /^CODEC_(NON_CANONICAL|MALFORMED)$/,
    );
    await expectError(
      await post("/v1/txs", JSON.stringify({ tx: "a2616201616102" })),
      400,
      "CODEC_NON_CANONICAL",
    );
    await expectError(
      await post("/v1/txs", JSON.stringify({ tx: toHex(encode([1, 2, 3])) })),
      400,
      "LEDGER_MALFORMED",
    );
    const big = toHex(
      encode([
        [1, "zl-test", new Uint8Array(32), 0, 1, "attest", "record", new Uint8Array(70_000)],
        new Uint8Array(64),
      ]),
    );
    await expectError(await post("/v1/txs", JSON.stringify({ tx: big })), 400, "TX_TOO_LARGE");
  });

  it("takes transactions as application/cbor, one or a batch, and refuses any other CBOR body", async () => {
    const cbor = (bytes: Uint8Array) =>
      fetch(`${api}/v1/txs`, {
        method: "POST",
        headers: { "content-type": "application/cbor" },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
    const { chainId } = await t.client.trustedGenesis();
    const attest = (nonce: number, digest: number) =>
      t.admin.sign(chainId, {
        module: "attest",
        call: "record",
        args: attestArgs(digest),
        nonce,
        expiry: 1_000_000,
      });
    const nonce = await t.client.nextNonce(t.admin.address);
    const one = attest(nonce, 0xc1);
    const single = await cbor(encode(one.bytes));
    assert.equal(single.status, 202);
    assert.equal(((await single.json()) as { id: string }).id, toHex(one.id));
    const batch = [attest(nonce + 1, 0xc2), attest(nonce + 2, 0xc3)];
    const res = await cbor(encode(batch.map((b) => b.bytes)));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { accepted: number; results: Array<{ id: string; ok: boolean }> };
    assert.equal(body.accepted, 2);
    assert.deepEqual(
      body.results.map((r) => r.id),
      batch.map((b) => toHex(b.id)),
    );
    // The SDK sends its batches this way; the same transaction again is a duplicate, per item.
    const again = await t.client.submitBatch([batch[0]!.bytes]);
    assert.equal(again.accepted, 0);
    assert.equal(again.results[0]!.ok, false);

    await expectError(await cbor(new Uint8Array([0xff])), 400, "API_BAD_CBOR");
    await expectError(await cbor(new Uint8Array([0x18, 0x17])), 400, "API_BAD_CBOR"); // not minimal
    await expectError(await cbor(encode([])), 400, "API_BAD_CBOR");
    await expectError(await cbor(encode("a transaction")), 400, "API_BAD_CBOR");
    await expectError(await cbor(encode([one.bytes, 5])), 400, "API_BAD_CBOR");
    await expectError(
      await cbor(encode(Array.from({ length: 10_001 }, () => new Uint8Array(1)))),
      400,
      "API_BAD_CBOR",
    );
    // Bytes that are a byte string but not a transaction are judged like hex ones.
    await expectError(await cbor(encode(new Uint8Array([0xff]))), 400, "CODEC_MALFORMED");
  });

  it("streams each committed block in the full view (with events) or the filtered one, and refuses another view", async () => {
    const got: Record<"full" | "filtered", BlockEvent[]> = { full: [], filtered: [] };
    const subs = await Promise.all(
      (["full", "filtered"] as const).map((view) => subscribeBlocks(api, (b) => got[view].push(b), { view })),
    );
    try {
      const { chainId } = await t.client.trustedGenesis();
      // The account's next nonce counts committed transactions only: while earlier tests' are
      // still pending, the same nonce is refused (TX_NONCE_PENDING) and is tried again.
      let tx: ReturnType<typeof t.admin.sign> | undefined;
      const tried: string[] = [];
      for (let attempt = 0; tx === undefined && attempt < 200; attempt++) {
        const candidate = t.admin.sign(chainId, {
          module: "attest",
          call: "record",
          args: attestArgs(0xe1),
          nonce: await t.client.nextNonce(t.admin.address),
          expiry: 1_000_000,
        });
        const r = await t.client.submitBatch([candidate.bytes]);
        if (r.accepted === 1) tx = candidate;
        else {
          tried.push(r.results[0]?.error?.code ?? "?");
          await new Promise((done) => setTimeout(done, 50));
        }
      }
      assert.ok(tx, `not admitted: ${tried.join(", ")}`);
      const id = toHex(tx.id);
      const find = (view: "full" | "filtered") =>
        got[view].flatMap((b) => b.txs.map((x) => ({ b, x }))).find((e) => e.x.id === id);
      const deadline = Date.now() + 10_000;
      while ((!find("full") || !find("filtered")) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const full = find("full");
      const filtered = find("filtered");
      assert.ok(
        full && filtered,
        `transaction ${id} reached both subscribers (blocks seen: full ${got.full.map((b) => b.height)}, filtered ${got.filtered.map((b) => b.height)})`,
      );
      assert.deepEqual(
        { height: filtered.b.height, hash: filtered.b.hash, time: filtered.b.time },
        { height: full.b.height, hash: full.b.hash, time: full.b.time },
      );
      assert.deepEqual(filtered.x, { id, status: "ok", code: "OK" });
      const { events, ...rest } = full.x;
      assert.deepEqual(rest, filtered.x);
      assert.deepEqual(
        (events as Array<{ module: string; type: string }>).map((e) => `${e.module}.${e.type}`),
        ["attest.attested"],
      );
    } finally {
      for (const s of subs) s.close();
    }
    await expectError(await fetch(`${api}/v1/events?view=everything`), 400, "API_BAD_REQUEST");
  });

  it("answers unknown routes, heights and ids with coded 4xx errors", async () => {
    await expectError(await fetch(`${api}/v1/nothing`), 404, "API_NOT_FOUND");
    await expectError(await fetch(`${api}/v1/blocks/999999`), 404, "BLOCK_NOT_FOUND");
    await expectError(await fetch(`${api}/v1/blocks/-1`), 400, "API_BAD_REQUEST");
    await expectError(await fetch(`${api}/v1/blocks/abc`), 400, "API_BAD_REQUEST");
    await expectError(await fetch(`${api}/v1/txs/${"ab".repeat(32)}`), 404, "TX_NOT_FOUND");
    await expectError(await fetch(`${api}/v1/txs/xyz`), 400, "API_BAD_REQUEST");
    await expectError(await fetch(`${api}/v1/state`), 400, "API_BAD_REQUEST");
    await expectError(await fetch(`${api}/v1/state?key=a&height=999999`), 404, "STATE_HEIGHT_UNKNOWN");
    await expectError(await fetch(`${api}/v1/query/membership/account?address=zz`), 400, "QUERY_BAD_PARAM");
    await expectError(await fetch(`${api}/v1/query/nope/nope`), 404, "QUERY_NOT_FOUND");
  });

  it("holds a read with minHeight until the node commits that height, or answers 503 after timeoutMs", async () => {
    const attest = (digest: number) =>
      t.client.send(t.admin, { module: "attest", call: "record", args: attestArgs(digest) }, { wait: true });
    // Once the admin's latest transaction has committed, so have its earlier ones: nothing is
    // pending, and without transactions this node makes no blocks, so the next height does not come.
    await attest(0xd0);
    const { height } = (await (await fetch(`${api}/v1/status`)).json()) as { height: number };
    const state = (q: string) => fetch(`${api}/v1/state?key=a&${q}`);
    const late = await state(`minHeight=${height + 1}&timeoutMs=150`);
    assert.equal(late.status, 503);
    const body = (await late.json()) as {
      error: { code: string; meta: { height: number; minHeight: number } };
    };
    assert.equal(body.error.code, "STATE_HEIGHT_NOT_REACHED");
    assert.deepEqual(body.error.meta, { height, minHeight: height + 1 });
    await expectError(await state("minHeight=0"), 400, "API_BAD_REQUEST");
    await expectError(await state("minHeight=1&timeoutMs=60001"), 400, "API_BAD_REQUEST");

    const pending = state(`minHeight=${height + 1}&timeoutMs=20000`);
    const pendingAccount = fetch(`${api}/v1/accounts/${t.admin.addressHex}?minHeight=${height + 1}`);
    const sent = await attest(0xd1);
    const held = await pending;
    assert.equal(held.status, 200);
    const answered = (await held.json()) as { height: number };
    assert.ok(answered.height >= sent.height!, `answered at ${answered.height}, committed at ${sent.height}`);
    const account = (await (await pendingAccount).json()) as { height: number; nextNonce: number };
    assert.ok(account.height >= height + 1);
    // A height already reached answers at once.
    assert.equal((await state(`minHeight=${height}&timeoutMs=1`)).status, 200);
  });

  it("stays up after bad input, and publishes OpenAPI, metrics and status", async () => {
    const status = (await (await fetch(`${api}/v1/status`)).json()) as { chainId: string; height: number };
    assert.equal(status.chainId, "zl-test");
    const openapi = (await (await fetch(`${api}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(openapi.openapi, /^3\./);
    for (const p of [
      "/v1/status",
      "/v1/txs",
      "/v1/txs/{id}",
      "/v1/blocks/{height}",
      "/v1/state",
      "/v1/events",
    ])
      assert.ok(openapi.paths[p], p);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /zl_chain_height/);
    assert.match(metrics, /zl_txs_rejected_total\{code="CODEC_MALFORMED"\} [1-9]/);
    // The state-key filter has scanned the (small) store by now and holds genesis's keys.
    assert.match(metrics, /^zl_state_key_filter_ready 1$/m);
    assert.match(metrics, /^zl_state_key_filter_keys [1-9]/m);
    assert.match(metrics, /^# TYPE zl_state_absent_by_filter_total counter$/m);
  });
});
