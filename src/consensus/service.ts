/**
 * Runs the Tendermint state machine (tendermint/state-machine.ts) for a node: one machine per
 * height, fed with verified messages from the peer network, timers, block validation and the
 * double-sign guard; decided blocks are committed through the chain with their certificate.
 *
 *   - Values are block hashes. A proposal carries its block; a validator answers valid(v) by
 *     checking the block's transaction signatures (skipping those already verified in its mempool)
 *     and re-executing it: valid iff it executes and produces exactly the proposed header.
 *   - Every vote and proposal is verified against the validator set of its height before the
 *     machine sees it; a peer that sends a bad signature is dropped.
 *   - Own messages are signed only after the guard has durably recorded them (safety-guard.ts);
 *     received messages go to the write-ahead log so a restarted node re-joins with what it knew.
 *   - A height starts no sooner than `blockIntervalMs` after the previous one started (Tendermint's
 *     timeout_commit, counted from the height's start, so a loaded chain does not pause between
 *     blocks) and, when empty blocks are off, only once there is a transaction to order or another
 *     validator has started.
 *   - Block sync: a peer advertising a higher committed height is asked for the next block, which
 *     is accepted only with a commit certificate of more than two thirds of the current set.
 *   - Liveness reporting: the service knows which validators it has heard from recently and says
 *     when consensus is stalled and how much voting power it can see.
 */
import type { CryptoSuite } from "../crypto/suite.js";
import { ZlError } from "../errors/index.js";
import type { PreparedBlock } from "../execution/prepared-block.js";
import {
  type Commit,
  decodeCommit,
  encodeBlockFromParts,
  type Header,
  proposalSignBytes,
  splitBlock,
  voteSignBytes,
} from "../ledger/block.js";
import { fromHex, toHex } from "../ledger/bytes.js";
import type { ChainParams } from "../ledger/genesis.js";
import { addressOf, type DecodedTx, decodeTx, TX_SIGNATURE_SUFFIX, txBodySlice } from "../ledger/tx.js";
import { isQuorum, totalPower, type Validator, verifyCommit } from "../ledger/validators.js";
import type { Logger } from "../log/logger.js";
import {
  CHANNEL_CONSENSUS,
  CHANNEL_SYNC,
  CHANNEL_TXS,
  type ConsensusMessage,
  decodeConsensusMessage,
  decodeSyncMessage,
  decodeTxGossip,
  encodeConsensusMessage,
  encodeSyncMessage,
  encodeTxGossip,
  MAX_GOSSIP_TXS,
  type ProposalMessage,
  type VoteMessage,
} from "./messages.js";
import { commitFromDecision } from "./tendermint/commit.js";
import {
  type DoubleSignGuard,
  lockProofVotes,
  resumeFor,
  signedMessages,
  signRequestOf,
} from "./tendermint/safety-guard.js";
import {
  DEFAULT_TIMEOUTS,
  type Signable,
  type SignResult,
  TendermintMachine,
  type TimeoutConfig,
  timeoutDuration,
} from "./tendermint/state-machine.js";
import type { Decision, Effect, Proposal, Step, Vote } from "./tendermint/types.js";
import type { Wal } from "./wal.js";

/** What the service needs of the peer network (src/p2p/network.ts implements it). */
export interface ConsensusNetwork {
  broadcast(channel: number, payload: Uint8Array): void;
  send(nodeId: string, channel: number, payload: Uint8Array): boolean;
  peers(): ReadonlyArray<{ nodeId: string; height: number }>;
  setLocalHeight(height: number): void;
  penalize(nodeId: string, reason: string): void;
}

/** What the service needs of the chain (src/node/chain.ts). */
export interface ConsensusChain {
  readonly genesis: { chainId: string; params: ChainParams };
  readonly height: number;
  head(): { height: number; blockHash: Uint8Array; time: number };
  validators(): Validator[];
  proposerIndex(round: number): number;
  prepareBlock(candidates: readonly DecodedTx[], time: number, proposer: Uint8Array): PreparedBlock;
  executeProposed(header: Header, txs: readonly DecodedTx[]): PreparedBlock;
  commit(prepared: PreparedBlock, commit: Commit): Promise<void>;
  blockBytes(height: number): Uint8Array | undefined;
  commitBytes(height: number): Uint8Array | undefined;
}

export interface ConsensusHooks {
  /** A block was committed durably (by consensus or by sync). */
  committed(prepared: PreparedBlock, commit: Commit, seconds: number): void;
  /** Candidates left out of a block this node built (expired, nonce used, ...). */
  excluded(list: PreparedBlock["result"]["excluded"]): void;
  /** Candidate transactions for a block this node proposes. */
  reap(maxTxs: number, maxBytes: number): DecodedTx[];
  /** Transactions waiting in the mempool. */
  pendingTxs(): number;
  /** Whether block `height` has scheduled work even without transactions (governance). */
  workDue(height: number): boolean;
  /** The mempool's transaction with exactly these bytes (decoded, signature verified), if held. */
  heldTx(id: string, bytes: Uint8Array): DecodedTx | undefined;
  verifySignatures(txs: DecodedTx[]): Promise<boolean[]>;
  /** Transactions gossiped by a peer, to admit into the mempool. */
  gossipedTxs(raw: Uint8Array[]): void;
  /** Two different votes signed by one validator for the same height, round and type. */
  equivocation?(e: ObservedEquivocation): void;
}

/**
 * A validator's two conflicting signed messages as seen by this node (evidence for
 * `evidence.report`): two votes of one type, or two proposals, for the same height and round.
 */
export type ObservedEquivocation = {
  height: number;
  round: number;
  publicKey: Uint8Array;
} & (
  | { kind: "vote"; type: number; votes: [VoteValue, VoteValue] }
  | { kind: "proposal"; proposals: [ProposalValue, ProposalValue] }
);

interface VoteValue {
  blockHash: Uint8Array | null;
  signature: Uint8Array;
}

interface ProposalValue {
  blockHash: Uint8Array;
  validRound: number;
  signature: Uint8Array;
}

export interface ConsensusOptions {
  suite: CryptoSuite;
  /** The validator key; absent on an observer, which follows and verifies but never signs. */
  privateKey?: Uint8Array;
  guard?: DoubleSignGuard;
  wal?: Wal;
  timeouts?: Partial<TimeoutConfig>;
  /** Wait after a commit before starting the next height (Tendermint's timeout_commit). */
  blockIntervalMs: number;
  emptyBlocks: boolean;
  /** A proposed block's time may be at most this far ahead of the local clock. */
  maxClockDriftMs?: number;
  /** Consensus counts as stalled after this long without a commit while there is work. */
  stallAfterMs?: number;
  /** A validator counts as visible if a message of it arrived within this window. */
  visibleWindowMs?: number;
  log: Logger;
  now?: () => number;
}

export interface ConsensusStatus {
  height: number;
  round: number;
  step: Step | "waiting" | "committing";
  validatorIndex: number;
  validators: number;
  totalPower: number;
  /** Voting power this node has heard from within the visibility window (itself included). */
  visiblePower: number;
  quorumVisible: boolean;
  stalled: boolean;
  lastCommitAgoMs: number;
  peers: number;
  syncing: boolean;
}

interface ValueEntry {
  blockBytes: Uint8Array;
  header: Header;
  hash: Uint8Array;
  txBytes: Uint8Array[] | undefined;
  prepared: PreparedBlock | undefined;
  valid: boolean | undefined;
  validating: boolean;
}

const MAX_INBOX_PER_HEIGHT = 8192;

/** Identifies a message for de-duplication: a vote by its (type, round, validator, value), a proposal by its signature. */
function messageKey(msg: ConsensusMessage): string {
  return msg.t === "vote"
    ? `v${msg.type}:${msg.round}:${msg.validatorIndex}:${msg.blockHash ? toHex(msg.blockHash) : "nil"}`
    : `p${msg.round}:${msg.validRound}:${toHex(msg.signature)}`;
}
const SYNC_TIMEOUT_MS = 5000;
const SYNC_GRACE_MS = 1000;
/** A proposal is sized to take at most this share of the propose timeout to validate. */
const PROPOSAL_TIME_SHARE = 0.25;
const MIN_PROPOSAL_TXS = 100;

/**
 * How long a node waits before starting the next height: until `intervalMs` after the previous
 * height started (Tendermint's timeout_commit, counted from the start as for a single validator).
 * A height that took longer than the interval, as on a loaded chain, is followed at once instead
 * of every validator pausing for the whole interval. Never more than the interval, even if the
 * clock went back.
 */
export function heightStartDelay(previousStartMs: number, nowMs: number, intervalMs: number): number {
  return Math.min(intervalMs, Math.max(0, previousStartMs + intervalMs - nowMs));
}

export class ConsensusService {
  private readonly chainId: string;
  private readonly now: () => number;
  private readonly address: Uint8Array | undefined;
  private readonly maxMessageBytes: number;

  private machine: TendermintMachine | undefined;
  /** The height being decided: chain height + 1. */
  private height = 0;
  private set: Validator[] = [];
  private selfIndex = -1;
  private proposers = new Map<number, number>();
  private values = new Map<string, ValueEntry>();
  /** Messages of the current and next height, received or own, for replay and re-gossip. */
  private inbox = new Map<number, Map<string, { from: string | null; msg: ConsensusMessage }>>();
  private timers = new Set<NodeJS.Timeout>();
  private startTimer: NodeJS.Timeout | undefined;
  private waiting = false;
  private committing = false;
  private stopped = false;
  private halted = false;
  private lastCommitAt: number;
  /** When a message of each validator (by public key hex) last arrived. */
  private lastSeen = new Map<string, number>();
  private syncing: { height: number; peer: string; deadline: number } | undefined;
  /** Since when a peer has been known to have committed the height in progress here. */
  private behindSince: number | undefined;
  private txOutbox: Uint8Array[] = [];
  private txFlush: NodeJS.Immediate | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastStallLog = 0;
  /** When the machine of the current height started: progress is measured from here. */
  private heightStartedAt = 0;
  /** Measured cost of building or validating a block, in ms per transaction (0: not yet known). */
  private msPerTx = 0;
  private lastRegossip = 0;
  private walReplayed = false;

  constructor(
    private readonly chain: ConsensusChain,
    private readonly network: ConsensusNetwork,
    private readonly hooks: ConsensusHooks,
    private readonly opts: ConsensusOptions,
  ) {
    this.chainId = chain.genesis.chainId;
    this.now = opts.now ?? Date.now;
    this.lastCommitAt = this.now();
    if (opts.privateKey) {
      this.address = addressOf(opts.suite, opts.suite.publicKeyFromPrivate(opts.privateKey));
      if (!opts.guard) throw new TypeError("a validator needs a double-sign guard");
    }
    const { maxBlockBytes } = chain.genesis.params;
    this.maxMessageBytes = maxBlockBytes + 1024 * 1024;
  }

  start(): void {
    this.beginHeight(true);
    this.ticker = setInterval(() => this.tick(), 250);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.txFlush) clearImmediate(this.txFlush);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    while (this.committing) await new Promise((r) => setTimeout(r, 5));
    this.machine = undefined;
  }

  /** Transactions were admitted locally: gossip them and make sure a height is under way. */
  onTxsAdmitted(raw: Uint8Array[], gossip: boolean): void {
    if (gossip) {
      for (const t of raw) this.txOutbox.push(t);
      if (!this.txFlush) this.txFlush = setImmediate(() => this.flushTxs());
    }
    if (this.waiting) this.startMachine();
  }

  /** Dispatches a message from the peer network. */
  onMessage(from: string, channel: number, payload: Uint8Array): void {
    if (this.stopped) return;
    try {
      if (channel === CHANNEL_CONSENSUS)
        this.receive(from, decodeConsensusMessage(payload, this.maxMessageBytes), true, payload);
      else if (channel === CHANNEL_TXS)
        this.hooks.gossipedTxs(
          decodeTxGossip(payload, this.maxMessageBytes, this.chain.genesis.params.maxTxBytes),
        );
      else if (channel === CHANNEL_SYNC) this.onSync(from, payload);
    } catch (err: unknown) {
      if (!(err instanceof ZlError) || err.code.startsWith("CHAIN_") || err.code.startsWith("STATE_"))
        throw err;
      this.network.penalize(from, `${err.code}: ${err.message}`);
    }
  }

  /** A peer connected: give it what it may have missed of the current height. */
  onPeerUp(nodeId: string): void {
    for (const { msg } of this.inbox.get(this.height)?.values() ?? [])
      this.network.send(nodeId, CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
  }

  status(): ConsensusStatus {
    const now = this.now();
    const total = totalPower(this.set);
    const visible = this.visiblePower(now);
    const state = this.machine?.state;
    const sinceCommit = now - this.lastCommitAt;
    return {
      height: this.height,
      round: state?.round ?? 0,
      step: this.committing ? "committing" : state ? state.step : "waiting",
      validatorIndex: this.selfIndex,
      validators: this.set.length,
      totalPower: total,
      visiblePower: visible,
      quorumVisible: isQuorum(visible, total),
      stalled:
        this.halted ||
        (this.machine !== undefined && now - this.heightStartedAt > (this.opts.stallAfterMs ?? 10_000)),
      lastCommitAgoMs: sinceCommit,
      peers: this.network.peers().length,
      syncing: this.syncing !== undefined,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Heights

  private beginHeight(boot = false): void {
    if (this.stopped || this.halted) return;
    this.machine = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.height = this.chain.height + 1;
    this.set = this.chain.validators();
    this.selfIndex = this.address
      ? this.set.findIndex((v) => toHex(addressOf(this.opts.suite, v.publicKey)) === toHex(this.address!))
      : -1;
    this.proposers.clear();
    this.values.clear();
    for (const h of [...this.inbox.keys()]) if (h < this.height) this.inbox.delete(h);
    this.network.setLocalHeight(this.chain.height);
    if (this.startTimer) clearTimeout(this.startTimer);
    this.waiting = false;
    // A validator that signed at this height before a restart re-joins at once.
    const resuming = boot && this.opts.guard?.state?.height === this.height;
    this.startTimer = setTimeout(
      () => {
        this.startTimer = undefined;
        if (this.shouldStart()) this.startMachine();
        else this.waiting = true;
      },
      resuming
        ? 0
        : boot
          ? this.opts.blockIntervalMs
          : heightStartDelay(this.heightStartedAt, this.now(), this.opts.blockIntervalMs),
    );
  }

  private shouldStart(): boolean {
    return (
      this.opts.emptyBlocks ||
      this.hooks.pendingTxs() > 0 ||
      this.hooks.workDue(this.height) ||
      (this.inbox.get(this.height)?.size ?? 0) > 0 ||
      this.opts.guard?.state?.height === this.height
    );
  }

  private startMachine(): void {
    if (this.machine || this.committing || this.stopped || this.halted || this.startTimer) return;
    this.waiting = false;
    const height = this.height;
    const machine = new TendermintMachine({
      validators: this.set,
      selfIndex: this.selfIndex,
      proposer: (h, r) => (h === height ? this.proposerOf(r) : -2),
      getValue: (h, r) => this.buildValue(h, r),
      validate: (h, id) => (h === height ? this.validity(id) : false),
      sign: (m) => this.sign(height, m),
      ...(this.opts.timeouts ? { timeouts: this.opts.timeouts } : {}),
    });
    this.machine = machine;
    this.heightStartedAt = this.now();
    const guardState = this.opts.guard?.state;
    this.apply(machine, machine.start(height, resumeFor(guardState, height)));
    // After a restart: the lock's proof and this validator's own votes exist perhaps nowhere else.
    if (this.selfIndex >= 0) {
      for (const v of lockProofVotes(guardState, height)) {
        if (this.machine !== machine) return;
        if (!v.signature) continue;
        const msg = this.voteMessage(v, v.signature);
        this.remember(null, msg);
        this.network.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
        this.apply(machine, machine.onVote(v));
      }
      for (const s of signedMessages(guardState, height, this.selfIndex)) {
        if (this.machine !== machine || s.kind !== "vote") continue;
        const signed = this.sign(height, s);
        if (!signed.ok || !signed.signature) continue;
        const vote: Vote = { ...s.vote, signature: signed.signature };
        const msg = this.voteMessage(vote, signed.signature);
        this.remember(null, msg);
        this.network.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
        this.apply(machine, machine.onVote(vote));
      }
    }
    // A WAL created just now holds nothing of an earlier life to replay.
    if (!this.walReplayed && this.opts.wal && !this.opts.wal.recovery.initialized) {
      this.walReplayed = true;
      this.replayWal(height);
    }
    for (const { from, msg } of [...(this.inbox.get(height)?.values() ?? [])]) {
      if (this.machine !== machine) return;
      if (from !== null) this.deliver(from, msg, { held: true, log: false });
    }
  }

  private replayWal(height: number): void {
    const wal = this.opts.wal!;
    let replayed = 0;
    try {
      for (const rec of wal.replayFrom(height)) {
        if (rec.type !== "msg" || rec.height !== height) continue;
        try {
          this.receive("wal", decodeConsensusMessage(rec.body, this.maxMessageBytes), false);
          replayed++;
        } catch {
          // A record that no longer verifies (another set) is simply not evidence of anything.
        }
      }
    } catch (err: unknown) {
      if (!(err instanceof ZlError) || err.code !== "WAL_HEIGHT_NOT_FOUND") throw err;
    }
    if (replayed > 0) this.opts.log.info("consensus messages replayed from the WAL", { height, replayed });
  }

  private proposerOf(round: number): number {
    let p = this.proposers.get(round);
    if (p === undefined) {
      p = this.chain.proposerIndex(round);
      if (this.proposers.size > 1024) this.proposers.clear();
      this.proposers.set(round, p);
    }
    return p;
  }

  // -------------------------------------------------------------------------------------------
  // Values

  /** getValue(): a block built from the mempool on top of the committed head. */
  private buildValue(height: number, _round: number): string {
    if (height !== this.height || !this.address) return "00";
    const { maxBlockTxs, maxBlockBytes } = this.chain.genesis.params;
    const started = performance.now();
    const candidates = this.hooks.reap(Math.min(maxBlockTxs, this.proposalTxBudget()), maxBlockBytes);
    const prepared = this.chain.prepareBlock(candidates, this.now(), this.address);
    this.observeBlockWork(candidates.length, performance.now() - started);
    if (prepared.result.excluded.length > 0) this.hooks.excluded(prepared.result.excluded);
    const id = toHex(prepared.hash);
    this.values.set(id, {
      blockBytes: encodeBlockFromParts(prepared.block.header, prepared.txBytes),
      header: prepared.block.header,
      hash: prepared.hash,
      txBytes: prepared.txBytes,
      prepared,
      valid: true,
      validating: false,
    });
    return id;
  }

  /** valid(v): known, or undefined while the block is being checked (answered via onValidity). */
  private validity(id: string): boolean | undefined {
    const entry = this.values.get(id);
    if (!entry) return false;
    if (entry.valid !== undefined) return entry.valid;
    if (!entry.validating) {
      entry.validating = true;
      void this.validate(this.height, id, entry);
    }
    return undefined;
  }

  /**
   * How many transactions a proposal may carry so that validators can check it well within the
   * round's propose timeout: a block that takes longer to validate than the timeout is prevoted
   * nil and the whole round is lost, which under load repeats round after round.
   */
  private proposalTxBudget(): number {
    if (this.msPerTx <= 0) return MIN_PROPOSAL_TXS * 10;
    const round = this.machine?.state.round ?? 0;
    const proposeMs = timeoutDuration({ ...DEFAULT_TIMEOUTS, ...this.opts.timeouts }, "propose", round);
    return Math.max(MIN_PROPOSAL_TXS, Math.floor((proposeMs * PROPOSAL_TIME_SHARE) / this.msPerTx));
  }

  /** Learns the cost of building or checking a block, per transaction (moving average). */
  private observeBlockWork(txs: number, ms: number): void {
    if (txs < 50) return;
    const sample = ms / txs;
    this.msPerTx = this.msPerTx <= 0 ? sample : this.msPerTx * 0.7 + sample * 0.3;
  }

  private async validate(height: number, id: string, entry: ValueEntry): Promise<void> {
    let valid = false;
    let reason = "";
    const started = performance.now();
    try {
      valid = await this.checkBlock(entry);
      this.observeBlockWork(entry.txBytes?.length ?? 0, performance.now() - started);
    } catch (err: unknown) {
      if (!(err instanceof ZlError)) throw err;
      reason = `${err.code}: ${err.message}`;
    }
    if (!valid) this.opts.log.warn("proposed block is invalid", { height, block: id, reason });
    entry.valid = valid;
    const machine = this.machine;
    if (machine && this.height === height) this.apply(machine, machine.onValidity(height, id, valid));
  }

  private async checkBlock(entry: ValueEntry): Promise<boolean> {
    const { header } = entry;
    const head = this.chain.head();
    if (header.height !== head.height + 1 || header.time <= head.time) return false;
    if (header.time > this.now() + (this.opts.maxClockDriftMs ?? 10_000)) return false;
    const txBytes = entry.txBytes ?? [];
    const maxTxBytes = this.chain.genesis.params.maxTxBytes;
    const txs: DecodedTx[] = [];
    const unchecked: DecodedTx[] = [];
    for (const b of txBytes) {
      // Most of a block was gossiped here first: the id is the hash of the body slice of canonical
      // bytes, and only bytes identical to an admitted transaction's are taken from the mempool.
      const held =
        b.length > TX_SIGNATURE_SUFFIX
          ? this.hooks.heldTx(toHex(this.opts.suite.hash(txBodySlice(b))), b)
          : undefined;
      if (held) {
        txs.push(held);
        continue;
      }
      const d = decodeTx(this.opts.suite, b, maxTxBytes);
      txs.push(d);
      unchecked.push(d);
    }
    if (unchecked.length > 0) {
      const ok = await this.hooks.verifySignatures(unchecked);
      if (ok.some((x) => !x)) return false;
    }
    if (this.chain.height !== head.height) return false;
    const prepared = this.chain.executeProposed(header, txs);
    if (toHex(prepared.hash) !== toHex(entry.hash)) return false;
    entry.prepared = prepared;
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Signing

  private sign(height: number, m: Signable): SignResult {
    const key = this.opts.privateKey;
    const guard = this.opts.guard;
    if (!key || !guard || height !== this.height) return { ok: false };
    const d = guard.authorize(signRequestOf(m));
    if (!d.ok) {
      this.opts.log.warn("double-sign guard refused to sign", { code: d.code, reason: d.message });
      return { ok: false };
    }
    const bytes =
      m.kind === "proposal"
        ? proposalSignBytes(
            this.chainId,
            m.proposal.height,
            m.proposal.round,
            m.proposal.validRound,
            fromHex(m.proposal.valueId),
          )
        : voteSignBytes(
            this.chainId,
            m.vote.type,
            m.vote.height,
            m.vote.round,
            m.vote.valueId === null ? null : fromHex(m.vote.valueId),
          );
    return { ok: true, signature: this.opts.suite.sign(key, bytes) };
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  /** `encoded`: the message's bytes as received, logged as they are rather than encoded again. */
  private receive(from: string, msg: ConsensusMessage, log = true, encoded?: Uint8Array): void {
    if (msg.height < this.height || msg.height > this.height + 1) return;
    // Re-gossiped copies are common: drop them before any decoding or signature check.
    if (this.inbox.get(msg.height)?.has(messageKey(msg))) return;
    if (msg.height === this.height + 1 || !this.machine) {
      // Verified when its height runs; kept (bounded) so a node that is a step behind loses nothing.
      this.remember(from, msg);
      if (log && msg.height === this.height) this.walAppend(msg, encoded);
      if (msg.height === this.height && !this.machine && this.startTimer === undefined) this.startMachine();
      return;
    }
    this.deliver(from, msg, { held: false, log, encoded });
  }

  /** Verifies a message of the current height and feeds it to the machine. `held`: replayed from the inbox. */
  private deliver(
    from: string,
    msg: ConsensusMessage,
    how: { held: boolean; log: boolean; encoded?: Uint8Array | undefined },
  ): void {
    const machine = this.machine;
    if (!machine || msg.height !== this.height) return;
    if (msg.t === "vote") {
      const v = this.set[msg.validatorIndex];
      if (!v) {
        this.reject(from, msg, "vote from an unknown validator index");
        return;
      }
      const bytes = voteSignBytes(this.chainId, msg.type, msg.height, msg.round, msg.blockHash);
      if (!this.opts.suite.verify(v.publicKey, bytes, msg.signature)) {
        this.reject(from, msg, "vote with a bad signature");
        return;
      }
      this.lastSeen.set(toHex(v.publicKey), this.now());
      if (!how.held && !this.remember(from, msg)) return;
      if (how.log) this.walAppend(msg, how.encoded);
      this.apply(
        machine,
        machine.onVote({
          type: msg.type,
          height: msg.height,
          round: msg.round,
          valueId: msg.blockHash === null ? null : toHex(msg.blockHash),
          validatorIndex: msg.validatorIndex,
          signature: msg.signature,
        }),
      );
      return;
    }
    const proposerIndex = this.proposerOf(msg.round);
    const proposer = this.set[proposerIndex];
    if (!proposer) return;
    let block: ReturnType<typeof splitBlock>;
    try {
      block = splitBlock(msg.block, this.chain.genesis.params.maxBlockTxs);
    } catch (err: unknown) {
      // Held messages are decoded only now, outside onMessage's catch: a bad block must not throw.
      if (!(err instanceof ZlError)) throw err;
      this.reject(from, msg, `${err.code}: ${err.message}`);
      return;
    }
    // The header bytes are canonical (checked on decoding), so their hash is the block hash.
    const hash = this.opts.suite.hash(block.headerBytes);
    const bytes = proposalSignBytes(this.chainId, msg.height, msg.round, msg.validRound, hash);
    if (!this.opts.suite.verify(proposer.publicKey, bytes, msg.signature)) {
      this.reject(from, msg, "proposal with a bad signature");
      return;
    }
    this.lastSeen.set(toHex(proposer.publicKey), this.now());
    if (!how.held && !this.remember(from, msg)) return;
    if (how.log) this.walAppend(msg, how.encoded);
    const id = toHex(hash);
    if (!this.values.has(id))
      this.values.set(id, {
        blockBytes: msg.block,
        header: block.header,
        hash,
        txBytes: block.txBytes,
        prepared: undefined,
        valid: block.header.height === msg.height ? undefined : false,
        validating: false,
      });
    this.apply(
      machine,
      machine.onProposal({
        height: msg.height,
        round: msg.round,
        valueId: id,
        validRound: msg.validRound,
        proposerIndex,
        signature: msg.signature,
      }),
    );
  }

  /**
   * Penalizes the sender of a message that fails verification. A held (unverified) copy leaves the
   * inbox: kept, it would be re-gossiped (getting this node penalized by its peers) and, holding
   * the key of the real message, would make this node drop that one as a duplicate.
   */
  private reject(from: string, msg: ConsensusMessage, reason: string): void {
    const held = this.inbox.get(msg.height);
    const key = messageKey(msg);
    if (held?.get(key)?.msg === msg) held.delete(key);
    this.network.penalize(from, reason);
  }

  /** Keeps a message for replay and re-gossip; false if it was already held. */
  private remember(from: string | null, msg: ConsensusMessage): boolean {
    let held = this.inbox.get(msg.height);
    if (!held) {
      held = new Map();
      this.inbox.set(msg.height, held);
    }
    const key = messageKey(msg);
    if (held.has(key) || held.size >= MAX_INBOX_PER_HEIGHT) return false;
    held.set(key, { from, msg });
    return true;
  }

  /** Logs a message; `encoded`, its bytes as received, saves encoding a proposal's block again. */
  private walAppend(msg: ConsensusMessage, encoded?: Uint8Array): void {
    this.opts.wal?.append({
      type: "msg",
      height: msg.height,
      round: msg.round,
      body: encoded ?? encodeConsensusMessage(msg),
    });
  }

  private voteMessage(v: Vote, signature: Uint8Array): VoteMessage {
    return {
      t: "vote",
      type: v.type,
      height: v.height,
      round: v.round,
      blockHash: v.valueId === null ? null : fromHex(v.valueId),
      validatorIndex: v.validatorIndex,
      signature,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Effects

  private apply(machine: TendermintMachine, effects: Effect[]): void {
    for (const e of effects) {
      if (this.machine !== machine) return;
      switch (e.kind) {
        case "broadcastProposal": {
          const entry = this.values.get(e.proposal.valueId);
          if (!entry || !e.proposal.signature) break;
          const msg: ProposalMessage = {
            t: "proposal",
            height: e.proposal.height,
            round: e.proposal.round,
            validRound: e.proposal.validRound,
            block: entry.blockBytes,
            signature: e.proposal.signature,
          };
          this.remember(null, msg);
          this.network.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
          break;
        }
        case "broadcastVote": {
          if (!e.vote.signature) break;
          const msg = this.voteMessage(e.vote, e.vote.signature);
          this.remember(null, msg);
          this.network.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
          break;
        }
        case "scheduleTimeout": {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            if (this.machine === machine) this.apply(machine, machine.onTimeout(e.timeout));
          }, e.durationMs);
          this.timers.add(timer);
          break;
        }
        case "validate":
          this.validity(e.valueId);
          break;
        case "evidence": {
          const ev = e.evidence;
          const validator = this.set[ev.validatorIndex];
          this.opts.log.warn("equivocation observed", {
            kind: ev.kind,
            height: ev.height,
            round: ev.round,
            validator: ev.validatorIndex,
            publicKey: validator ? toHex(validator.publicKey) : undefined,
          });
          if (!validator || !ev.first.signature || !ev.second.signature) break;
          if (ev.kind === "vote-equivocation") {
            const value = (v: Vote): VoteValue => ({
              blockHash: v.valueId === null ? null : fromHex(v.valueId),
              signature: v.signature!,
            });
            this.hooks.equivocation?.({
              kind: "vote",
              type: ev.type,
              height: ev.height,
              round: ev.round,
              publicKey: validator.publicKey,
              votes: [value(ev.first), value(ev.second)],
            });
          } else {
            const value = (p: Proposal): ProposalValue => ({
              blockHash: fromHex(p.valueId),
              validRound: p.validRound,
              signature: p.signature!,
            });
            this.hooks.equivocation?.({
              kind: "proposal",
              height: ev.height,
              round: ev.round,
              publicKey: validator.publicKey,
              proposals: [value(ev.first), value(ev.second)],
            });
          }
          break;
        }
        case "decide":
          // The machine has moved on to a height whose validator set is not known until this
          // block commits; it is discarded, and a new machine runs the next height.
          this.machine = undefined;
          void this.decide(e);
          return;
      }
    }
  }

  private async decide(d: Decision): Promise<void> {
    const entry = this.values.get(d.valueId);
    if (!entry?.prepared) {
      this.halt(`decided block ${d.valueId} at height ${d.height} was never validated here`);
      return;
    }
    await this.commitBlock(entry.prepared, commitFromDecision(d));
  }

  private async commitBlock(prepared: PreparedBlock, commit: Commit): Promise<void> {
    this.committing = true;
    this.machine = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const started = performance.now();
    try {
      await this.chain.commit(prepared, commit);
      this.opts.wal?.endHeight(prepared.block.header.height);
    } catch (err: unknown) {
      this.committing = false;
      this.halt(`committing block ${prepared.block.header.height} failed: ${(err as Error).message}`);
      return;
    }
    this.committing = false;
    this.lastCommitAt = this.now();
    this.behindSince = undefined;
    this.hooks.committed(prepared, commit, (performance.now() - started) / 1000);
    this.beginHeight();
  }

  private halt(reason: string): void {
    // Storage or an invariant failed: stop taking part rather than risk a wrong vote.
    this.halted = true;
    this.machine = undefined;
    this.opts.log.error("consensus halted", { reason });
    process.exitCode = 1;
  }

  // -------------------------------------------------------------------------------------------
  // Transactions gossip

  private flushTxs(): void {
    this.txFlush = undefined;
    while (this.txOutbox.length > 0) {
      const batch = this.txOutbox.splice(0, MAX_GOSSIP_TXS);
      this.network.broadcast(CHANNEL_TXS, encodeTxGossip(batch));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Block sync

  private onSync(from: string, payload: Uint8Array): void {
    const m = decodeSyncMessage(payload, this.maxMessageBytes);
    if (m.t === "getBlock") {
      const block = m.height >= 1 ? this.chain.blockBytes(m.height) : undefined;
      const commit = block ? this.chain.commitBytes(m.height) : undefined;
      this.network.send(
        from,
        CHANNEL_SYNC,
        encodeSyncMessage(
          block && commit
            ? { t: "block", height: m.height, block, commit }
            : { t: "noBlock", height: m.height },
        ),
      );
      return;
    }
    const want = this.syncing;
    if (!want || want.peer !== from || m.height !== want.height) return;
    this.syncing = undefined;
    if (m.t === "noBlock") return;
    if (this.committing || m.height !== this.chain.height + 1) return;
    const block = splitBlock(m.block, this.chain.genesis.params.maxBlockTxs);
    const commit = decodeCommit(m.commit);
    const check = verifyCommit(this.opts.suite.hash, this.opts.suite.verify, this.set, block.header, commit);
    if (!check.ok || block.header.height !== m.height) {
      this.network.penalize(
        from,
        `synced block ${m.height} fails verification: ${check.ok ? "height" : check.reason}`,
      );
      return;
    }
    const head = this.chain.head();
    if (toHex(block.header.prevHash) !== toHex(head.blockHash)) {
      this.halt(
        `a commit certificate of more than two thirds certifies a block ${m.height} that does not extend this node's head: the validator set is faulty`,
      );
      return;
    }
    // The block may be one this node already executed as a proposal of this height.
    const known = this.values.get(toHex(commit.blockHash))?.prepared;
    let prepared: PreparedBlock;
    try {
      const maxTxBytes = this.chain.genesis.params.maxTxBytes;
      prepared =
        known ??
        this.chain.executeProposed(
          block.header,
          block.txBytes.map((b) => decodeTx(this.opts.suite, b, maxTxBytes)),
        );
    } catch (err: unknown) {
      this.halt(`certified block ${m.height} does not execute here: ${(err as Error).message}`);
      return;
    }
    if (toHex(prepared.hash) !== toHex(commit.blockHash)) {
      this.halt(
        `certified block ${m.height} executes to another state here: the node's state or code differs from the validators'`,
      );
      return;
    }
    this.opts.log.info("block synced", { height: m.height, from, txs: block.header.txCount });
    void this.commitBlock(prepared, commit).then(() => this.requestNextBlock());
  }

  private requestNextBlock(): void {
    if (this.stopped || this.halted || this.committing || this.syncing) return;
    const want = this.chain.height + 1;
    const ahead = this.network.peers().filter((p) => p.height >= want);
    if (ahead.length === 0) {
      this.behindSince = undefined;
      return;
    }
    // A peer that committed this height a moment earlier is the normal case: the decision is
    // about to arrive here too. Sync only when two heights behind, or one for a while.
    const now = this.now();
    this.behindSince ??= now;
    const farBehind = ahead.some((p) => p.height >= want + 1);
    if (!farBehind && now - this.behindSince < SYNC_GRACE_MS) return;
    const peer = ahead[Math.floor(Math.random() * ahead.length)]!;
    this.syncing = { height: want, peer: peer.nodeId, deadline: this.now() + SYNC_TIMEOUT_MS };
    this.network.send(peer.nodeId, CHANNEL_SYNC, encodeSyncMessage({ t: "getBlock", height: want }));
  }

  // -------------------------------------------------------------------------------------------
  // Housekeeping

  private tick(): void {
    if (this.stopped) return;
    const now = this.now();
    if (this.syncing && now > this.syncing.deadline) this.syncing = undefined;
    this.requestNextBlock();
    // Messages lost to a broken connection are sent again while the height does not progress.
    if (this.machine && now - this.heightStartedAt > 2000 && now - this.lastRegossip > 2000) {
      this.lastRegossip = now;
      for (const { msg } of this.inbox.get(this.height)?.values() ?? [])
        this.network.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(msg));
    }
    this.opts.wal?.flush();
    const s = this.status();
    if (s.stalled && now - this.lastStallLog > 10_000) {
      this.lastStallLog = now;
      this.opts.log.warn("consensus stalled", {
        height: s.height,
        round: s.round,
        step: s.step,
        visiblePower: s.visiblePower,
        totalPower: s.totalPower,
        quorumVisible: s.quorumVisible,
        peers: s.peers,
        lastCommitAgoMs: s.lastCommitAgoMs,
        hint: s.quorumVisible
          ? "enough voting power is visible; rounds are timing out (check clocks and the proposer's logs)"
          : "less than two thirds of the voting power is reachable; waiting for validators to return",
      });
    }
  }

  private visiblePower(now: number): number {
    const window = this.opts.visibleWindowMs ?? 5000;
    let power = 0;
    this.set.forEach((v, i) => {
      const seen = this.lastSeen.get(toHex(v.publicKey));
      if (i === this.selfIndex || (seen !== undefined && now - seen <= window)) power += v.power;
    });
    return power;
  }
}
