/**
 * A seeded discrete-event simulation of a Tendermint network built from the pure cores
 * (state-machine.ts, proposer.ts, safety-guard.ts): 4–7 weighted validators, a simulated clock
 * and network with random delays, drops, duplicates, reordering, partitions and heals, crashes
 * and restarts, per-node clock skew, asynchronous validation, and Byzantine validators holding
 * less than a third of the power (equivocating proposals and votes, invalid values, withheld
 * and random votes, votes for future rounds).
 *
 * Everything random comes from one mulberry32 stream seeded by `seed`, and events are ordered by
 * (time, sequence number), so a seed replays exactly.
 *
 * Invariants checked on every decision (the only step that changes what is decided):
 *   SAFETY    no two honest validators decide different values at one height;
 *   VALIDITY  an honest validator decides only values that valid() accepts, with a commit of
 *             distinct precommits for that (height, round, value) holding a quorum of power;
 *   ORDER     an honest validator decides heights 1, 2, 3, … in order;
 * and on every signature and evidence:
 *   GUARD     an honest validator that never restarted is never refused by its double-sign guard;
 *   EVIDENCE  no equivocation evidence names an honest validator.
 * After `chaosMs` everything heals (partitions removed, crashed honest nodes restarted, few
 * drops, bounded delays); then LIVENESS: every honest validator decides `livenessHeights` more
 * heights within `livenessBoundMs` of simulated time.
 *
 * Gossip: besides direct broadcasts, every node periodically sends a status (height, round, the
 * keys of the messages it holds for that height); a peer at the same height answers with the
 * messages the sender lacks (relaying what it received, as the paper's gossip assumes); a peer
 * at a higher height answers with the decided proposal and precommits of the sender's height
 * (a stand-in for block sync).
 */
import { isQuorum } from "../../ledger/validators.js";
import { ProposerSchedule } from "./proposer.js";
import {
  DoubleSignGuard,
  lockProofVotes,
  MemorySignStateStore,
  resumeFor,
  signedMessages,
  signRequestOf,
} from "./safety-guard.js";
import { type Signable, type SignResult, TendermintMachine, type TimeoutConfig } from "./state-machine.js";
import { type Effect, type Proposal, type Timeout, VOTE_PRECOMMIT, type Vote } from "./types.js";

// ------------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: a 32-bit-state PRNG; good enough for test schedules, fully reproducible. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

// ------------------------------------------------------------------------------------------------
// Event queue: a binary heap ordered by (time, seq)

interface Queued<E> {
  time: number;
  seq: number;
  ev: E;
}

class EventQueue<E> {
  private heap: Queued<E>[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  push(time: number, ev: E): void {
    const h = this.heap;
    h.push({ time, seq: this.seq++, ev });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Queued<E> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: Queued<E>, b: Queued<E>): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }
}

// ------------------------------------------------------------------------------------------------
// Model

type NetMsg =
  | { t: "proposal"; p: Proposal }
  | { t: "vote"; v: Vote }
  | { t: "status"; height: number; round: number; have: ReadonlySet<string> };

type SimEvent =
  | { k: "deliver"; from: number; to: number; msg: NetMsg }
  | { k: "timer"; node: number; epoch: number; timeout: Timeout }
  | { k: "validity"; node: number; epoch: number; height: number; valueId: string; valid: boolean }
  | { k: "gossip"; node: number }
  | { k: "partition"; groups: number[] }
  | { k: "healPartition" }
  | { k: "crash"; node: number }
  | { k: "restart"; node: number }
  | { k: "healAll" };

interface Certificate {
  proposal: Proposal;
  precommits: Vote[];
}

interface SimNode {
  index: number;
  power: number;
  byzantine: boolean;
  up: boolean;
  epoch: number;
  restarts: number;
  asyncValidation: boolean;
  /** Timer rate: a timeout of d ms fires after d · skew ms of simulated time. */
  skew: number;
  machine: TendermintMachine | undefined;
  /** Durable across crashes: the guard's record and the committed chain. */
  store: MemorySignStateStore;
  guard: DoubleSignGuard;
  committed: Map<number, Certificate>;
  /** In memory only: messages held per height, for gossip. */
  log: Map<number, Map<string, NetMsg>>;
  /** The machine's height when effects were last applied. */
  height: number;
}

export interface SimOptions {
  seed: number;
  /** Simulated time of the fault phase (default 12 000 ms). */
  chaosMs?: number;
  /** Heights every honest node must add after the heal (default 2). */
  livenessHeights?: number;
  /** Simulated time allowed for them (default 60 000 ms). */
  livenessBoundMs?: number;
  /** Hard cap on processed events (default 400 000). */
  maxEvents?: number;
  /** Disable Byzantine validators (default: about 70 % of seeds have some). */
  noByzantine?: boolean;
}

export interface SimStats {
  delivered: number;
  dropped: number;
  crashes: number;
  partitions: number;
  evidence: number;
  guardRefusals: number;
  maxRound: number;
  /** Simulated ms from the heal to the liveness target (−1 if not reached). */
  livenessMs: number;
}

export interface SimResult {
  seed: number;
  scenario: string;
  violations: string[];
  /** Honest decisions (node × height). */
  decisions: number;
  /** Lowest committed height among honest nodes at the end. */
  minHonestHeight: number;
  events: number;
  simTimeMs: number;
  stats: SimStats;
}

const SIM_TIMEOUTS: TimeoutConfig = {
  proposeMs: 400,
  proposeDeltaMs: 100,
  prevoteMs: 200,
  prevoteDeltaMs: 50,
  precommitMs: 200,
  precommitDeltaMs: 50,
};
const GOSSIP_MS = 300;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");
/** Honest value ids are 0a…; Byzantine alternatives 0b…; invalid ones start with "bad". */
export const validValue = (valueId: string): boolean => !valueId.startsWith("bad");
const msgKey = (m: NetMsg): string =>
  m.t === "proposal"
    ? `p:${m.p.height}:${m.p.round}:${m.p.valueId}:${m.p.validRound}`
    : m.t === "vote"
      ? `v:${m.v.type}:${m.v.height}:${m.v.round}:${m.v.validatorIndex}:${m.v.valueId ?? "nil"}`
      : "status";
const msgHeight = (m: NetMsg): number =>
  m.t === "proposal" ? m.p.height : m.t === "vote" ? m.v.height : m.height;

export class Simulation {
  private readonly rng: Rng;
  readonly nodes: SimNode[] = [];
  private readonly queue = new EventQueue<SimEvent>();
  private readonly schedule: ProposerSchedule;
  private readonly validators: { power: number }[];
  private readonly total: number;
  private readonly honestDecided = new Map<number, string>();
  readonly violations: string[] = [];
  readonly stats: SimStats = {
    delivered: 0,
    dropped: 0,
    crashes: 0,
    partitions: 0,
    evidence: 0,
    guardRefusals: 0,
    maxRound: 0,
    livenessMs: -1,
  };
  readonly scenario: string;
  private now = 0;
  private events = 0;
  private decisions = 0;
  private groups: number[];
  private dropRate: number;
  private dupRate: number;
  private delayBase: number;
  private delayJitter: number;
  private spikeRate: number;
  private healed = false;
  private healTime = 0;
  private livenessTarget = Number.POSITIVE_INFINITY;
  private done = false;
  private readonly chaosMs: number;
  private readonly livenessHeights: number;
  private readonly livenessBoundMs: number;
  private readonly maxEvents: number;

  constructor(readonly opts: SimOptions) {
    this.rng = new Rng(opts.seed);
    this.chaosMs = opts.chaosMs ?? 12_000;
    this.livenessHeights = opts.livenessHeights ?? 2;
    this.livenessBoundMs = opts.livenessBoundMs ?? 60_000;
    this.maxEvents = opts.maxEvents ?? 400_000;
    const rng = this.rng;

    const n = rng.range(4, 7);
    const equal = rng.chance(0.4);
    this.validators = Array.from({ length: n }, () => ({ power: equal ? 1 : rng.range(1, 5) }));
    this.total = this.validators.reduce((s, v) => s + v.power, 0);
    this.schedule = new ProposerSchedule(this.validators, 1);

    // Byzantine set: random validators while their power stays below a third (f).
    const byz = new Set<number>();
    if (!opts.noByzantine && rng.chance(0.7)) {
      let power = 0;
      const want = rng.range(1, n);
      for (const i of this.shuffled(n)) {
        if (byz.size >= want) break;
        const p = this.validators[i]!.power;
        if ((power + p) * 3 < this.total) {
          byz.add(i);
          power += p;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const store = new MemorySignStateStore();
      this.nodes.push({
        index: i,
        power: this.validators[i]!.power,
        byzantine: byz.has(i),
        up: true,
        epoch: 0,
        restarts: 0,
        asyncValidation: rng.chance(0.3),
        skew: 0.8 + rng.next() * 0.4,
        machine: undefined,
        store,
        guard: new DoubleSignGuard(store),
        committed: new Map(),
        log: new Map(),
        height: 0,
      });
    }

    this.groups = new Array<number>(n).fill(0);
    this.dropRate = rng.chance(0.3) ? 0 : rng.next() * 0.25;
    this.dupRate = rng.next() * 0.1;
    this.delayBase = rng.range(1, 50);
    this.delayJitter = rng.range(1, 300);
    this.spikeRate = rng.chance(0.5) ? 0 : 0.05;

    // Fault schedule for the chaos phase.
    const faults: string[] = [];
    const nFaults = rng.range(0, 6);
    const honest = this.nodes.filter((x) => !x.byzantine).map((x) => x.index);
    for (let f = 0; f < nFaults; f++) {
      const at = rng.int(this.chaosMs);
      if (rng.chance(0.5)) {
        const groups = rng.chance(0.4)
          ? this.nodes.map((x) => (x.index === rng.int(n) ? 1 : 0))
          : this.nodes.map(() => rng.int(2));
        const len = rng.range(500, 6000);
        this.queue.push(at, { k: "partition", groups });
        this.queue.push(Math.min(at + len, this.chaosMs), { k: "healPartition" });
        faults.push(`partition@${at}+${len}[${groups.join("")}]`);
      } else {
        const node = rng.pick(honest);
        const len = rng.range(200, 5000);
        this.queue.push(at, { k: "crash", node });
        this.queue.push(Math.min(at + len, this.chaosMs), { k: "restart", node });
        faults.push(`crash${node}@${at}+${len}`);
      }
    }
    this.queue.push(this.chaosMs, { k: "healAll" });
    this.scenario =
      `n=${n} powers=[${this.validators.map((v) => v.power).join(",")}] byz=[${[...byz].join(",")}] ` +
      `drop=${this.dropRate.toFixed(2)} dup=${this.dupRate.toFixed(2)} delay=${this.delayBase}+${this.delayJitter}` +
      `${this.spikeRate > 0 ? "+spikes" : ""} async=[${this.nodes.filter((x) => x.asyncValidation).map((x) => x.index)}] ` +
      `faults=${faults.join(" ") || "none"}`;
  }

  private shuffled(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  run(): SimResult {
    for (const node of this.nodes) {
      this.boot(node);
      this.queue.push(this.rng.int(GOSSIP_MS), { k: "gossip", node: node.index });
    }
    while (!this.done) {
      const q = this.queue.pop();
      if (!q) {
        this.violation("queue ran empty");
        break;
      }
      this.now = q.time;
      if (++this.events > this.maxEvents) {
        this.violation(`event budget ${this.maxEvents} exhausted at t=${this.now}`);
        break;
      }
      this.step(q.ev);
      if (this.healed && !this.done && this.now > this.healTime + this.livenessBoundMs) {
        const heights = this.honest().map((x) => `${x.index}:${x.committed.size}`);
        this.violation(
          `LIVENESS: honest nodes did not reach height ${this.livenessTarget} within ${this.livenessBoundMs} ms of the heal (heights ${heights.join(" ")})`,
        );
        break;
      }
    }
    return {
      seed: this.opts.seed,
      scenario: this.scenario,
      violations: this.violations,
      decisions: this.decisions,
      minHonestHeight: Math.min(...this.honest().map((x) => x.committed.size)),
      events: this.events,
      simTimeMs: this.now,
      stats: this.stats,
    };
  }

  private honest(): SimNode[] {
    return this.nodes.filter((x) => !x.byzantine);
  }

  private violation(msg: string): void {
    this.violations.push(`seed ${this.opts.seed} t=${this.now}: ${msg}`);
  }

  // ----------------------------------------------------------------------------------------------
  // Node lifecycle

  private boot(node: SimNode): void {
    node.up = true;
    node.epoch++;
    node.log = new Map();
    node.height = 0;
    node.guard = new DoubleSignGuard(node.store); // reloads the persisted record
    const machine = new TendermintMachine({
      validators: this.validators,
      selfIndex: node.index,
      proposer: (h, r) => this.schedule.proposer(h, r),
      getValue: (h, r) => `0a${hex(h, 8)}${hex(r, 4)}${hex(node.index, 2)}`,
      validate: (_h, valueId) => (node.asyncValidation ? undefined : validValue(valueId)),
      sign: (m) => this.sign(node, m),
      timeouts: SIM_TIMEOUTS,
    });
    node.machine = machine;
    const height = node.committed.size + 1;
    if (node.byzantine) {
      this.apply(node, machine.start(height));
      return;
    }
    // Re-join at the last height, at the round and with the lock the guard recorded, and
    // re-broadcast what was signed there: those votes may exist nowhere else any more.
    // Also feed and relay the persisted proof of its lock.
    const own: NetMsg[] = [
      ...lockProofVotes(node.guard.state, height).map((v): NetMsg => ({ t: "vote", v })),
      ...signedMessages(node.guard.state, height, node.index).map(
        (m): NetMsg => (m.kind === "proposal" ? { t: "proposal", p: m.proposal } : { t: "vote", v: m.vote }),
      ),
    ];
    this.apply(node, machine.start(height, resumeFor(node.guard.state, height)));
    for (const msg of own) {
      this.remember(node, msg);
      this.broadcast(node, msg);
      if (node.machine !== machine) break;
      if (msg.t === "proposal") this.apply(node, machine.onProposal(msg.p));
      else if (msg.t === "vote") this.apply(node, machine.onVote(msg.v));
    }
  }

  private sign(node: SimNode, m: Signable): SignResult {
    if (node.byzantine) return { ok: true };
    const d = node.guard.authorize(signRequestOf(m));
    if (d.ok) return { ok: true };
    this.stats.guardRefusals++;
    if (node.restarts === 0)
      this.violation(`GUARD: honest node ${node.index} never restarted yet was refused: ${d.message}`);
    return { ok: false };
  }

  // ----------------------------------------------------------------------------------------------
  // Events

  private step(ev: SimEvent): void {
    switch (ev.k) {
      case "deliver":
        this.deliver(ev.from, ev.to, ev.msg);
        return;
      case "timer": {
        const node = this.nodes[ev.node]!;
        if (node.up && node.epoch === ev.epoch && node.machine)
          this.apply(node, node.machine.onTimeout(ev.timeout));
        return;
      }
      case "validity": {
        const node = this.nodes[ev.node]!;
        if (node.up && node.epoch === ev.epoch && node.machine)
          this.apply(node, node.machine.onValidity(ev.height, ev.valueId, ev.valid));
        return;
      }
      case "gossip":
        this.gossip(this.nodes[ev.node]!);
        this.queue.push(this.now + GOSSIP_MS + this.rng.int(50), ev);
        return;
      case "partition":
        this.stats.partitions++;
        this.groups = ev.groups;
        return;
      case "healPartition":
        this.groups = this.groups.map(() => 0);
        return;
      case "crash": {
        const node = this.nodes[ev.node]!;
        if (!node.up) return;
        this.stats.crashes++;
        node.up = false;
        node.epoch++;
        node.machine = undefined;
        node.log = new Map();
        return;
      }
      case "restart": {
        const node = this.nodes[ev.node]!;
        if (node.up) return;
        node.restarts++;
        this.boot(node);
        return;
      }
      case "healAll":
        this.healed = true;
        this.healTime = this.now;
        this.groups = this.groups.map(() => 0);
        this.dropRate = Math.min(this.dropRate, 0.02);
        this.delayJitter = Math.min(this.delayJitter, 100);
        this.spikeRate = 0;
        for (const node of this.nodes)
          if (!node.up) {
            node.restarts++;
            this.boot(node);
          }
        this.livenessTarget = Math.max(...this.honest().map((x) => x.committed.size)) + this.livenessHeights;
        this.checkLiveness();
        return;
    }
  }

  private deliver(from: number, to: number, msg: NetMsg): void {
    const node = this.nodes[to]!;
    if (!node.up || !node.machine || this.groups[from] !== this.groups[to]) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    if (msg.t === "status") {
      this.answerStatus(node, from, msg);
      return;
    }
    const machine = node.machine;
    // Messages of the current and the next height are held (and relayed); those of the next
    // height are replayed into the machine when it gets there, so what it counts is exactly what
    // its node relays — the paper's gossip assumption.
    const h = msgHeight(msg);
    if (h === machine.state.height || h === machine.state.height + 1) this.remember(node, msg);
    this.apply(node, msg.t === "proposal" ? machine.onProposal(msg.p) : machine.onVote(msg.v));
  }

  private remember(node: SimNode, msg: NetMsg): void {
    const h = msgHeight(msg);
    let m = node.log.get(h);
    if (!m) {
      m = new Map();
      node.log.set(h, m);
    }
    m.set(msgKey(msg), msg);
  }

  private send(from: number, to: number, msg: NetMsg): void {
    if (this.groups[from] !== this.groups[to] || this.rng.chance(this.dropRate)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.rng.chance(this.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let delay = this.delayBase + this.rng.int(this.delayJitter);
      if (this.rng.chance(this.spikeRate)) delay += this.rng.range(200, 1500);
      this.queue.push(this.now + delay, { k: "deliver", from, to, msg });
    }
  }

  private broadcast(from: SimNode, msg: NetMsg): void {
    for (const peer of this.nodes) if (peer.index !== from.index) this.send(from.index, peer.index, msg);
  }

  private gossip(node: SimNode): void {
    if (!node.up || !node.machine) return;
    const { height, round } = node.machine.state;
    const have = new Set(node.log.get(height)?.keys() ?? []);
    this.broadcast(node, { t: "status", height, round, have });
  }

  private answerStatus(node: SimNode, from: number, status: Extract<NetMsg, { t: "status" }>): void {
    if (node.byzantine || !node.machine) return;
    const height = node.machine.state.height;
    if (status.height < height) {
      // Block sync stand-in: the decided proposal and precommits of the peer's height (and the next).
      for (const h of [status.height, status.height + 1]) {
        const cert = node.committed.get(h);
        if (!cert) continue;
        this.send(node.index, from, { t: "proposal", p: cert.proposal });
        for (const v of cert.precommits) this.send(node.index, from, { t: "vote", v });
      }
    } else if (status.height === height) {
      for (const [key, msg] of node.log.get(height) ?? [])
        if (!status.have.has(key)) this.send(node.index, from, msg);
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Effects

  private apply(node: SimNode, effects: Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "broadcastProposal":
          if (node.byzantine) this.byzantineProposal(node, e.proposal);
          else {
            const msg: NetMsg = { t: "proposal", p: e.proposal };
            this.remember(node, msg);
            this.broadcast(node, msg);
          }
          break;
        case "broadcastVote":
          if (node.byzantine) this.byzantineVote(node, e.vote);
          else {
            const msg: NetMsg = { t: "vote", v: e.vote };
            this.remember(node, msg);
            this.broadcast(node, msg);
          }
          break;
        case "scheduleTimeout":
          this.stats.maxRound = Math.max(this.stats.maxRound, e.timeout.round);
          this.queue.push(this.now + Math.max(1, Math.round(e.durationMs * node.skew)), {
            k: "timer",
            node: node.index,
            epoch: node.epoch,
            timeout: e.timeout,
          });
          break;
        case "validate":
          this.queue.push(this.now + this.rng.range(1, 80), {
            k: "validity",
            node: node.index,
            epoch: node.epoch,
            height: e.height,
            valueId: e.valueId,
            valid: validValue(e.valueId),
          });
          break;
        case "evidence": {
          this.stats.evidence++;
          const accused = this.nodes[e.evidence.validatorIndex];
          if (!node.byzantine && accused && !accused.byzantine)
            this.violation(
              `EVIDENCE against honest validator ${accused.index}: ${JSON.stringify(e.evidence)}`,
            );
          break;
        }
        case "decide":
          this.onDecide(node, e.height, e.round, e.valueId, e.proposal, e.precommits);
          break;
      }
    }
    const machine = node.machine;
    if (!machine || machine.state.height === node.height) return;
    node.height = machine.state.height;
    for (const h of node.log.keys()) if (h < node.height) node.log.delete(h);
    for (const msg of [...(node.log.get(node.height)?.values() ?? [])]) {
      if (node.machine !== machine || machine.state.height !== node.height) break;
      if (msg.t === "proposal") this.apply(node, machine.onProposal(msg.p));
      else if (msg.t === "vote") this.apply(node, machine.onVote(msg.v));
    }
  }

  private onDecide(
    node: SimNode,
    height: number,
    round: number,
    valueId: string,
    proposal: Proposal,
    precommits: Vote[],
  ): void {
    // Durable before anything else of this batch is sent (the effects are processed in order).
    node.committed.set(height, { proposal, precommits });
    if (node.byzantine) return;
    this.decisions++;
    if (height !== node.committed.size)
      this.violation(
        `ORDER: node ${node.index} decided height ${height} with ${node.committed.size - 1} heights before`,
      );
    const prior = this.honestDecided.get(height);
    if (prior === undefined) this.honestDecided.set(height, valueId);
    else if (prior !== valueId)
      this.violation(
        `SAFETY: honest node ${node.index} decided ${valueId} at height ${height}; another honest node decided ${prior}`,
      );
    if (!validValue(valueId))
      this.violation(`VALIDITY: honest node ${node.index} decided invalid ${valueId} at height ${height}`);
    const seen = new Set<number>();
    let power = 0;
    for (const v of precommits) {
      if (
        v.type !== VOTE_PRECOMMIT ||
        v.height !== height ||
        v.round !== round ||
        v.valueId !== valueId ||
        seen.has(v.validatorIndex)
      )
        this.violation(`VALIDITY: bad precommit in the commit of height ${height}: ${JSON.stringify(v)}`);
      seen.add(v.validatorIndex);
      power += this.validators[v.validatorIndex]?.power ?? 0;
    }
    if (!isQuorum(power, this.total))
      this.violation(`VALIDITY: commit of height ${height} holds ${power}/${this.total} power`);
    this.checkLiveness();
  }

  private checkLiveness(): void {
    if (!this.healed || this.done) return;
    if (this.honest().every((x) => x.committed.size >= this.livenessTarget)) {
      this.stats.livenessMs = this.now - this.healTime;
      this.done = true;
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Byzantine behaviour: an honest machine whose outgoing messages are rewritten.

  private otherValue(node: SimNode, height: number, not: string | null): string {
    const seen = [...(node.log.get(height)?.values() ?? [])]
      .filter((m): m is Extract<NetMsg, { t: "proposal" }> => m.t === "proposal")
      .map((m) => m.p.valueId)
      .filter((v) => v !== not);
    if (seen.length > 0 && this.rng.chance(0.6)) return this.rng.pick(seen);
    return this.rng.chance(0.5)
      ? `0b${hex(height, 8)}${hex(this.rng.int(0xffff), 4)}`
      : `bad0${hex(height, 8)}${hex(this.rng.int(0xffff), 4)}`;
  }

  private byzantineProposal(node: SimNode, p: Proposal): void {
    const x = this.rng.next();
    if (x < 0.3) this.broadcast(node, { t: "proposal", p });
    else if (x < 0.5) {
      const bad: Proposal = { ...p, valueId: `bad0${hex(p.height, 8)}${hex(p.round, 4)}`, validRound: -1 };
      this.broadcast(node, { t: "proposal", p: bad });
    } else if (x < 0.85) {
      const alt: Proposal = { ...p, valueId: this.otherValue(node, p.height, p.valueId), validRound: -1 };
      for (const peer of this.nodes)
        if (peer.index !== node.index) {
          const which = this.rng.int(3);
          if (which !== 1) this.send(node.index, peer.index, { t: "proposal", p });
          if (which !== 0) this.send(node.index, peer.index, { t: "proposal", p: alt });
        }
    }
    // else: withheld
  }

  private byzantineVote(node: SimNode, v: Vote): void {
    const x = this.rng.next();
    if (x < 0.4) this.broadcast(node, { t: "vote", v });
    else if (x < 0.55)
      return; // withheld
    else if (x < 0.8) {
      const alt: Vote = {
        ...v,
        valueId:
          v.valueId !== null && this.rng.chance(0.4) ? null : this.otherValue(node, v.height, v.valueId),
      };
      for (const peer of this.nodes)
        if (peer.index !== node.index)
          this.send(node.index, peer.index, { t: "vote", v: this.rng.chance(0.5) ? v : alt });
    } else if (x < 0.9) {
      this.broadcast(node, { t: "vote", v: { ...v, valueId: this.otherValue(node, v.height, v.valueId) } });
    } else {
      this.broadcast(node, { t: "vote", v });
      this.broadcast(node, { t: "vote", v: { ...v, round: v.round + 1 + this.rng.int(3) } });
    }
  }
}

export function simulate(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
