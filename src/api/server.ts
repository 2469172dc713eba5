/**
 * The HTTP JSON API (Fastify). Every route is declared once with its TypeBox schema, which both
 * validates the input and feeds the OpenAPI document at /openapi.json. Errors are coded:
 * `{ error: { code, message } }` with 400 (bad input), 404, 422 (refused by a protocol rule),
 * 503 (busy: retry later).
 */
import swagger from "@fastify/swagger";
import { type Static, Type } from "@sinclair/typebox";
import Fastify, { type FastifyInstance } from "fastify";
import { type CborValue, decode } from "../codec/cbor.js";
import type { ObservedEquivocation } from "../consensus/service.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { BusyError, InvalidInputError, NotFoundError } from "../errors/index.js";
import { readAccount, readNonce } from "../execution/accounts.js";
import type { StateReader } from "../execution/state-view.js";
import { decodeBlock, encodeCommit, encodeHeader, encodeReceipt, VOTE_PREVOTE } from "../ledger/block.js";
import { fromHexOrUndefined, toHex, utf8 } from "../ledger/bytes.js";
import { genesisToJson } from "../ledger/genesis.js";
import { inclusionProof } from "../ledger/merkle.js";
import { addressOf, encodeSignedTx, encodeTxBody, type SignedTx } from "../ledger/tx.js";
import { evidenceKey } from "../modules/evidence/index.js";
import type { CommittedBlock } from "../node/events.js";
import type { Frontend, ZlNode } from "../node/node.js";
import { encodeProof } from "../state/proof.js";
import { errorBody, errorHandler, httpStatusOf } from "./errors.js";
import { blockJson, commitJson, headerJson, receiptJson, toJson, txJson } from "./json.js";
import { registerLicenseRoutes } from "./licenses-routes.js";

const Hex = Type.String({ pattern: "^([0-9a-fA-F]{2})*$", description: "bytes as hex" });
const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

/** Most transactions one submission may carry, in either encoding. */
const MAX_BATCH_TXS = 10_000;

const SubmitBody = Type.Object(
  {
    tx: Type.Optional(
      Type.String({
        ...Hex,
        maxLength: 2 * 1024 * 1024,
        description: "one signed transaction, canonical CBOR as hex",
      }),
    ),
    txs: Type.Optional(
      Type.Array(Type.String({ ...Hex, maxLength: 2 * 1024 * 1024 }), {
        minItems: 1,
        maxItems: MAX_BATCH_TXS,
        description: "a batch of signed transactions",
      }),
    ),
  },
  { additionalProperties: false },
);
/** A submission sent as `application/cbor`: the signed transactions' bytes as they are. */
type CborSubmission = { tx: Uint8Array; txs?: undefined } | { tx?: undefined; txs: Uint8Array[] };

/**
 * The body of an `application/cbor` submission: canonical CBOR of one byte string (a signed
 * transaction) or of an array of 1 to MAX_BATCH_TXS byte strings (a batch). Half the size of hex
 * in JSON, and neither side spends time on hex.
 */
function parseCborSubmission(body: Uint8Array): CborSubmission {
  let value: CborValue;
  try {
    value = decode(body, body.length);
  } catch (err: unknown) {
    throw new InvalidInputError("API_BAD_CBOR", `the body is not canonical CBOR: ${(err as Error).message}`);
  }
  if (value instanceof Uint8Array) return { tx: value };
  if (
    Array.isArray(value) &&
    value.length >= 1 &&
    value.length <= MAX_BATCH_TXS &&
    value.every((t) => t instanceof Uint8Array)
  )
    return { txs: value as Uint8Array[] };
  throw new InvalidInputError(
    "API_BAD_CBOR",
    `an application/cbor submission is one transaction (a byte string) or an array of 1 to ${MAX_BATCH_TXS} of them`,
  );
}

const SubmitQuery = Type.Object({
  wait: Type.Optional(
    Type.Boolean({ description: "wait until the transaction commits (single transaction only)" }),
  ),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 10_000 })),
});
/** How long a read with `minHeight` waits by default. */
const READ_WAIT_MS = 5_000;
/**
 * Read-your-writes across nodes: a client that saw its transaction commit at height H on one node
 * asks another node for `minHeight=H`, and that node answers once it has committed H itself.
 */
const ReadAfterQuery = {
  minHeight: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: "answer only once this node has committed this height (waits up to timeoutMs)",
    }),
  ),
  timeoutMs: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: READ_WAIT_MS,
      description: "how long minHeight may wait",
    }),
  ),
};
const ReadAfter = Type.Object(ReadAfterQuery);
const HeightParam = Type.Object({
  height: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal("latest")]),
});
const StateQuery = Type.Object({
  key: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      description: "state key as UTF-8 text, e.g. acct/<address>",
    }),
  ),
  keyHex: Type.Optional(Type.String({ ...Hex, minLength: 2, maxLength: 1024 })),
  height: Type.Optional(
    Type.Integer({ minimum: 1, description: "a past height within the retention window (default: latest)" }),
  ),
  ...ReadAfterQuery,
});

/** A submitted transaction: hex from a JSON body, bytes from a CBOR body. */
function submittedTx(tx: string | Uint8Array): Uint8Array {
  return typeof tx === "string" ? parseHexTx(tx) : tx;
}

function parseHexTx(hex: string): Uint8Array {
  const bytes = fromHexOrUndefined(hex);
  if (!bytes) throw new InvalidInputError("API_BAD_HEX", "transactions must be hex strings");
  return bytes;
}

/** Bytes an SSE subscriber may have pending before it is dropped. */
const MAX_SUBSCRIBER_BACKLOG = 16 * 1024 * 1024;

/**
 * What a block event carries for each transaction: `full` adds its events to the id, status and
 * code of `filtered` (as Hyperledger Fabric's deliver service offers blocks and filtered blocks).
 * A subscriber that only follows commits takes the filtered view: about half the bytes, and
 * neither side builds or parses the events.
 */
const EVENT_VIEWS = ["full", "filtered"] as const;
type EventView = (typeof EVENT_VIEWS)[number];
const DEFAULT_EVENT_VIEW: EventView = "full";
const EventsQuery = Type.Object({
  view: Type.Optional(
    Type.Union(
      EVENT_VIEWS.map((v) => Type.Literal(v)),
      {
        default: DEFAULT_EVENT_VIEW,
        description: "full: each transaction with its events; filtered: id, status and code only",
      },
    ),
  ),
});

/** The SSE text of a committed block in one view, built once however many subscribers there are. */
const blockEventTexts: Record<EventView, WeakMap<CommittedBlock, string>> = {
  full: new WeakMap(),
  filtered: new WeakMap(),
};
function blockEventText(b: CommittedBlock, view: EventView): string {
  const cache = blockEventTexts[view];
  let text = cache.get(b);
  if (text === undefined) {
    const data = {
      height: b.height,
      hash: toHex(b.hash),
      time: b.block.header.time,
      txs: b.receipts.map((r) => {
        const status = r.status === 0 ? "ok" : "failed";
        const id = toHex(r.txId);
        return view === "full"
          ? { id, status, code: r.code, events: toJson(r.events) }
          : { id, status, code: r.code };
      }),
    };
    text = `event: block\ndata: ${JSON.stringify(data)}\n\n`;
    cache.set(b, text);
  }
  return text;
}

const encodeTxBodyOf = (t: SignedTx) => encodeTxBody(t.body);

/** Builds the API for `node` and listens on the node's configured address. */
export async function serveApi(node: ZlNode): Promise<Frontend> {
  const app = await buildApi(node);
  await app.listen({ host: node.config.api.host, port: node.config.api.port });
  const addr = app.server.address();
  const url =
    addr && typeof addr !== "string"
      ? `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`
      : "";
  return { url, close: () => app.close() };
}

/** One equivocation a node saw, with the `evidence.report` arguments that put it on record. */
function observedEvidenceJson(
  suite: CryptoSuite,
  state: StateReader,
  e: ObservedEquivocation & { seenAt: number },
): Record<string, unknown> {
  const address = addressOf(suite, e.publicKey);
  const hex = (b: Uint8Array) => `0x${toHex(b)}`;
  const common = { height: e.height, round: e.round, publicKey: hex(e.publicKey) };
  const kind = e.kind === "vote" ? e.type : "proposal";
  return {
    height: e.height,
    round: e.round,
    type: e.kind === "proposal" ? "proposal" : e.type === VOTE_PREVOTE ? "prevote" : "precommit",
    validator: { address: toHex(address), publicKey: toHex(e.publicKey) },
    seenAt: new Date(e.seenAt).toISOString(),
    onRecord: state.get(evidenceKey(address, e.height, e.round, kind)) !== undefined,
    report:
      e.kind === "vote"
        ? {
            votes: e.votes.map((v) => ({
              type: e.type,
              ...common,
              blockHash: v.blockHash === null ? null : hex(v.blockHash),
              signature: hex(v.signature),
            })),
          }
        : {
            proposals: e.proposals.map((p) => ({
              ...common,
              validRound: p.validRound,
              blockHash: hex(p.blockHash),
              signature: hex(p.signature),
            })),
          },
  };
}

export async function buildApi(node: ZlNode): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 32 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: "ZhengLian node API · 政链节点接口",
        version: "1",
        description:
          "Submit signed transactions, read blocks, receipts and state with proofs, subscribe to commits.",
      },
    },
  });
  app.setErrorHandler(errorHandler);
  app.addContentTypeParser("application/cbor", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, parseCborSubmission(body as Buffer));
    } catch (err: unknown) {
      done(err as Error, undefined);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .send({ error: { code: "API_NOT_FOUND", message: `no route ${req.method} ${req.url}` } });
  });

  const { chain } = node;
  const suite = node.suite;
  const resolveHeight = (h: number | "latest") => {
    const height = h === "latest" ? chain.height : h;
    if (height < 1 || height > chain.height)
      throw new NotFoundError(
        "BLOCK_NOT_FOUND",
        `no block at height ${height}; the chain is at ${chain.height}`,
      );
    return height;
  };
  const reachHeight = async (q: { minHeight?: number | undefined; timeoutMs?: number | undefined }) => {
    const { minHeight } = q;
    if (minHeight === undefined || chain.height >= minHeight) return;
    const timeoutMs = q.timeoutMs ?? READ_WAIT_MS;
    if (await node.bus.waitForHeight(minHeight, timeoutMs)) return;
    throw new BusyError(
      "STATE_HEIGHT_NOT_REACHED",
      `this node is at height ${chain.height} after waiting ${timeoutMs} ms for height ${minHeight}; retry later or read from a node that has it`,
      { height: chain.height, minHeight },
    );
  };

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
    void reply.header("content-type", node.metrics.registry.contentType);
    return node.metrics.registry.metrics();
  });

  app.get(
    "/v1/status",
    { schema: { summary: "Chain and node status · 链状态", tags: ["chain"] } },
    async () => {
      const head = chain.head();
      return {
        chainId: chain.genesis.chainId,
        suite: suite.id,
        height: head.height,
        latestBlockHash: toHex(head.blockHash),
        latestBlockTime: new Date(head.time).toISOString(),
        stateRoot: toHex(head.stateRoot),
        validators: chain.validators().map((v) => ({
          address: toHex(addressOf(suite, v.publicKey)),
          publicKey: toHex(v.publicKey),
          power: v.power,
          org: v.org,
        })),
        mempool: { txs: node.mempool.size, bytes: node.mempool.sizeBytes },
        consensus: node.consensusStatus()
          ? { mode: "tendermint", ...node.consensusStatus() }
          : { mode: "single-validator", producing: node.producing },
        peers: node.peers().map((p) => ({ nodeId: p.nodeId, height: p.height })),
      };
    },
  );

  app.get(
    "/v1/evidence",
    {
      schema: {
        summary: "Equivocations this node saw · 本节点观察到的双签",
        description:
          "Two conflicting votes (same height, round and type) or proposals (same height and round) signed by one validator, seen by this node since it started (at most 100), oldest first. `report` is ready to send as the arguments of `evidence.report` (bytes as 0x-hex, as `zl tx send --args` takes them); `onRecord` says whether the chain already holds it.",
        tags: ["consensus"],
      },
    },
    async () => ({
      observed: node.observedEquivocations().map((e) => observedEvidenceJson(suite, chain.latest, e)),
    }),
  );

  app.get(
    "/v1/genesis",
    { schema: { summary: "The chain's genesis · 创世配置", tags: ["chain"] } },
    async () => {
      return genesisToJson(chain.genesis);
    },
  );

  app.post<{ Body: Static<typeof SubmitBody> | CborSubmission; Querystring: Static<typeof SubmitQuery> }>(
    "/v1/txs",
    {
      schema: {
        summary: "Submit signed transactions · 提交交易",
        description:
          "Send `tx` (one) or `txs` (a batch) as JSON with hex, or as `application/cbor`: one byte string (a transaction) or an array of them (a batch). With `wait=true` a single transaction's answer comes once it commits. The answer is JSON either way.",
        tags: ["transactions"],
        body: {
          content: {
            "application/json": { schema: SubmitBody },
            "application/cbor": {
              schema: {
                description: `canonical CBOR: a signed transaction's bytes as a byte string, or an array of 1 to ${MAX_BATCH_TXS} of them`,
              },
            },
          },
        },
        querystring: SubmitQuery,
        response: { 400: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { tx, txs } = req.body;
      if ((tx === undefined) === (txs === undefined))
        throw new InvalidInputError("API_BAD_REQUEST", "give exactly one of `tx` or `txs`");
      if (txs !== undefined) {
        const results = await node.submit(txs.map(submittedTx));
        const accepted = results.filter((r) => r.ok).length;
        const first = results[0];
        if (
          accepted === 0 &&
          first &&
          !first.ok &&
          results.every((r) => !r.ok && r.error.code === "MEMPOOL_FULL")
        )
          return reply.status(503).send(errorBody(first.error));
        return {
          accepted,
          results: results.map((r) =>
            r.ok
              ? { id: toHex(r.id), ok: true }
              : {
                  id: r.id ? toHex(r.id) : null,
                  ok: false,
                  error: { code: r.error.code, message: r.error.message },
                },
          ),
        };
      }
      const [result] = await node.submit([submittedTx(tx!)]);
      if (!result!.ok) return reply.status(httpStatusOf(result!.error)).send(errorBody(result!.error));
      const id = result!.id;
      if (!req.query.wait) return reply.status(202).send({ id: toHex(id), status: "pending" });
      const outcome = await node.bus.waitForTx(id, req.query.timeoutMs ?? 10_000);
      if (!outcome) return reply.status(202).send({ id: toHex(id), status: "pending" });
      return {
        id: toHex(id),
        status: "committed",
        height: outcome.height,
        index: outcome.index,
        receipt: receiptJson(outcome.receipt),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/txs/:id",
    {
      schema: {
        summary: "A committed transaction and its receipt · 交易与回执",
        tags: ["transactions"],
        params: Type.Object({ id: Type.String({ pattern: "^[0-9a-fA-F]{64}$" }) }),
      },
    },
    async (req) => {
      const id = fromHexOrUndefined(req.params.id)!;
      const loc = chain.store.txLocation(id);
      if (!loc) {
        if (node.mempool.has(id)) return { id: req.params.id.toLowerCase(), status: "pending" };
        throw new NotFoundError("TX_NOT_FOUND", `no transaction ${req.params.id}`);
      }
      const block = chain.block(loc.height);
      const receipts = chain.receipts(loc.height);
      const receipt = receipts[loc.index]!;
      const hash = (d: Uint8Array) => suite.hash(d);
      const txLeaves = block.txs.map(encodeSignedTx);
      const receiptLeaves = receipts.map(encodeReceipt);
      return {
        id: toHex(id),
        status: "committed",
        height: loc.height,
        index: loc.index,
        // RFC 6962 inclusion proofs of the transaction in txRoot and of its receipt in resultsRoot,
        // with the header and its commit certificate: verifiable without trusting this node.
        inclusion: {
          size: txLeaves.length,
          encodedTx: toHex(txLeaves[loc.index]!),
          txPath: inclusionProof(hash, txLeaves, loc.index).map(toHex),
          encodedReceipt: toHex(receiptLeaves[loc.index]!),
          receiptPath: inclusionProof(hash, receiptLeaves, loc.index).map(toHex),
          encodedHeader: toHex(encodeHeader(block.header)),
          commit: toHex(encodeCommit(chain.commitOf(loc.height))),
        },
        tx: txJson(block.txs[loc.index]!),
        receipt: receiptJson(receipt),
      };
    },
  );

  app.get<{ Params: { height: number | "latest" } }>(
    "/v1/blocks/:height",
    {
      schema: {
        summary: "A block with its commit certificate · 区块",
        tags: ["blocks"],
        params: HeightParam,
      },
    },
    async (req) => {
      const height = resolveHeight(req.params.height);
      const bytes = chain.blockBytes(height)!;
      const block = decodeBlock(bytes);
      const commit = chain.commitOf(height);
      const ids = block.txs.map((t) => suite.hash(encodeTxBodyOf(t)));
      return {
        height,
        ...blockJson(block, commit.blockHash, ids),
        commit: commitJson(commit),
        encoded: { block: toHex(bytes), commit: toHex(encodeCommit(commit)) },
      };
    },
  );

  app.get<{ Params: { height: number | "latest" } }>(
    "/v1/blocks/:height/receipts",
    {
      schema: { summary: "Receipts of a block's transactions · 回执", tags: ["blocks"], params: HeightParam },
    },
    async (req) => {
      const height = resolveHeight(req.params.height);
      return { height, receipts: chain.receipts(height).map(receiptJson) };
    },
  );

  app.get<{ Querystring: Static<typeof StateQuery> }>(
    "/v1/state",
    {
      schema: {
        summary: "A state value with its Merkle proof, header and commit · 带证明的状态查询",
        description:
          "Verify with the SDK: the commit signs the header, the header's stateRoot anchors the proof.",
        tags: ["state"],
        querystring: StateQuery,
      },
    },
    async (req) => {
      const { key, keyHex, height } = req.query;
      if ((key === undefined) === (keyHex === undefined))
        throw new InvalidInputError("API_BAD_REQUEST", "give exactly one of `key` or `keyHex`");
      await reachHeight(req.query);
      const k = key !== undefined ? utf8(key) : fromHexOrUndefined(keyHex!)!;
      const s = chain.stateAt(k, height);
      return {
        height: s.height,
        key: toHex(k),
        value: s.value ? toHex(s.value) : null,
        proof: toHex(encodeProof(s.proof)),
        header: headerJson(s.header),
        encodedHeader: toHex(encodeHeader(s.header)),
        commit: toHex(encodeCommit(chain.commitOf(s.height))),
      };
    },
  );

  app.get<{ Params: { address: string }; Querystring: Static<typeof ReadAfter> }>(
    "/v1/accounts/:address",
    {
      schema: {
        summary: "An account: organization, roles, status and next nonce (latest state, unproven) · 账户",
        tags: ["state"],
        params: Type.Object({ address: Type.String({ pattern: "^[0-9a-fA-F]{40}$" }) }),
        querystring: ReadAfter,
      },
    },
    async (req) => {
      await reachHeight(req.query);
      const address = fromHexOrUndefined(req.params.address)!;
      const account = readAccount(chain.latest, address);
      return {
        address: toHex(address),
        height: chain.height,
        account: account ? toJson(account) : null,
        nextNonce: readNonce(chain.latest, address),
      };
    },
  );

  app.get(
    "/v1/modules",
    { schema: { summary: "Modules, their calls and required roles · 模块", tags: ["modules"] } },
    async () => ({
      modules: chain.registry.list().map((m) => ({
        name: m.name,
        calls: Object.entries(m.calls).map(([name, c]) => ({ name, roles: c.roles, summary: c.summary })),
        queries: Object.entries(m.queries).map(([name, q]) => ({ name, summary: q.summary })),
      })),
    }),
  );

  registerLicenseRoutes(app, node);

  app.get<{ Params: { module: string; query: string }; Querystring: Record<string, string> }>(
    "/v1/query/:module/:query",
    { schema: { summary: "Run a module query on the latest state · 模块查询", tags: ["modules"] } },
    async (req) => {
      const m = chain.registry.module(req.params.module);
      const q = m && Object.hasOwn(m.queries, req.params.query) ? m.queries[req.params.query] : undefined;
      if (!q) throw new NotFoundError("QUERY_NOT_FOUND", `no query ${req.params.module}/${req.params.query}`);
      const params = q.parse(req.query as never);
      return { height: chain.height, result: toJson(q.run({ suite, state: chain.latest }, params)) };
    },
  );

  app.get<{ Querystring: Static<typeof EventsQuery> }>(
    "/v1/events",
    {
      schema: {
        summary: "Server-sent events: one `block` event per committed block · 订阅",
        tags: ["blocks"],
        querystring: EventsQuery,
      },
    },
    (req, reply) => {
      const view: EventView = req.query.view ?? DEFAULT_EVENT_VIEW;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(`: subscribed at height ${chain.height}\n\n`);
      const unsubscribe = node.bus.subscribe((b) => {
        // A subscriber that cannot keep up is dropped rather than buffered without bound.
        if (res.writableLength > MAX_SUBSCRIBER_BACKLOG) {
          res.end(
            ": dropped: the subscriber fell behind; reconnect and read missed blocks from /v1/blocks\n\n",
          );
          return;
        }
        res.write(blockEventText(b, view));
      });
      const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
      req.raw.on("close", () => {
        clearInterval(ping);
        unsubscribe();
      });
    },
  );

  return app;
}
