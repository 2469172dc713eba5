/**
 * A ZhengLian node: wires storage, the chain, the mempool, signature verification, block
 * production, the commit bus, metrics and the HTTP API, and manages their lifecycle.
 */
import { existsSync, mkdirSync } from "node:fs";
import { SingleValidatorProducer } from "../consensus/single-validator.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { VerifyPool } from "../crypto/verify-pool.js";
import { ZlError } from "../errors/index.js";
import { ModuleRegistry } from "../execution/engine.js";
import type { Commit } from "../ledger/block.js";
import { toHex } from "../ledger/bytes.js";
import { type DecodedTx, decodeTx } from "../ledger/tx.js";
import { createLogger, type Logger } from "../log/logger.js";
import { type AddResult, Mempool } from "../mempool/mempool.js";
import { nativeModules } from "../modules/index.js";
import { ChainStore } from "../storage/chain-store.js";
import { Chain, type PreparedBlock } from "./chain.js";
import { loadConfig, type NodeConfig } from "./config.js";
import { CommitBus } from "./events.js";
import { homePaths, readGenesisFile, readPrivateKey } from "./home.js";
import { NodeMetrics } from "./metrics.js";

/** A front end served by the node (the HTTP API): started after the chain is ready, closed first on stop. */
export interface Frontend {
  readonly url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Settings that override config.json (e.g. the API port in tests). */
  overrides?: Partial<NodeConfig>;
  logger?: Logger;
  /** Starts the front ends (the CLI passes the HTTP API's `serveApi`). */
  frontend?: (node: ZlNode) => Promise<Frontend>;
}

export class ZlNode {
  readonly bus = new CommitBus();
  readonly metrics = new NodeMetrics();
  private frontend: Frontend | undefined;
  private producer: SingleValidatorProducer | undefined;
  private pruning = false;

  private constructor(
    readonly home: string,
    readonly config: NodeConfig,
    readonly suite: CryptoSuite,
    readonly chain: Chain,
    readonly mempool: Mempool,
    private readonly verifier: VerifyPool,
    readonly log: Logger,
  ) {}

  static async start(home: string, opts: StartOptions = {}): Promise<ZlNode> {
    const paths = homePaths(home);
    const fileConfig = loadConfig(paths.config);
    const config: NodeConfig = {
      ...fileConfig,
      ...opts.overrides,
      api: { ...fileConfig.api, ...opts.overrides?.api },
    };
    const log = opts.logger ?? createLogger(config.logLevel, config.logFile || undefined);
    const genesis = readGenesisFile(paths.genesis);
    const suite = getSuite(genesis.suite);
    mkdirSync(paths.data, { recursive: true });
    const store = new ChainStore(paths.data);
    await store.open();
    const registry = new ModuleRegistry(nativeModules());
    const chain = new Chain(store, suite, genesis, registry, log);
    await chain.init();
    const verifier = new VerifyPool(suite.id, config.verifyThreads || undefined);
    const checkSignatures = (txs: DecodedTx[]) =>
      verifier.verifyBatch(
        txs.map((t) => ({ publicKey: t.sender, message: t.signBytes, signature: t.tx.signature })),
      );
    const mempool = new Mempool(registry, checkSignatures, config.mempool);
    const node = new ZlNode(home, config, suite, chain, mempool, verifier, log);
    node.metrics.height.set(chain.height);

    const validatorKey = paths.key("validator");
    if (existsSync(validatorKey)) {
      node.producer = new SingleValidatorProducer(
        chain,
        suite,
        readPrivateKey(suite, validatorKey),
        mempool,
        {
          committed: (p, c, seconds) => node.onCommitted(p, c, seconds),
          excluded: (list) => node.mempool.evict(list),
        },
        { blockIntervalMs: config.blockIntervalMs, emptyBlocks: config.emptyBlocks },
        log.child({ module: "producer" }),
      );
    }
    if (opts.frontend) node.frontend = await opts.frontend(node);
    node.producer?.start();
    log.info("node started", {
      chainId: genesis.chainId,
      suite: suite.id,
      height: chain.height,
      api: node.apiUrl,
      validator: node.producer !== undefined,
    });
    return node;
  }

  /** Whether this node is producing blocks (false for a non-validator, or after a halt). */
  get producing(): boolean {
    return this.producer?.producing ?? false;
  }

  get apiUrl(): string {
    return this.frontend?.url ?? "";
  }

  /** Decodes and admits raw transactions; results in input order. */
  async submit(raw: Uint8Array[]): Promise<AddResult[]> {
    const results: AddResult[] = new Array(raw.length);
    const decoded: DecodedTx[] = [];
    const index: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      try {
        decoded.push(decodeTx(this.suite, raw[i]!, this.chain.genesis.params.maxTxBytes));
        index.push(i);
      } catch (err: unknown) {
        if (!(err instanceof ZlError)) throw err;
        results[i] = { ok: false, id: null, error: err };
      }
    }
    const ctx = this.chain.nextContext(Date.now());
    const added = await this.mempool.add(decoded, this.chain.latest, ctx);
    for (let k = 0; k < added.length; k++) results[index[k]!] = added[k]!;
    let accepted = 0;
    for (const r of results) {
      if (r.ok) accepted++;
      else this.metrics.txsRejected.inc({ code: r.error.code });
    }
    if (accepted > 0) this.producer?.notify();
    this.metrics.mempoolSize.set(this.mempool.size);
    return results;
  }

  private onCommitted(p: PreparedBlock, _commit: Commit, seconds: number): void {
    const { header } = p.block;
    this.metrics.blockSeconds.observe(seconds);
    this.mempool.onCommitted(p.result.included, header.height + 1, this.chain.latest);
    const failed = p.result.receipts.filter((r) => r.status !== 0).length;
    this.metrics.height.set(header.height);
    this.metrics.txsCommitted.inc(header.txCount);
    this.metrics.txsFailed.inc(failed);
    this.metrics.blockTxs.observe(header.txCount);
    this.metrics.mempoolSize.set(this.mempool.size);
    this.log.debug("block committed", {
      height: header.height,
      hash: toHex(p.hash),
      txs: header.txCount,
      failed,
    });
    this.bus.publish({
      height: header.height,
      hash: p.hash,
      block: p.block,
      receipts: p.result.receipts,
      txIds: p.result.included.map((t) => t.id),
    });
    this.maybePrune(header.height);
  }

  private maybePrune(height: number): void {
    const keep = this.config.stateRetentionBlocks;
    // Prune every 64 blocks (or every `keep` blocks for short windows).
    if (this.pruning || height <= keep || height % Math.min(64, keep) !== 0) return;
    this.pruning = true;
    const oldest = height - keep;
    this.chain.store
      .pruneState(oldest, oldest)
      .then((deleted) => this.log.debug("state pruned", { oldestKept: oldest, nodesDeleted: deleted }))
      .catch((err: unknown) => this.log.error("state pruning failed", { err: (err as Error).message }))
      .finally(() => {
        this.pruning = false;
      });
  }

  /** Produces a block now, bypassing the timer (tests and tools). */
  async produceNow(): Promise<void> {
    await this.producer?.produce();
  }

  async stop(): Promise<void> {
    await this.producer?.stop();
    await this.frontend?.close();
    await this.verifier.close();
    while (this.pruning) await new Promise((r) => setTimeout(r, 5));
    await this.chain.store.close();
    this.log.info("node stopped", { height: this.chain.height });
  }
}
