import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { encode } from "../codec/cbor.js";
import { toHex } from "../ledger/bytes.js";
import { startTestNode, type TestNode } from "../node/test-node.js";

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
  });
});
