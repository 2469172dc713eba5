/**
 * The TypeScript client of a ZhengLian node. It builds and signs transactions, talks to the
 * API, and verifies state proofs and commit certificates itself: it trusts the validator set
 * it is given (from genesis), not the node.
 */
import { encode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { RejectedError, ZlError } from "../errors/index.js";
import { decodeBlock, decodeCommit, type Header } from "../ledger/block.js";
import { equalBytes, fromHex, toHex, utf8 } from "../ledger/bytes.js";
import { type Genesis, type GenesisJson, parseGenesis } from "../ledger/genesis.js";
import type { Validator } from "../ledger/validators.js";
import { decodeProof } from "../state/proof.js";
import {
  decodeValidatorSet,
  LightClient,
  type LightDeps,
  type LightFetchers,
  type TrustedState,
  trustGenesis,
  trustHeader,
  VALIDATORS_KEY,
  verifyStateAgainst,
} from "./light-client.js";
import type { Signer, TxRequest } from "./signer.js";
import {
  type StateResponse,
  type TxInclusion,
  type VerifiedState,
  type VerifiedTx,
  verifyStateResponse,
  verifyTxInclusion,
} from "./verify.js";

export class ApiError extends ZlError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message, { status });
  }
}

export interface SubmitResult {
  id: string;
  status: "pending" | "committed";
  height?: number;
  receipt?: { txId: string; status: "ok" | "failed"; code: string; events: unknown };
}

export class ZlClient {
  private genesis: Genesis | undefined;
  /** Follows validator-set changes for the verified reads, once the genesis set no longer signs. */
  private light: LightClient | undefined;

  constructor(
    readonly baseUrl: string,
    opts: { genesis?: Genesis } = {},
  ) {
    this.genesis = opts.genesis;
  }

  /** Sends a request with an optional JSON body and reads the JSON answer. */
  request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return this.exchange<T>(
      method,
      path,
      body === undefined ? undefined : { type: "application/json", data: JSON.stringify(body) },
    );
  }

  private async exchange<T>(
    method: "GET" | "POST",
    path: string,
    body?: { type: "application/json" | "application/cbor"; data: string | Uint8Array },
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? {} : { "content-type": body.type },
        body: body === undefined ? null : (body.data as string | Uint8Array<ArrayBuffer>),
      });
    } catch (err: unknown) {
      throw new ApiError(0, "API_UNREACHABLE", `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError(res.status, "API_BAD_RESPONSE", `non-JSON answer from ${path}`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } })?.error;
      throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText);
    }
    return json as T;
  }

  status() {
    return this.request<{
      chainId: string;
      suite: string;
      height: number;
      latestBlockHash: string;
      validators: unknown[];
    }>("GET", "/v1/status");
  }

  /**
   * The genesis this client trusts. Given in the constructor (the safe way), or fetched from the
   * node once — trust on first use, which `zl` warns about.
   */
  async trustedGenesis(): Promise<Genesis> {
    if (!this.genesis) {
      const json = await this.request<GenesisJson>("GET", "/v1/genesis");
      this.genesis = parseGenesis(json, (id) => getSuite(id).publicKeyLength);
    }
    return this.genesis;
  }

  async suite(): Promise<CryptoSuite> {
    return getSuite((await this.trustedGenesis()).suite);
  }

  async nextNonce(address: Uint8Array): Promise<number> {
    const r = await this.request<{ nextNonce: number }>("GET", `/v1/accounts/${toHex(address)}`);
    return r.nextNonce;
  }

  /**
   * Signs and submits one transaction; `wait` returns once it is committed, or with status
   * "pending" after `timeoutMs` (default 10 s).
   */
  async send(
    signer: Signer,
    req: Omit<TxRequest, "nonce" | "expiry"> & Partial<TxRequest>,
    opts: { wait?: boolean; timeoutMs?: number } = {},
  ): Promise<SubmitResult> {
    const [g, st] = [await this.trustedGenesis(), await this.status()];
    const nonce = req.nonce ?? (await this.nextNonce(signer.address));
    const tx = signer.sign(g.chainId, { ...req, nonce, expiry: req.expiry ?? st.height + 1000 });
    return this.submitRaw(tx.bytes, opts);
  }

  submitRaw(bytes: Uint8Array, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<SubmitResult> {
    const q = opts.wait ? `?wait=true&timeoutMs=${opts.timeoutMs ?? 10_000}` : "";
    return this.request<SubmitResult>("POST", `/v1/txs${q}`, { tx: toHex(bytes) });
  }

  /** Submits signed transactions in one request, as CBOR (no hex on either side). */
  submitBatch(txs: Uint8Array[]) {
    return this.exchange<{
      accepted: number;
      results: Array<{ id: string | null; ok: boolean; error?: { code: string } }>;
    }>("POST", "/v1/txs", { type: "application/cbor", data: encode(txs) });
  }

  /** Conflicting vote pairs the node saw (`GET /v1/evidence`); `report` is `evidence.report`'s args. */
  observedEvidence() {
    return this.request<{
      observed: Array<{
        height: number;
        round: number;
        type: "prevote" | "precommit" | "proposal";
        validator: { address: string; publicKey: string };
        seenAt: string;
        onRecord: boolean;
        report: { votes: unknown[] };
      }>;
    }>("GET", "/v1/evidence");
  }

  /** Runs a module query on the latest state (`GET /v1/query/:module/:query`); no proof. */
  query<T = unknown>(module: string, name: string, params: Record<string, string> = {}) {
    const q = new URLSearchParams(params).toString();
    return this.request<{ height: number; result: T }>(
      "GET",
      `/v1/query/${encodeURIComponent(module)}/${encodeURIComponent(name)}${q ? `?${q}` : ""}`,
    );
  }

  getTx(id: string) {
    return this.request<Record<string, unknown>>("GET", `/v1/txs/${id}`);
  }

  getBlock(height: number | "latest") {
    return this.request<Record<string, unknown>>("GET", `/v1/blocks/${height}`);
  }

  /**
   * Reads a state key and verifies its proof and commit against the trusted validator set.
   * `height` reads the past; `minHeight` makes the node wait until it has committed that height,
   * so a write seen committed on one node is read back from another.
   */
  async queryVerified(
    key: string | Uint8Array,
    height?: number,
    opts: { minHeight?: number | undefined } = {},
  ): Promise<VerifiedState> {
    const keyBytes = typeof key === "string" ? utf8(key) : key;
    let q = `keyHex=${toHex(keyBytes)}`;
    if (height) q += `&height=${height}`;
    if (opts.minHeight) q += `&minHeight=${opts.minHeight}`;
    const r = await this.request<StateResponse>("GET", `/v1/state?${q}`);
    const g = await this.trustedGenesis();
    return this.withSigningSet(g, r.height, (set) =>
      verifyStateResponse(getSuite(g.suite), g.chainId, set, keyBytes, r),
    );
  }

  /**
   * Runs a verification against the set that signs block `height`: the genesis set while that is
   * it, else the set a light client from genesis verified, header by header, up to height − 1.
   */
  private async withSigningSet<T>(g: Genesis, height: number, verify: (set: Validator[]) => T): Promise<T> {
    try {
      return verify(this.validatorsAt(g));
    } catch (err: unknown) {
      if (!(err instanceof RejectedError) || err.code !== "COMMIT_VALIDATOR_SET_MISMATCH") throw err;
    }
    this.light ??= await this.lightClient("genesis");
    if (this.light.height > height - 1) this.light = await this.lightClient("genesis");
    if (this.light.height < height - 1) await this.syncLight(this.light, height - 1);
    return verify(this.light.trusted.validators);
  }

  /** Fetches a committed transaction and verifies its inclusion, receipt and commit certificate. */
  async getTxVerified(id: string): Promise<VerifiedTx> {
    const r = await this.request<{ status: string; height: number; index: number; inclusion?: TxInclusion }>(
      "GET",
      `/v1/txs/${id}`,
    );
    if (r.status !== "committed" || !r.inclusion)
      throw new RejectedError("SDK_TX_PENDING", `transaction ${id} is not committed yet`);
    const g = await this.trustedGenesis();
    const inclusion = r.inclusion;
    return this.withSigningSet(g, r.height, (set) =>
      verifyTxInclusion(getSuite(g.suite), g.chainId, set, fromHex(id), r.index, inclusion),
    );
  }

  /**
   * Fetchers for a `LightClient` over this node's HTTP API. Nothing they return is trusted: the
   * light client verifies every header, commit, validator set and proof.
   */
  lightFetchers(): LightFetchers {
    const stateValue = async (height: number) => {
      const r = await this.request<StateResponse>(
        "GET",
        `/v1/state?keyHex=${toHex(VALIDATORS_KEY)}&height=${height}`,
      );
      if (r.value === null || r.height !== height)
        throw new RejectedError("SDK_NO_VALIDATOR_SET", `the node gave no validator set at height ${height}`);
      return { encoded: fromHex(r.value), proof: decodeProof(fromHex(r.proof)) };
    };
    return {
      signedHeader: async (height) => {
        const r = await this.request<{ encoded: { block: string; commit: string } }>(
          "GET",
          `/v1/blocks/${height}`,
        );
        const header = decodeBlock(fromHex(r.encoded.block)).header;
        if (header.height !== height)
          throw new RejectedError("SDK_WRONG_HEIGHT", `asked for block ${height}, got ${header.height}`);
        return { header, commit: decodeCommit(fromHex(r.encoded.commit)) };
      },
      provenValidators: stateValue,
      signingValidators: async (height) =>
        height <= 1
          ? (await this.trustedGenesis()).validators
          : decodeValidatorSet((await stateValue(height - 1)).encoded),
    };
  }

  /** Hash and signature verification of the trusted genesis' suite. */
  async lightDeps(): Promise<LightDeps> {
    const suite = await this.suite();
    return { hash: (d) => suite.hash(d), verify: (p, m, s) => suite.verify(p, m, s) };
  }

  /**
   * A light client anchored on the trusted genesis, or on a header and its next validator set
   * obtained out of band (a checkpoint published by the consortium).
   */
  async lightClient(
    trust: "genesis" | { height: number; header: Header; validators: Validator[] },
  ): Promise<LightClient> {
    const deps = await this.lightDeps();
    if (trust === "genesis")
      return new LightClient(deps, trustGenesis(deps.hash, await this.trustedGenesis()));
    if (trust.header.height !== trust.height)
      throw new RejectedError("LC_TRUST_ROOT_INVALID", "the trusted header is not at the height given");
    const r = trustHeader(deps.hash, trust.header, trust.validators);
    if (!r.ok) throw new RejectedError(r.code, r.message);
    return new LightClient(deps, r.state);
  }

  /** Verifies every header up to `to` (default: the node's height); throws on the first that fails. */
  async syncLight(lc: LightClient, to?: number): Promise<TrustedState> {
    const target = to ?? (await this.status()).height;
    const r = await lc.sync(this.lightFetchers(), target);
    if (!r.ok) throw new RejectedError(r.code, r.message, r.reason ? { reason: r.reason } : {});
    return r.state;
  }

  /**
   * Yields each header the light client verifies as the chain grows, until height `until` (if
   * given) or `signal` aborts. Throws a RejectedError (code LC_*) on a header that fails.
   */
  async *followHeaders(
    lc: LightClient,
    opts: { until?: number; pollMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<TrustedState> {
    const fetchers = this.lightFetchers();
    const until = opts.until ?? Number.POSITIVE_INFINITY;
    while (lc.height < until && !opts.signal?.aborted) {
      const latest = Math.min(until, (await this.status()).height);
      while (lc.height < latest && !opts.signal?.aborted) {
        const r = await lc.sync(fetchers, lc.height + 1);
        if (!r.ok) throw new RejectedError(r.code, r.message, r.reason ? { reason: r.reason } : {});
        yield r.state;
      }
      if (lc.height < until && !opts.signal?.aborted)
        await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 500));
    }
  }

  /**
   * Reads a state key at the light client's height and verifies it against the header the light
   * client verified (not against a validator set the node names).
   */
  async queryLight(lc: LightClient, key: string | Uint8Array): Promise<VerifiedState> {
    const { header, blockHash, height } = lc.trusted;
    if (!header) throw new RejectedError("LC_NO_HEADER", "the light client trusts no header yet; sync first");
    const keyBytes = typeof key === "string" ? utf8(key) : key;
    const r = await this.request<StateResponse>(
      "GET",
      `/v1/state?keyHex=${toHex(keyBytes)}&height=${height}`,
    );
    if (r.height !== height || !equalBytes(fromHex(r.key), keyBytes))
      throw new RejectedError("PROOF_WRONG_KEY", "the node answered for another key or height");
    const suite = await this.suite();
    if (!equalBytes(suite.hash(fromHex(r.encodedHeader)), blockHash))
      throw new RejectedError("PROOF_WRONG_HEADER", "the node's header differs from the verified one");
    const value = r.value === null ? null : fromHex(r.value);
    const check = verifyStateAgainst(
      (d) => suite.hash(d),
      header,
      keyBytes,
      value,
      decodeProof(fromHex(r.proof)),
    );
    if (!check.ok) throw new RejectedError(check.code, check.message);
    return { height, key: keyBytes, value, header };
  }

  /** The genesis validator set: what verified reads try first (see withSigningSet). */
  private validatorsAt(g: Genesis): Validator[] {
    if (g.validators.length === 0)
      throw new RejectedError("SDK_NO_VALIDATORS", "trusted genesis lists no validators");
    return g.validators;
  }
}
