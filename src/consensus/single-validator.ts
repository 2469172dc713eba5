/**
 * Block production for a chain with a single validator: every `blockIntervalMs`, if
 * transactions are waiting (or empty blocks are configured), the validator builds a block,
 * signs the precommit vote for it — a commit certificate of one signature, in the same format a
 * multi-validator network uses — and commits it. With one validator holding all the voting
 * power, that signature alone is more than two thirds, so the block is final at once.
 */
import type { CryptoSuite } from "../crypto/suite.js";
import { FatalError } from "../errors/index.js";
import { type Commit, VOTE_PRECOMMIT, voteSignBytes } from "../ledger/block.js";
import { equalBytes } from "../ledger/bytes.js";
import { addressOf } from "../ledger/tx.js";
import type { Logger } from "../log/logger.js";
import type { Chain, PreparedBlock } from "../node/chain.js";

export interface BlockSource {
  /** Candidate transactions for the next block. */
  reap(maxTxs: number, maxBytes: number): import("../ledger/tx.js").DecodedTx[];
  readonly size: number;
}

export interface ProducerOptions {
  blockIntervalMs: number;
  emptyBlocks: boolean;
  now?: () => number;
}

export class SingleValidatorProducer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private readonly address: Uint8Array;
  private readonly validatorIndex: number;

  constructor(
    private readonly chain: Chain,
    private readonly suite: CryptoSuite,
    private readonly privateKey: Uint8Array,
    private readonly source: BlockSource,
    private readonly onCommitted: (p: PreparedBlock, commit: Commit) => void,
    private readonly opts: ProducerOptions,
    private readonly log: Logger,
  ) {
    const publicKey = suite.publicKeyFromPrivate(privateKey);
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

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.blockIntervalMs);
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Produces one block if there is work; calls are serialized, so blocks never race. */
  produce(): Promise<PreparedBlock | undefined> {
    const next = this.queue.then(() => this.produceOne());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async produceOne(): Promise<PreparedBlock | undefined> {
    const { maxBlockTxs, maxBlockBytes } = this.chain.genesis.params;
    const candidates = this.source.reap(maxBlockTxs, maxBlockBytes);
    if (candidates.length === 0 && !this.opts.emptyBlocks) return undefined;
    const now = (this.opts.now ?? Date.now)();
    const prepared = this.chain.prepareBlock(candidates, now, this.address);
    if (prepared.result.included.length === 0 && !this.opts.emptyBlocks) {
      this.onCommitted(prepared, { height: 0, round: 0, blockHash: prepared.hash, signatures: [] });
      return undefined;
    }
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
    this.onCommitted(prepared, commit);
    return prepared;
  }

  private async tick(): Promise<void> {
    this.running = true;
    try {
      await this.produce();
    } catch (err: unknown) {
      this.log.error("block production failed; halting", {
        err: err instanceof Error ? err.message : String(err),
      });
      this.stopped = true;
      this.running = false;
      process.exitCode = 1;
      throw err;
    }
    this.running = false;
    this.schedule();
  }
}
