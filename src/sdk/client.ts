/**
 * The TypeScript client of a ZhengLian node. It builds and signs transactions, talks to the
 * API, and verifies state proofs and commit certificates itself: it trusts the validator set
 * it is given (from genesis), not the node.
 */
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { RejectedError, ZlError } from "../errors/index.js";
import { fromHex, toHex, utf8 } from "../ledger/bytes.js";
import { type Genesis, type GenesisJson, parseGenesis } from "../ledger/genesis.js";
import type { Validator } from "../ledger/validators.js";
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

  constructor(
    readonly baseUrl: string,
    opts: { genesis?: Genesis } = {},
  ) {
    this.genesis = opts.genesis;
  }

  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
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

  /** Signs and submits one transaction; `wait` returns once it is committed. */
  async send(
    signer: Signer,
    req: Omit<TxRequest, "nonce" | "expiry"> & Partial<TxRequest>,
    opts: { wait?: boolean } = {},
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

  submitBatch(txs: Uint8Array[]) {
    return this.request<{
      accepted: number;
      results: Array<{ id: string | null; ok: boolean; error?: { code: string } }>;
    }>("POST", "/v1/txs", { txs: txs.map(toHex) });
  }

  getTx(id: string) {
    return this.request<Record<string, unknown>>("GET", `/v1/txs/${id}`);
  }

  getBlock(height: number | "latest") {
    return this.request<Record<string, unknown>>("GET", `/v1/blocks/${height}`);
  }

  /** Reads a state key and verifies its proof and commit against the trusted validator set. */
  async queryVerified(key: string | Uint8Array, height?: number): Promise<VerifiedState> {
    const keyBytes = typeof key === "string" ? utf8(key) : key;
    const q = `keyHex=${toHex(keyBytes)}${height ? `&height=${height}` : ""}`;
    const r = await this.request<StateResponse>("GET", `/v1/state?${q}`);
    const g = await this.trustedGenesis();
    return verifyStateResponse(getSuite(g.suite), g.chainId, this.validatorsAt(g), keyBytes, r);
  }

  /** Fetches a committed transaction and verifies its inclusion, receipt and commit certificate. */
  async getTxVerified(id: string): Promise<VerifiedTx> {
    const r = await this.request<{ status: string; index: number; inclusion?: TxInclusion }>(
      "GET",
      `/v1/txs/${id}`,
    );
    if (r.status !== "committed" || !r.inclusion)
      throw new RejectedError("SDK_TX_PENDING", `transaction ${id} is not committed yet`);
    const g = await this.trustedGenesis();
    return verifyTxInclusion(
      getSuite(g.suite),
      g.chainId,
      this.validatorsAt(g),
      fromHex(id),
      r.index,
      r.inclusion,
    );
  }

  /** Validator set to check commits against. Changes of the set arrive with governance; until then, genesis. */
  private validatorsAt(g: Genesis): Validator[] {
    if (g.validators.length === 0)
      throw new RejectedError("SDK_NO_VALIDATORS", "trusted genesis lists no validators");
    return g.validators;
  }
}
