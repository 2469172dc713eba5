/**
 * The chain as one node holds it: durable storage, the authenticated state, execution and
 * block assembly. Consensus decides *which* block commits; this class builds candidate blocks,
 * re-executes proposed ones, and commits decided blocks atomically.
 */

import { decode, encode, encodeArrayOfEncoded } from "../codec/cbor.js";
import {
  genesisProposerState,
  nextHeightState,
  type ProposerState,
  proposerForRound,
  rebasePriorities,
} from "../consensus/tendermint/proposer.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { FatalError, NotFoundError } from "../errors/index.js";
import { type BlockResult, executeBlock, type ModuleRegistry } from "../execution/engine.js";
import { genesisState, VALIDATORS_KEY } from "../execution/genesis-state.js";
import type { BlockContext } from "../execution/module.js";
import type { PreparedBlock } from "../execution/prepared-block.js";
import { type Overlay, type StateReader, stateKey } from "../execution/state-view.js";
import {
  type Block,
  blockHash,
  type Commit,
  decodeBlock,
  decodeCommit,
  encodeBlockFromParts,
  encodeCommit,
  encodeReceipt,
  type Header,
  type Receipt,
  receiptFromCbor,
  splitBlock,
} from "../ledger/block.js";
import { equalBytes, latin1String, toHex } from "../ledger/bytes.js";
import { encodeGenesis, type Genesis } from "../ledger/genesis.js";
import { merkleRoot } from "../ledger/merkle.js";
import type { DecodedTx } from "../ledger/tx.js";
import { type Validator, validatorsHash } from "../ledger/validators.js";
import type { Logger } from "../log/logger.js";
import type { StateProof } from "../state/proof.js";
import { StateTrie } from "../state/trie.js";
import type { ChainStore, Head } from "../storage/chain-store.js";

export interface StateAt {
  height: number;
  key: Uint8Array;
  value: Uint8Array | null;
  proof: StateProof;
  header: Header;
}

export type { PreparedBlock };

/**
 * The proposer-selection priorities S_h for the next height, aligned with the validator set that
 * signs it (see src/consensus/tendermint/proposer.ts). Kept in the authenticated state so every
 * node, including one that synced or restarted, derives the same proposer for every round.
 * Absent means all zeros (genesis, or a set that never rotated).
 */
export const PROPOSER_PRIORITIES_KEY = stateKey("proposer-priorities");

function decodeValidators(raw: Uint8Array): Validator[] {
  return (decode(raw) as Array<{ publicKey: Uint8Array; power: number; org: string }>).map((v) => ({
    publicKey: v.publicKey,
    power: v.power,
    org: v.org,
  }));
}

function readPriorities(state: StateReader, set: readonly Validator[]): ProposerState {
  const raw = state.get(PROPOSER_PRIORITIES_KEY);
  if (!raw) return genesisProposerState(set);
  const list = decode(raw) as number[];
  if (list.length !== set.length)
    throw new FatalError("STATE_PROPOSER_PRIORITIES", "proposer priorities do not match the validator set");
  return { priorities: list.map((p) => BigInt(p)) };
}

export class Chain {
  readonly trie: StateTrie;
  readonly latest: StateReader;
  private validatorCache: { height: number; set: Validator[] } | undefined;

  constructor(
    readonly store: ChainStore,
    readonly suite: CryptoSuite,
    readonly genesis: Genesis,
    readonly registry: ModuleRegistry,
    private readonly log: Logger,
  ) {
    this.trie = new StateTrie((d) => suite.hash(d), { getNode: (k) => store.getNode(k) });
    this.latest = { get: (k, ks) => store.getState(k, ks) };
  }

  /** Writes genesis state on a new store, or checks that an existing store belongs to this genesis. */
  async init(): Promise<void> {
    const genesisHash = this.suite.hash(encodeGenesis(this.genesis));
    const stored = this.store.genesisHash();
    if (stored) {
      if (!equalBytes(stored, genesisHash))
        throw new FatalError(
          "GENESIS_MISMATCH",
          `the data directory ${this.store.dir} belongs to another chain (genesis ${toHex(stored)}); this genesis is ${toHex(genesisHash)}`,
        );
      this.replaySinceCheckpoint();
      return;
    }
    const changes = genesisState(this.suite, this.genesis);
    const update = this.trie.update(null, 0, changes);
    await this.store.writeGenesis(genesisHash, {
      height: 0,
      changes,
      newNodes: update.newNodes,
      staleNodeKeys: update.staleNodeKeys,
      head: {
        height: 0,
        blockHash: genesisHash,
        stateRoot: update.root,
        rootNodeKey: update.rootNodeKey,
        time: this.genesis.genesisTime,
      },
    });
    this.log.info("genesis written", {
      chainId: this.genesis.chainId,
      genesisHash: toHex(genesisHash),
      suite: this.suite.id,
    });
  }

  /**
   * After a crash, the state index and the trie are on disk only up to the last checkpoint:
   * rebuilds the rest in memory from the blocks' change sets, checking every state root against
   * its header (ADR 0021).
   */
  private replaySinceCheckpoint(): void {
    const { from, to } = this.store.pendingHeights();
    if (from > to) return;
    const started = performance.now();
    const root = this.store.checkpointAtOrBelow(from - 1);
    if (root === undefined || root.height !== from - 1)
      throw new FatalError("STORAGE_CORRUPT", `the checkpoint at height ${from - 1} is missing`);
    let rootNodeKey = root.rootNodeKey;
    for (let height = from; height <= to; height++) {
      const update = this.replayBlock(this.trie, rootNodeKey, height);
      this.store.restoreBlock(update);
      rootNodeKey = update.rootNodeKey;
    }
    const head = this.head();
    if (!sameNodeKey(rootNodeKey, head.rootNodeKey))
      throw new FatalError("STORAGE_CORRUPT", `replayed state at height ${to} differs from the head record`);
    // Only a stop without `close` (a crash, kill -9) leaves blocks past the checkpoint.
    this.log.warn("state replayed after an unclean stop", {
      from,
      to,
      ms: Math.round(performance.now() - started),
    });
  }

  /** Applies block `height`'s stored change set on `rootNodeKey`, checked against its header. */
  private replayBlock(trie: StateTrie, rootNodeKey: Uint8Array | null, height: number) {
    const changes = this.store.changesAt(height);
    const raw = this.store.getBlockBytes(height);
    if (changes === undefined || raw === undefined)
      throw new FatalError("STORAGE_CORRUPT", `block ${height} or its change set is missing`);
    const update = trie.update(rootNodeKey, height, changes);
    const { header } = splitBlock(raw, this.genesis.params.maxBlockTxs);
    if (!equalBytes(update.root, header.stateRoot))
      throw new FatalError(
        "STORAGE_CORRUPT",
        `block ${height}'s change set gives state root ${toHex(update.root)}, its header says ${toHex(header.stateRoot)}`,
      );
    return { ...update, changes };
  }

  head(): Head {
    const h = this.store.head();
    if (!h) throw new FatalError("STORAGE_NO_HEAD", "the store has no head: genesis was not written");
    return h;
  }

  get height(): number {
    return this.head().height;
  }

  validators(): Validator[] {
    const height = this.height;
    if (this.validatorCache?.height === height) return this.validatorCache.set;
    const raw = this.store.getState(VALIDATORS_KEY);
    if (!raw) throw new FatalError("STATE_NO_VALIDATORS", "state holds no validator set");
    const set = decodeValidators(raw);
    this.validatorCache = { height, set };
    return set;
  }

  /** proposer(h, r) for the next height h = head + 1: an index into `validators()`. */
  proposerIndex(round: number): number {
    const set = this.validators();
    return proposerForRound(set, readPriorities(this.latest, set), round);
  }

  nextContext(time: number): BlockContext {
    const head = this.head();
    return {
      chainId: this.genesis.chainId,
      height: head.height + 1,
      time: Math.max(time, head.time + 1),
      suite: this.suite,
      params: this.genesis.params,
    };
  }

  /** Builds the next block from candidate transactions (those failing admission are left out). */
  prepareBlock(candidates: readonly DecodedTx[], time: number, proposer: Uint8Array): PreparedBlock {
    const head = this.head();
    const ctx = this.nextContext(time);
    const result = executeBlock(this.latest, ctx, this.registry, candidates);
    return this.assemble(head, ctx, result, proposer);
  }

  /**
   * Re-executes a block proposed (or synced) for the next height, whose transactions' signatures
   * the caller has checked. Throws a coded error if any transaction fails admission or the block is
   * malformed; the caller compares the returned hash with the proposed one.
   */
  executeProposed(header: Header, txs: readonly DecodedTx[]): PreparedBlock {
    const head = this.head();
    if (header.chainId !== this.genesis.chainId || header.height !== head.height + 1)
      throw new FatalError("CHAIN_NOT_NEXT", `block ${header.height} does not extend height ${head.height}`);
    if (header.time <= head.time)
      throw new FatalError("CHAIN_TIME_NOT_INCREASING", "block time must exceed its parent's");
    const { maxBlockTxs, maxBlockBytes } = this.genesis.params;
    if (txs.length > maxBlockTxs) throw new FatalError("CHAIN_BLOCK_TOO_LARGE", "too many transactions");
    let total = 0;
    for (const t of txs) total += t.bytes.length;
    if (total > maxBlockBytes) throw new FatalError("CHAIN_BLOCK_TOO_LARGE", "block exceeds maxBlockBytes");
    const ctx: BlockContext = {
      chainId: header.chainId,
      height: header.height,
      time: header.time,
      suite: this.suite,
      params: this.genesis.params,
    };
    const result = executeBlock(this.latest, ctx, this.registry, txs, true);
    return this.assemble(head, ctx, result, header.proposer);
  }

  /** Advances the proposer priorities by one height and carries them over a validator-set change. */
  private rotateProposer(state: Overlay, current: Validator[]): Validator[] {
    const rawNext = state.get(VALIDATORS_KEY);
    if (!rawNext) throw new FatalError("STATE_NO_VALIDATORS", "execution removed the validator set");
    const rawCurrent = this.store.getState(VALIDATORS_KEY);
    const changed = rawCurrent === undefined || !equalBytes(rawNext, rawCurrent);
    const next = changed ? decodeValidators(rawNext) : current;
    if (next.length === 0) throw new FatalError("STATE_NO_VALIDATORS", "execution emptied the validator set");
    const before = readPriorities(this.latest, current);
    let after = nextHeightState(current, before);
    if (changed) after = rebasePriorities(current, after, next);
    const unchanged = this.latest.get(PROPOSER_PRIORITIES_KEY) ?? encode(current.map(() => 0));
    const encoded = encode(after.priorities.map((p) => Number(p)));
    if (!equalBytes(encoded, unchanged)) state.set(PROPOSER_PRIORITIES_KEY, encoded);
    return next;
  }

  private assemble(head: Head, ctx: BlockContext, result: BlockResult, proposer: Uint8Array): PreparedBlock {
    const hash = (d: Uint8Array) => this.suite.hash(d);
    const txBytes = result.included.map((t) => t.bytes);
    const receiptsBytes = result.receipts.map(encodeReceipt);
    const current = this.validators();
    const next = this.rotateProposer(result.state, current);
    const changes = result.state.changes();
    const trie = this.trie.update(head.rootNodeKey, ctx.height, changes);
    const header: Header = {
      chainId: ctx.chainId,
      height: ctx.height,
      time: ctx.time,
      prevHash: head.blockHash,
      txRoot: merkleRoot(hash, txBytes),
      resultsRoot: merkleRoot(hash, receiptsBytes),
      stateRoot: trie.root,
      validatorsHash: validatorsHash(hash, current),
      nextValidatorsHash: next === current ? validatorsHash(hash, current) : validatorsHash(hash, next),
      proposer,
      txCount: txBytes.length,
    };
    const block: Block = { header, txs: result.included.map((t) => t.tx) };
    return { block, hash: blockHash(hash, header), txBytes, result, receiptsBytes, changes, trie };
  }

  /** Persists a decided block with its commit certificate in one atomic, durable write. */
  async commit(p: PreparedBlock, commit: Commit): Promise<void> {
    const { header } = p.block;
    if (header.height !== this.height + 1)
      throw new FatalError(
        "CHAIN_HEIGHT_GAP",
        `cannot commit height ${header.height} on top of ${this.height}`,
      );
    await this.store.commitBlock({
      height: header.height,
      blockBytes: encodeBlockFromParts(header, p.txBytes),
      commitBytes: encodeCommit(commit),
      receiptsBytes: encodeArrayOfEncoded(p.receiptsBytes),
      txIds: p.result.included.map((t) => t.id),
      changes: p.changes,
      newNodes: p.trie.newNodes,
      staleNodeKeys: p.trie.staleNodeKeys,
      head: {
        height: header.height,
        blockHash: p.hash,
        stateRoot: header.stateRoot,
        rootNodeKey: p.trie.rootNodeKey,
        time: header.time,
      },
    });
  }

  block(height: number): Block {
    const raw = this.store.getBlockBytes(height);
    if (!raw)
      throw new NotFoundError(
        "BLOCK_NOT_FOUND",
        `no block at height ${height}; the chain is at ${this.height}`,
      );
    return decodeBlock(raw);
  }

  blockBytes(height: number): Uint8Array | undefined {
    return this.store.getBlockBytes(height);
  }

  commitBytes(height: number): Uint8Array | undefined {
    return this.store.getCommitBytes(height);
  }

  commitOf(height: number): Commit {
    const raw = this.store.getCommitBytes(height);
    if (!raw) throw new NotFoundError("COMMIT_NOT_FOUND", `no commit at height ${height}`);
    return decodeCommit(raw);
  }

  receipts(height: number): Receipt[] {
    const raw = this.store.getReceiptsBytes(height);
    if (!raw) throw new NotFoundError("BLOCK_NOT_FOUND", `no block at height ${height}`);
    return (decode(raw) as unknown[]).map((r) => receiptFromCbor(r as never));
  }

  /**
   * A key's value with its proof at `height` (default: latest), checked against that header. The
   * trie is on disk at checkpoints and in memory at the head; a height between checkpoints is
   * rebuilt from the checkpoint below it by replaying the change sets in between.
   */
  stateAt(key: Uint8Array, height?: number): StateAt {
    const latest = this.head();
    const h = height ?? latest.height;
    if (h < 1 || h > latest.height)
      throw new NotFoundError("STATE_HEIGHT_UNKNOWN", `height ${h} is outside 1..${latest.height}`);
    let trie = this.trie;
    let rootKey = latest.rootNodeKey;
    if (h !== latest.height) {
      const oldest = this.store.oldestProvableHeight();
      const base = h < oldest ? undefined : this.store.checkpointAtOrBelow(h);
      if (base === undefined)
        throw new NotFoundError(
          "STATE_HEIGHT_PRUNED",
          `state at height ${h} is outside the retention window; the oldest provable height is ${oldest}`,
        );
      rootKey = base.rootNodeKey;
      if (base.height < h) {
        // Records made by the replay live in this map only; older ones come from the store.
        const made = new Map<string, Uint8Array>();
        trie = new StateTrie((d) => this.suite.hash(d), {
          getNode: (k) => made.get(latin1String(k)) ?? this.store.getNode(k),
        });
        for (let at = base.height + 1; at <= h; at++) {
          const update = this.replayBlock(trie, rootKey, at);
          for (const [nk, node] of update.newNodes) made.set(latin1String(nk), node);
          rootKey = update.rootNodeKey;
        }
      }
    }
    const value = trie.get(rootKey, key) ?? null;
    const proof = trie.prove(rootKey, key);
    return { height: h, key, value, proof, header: this.block(h).header };
  }
}

function sameNodeKey(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : equalBytes(a, b);
}
