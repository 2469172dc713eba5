/**
 * A ZhengLian node: wires storage, the chain, the mempool, signature verification, block
 * production, the commit bus, metrics and the HTTP API, and manages their lifecycle.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type ConsensusNetwork,
  ConsensusService,
  type ConsensusStatus,
  type ObservedEquivocation,
} from "../consensus/service.js";
import { FileSignStateStore } from "../consensus/sign-state-file.js";
import { SingleValidatorProducer } from "../consensus/single-validator.js";
import { DoubleSignGuard } from "../consensus/tendermint/safety-guard.js";
import { openWal, type Wal } from "../consensus/wal.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { VerifyPool } from "../crypto/verify-pool.js";
import { ZlError } from "../errors/index.js";
import { ModuleRegistry } from "../execution/engine.js";
import type { Commit } from "../ledger/block.js";
import { toHex } from "../ledger/bytes.js";
import { type DecodedTx, decodeTx, txBodySlice } from "../ledger/tx.js";
import { createLogger, type Logger } from "../log/logger.js";
import { type AddResult, Mempool } from "../mempool/mempool.js";
import { nativeModules } from "../modules/index.js";
import { ChainStore } from "../storage/chain-store.js";
import { Chain, type PreparedBlock } from "./chain.js";
import { loadConfig, type NodeConfig } from "./config.js";
import { CommitBus } from "./events.js";
import { homePaths, readGenesisFile, readPrivateKey } from "./home.js";
import { NodeMetrics } from "./metrics.js";

/** The peer network as the node uses it (src/p2p/network.ts, or an in-memory one in tests). */
export interface NodeNetwork extends ConsensusNetwork {
  onMessage(handler: (from: { nodeId: string }, channel: number, payload: Uint8Array) => void): void;
  onPeer(handler: (event: "up" | "down", peer: { nodeId: string }) => void): void;
  /** Re-checks connected peers against the current member organizations. */
  revalidate(): void;
  close(): Promise<void>;
}

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
  /** Builds the peer network (default: mutual TLS per config.p2p). */
  network?: (node: ZlNode) => Promise<NodeNetwork>;
}

/** Equivocations a node keeps in memory for `GET /v1/evidence`. */
const MAX_OBSERVED_EVIDENCE = 100;

export class ZlNode {
  readonly bus = new CommitBus();
  readonly metrics = new NodeMetrics();
  private frontend: Frontend | undefined;
  private producer: SingleValidatorProducer | undefined;
  private consensus: ConsensusService | undefined;
  private network: NodeNetwork | undefined;
  private wal: Wal | undefined;
  private pruning = false;
  /** Equivocations this node saw, newest last (at most MAX_OBSERVED_EVIDENCE). */
  private readonly observed: Array<ObservedEquivocation & { seenAt: number }> = [];

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
    // Loads the suite's verifier now (libsodium for intl), so that a node that could not verify
    // stops here with a coded error instead of at its first transaction.
    suite.verify(
      new Uint8Array(suite.publicKeyLength),
      new Uint8Array(0),
      new Uint8Array(suite.signatureLength),
    );
    mkdirSync(paths.data, { recursive: true });
    const store = new ChainStore(paths.data, {
      checkpointBlocks: config.stateCheckpointBlocks,
      checkpointBytes: config.stateCheckpointMiB * 1024 * 1024,
    });
    await store.open();
    const registry = new ModuleRegistry(nativeModules());
    const chain = new Chain(store, suite, genesis, registry, log);
    await chain.init();
    const verifier = new VerifyPool(suite.id, config.verifyThreads || undefined);
    const mempool: Mempool = new Mempool(
      registry,
      (txs: DecodedTx[]): Promise<boolean[]> => node.checkSignatures(txs),
      config.mempool,
    );
    const node: ZlNode = new ZlNode(home, config, suite, chain, mempool, verifier, log);
    node.metrics.height.set(chain.height);
    node.metrics.observeStore(() => chain.store.stateKeyFilterStats());

    const validatorKey = paths.key("validator");
    const alone = !config.p2p.enabled && chain.validators().length === 1;
    if (!alone) {
      await node.startConsensus(
        existsSync(validatorKey) ? readPrivateKey(suite, validatorKey) : undefined,
        opts.network,
      );
    } else if (existsSync(validatorKey)) {
      node.producer = new SingleValidatorProducer(
        chain,
        suite,
        readPrivateKey(suite, validatorKey),
        mempool,
        {
          committed: (p, c, seconds) => node.onCommitted(p, c, seconds),
          excluded: (list) => node.mempool.evict(list),
        },
        {
          blockIntervalMs: config.blockIntervalMs,
          emptyBlocks: config.emptyBlocks,
          workDue: (height) => registry.workDue(chain.latest, height),
        },
        log.child({ module: "producer" }),
      );
    }
    if (opts.frontend) node.frontend = await opts.frontend(node);
    node.producer?.start();
    node.consensus?.start();
    log.info("node started", {
      chainId: genesis.chainId,
      suite: suite.id,
      height: chain.height,
      api: node.apiUrl,
      mode: node.consensus ? "consensus" : node.producer ? "single-validator" : "follower",
    });
    return node;
  }

  private async startConsensus(
    privateKey: Uint8Array | undefined,
    makeNetwork: ((node: ZlNode) => Promise<NodeNetwork>) | undefined,
  ): Promise<void> {
    const paths = homePaths(this.home);
    mkdirSync(paths.consensus, { recursive: true });
    const log = this.log.child({ module: "consensus" });
    // Workers load their code on first use (about a second here): pay that before the first
    // proposal has to be checked, not inside a round's timeout.
    const probe = this.suite.generateKeyPair();
    const message = new Uint8Array(32);
    const signature = this.suite.sign(probe.privateKey, message);
    await this.verifier.verifyBatch(
      Array.from({ length: 64 }, () => ({ publicKey: probe.publicKey, message, signature })),
    );
    const network = makeNetwork ? await makeNetwork(this) : await this.defaultNetwork();
    this.network = network;
    this.wal = openWal(join(paths.consensus, "wal"), {
      initialHeight: this.chain.height + 1,
      // A proposal carries its block.
      maxRecordBytes: this.chain.genesis.params.maxBlockBytes + 1024 * 1024,
      maxSegmentBytes: 64 * 1024 * 1024,
      keepSegments: 4,
    });
    const c = this.config.consensus;
    const consensus = new ConsensusService(
      this.chain,
      network,
      {
        committed: (p, commit, seconds) => this.onCommitted(p, commit, seconds),
        excluded: (list) => this.mempool.evict(list),
        reap: (n, bytes) => this.mempool.reap(n, bytes),
        pendingTxs: () => this.mempool.size,
        workDue: (height) => this.chain.registry.workDue(this.chain.latest, height),
        heldTx: (id, bytes) => this.mempool.heldTx(id, bytes),
        verifySignatures: (txs) => this.checkSignatures(txs),
        equivocation: (e) => this.recordEquivocation(e),
        gossipedTxs: (raw) => {
          this.submit(raw, { gossip: false }).catch((err: unknown) =>
            log.warn("gossiped transactions not admitted", { err: (err as Error).message }),
          );
        },
      },
      {
        suite: this.suite,
        ...(privateKey
          ? {
              privateKey,
              guard: new DoubleSignGuard(new FileSignStateStore(join(paths.consensus, "sign-state.json"))),
            }
          : {}),
        wal: this.wal,
        timeouts: c.timeouts,
        blockIntervalMs: this.config.blockIntervalMs,
        emptyBlocks: this.config.emptyBlocks,
        stallAfterMs: c.stallAfterMs,
        ...(c.visibleWindowMs !== undefined ? { visibleWindowMs: c.visibleWindowMs } : {}),
        log,
      },
    );
    this.consensus = consensus;
    this.metrics.observeConsensus(() => consensus.status());
    network.onMessage((from, channel, payload) => consensus.onMessage(from.nodeId, channel, payload));
    network.onPeer((event, peer) => {
      if (event === "up") consensus.onPeerUp(peer.nodeId);
    });
  }

  private async defaultNetwork(): Promise<NodeNetwork> {
    const { startNodeNetwork } = await import("./network.js");
    return startNodeNetwork(this);
  }

  /** Consensus progress and reachability, or undefined on a single-validator chain. */
  consensusStatus(): ConsensusStatus | undefined {
    return this.consensus?.status();
  }

  /** The peers connected (empty without a network). */
  peers(): ReturnType<ConsensusNetwork["peers"]> {
    return this.network?.peers() ?? [];
  }

  /** Whether this node is producing blocks (false for a non-validator, or after a halt). */
  get producing(): boolean {
    return this.producer?.producing ?? false;
  }

  get apiUrl(): string {
    return this.frontend?.url ?? "";
  }

  /** Checks transaction signatures in the worker pool. */
  checkSignatures(txs: DecodedTx[]): Promise<boolean[]> {
    return this.verifier.verifyBatch(
      txs.map((t) => ({ publicKey: t.sender, message: txBodySlice(t.bytes), signature: t.tx.signature })),
    );
  }

  /**
   * Decodes and admits raw transactions; results in input order. Admitted transactions are
   * gossiped to peers unless they came from one (`gossip: false`).
   */
  async submit(raw: Uint8Array[], opts: { gossip?: boolean } = {}): Promise<AddResult[]> {
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
    if (accepted > 0) {
      this.producer?.notify();
      if (this.consensus) {
        const admitted: Uint8Array[] = [];
        for (let i = 0; i < results.length; i++) if (results[i]!.ok) admitted.push(raw[i]!);
        this.consensus.onTxsAdmitted(admitted, opts.gossip !== false);
      }
    }
    this.metrics.mempoolSize.set(this.mempool.size);
    return results;
  }

  private recordEquivocation(e: ObservedEquivocation): void {
    this.metrics.equivocations.inc();
    this.observed.push({ ...e, seenAt: Date.now() });
    if (this.observed.length > MAX_OBSERVED_EVIDENCE) this.observed.shift();
  }

  /** Conflicting vote pairs this node saw since it started, oldest first. */
  observedEquivocations(): ReadonlyArray<ObservedEquivocation & { seenAt: number }> {
    return this.observed;
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
      stateChanges: p.changes.length,
      trieRecords: p.trie.newNodes.length,
      ms: Math.round(seconds * 10_000) / 10,
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
      .pruneState(oldest)
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
    await this.consensus?.stop();
    await this.network?.close();
    this.wal?.close();
    await this.frontend?.close();
    await this.verifier.close();
    while (this.pruning) await new Promise((r) => setTimeout(r, 5));
    await this.chain.store.close();
    this.log.info("node stopped", { height: this.chain.height });
  }
}
