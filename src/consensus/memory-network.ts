/**
 * Test support: an in-memory peer network joining named nodes of one process, each seeing it as
 * the `NodeNetwork` of src/node/node.ts (the interface src/node/network.ts implements over TLS).
 *
 *   - Delivery is asynchronous and FIFO per link (one queue per direction); payloads are copied
 *     when sent. With `maxDelayMs` each queue is drained after a delay drawn from a seeded RNG.
 *   - A link is up while both ends are open and the hub allows it (no `partition` separating
 *     them, neither end `disconnect`ed, no ban). Like a broken connection, a link going down
 *     drops what it still carried; both ends get `down`, and `up` when it comes back.
 *   - `penalize` is recorded (who, whom, why) and, like the TLS network, cuts the link and bans
 *     the pair for `banMs`.
 *   - Every `broadcast` and `send` is shown to the taps (what a node said, whether or not a link
 *     carried it), and `dropWhere` makes the links lose chosen messages.
 *   - A handler that throws is recorded in `handlerErrors` (the TLS network logs it and goes on).
 */
import type { ConsensusNetwork } from "./service.js";

export interface MemoryHubOptions {
  /** Seed of the delay RNG (default 1). */
  seed?: number;
  /** Upper bound of the random delay before a link's queue is delivered; 0: next turn of the event loop. */
  maxDelayMs?: number;
  /** How long a penalty cuts the pair (default 60 s, as the TLS network); 0: recorded only. */
  banMs?: number;
}

export interface Penalty {
  /** The node that penalized. */
  by: string;
  /** The peer it penalized. */
  peer: string;
  reason: string;
}

/** One `broadcast` (`to` null) or `send` by a node. */
export interface SentMessage {
  from: string;
  to: string | null;
  channel: number;
  payload: Uint8Array;
}

export type Tap = (m: SentMessage) => void;
/** True: the link from `from` to `to` loses this message. */
export type DropRule = (from: string, to: string, channel: number, payload: Uint8Array) => boolean;

type MessageHandler = (from: { nodeId: string }, channel: number, payload: Uint8Array) => void;
type PeerHandler = (event: "up" | "down", peer: { nodeId: string }) => void;

type Item =
  | { kind: "up" | "down"; from: string; gen: number }
  | { kind: "msg"; from: string; gen: number; channel: number; payload: Uint8Array };

/** Small seeded PRNG (mulberry32): uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** One node's view of the hub: structurally the node's `NodeNetwork`. */
export class MemoryEndpoint implements ConsensusNetwork {
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly peerHandlers: PeerHandler[] = [];
  /** Inbound queues, by sender. */
  private readonly queues = new Map<string, { items: Item[]; scheduled: boolean }>();
  /** Peers whose `up` this endpoint has seen (and not yet their `down`): the link generation. */
  private readonly seen = new Map<string, number>();
  height = 0;
  closed = false;
  revalidations = 0;

  constructor(
    private readonly hub: MemoryHub,
    readonly nodeId: string,
  ) {}

  broadcast(channel: number, payload: Uint8Array): void {
    this.hub.transmit(this, null, channel, payload);
  }

  send(nodeId: string, channel: number, payload: Uint8Array): boolean {
    return this.hub.transmit(this, nodeId, channel, payload);
  }

  peers(): ReadonlyArray<{ nodeId: string; height: number }> {
    const out: Array<{ nodeId: string; height: number }> = [];
    for (const [id, gen] of this.seen) {
      if (this.hub.linkGeneration(this.nodeId, id) !== gen) continue;
      out.push({ nodeId: id, height: this.hub.endpoint(id)?.height ?? 0 });
    }
    return out;
  }

  setLocalHeight(height: number): void {
    this.height = height;
  }

  penalize(nodeId: string, reason: string): void {
    this.hub.penalized(this.nodeId, nodeId, reason);
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onPeer(handler: PeerHandler): void {
    this.peerHandlers.push(handler);
  }

  revalidate(): void {
    this.revalidations++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queues.clear();
    this.hub.left(this);
  }

  /** Queues an item from `from`; the queue drains after the hub's delay. */
  enqueue(item: Item): void {
    if (this.closed) return;
    let q = this.queues.get(item.from);
    if (!q) {
      q = { items: [], scheduled: false };
      this.queues.set(item.from, q);
    }
    q.items.push(item);
    if (q.scheduled) return;
    q.scheduled = true;
    const queue = q;
    this.hub.later(() => {
      queue.scheduled = false;
      const items = queue.items.splice(0);
      for (const it of items) this.deliver(it);
    });
  }

  private deliver(it: Item): void {
    if (this.closed) return;
    if (it.kind === "msg") {
      if (this.hub.linkGeneration(this.nodeId, it.from) !== it.gen) return;
      for (const h of this.messageHandlers) {
        try {
          h({ nodeId: it.from }, it.channel, it.payload);
        } catch (error: unknown) {
          this.hub.handlerErrors.push({ node: this.nodeId, from: it.from, error });
        }
      }
      return;
    }
    if (it.kind === "up") this.seen.set(it.from, it.gen);
    else if (this.seen.get(it.from) === it.gen) this.seen.delete(it.from);
    for (const h of this.peerHandlers) {
      try {
        h(it.kind, { nodeId: it.from });
      } catch (error: unknown) {
        this.hub.handlerErrors.push({ node: this.nodeId, from: it.from, error });
      }
    }
  }
}

export class MemoryHub {
  readonly penalties: Penalty[] = [];
  readonly handlerErrors: Array<{ node: string; from: string; error: unknown }> = [];
  private readonly endpoints = new Map<string, MemoryEndpoint>();
  /** Links up, by pair: their generation (a link that comes back is a new one). */
  private readonly links = new Map<string, number>();
  private nextGen = 1;
  private groups: Map<string, number> | undefined;
  private readonly isolated = new Set<string>();
  private readonly bans = new Map<string, number>();
  private readonly taps = new Set<Tap>();
  private drop: DropRule | undefined;
  private readonly random: () => number;
  private readonly maxDelayMs: number;
  private readonly banMs: number;

  constructor(opts: MemoryHubOptions = {}) {
    this.random = rng(opts.seed ?? 1);
    this.maxDelayMs = opts.maxDelayMs ?? 0;
    this.banMs = opts.banMs ?? 60_000;
  }

  /** A node joins (again, after `close`, when it restarts): links to the reachable nodes come up. */
  join(nodeId: string): MemoryEndpoint {
    if (this.endpoints.has(nodeId)) throw new Error(`${nodeId} is already on the hub`);
    const e = new MemoryEndpoint(this, nodeId);
    this.endpoints.set(nodeId, e);
    this.refresh();
    return e;
  }

  /** The open endpoint of `nodeId`, if any. */
  endpoint(nodeId: string): MemoryEndpoint | undefined {
    return this.endpoints.get(nodeId);
  }

  /** Only nodes of one group reach each other; a node in no group reaches nobody. */
  partition(groups: string[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.groups!.set(id, i);
    });
    this.refresh();
  }

  heal(): void {
    this.groups = undefined;
    this.refresh();
  }

  /** Cuts every link of `nodeId` (the node keeps running) until `reconnect`. */
  disconnect(nodeId: string): void {
    this.isolated.add(nodeId);
    this.refresh();
  }

  reconnect(nodeId: string): void {
    this.isolated.delete(nodeId);
    this.refresh();
  }

  /** Shows every message sent to `tap`; returns the function that removes it. */
  tap(tap: Tap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  /** Links lose the messages `rule` selects (undefined: none). */
  dropWhere(rule: DropRule | undefined): void {
    this.drop = rule;
  }

  connected(a: string, b: string): boolean {
    return this.links.has(pairKey(a, b));
  }

  /** Penalties `by` a node, or of a `peer`, or all. */
  penaltiesWhere(f: { by?: string; peer?: string } = {}): Penalty[] {
    return this.penalties.filter(
      (p) => (f.by === undefined || p.by === f.by) && (f.peer === undefined || p.peer === f.peer),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Used by the endpoints

  linkGeneration(a: string, b: string): number | undefined {
    return this.links.get(pairKey(a, b));
  }

  transmit(from: MemoryEndpoint, to: string | null, channel: number, payload: Uint8Array): boolean {
    if (from.closed) return false;
    const copy = payload.slice();
    for (const t of this.taps) t({ from: from.nodeId, to, channel, payload: copy });
    const targets = to === null ? [...this.endpoints.keys()].filter((id) => id !== from.nodeId) : [to];
    let carried = false;
    for (const id of targets) {
      const gen = this.links.get(pairKey(from.nodeId, id));
      const dest = this.endpoints.get(id);
      if (gen === undefined || !dest) continue;
      carried = true;
      if (this.drop?.(from.nodeId, id, channel, copy)) continue;
      dest.enqueue({ kind: "msg", from: from.nodeId, gen, channel, payload: copy.slice() });
    }
    return carried;
  }

  penalized(by: string, peer: string, reason: string): void {
    this.penalties.push({ by, peer, reason });
    if (this.banMs <= 0) return;
    this.bans.set(pairKey(by, peer), Date.now() + this.banMs);
    this.refresh();
    setTimeout(() => this.refresh(), this.banMs + 1).unref();
  }

  left(e: MemoryEndpoint): void {
    if (this.endpoints.get(e.nodeId) === e) this.endpoints.delete(e.nodeId);
    this.refresh();
  }

  later(f: () => void): void {
    if (this.maxDelayMs <= 0) setImmediate(f);
    else setTimeout(f, Math.floor(this.random() * (this.maxDelayMs + 1)));
  }

  // ---------------------------------------------------------------------------------------------

  private allowed(a: string, b: string): boolean {
    if (this.isolated.has(a) || this.isolated.has(b)) return false;
    if (this.groups) {
      const ga = this.groups.get(a);
      if (ga === undefined || ga !== this.groups.get(b)) return false;
    }
    const ban = this.bans.get(pairKey(a, b));
    return ban === undefined || ban <= Date.now();
  }

  /** Brings links up and down to match the open endpoints and the rules; tells both ends. */
  private refresh(): void {
    const ids = [...this.endpoints.keys()].sort();
    const want = new Set<string>();
    for (let i = 0; i < ids.length; i++)
      for (let j = i + 1; j < ids.length; j++)
        if (this.allowed(ids[i]!, ids[j]!)) want.add(pairKey(ids[i]!, ids[j]!));
    for (const [key, gen] of [...this.links]) {
      if (want.has(key)) continue;
      this.links.delete(key);
      const [a, b] = key.split("|") as [string, string];
      this.endpoints.get(a)?.enqueue({ kind: "down", from: b, gen });
      this.endpoints.get(b)?.enqueue({ kind: "down", from: a, gen });
    }
    for (const key of want) {
      if (this.links.has(key)) continue;
      const gen = this.nextGen++;
      this.links.set(key, gen);
      const [a, b] = key.split("|") as [string, string];
      this.endpoints.get(a)!.enqueue({ kind: "up", from: b, gen });
      this.endpoints.get(b)!.enqueue({ kind: "up", from: a, gen });
    }
  }
}
