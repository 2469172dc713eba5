/**
 * Block production for a chain with a single validator: when transactions are waiting (or
 * empty blocks are configured), at most one block per `blockIntervalMs`, the validator builds a block,
 * signs the precommit vote for it — a commit certificate of one signature, in the same format a
 * multi-validator network uses — and commits it. With one validator holding all the voting
 * power, that signature alone is more than two thirds, so the block is final at once.
 *
 * Scheduling: `blockIntervalMs` is the minimum time between the starts of two blocks. An idle
 * producer sleeps until `notify()` says transactions arrived, so a lone transaction on a quiet
 * chain commits without waiting out an interval; under load a block starts every interval.
 */
import type { CryptoSuite } from "../crypto/suite.js";
import { FatalError } from "../errors/index.js";
import type { PreparedBlock } from "../execution/prepared-block.js";
import { type Commit, VOTE_PRECOMMIT, voteSignBytes } from "../ledger/block.js";
import { equalBytes } from "../ledger/bytes.js";
import type { ChainParams } from "../ledger/genesis.js";
import { addressOf, type DecodedTx } from "../ledger/tx.js";
import type { Validator } from "../ledger/validators.js";
import type { Logger } from "../log/logger.js";

/** What block production needs of the chain (the node's Chain provides it). */
export interface BlockBuilder {
  readonly genesis: { params: ChainParams };
  readonly height: number;
  validators(): Validator[];
  prepareBlock(candidates: readonly DecodedTx[], time: number, proposer: Uint8Array): PreparedBlock;
  commit(prepared: PreparedBlock, commit: Commit): Promise<void>;
}

export interface BlockSource {
  /** Candidate transactions for the next block. */
  reap(maxTxs: number, maxBytes: number): DecodedTx[];
  /** Transactions waiting. */
  readonly size: number;
}

export interface ProducerHooks {
  /** A block was committed durably; `seconds` is the time to build, execute and store it. */
  committed(prepared: PreparedBlock, commit: Commit, seconds: number): void;
  /** Candidates that failed admission when the block was built (expired, nonce used, ...). */
  excluded(list: PreparedBlock["result"]["excluded"]): void;
}

export interface ProducerOptions {
  blockIntervalMs: number;
  emptyBlocks: boolean;
  /** Whether block `height` has scheduled work even without transactions (governance). */
  workDue?: (height: number) => boolean;
  now?: () => number;
}

export class SingleValidatorProducer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private queue: Promise<unknown> = Promise.resolve();
  private lastStart = 0;
  private readonly address: Uint8Array;
  private readonly publicKey: Uint8Array;
  private readonly validatorIndex: number;

  constructor(
    private readonly chain: BlockBuilder,
    private readonly suite: CryptoSuite,
    private readonly privateKey: Uint8Array,
    private readonly source: BlockSource,
    private readonly hooks: ProducerHooks,
    private readonly opts: ProducerOptions,
    private readonly log: Logger,
  ) {
    const publicKey = suite.publicKeyFromPrivate(privateKey);
    this.publicKey = publicKey;
    this.address = addressOf(suite, publicKey);
    const validators = chain.validators();
    this.validatorIndex = validators.findIndex((v) => equalBytes(v.publicKey, publicKey));
    if (this.validatorIndex < 0)
      throw new FatalError("NODE_NOT_VALIDATOR", "this node's key is not in the validator set");
    if (validators.length !== 1)
      throw new FatalError(
        "NODE_NEEDS_CONSENSUS",
        "the single-validator producer needs a validator set of exactly one",
      );
  }

  /** False once production halted on an error (the reason is in the log). */
  get producing(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (this.opts.emptyBlocks) this.schedule();
  }

  /** Transactions arrived: make sure a block is coming. */
  notify(): void {
    if (this.stopped || this.running || this.timer !== undefined) return;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.queue;
  }

  /** Produces one block if there is work; calls are serialized, so blocks never race. */
  produce(): Promise<PreparedBlock | undefined> {
    const next = this.queue.then(() => this.produceOne());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async produceOne(): Promise<PreparedBlock | undefined> {
    // Governance may have changed the set: a lone signature is then no longer a commit.
    const validators = this.chain.validators();
    if (
      validators.length !== 1 ||
      validators[0]!.publicKey.length !== this.publicKey.length ||
      !equalBytes(validators[0]!.publicKey, this.publicKey)
    )
      throw new FatalError(
        "NODE_NEEDS_CONSENSUS",
        "the validator set is no longer this node alone; enable p2p in config.json (nodeId, peers, node certificate) and restart to run Tendermint with the other validators",
      );
    const { maxBlockTxs, maxBlockBytes } = this.chain.genesis.params;
    const candidates = this.source.reap(maxBlockTxs, maxBlockBytes);
    const due = this.workDue();
    if (candidates.length === 0 && !this.opts.emptyBlocks && !due) return undefined;
    const started = performance.now();
    this.lastStart = started;
    const prepared = this.chain.prepareBlock(candidates, (this.opts.now ?? Date.now)(), this.address);
    if (prepared.result.excluded.length > 0) this.hooks.excluded(prepared.result.excluded);
    if (prepared.result.included.length === 0 && !this.opts.emptyBlocks && !due) return undefined;
    const { header } = prepared.block;
    const signature = this.suite.sign(
      this.privateKey,
      voteSignBytes(header.chainId, VOTE_PRECOMMIT, header.height, 0, prepared.hash),
    );
    const commit: Commit = {
      height: header.height,
      round: 0,
      blockHash: prepared.hash,
      signatures: [{ validatorIndex: this.validatorIndex, signature }],
    };
    await this.chain.commit(prepared, commit);
    this.hooks.committed(prepared, commit, (performance.now() - started) / 1000);
    return prepared;
  }

  private workDue(): boolean {
    return this.opts.workDue?.(this.chain.height + 1) ?? false;
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = Math.max(0, this.lastStart + this.opts.blockIntervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delay);
  }

  private async tick(): Promise<void> {
    this.running = true;
    try {
      await this.produce();
    } catch (err: unknown) {
      // Storage or an invariant failed: halt block production rather than risk a wrong block.
      this.log.error("block production failed; halting", {
        err: err instanceof Error ? err.message : String(err),
      });
      this.stopped = true;
      this.running = false;
      process.exitCode = 1;
      return;
    }
    this.running = false;
    if (this.opts.emptyBlocks || this.source.size > 0 || this.workDue()) this.schedule();
  }
}
