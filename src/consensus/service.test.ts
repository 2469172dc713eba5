/**
 * The consensus service with real nodes: ZlNode instances (LevelDB, execution, the double-sign
 * guard and the WAL, all real) in homes written by `initTestnet`, joined by the in-memory hub of
 * memory-network.ts instead of TLS. The tests drive the chain with signed transactions and check
 * it from outside: every node holds the same blocks, each with a commit certificate that verifies
 * (`verifyCommit`) against the validator set of its height; what each node signed is read off the
 * hub, so that no node is ever seen signing two different votes for one height, round and type.
 *
 * Timeouts are small (propose 300 ms, prevote and precommit 200 ms, +100 ms a round), so each
 * scenario takes seconds. Every wait is on a condition with a deadline; no sleep is an assertion.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { buildApi } from "../api/server.js";
import { initTestnet } from "../cli/testnet.js";
import type { CborValue } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite, SuiteId } from "../crypto/suite.js";
import { decodeValidators, VALIDATORS_KEY } from "../execution/genesis-state.js";
import {
  blockHash,
  type Event,
  encodeBlockFromParts,
  proposalSignBytes,
  VOTE_PRECOMMIT,
  VOTE_PREVOTE,
  voteSignBytes,
} from "../ledger/block.js";
import { toHex } from "../ledger/bytes.js";
import { addressOf, type DecodedTx } from "../ledger/tx.js";
import { isQuorum, totalPower, type Validator, validatorsHash, verifyCommit } from "../ledger/validators.js";
import { type Logger, silentLogger } from "../log/logger.js";
import type { NodeConfig } from "../node/config.js";
import type { TxOutcome } from "../node/events.js";
import { homePaths, readPrivateKey, writePrivateKey } from "../node/home.js";
import { ZlNode } from "../node/node.js";
import { jsonToCbor } from "../sdk/args.js";
import { Signer } from "../sdk/signer.js";
import { MemoryHub, type MemoryHubOptions } from "./memory-network.js";
import {
  CHANNEL_CONSENSUS,
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  type VoteMessage,
} from "./messages.js";
import { heightStartDelay } from "./service.js";

const CONFIG: Partial<NodeConfig> = {
  blockIntervalMs: 20,
  emptyBlocks: false,
  verifyThreads: 1,
  logLevel: "silent",
  consensus: {
    timeouts: {
      proposeMs: 300,
      proposeDeltaMs: 100,
      prevoteMs: 200,
      prevoteDeltaMs: 100,
      precommitMs: 200,
      precommitDeltaMs: 100,
    },
    stallAfterMs: 1000,
  },
};
const MAX_MESSAGE = 64 * 1024 * 1024;
const WAIT_MS = 15_000;
const provenance = { system: "svc-test", generatedAt: 1_700_000_000_000, method: "test" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: () => string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(20);
  }
}

interface LogEntry {
  node: string;
  level: "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

const quiet = silentLogger();

/** A logger that keeps info, warn and error entries for assertions and failure reports. */
function recorder(node: string, sink: LogEntry[]): Logger {
  const noop = () => {};
  const rec =
    (level: LogEntry["level"]) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      sink.push({ node, level, msg, fields });
  const self: Logger = {
    pino: quiet.pino,
    trace: noop,
    debug: noop,
    info: rec("info"),
    warn: rec("warn"),
    error: rec("error"),
    child: () => self,
  };
  return self;
}

const isPrecommit = (_from: string, _to: string, channel: number, payload: Uint8Array): boolean => {
  if (channel !== CHANNEL_CONSENSUS) return false;
  const m = decodeConsensusMessage(payload, MAX_MESSAGE);
  return m.t === "vote" && m.type === VOTE_PRECOMMIT;
};

/**
 * What each node originated on the consensus channel: a message is attributed to the first node
 * seen sending those exact bytes (relays and re-gossip send copies of what another node sent first).
 */
class Traffic {
  readonly originated: Array<{ node: string; msg: ConsensusMessage }> = [];
  private readonly seen = new Set<string>();

  constructor(hub: MemoryHub) {
    hub.tap((m) => {
      if (m.channel !== CHANNEL_CONSENSUS) return;
      const key = createHash("sha256").update(m.payload).digest("hex");
      if (this.seen.has(key)) return;
      this.seen.add(key);
      try {
        this.originated.push({ node: m.from, msg: decodeConsensusMessage(m.payload, MAX_MESSAGE) });
      } catch {
        // a malformed message injected by a test
      }
    });
  }

  votes(node: string, f: { height?: number; type?: number } = {}): VoteMessage[] {
    const out: VoteMessage[] = [];
    for (const o of this.originated)
      if (
        o.node === node &&
        o.msg.t === "vote" &&
        (f.height === undefined || o.msg.height === f.height) &&
        (f.type === undefined || o.msg.type === f.type)
      )
        out.push(o.msg);
    return out;
  }

  /** Whether `node` originated a non-nil vote of `type` at `height` for `hash`. */
  voted(node: string, height: number, type: number, hash: string): boolean {
    return this.votes(node, { height, type }).some(
      (v) => v.blockHash !== null && toHex(v.blockHash) === hash,
    );
  }
}

interface TestnetOptions {
  nodes: number;
  validators?: number;
  /** Nodes started at once (default all). */
  start?: number[];
  hub?: MemoryHubOptions;
  /** Nodes outside the genesis set that get a validator key of their own (a future validator). */
  spareValidatorKeys?: number[];
}

/** N node homes from `initTestnet`, run in-process on one hub. */
class Testnet {
  readonly hub: MemoryHub;
  readonly traffic: Traffic;
  readonly logs: LogEntry[] = [];
  readonly ids: string[];
  readonly homes: string[];
  readonly nodes: Array<ZlNode | undefined>;
  readonly admins: Signer[];
  private readonly nonces: number[];

  private constructor(
    readonly dir: string,
    readonly suite: CryptoSuite,
    readonly chainId: string,
    homes: string[],
    hub: MemoryHubOptions,
  ) {
    this.hub = new MemoryHub(hub);
    this.traffic = new Traffic(this.hub);
    this.homes = homes;
    this.ids = homes.map((_, i) => `node${i}`);
    this.nodes = homes.map(() => undefined);
    this.admins = homes.map((h) => Signer.fromPem(suite, readFileSync(homePaths(h).key("admin"), "utf8")));
    this.nonces = homes.map(() => 0);
  }

  static async create(suiteId: SuiteId, o: TestnetOptions): Promise<Testnet> {
    const dir = mkdtempSync(join(tmpdir(), `zl-svc-${suiteId}-`));
    const m = initTestnet({
      dir,
      nodes: o.nodes,
      suite: suiteId,
      chainId: "zl-svc",
      config: CONFIG,
      ...(o.validators !== undefined ? { validators: o.validators } : {}),
    });
    const suite = getSuite(suiteId);
    for (const i of o.spareValidatorKeys ?? [])
      writePrivateKey(
        suite,
        homePaths(m.nodes[i]!.home).key("validator"),
        suite.generateKeyPair().privateKey,
      );
    const net = new Testnet(
      dir,
      suite,
      m.chainId,
      m.nodes.map((n) => n.home),
      o.hub ?? {},
    );
    try {
      const first = o.start ?? net.all;
      for (const i of first) await net.start(i, false);
      await net.warmUp(first);
    } catch (err: unknown) {
      await net.close();
      throw err;
    }
    return net;
  }

  get all(): number[] {
    return this.ids.map((_, i) => i);
  }

  /**
   * Has every running node verify one signature: a node's first verification starts its worker
   * thread, which takes long enough on a busy machine to make the first heights miss their rounds.
   */
  async warmUp(which: number[]): Promise<void> {
    const probe = Signer.generate(this.suite).sign(this.chainId, {
      module: "attest",
      call: "record",
      args: {},
      nonce: 0,
      expiry: 1,
    });
    await Promise.all(which.map((i) => this.node(i).checkSignatures([probe])));
  }

  async start(i: number, warm = true): Promise<ZlNode> {
    assert.equal(this.nodes[i], undefined, `${this.ids[i]} is running`);
    const node = await ZlNode.start(this.homes[i]!, {
      logger: recorder(this.ids[i]!, this.logs),
      network: async () => this.hub.join(this.ids[i]!),
    });
    this.nodes[i] = node;
    if (warm) await this.warmUp([i]);
    return node;
  }

  async stop(i: number): Promise<void> {
    const node = this.nodes[i];
    this.nodes[i] = undefined;
    await node?.stop();
  }

  node(i: number): ZlNode {
    const n = this.nodes[i];
    assert.ok(n, `${this.ids[i]} is not running`);
    return n;
  }

  validatorKey(i: number): Uint8Array {
    return readPrivateKey(this.suite, homePaths(this.homes[i]!).key("validator"));
  }

  /** A transaction of organization i's admin, with the next nonce. */
  sign(i: number, module: string, call: string, args: CborValue): DecodedTx {
    return this.admins[i]!.sign(this.chainId, {
      module,
      call,
      args,
      nonce: this.nonces[i]!++,
      expiry: 1_000_000,
    });
  }

  attest(i: number): DecodedTx {
    return this.sign(i, "attest", "record", { digest: randomBytes(32), kind: "svc", provenance });
  }

  /** Submits to node `at` and resolves once that node committed it. */
  async submit(at: number, tx: DecodedTx): Promise<TxOutcome> {
    const outcome = this.submitLater(at, tx);
    return outcome.then((o) => {
      assert.ok(o, `transaction not committed on ${this.ids[at]} within ${WAIT_MS} ms${this.diagnose()}`);
      return o;
    });
  }

  /** Submits and returns the wait for its commit (null on timeout). */
  async submitLater(at: number, tx: DecodedTx, timeoutMs = WAIT_MS): Promise<TxOutcome | null> {
    const node = this.node(at);
    const done = node.bus.waitForTx(tx.id, timeoutMs);
    const [r] = await node.submit([tx.bytes]);
    assert.ok(r?.ok, `not admitted: ${r && !r.ok ? r.error.code : "no result"}`);
    return done;
  }

  get running(): number[] {
    return this.all.filter((i) => this.nodes[i] !== undefined);
  }

  /** Commits an attestation sent to node `at` and waits until every running node holds it: then the chain is idle. */
  async settle(at = 0): Promise<number> {
    const o = await this.submit(at, this.attest(at));
    await this.waitHeight(o.height, this.running);
    return o.height;
  }

  async waitHeight(height: number, which: number[] = this.all): Promise<void> {
    await waitFor(
      () => which.every((i) => this.node(i).chain.height >= height),
      () => `${which.map((i) => this.ids[i]).join(",")} at height ${height}${this.diagnose()}`,
    );
  }

  /** Commits attestations (one per block, from rotating nodes of `which`) until all are at `height`. */
  async driveTo(height: number, which: number[] = this.all): Promise<void> {
    for (let k = 0; Math.min(...which.map((i) => this.node(i).chain.height)) < height; k++) {
      const at = which[k % which.length]!;
      await this.submit(at, this.attest(at));
    }
    await this.waitHeight(height, which);
  }

  hash(i: number, height: number): string {
    return toHex(blockHash(this.suite.hash, this.node(i).chain.block(height).header));
  }

  /** The validator set that signs `height` on node i: the state after height − 1. */
  setAt(i: number, height: number): Validator[] {
    const chain = this.node(i).chain;
    if (height === 1) return chain.genesis.validators;
    const v = chain.stateAt(VALIDATORS_KEY, height - 1).value;
    assert.ok(v, `no validator set at ${height - 1}`);
    return decodeValidators(v);
  }

  /**
   * Every node of `which` holds the same block at every height all of them have, and each stored
   * commit certificate verifies against that height's set with more than two thirds of its power.
   */
  checkChains(which: number[] = this.all): number {
    const top = Math.min(...which.map((i) => this.node(i).chain.height));
    for (let h = 1; h <= top; h++) {
      const hash = this.hash(which[0]!, h);
      for (const i of which) {
        const chain = this.node(i).chain;
        const header = chain.block(h).header;
        assert.equal(this.hash(i, h), hash, `${this.ids[i]} holds another block ${h}`);
        const set = this.setAt(i, h);
        const check = verifyCommit(this.suite.hash, this.suite.verify, set, header, chain.commitOf(h));
        assert.ok(check.ok, `${this.ids[i]} commit ${h}: ${check.ok ? "" : check.reason}`);
        assert.ok(isQuorum(check.signedPower, totalPower(set)));
      }
    }
    return top;
  }

  /** No honest node penalized, no handler failed, no node halted, nobody signed two votes for one step. */
  assertHealthy(): void {
    const honest = new Set(this.ids);
    assert.deepEqual(
      this.hub.penalties.filter((p) => honest.has(p.peer)),
      [],
      "an honest node was penalized",
    );
    assert.deepEqual(this.hub.handlerErrors, [], "a message handler threw");
    assert.deepEqual(
      this.logs.filter((l) => l.level === "error"),
      [],
      "a node logged an error",
    );
    this.assertNoDoubleSigning();
  }

  assertNoDoubleSigning(): void {
    const signed = new Map<string, string>();
    for (const { node, msg } of this.traffic.originated) {
      if (!this.ids.includes(node)) continue;
      const key =
        msg.t === "vote"
          ? `${node} ${msg.type === VOTE_PREVOTE ? "prevote" : "precommit"} ${msg.height}/${msg.round}`
          : `${node} proposal ${msg.height}/${msg.round}`;
      const value =
        msg.t === "vote"
          ? msg.blockHash === null
            ? "nil"
            : toHex(msg.blockHash)
          : `${toHex(createHash("sha256").update(msg.block).digest())}/${msg.validRound}`;
      const prior = signed.get(key);
      assert.ok(prior === undefined || prior === value, `double signing: ${key}: ${prior} and ${value}`);
      signed.set(key, value);
    }
  }

  diagnose(): string {
    const lines = this.nodes.map((n, i) => {
      if (!n) return `  ${this.ids[i]}: stopped`;
      const s = n.consensusStatus();
      return `  ${this.ids[i]}: height ${n.chain.height} ${s ? JSON.stringify(s) : ""}`;
    });
    const tail = this.logs
      .filter((l) => l.level !== "info")
      .slice(-8)
      .map((l) => `  ${l.node} ${l.level} ${l.msg} ${JSON.stringify(l.fields)}`);
    return `\n${lines.join("\n")}\n${tail.join("\n")}`;
  }

  async close(): Promise<void> {
    for (const i of this.all) await this.stop(i);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function withTestnet(
  suiteId: SuiteId,
  o: TestnetOptions,
  f: (net: Testnet) => Promise<void>,
): Promise<void> {
  const net = await Testnet.create(suiteId, o);
  try {
    await f(net);
  } finally {
    await net.close();
  }
}

function eventOf(o: TxOutcome, type: string): Event {
  assert.equal(o.receipt.code, "OK");
  const e = o.receipt.events.find((x) => x.type === type);
  assert.ok(e, `no ${type} event in ${JSON.stringify(o.receipt.events.map((x) => x.type))}`);
  return e;
}

// -------------------------------------------------------------------------------------------------

for (const suiteId of ["intl", "gm"] as const) {
  describe(`four validators and an observer (${suiteId})`, () => {
    it("commits transactions submitted to different nodes; every node holds the same certified blocks; the observer never signs", async () => {
      // gm also runs with a jittery network: each link delivers after 0–4 ms (seeded).
      const hub = suiteId === "gm" ? { maxDelayMs: 4, seed: 7 } : {};
      await withTestnet(suiteId, { nodes: 5, validators: 4, hub }, async (net) => {
        const sent = [0, 1, 2, 3, 4, 0, 1, 2].map((at) => ({ at, tx: net.attest(at) }));
        const outcomes = await Promise.all(sent.map(({ at, tx }) => net.submit(at, tx)));
        const top = Math.max(...outcomes.map((o) => o.height));
        await net.waitHeight(top);
        assert.equal(net.checkChains(), top);
        // Every transaction is in the block its node reported, on every node.
        sent.forEach(({ tx }, k) => {
          for (const i of net.all) {
            const ids = net
              .node(i)
              .chain.block(outcomes[k]!.height)
              .txs.map((t) => t.signature);
            assert.ok(ids.some((s) => toHex(s) === toHex(tx.tx.signature)));
          }
        });
        for (const i of [0, 1, 2, 3]) assert.equal(net.node(i).consensusStatus()!.validatorIndex, i);
        const observer = net.node(4).consensusStatus()!;
        assert.equal(observer.validatorIndex, -1);
        assert.equal(observer.stalled, false);
        // The observer relayed what validators said, and said nothing of its own.
        assert.deepEqual(
          net.traffic.originated.filter((o) => o.node === "node4"),
          [],
        );
        net.assertHealthy();
      });
    });
  });
}

describe("the pause between heights", () => {
  it("a height starts the block interval after the previous one started: at once after a longer height, never later than the interval", () => {
    assert.equal(heightStartDelay(1_000, 1_030, 100), 70, "a 30 ms height waits out the rest");
    assert.equal(heightStartDelay(1_000, 1_100, 100), 0);
    assert.equal(heightStartDelay(1_000, 2_500, 100), 0, "a 1.5 s height is followed at once");
    assert.equal(heightStartDelay(1_000, 400, 100), 100, "a clock set back does not stretch the pause");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (start, elapsed, interval) => {
          const d = heightStartDelay(start, start + elapsed, interval);
          assert.ok(d >= 0 && d <= interval);
          if (elapsed >= interval) assert.equal(d, 0);
          else if (elapsed >= 0) assert.equal(d, interval - elapsed);
        },
      ),
    );
  });
});

describe("liveness (intl)", () => {
  it("one validator down: the other three commit; two down mid-height: stalled with at most 2/3 visible; back: commits resume by themselves", async () => {
    await withTestnet("intl", { nodes: 4 }, async (net) => {
      const start = await net.settle();
      net.hub.disconnect("node3");
      const o = await net.submit(1, net.attest(1));
      await net.waitHeight(o.height, [0, 1, 2]);
      assert.equal(net.node(3).chain.height, start);

      // Two down in the middle of a height: all precommits are lost until node2 is gone.
      const h = o.height + 1;
      net.hub.dropWhere(isPrecommit);
      const pending = net.submitLater(0, net.attest(0), 30_000);
      await waitFor(
        () =>
          [0, 1, 2].every(
            (i) => net.traffic.votes(`node${i}`, { height: h, type: VOTE_PRECOMMIT }).length > 0,
          ),
        () => `precommits of nodes 0-2 at ${h}${net.diagnose()}`,
      );
      net.hub.disconnect("node2");
      net.hub.dropWhere(undefined);
      await waitFor(
        () => [0, 1].every((i) => net.node(i).consensusStatus()!.stalled),
        () => `stalled${net.diagnose()}`,
      );
      await waitFor(
        () => [0, 1].every((i) => !net.node(i).consensusStatus()!.quorumVisible),
        () => `quorum no longer visible${net.diagnose()}`,
        10_000,
      );
      for (const i of [0, 1]) {
        const s = net.node(i).consensusStatus()!;
        assert.equal(s.height, h);
        assert.ok(s.visiblePower * 3 <= s.totalPower * 2, `visible ${s.visiblePower} of ${s.totalPower}`);
        assert.equal(net.node(i).chain.height, h - 1);
      }

      // Both come back: the height decides and the chain goes on, with no one's help.
      net.hub.reconnect("node2");
      net.hub.reconnect("node3");
      assert.ok(await pending, `height ${h} did not commit after the reconnection${net.diagnose()}`);
      await net.waitHeight(h);
      const after = await net.submit(3, net.attest(3));
      await net.waitHeight(after.height);
      await waitFor(
        () => net.all.every((i) => !net.node(i).consensusStatus()!.stalled),
        () => `not stalled${net.diagnose()}`,
      );
      net.checkChains();
      net.assertHealthy();
    });
  });

  it("a validator started late catches up by block sync, then votes again", async () => {
    await withTestnet("intl", { nodes: 4, start: [0, 1, 2] }, async (net) => {
      for (let k = 0; k < 3; k++) await net.submit(k, net.attest(k));
      const top = net.node(0).chain.height;
      await net.waitHeight(top, [0, 1, 2]);
      await net.start(3);
      await net.waitHeight(top, [3]);
      assert.ok(net.logs.some((l) => l.node === "node3" && l.msg === "block synced"));
      // It takes part again: a precommit of its own for a block that commits.
      let voted = false;
      for (let k = 0; k < 4 && !voted; k++) {
        const o = await net.submit(3, net.attest(3));
        await net.waitHeight(o.height);
        voted = net.traffic.voted("node3", o.height, VOTE_PRECOMMIT, net.hash(0, o.height));
      }
      assert.ok(voted, `node3 never precommitted a committed block after catching up${net.diagnose()}`);
      net.checkChains();
      net.assertHealthy();
    });
  });
});

describe("byzantine peers (intl)", () => {
  it("bad signatures on votes and proposals are penalized and nothing of them is counted or relayed", async () => {
    await withTestnet("intl", { nodes: 4, hub: { banMs: 0 } }, async (net) => {
      const h = (await net.settle()) + 1;
      // Messages of a height are re-gossiped while it runs more than a second after the last commit.
      await waitFor(
        () => net.all.every((i) => net.node(i).consensusStatus()!.lastCommitAgoMs > 1200),
        () => "an idle second",
      );
      const chain = net.node(0).chain;
      const set = chain.validators();
      const prepared = chain.prepareBlock(
        [],
        Date.now(),
        addressOf(net.suite, set[chain.proposerIndex(0)]!.publicKey),
      );
      const junk = () => new Uint8Array(randomBytes(64));
      const forged: ConsensusMessage[] = [
        {
          t: "proposal",
          height: h,
          round: 0,
          validRound: -1,
          block: encodeBlockFromParts(prepared.block.header, prepared.txBytes),
          signature: junk(),
        },
      ];
      // Forged votes of every validator: if counted, rounds 5+ would be entered at once.
      for (const height of [h, h + 1])
        for (let round = 5; round <= 7; round++)
          for (let v = 0; v < set.length; v++)
            for (const type of [VOTE_PREVOTE, VOTE_PRECOMMIT] as const)
              forged.push({
                t: "vote",
                type,
                height,
                round,
                blockHash: null,
                validatorIndex: v,
                signature: junk(),
              });
      // A proposal for the next height whose block is not a block.
      forged.push({
        t: "proposal",
        height: h + 1,
        round: 0,
        validRound: -1,
        block: Uint8Array.of(0xff, 0x00, 0x01),
        signature: junk(),
      });
      const forgedBytes = new Set(forged.map((m) => toHex(encodeConsensusMessage(m))));
      const relayed: string[] = [];
      net.hub.tap((m) => {
        if (m.from !== "mallory" && forgedBytes.has(toHex(m.payload))) relayed.push(m.from);
      });
      // Height h hangs (no precommit arrives) long enough for its messages to be re-gossiped.
      net.hub.dropWhere(isPrecommit);
      const mallory = net.hub.join("mallory");
      for (const m of forged) mallory.broadcast(CHANNEL_CONSENSUS, encodeConsensusMessage(m));
      const pending = net.submitLater(1, net.attest(1));
      const reasonsOf = (id: string) =>
        net.hub.penaltiesWhere({ by: id, peer: "mallory" }).map((p) => p.reason);
      await waitFor(
        () =>
          net.ids.every(
            (id) =>
              reasonsOf(id).includes("vote with a bad signature") &&
              reasonsOf(id).includes("proposal with a bad signature"),
          ),
        () => `penalties of mallory: ${JSON.stringify(net.hub.penalties)}`,
      );
      await waitFor(
        () => net.all.every((i) => net.node(i).consensusStatus()!.lastCommitAgoMs > 1800),
        () => "a re-gossip",
      );
      net.hub.dropWhere(undefined);
      assert.ok(await pending, `height ${h} not committed${net.diagnose()}`);
      const o = await net.submit(2, net.attest(2));
      await net.waitHeight(Math.max(h + 1, o.height));
      for (const at of [h, h + 1])
        for (const i of net.all)
          assert.ok(net.node(i).chain.commitOf(at).round < 5, `forged votes counted at ${at}`);
      assert.deepEqual(relayed, [], "an honest node relayed a forged message");
      // The malformed block is held with height h + 1 and decoded only when a node runs that
      // height. A node that falls behind may instead take h + 1 from its peers' commit certificate
      // and never run it; every validator that signed h + 1's commit did run it.
      const ranNext = net
        .node(0)
        .chain.commitOf(h + 1)
        .signatures.map((s) => s.validatorIndex);
      assert.ok(ranNext.length >= 3, "a commit of h + 1 holds a quorum of the four");
      for (const i of net.all) {
        const index = net.node(i).consensusStatus()!.validatorIndex;
        if (!ranNext.includes(index)) continue;
        const id = net.ids[i]!;
        assert.ok(
          reasonsOf(id).some((r) => r.startsWith("CODEC_")),
          `${id} ran height ${h + 1} but did not penalize the malformed block: ${reasonsOf(id)}`,
        );
      }
      net.checkChains();
      net.assertHealthy();
    });
  });

  it("forged nil votes held for a height do not shadow the validators' own nil votes", async () => {
    await withTestnet("intl", { nodes: 4, hub: { banMs: 0 } }, async (net) => {
      const h = (await net.settle()) + 1;
      // Round 0 of height h needs nil prevotes: its proposer is away.
      const p = net.node(0).chain.proposerIndex(0);
      const honest = net.all.filter((i) => i !== p);
      net.hub.disconnect(net.ids[p]!);
      const mallory = net.hub.join("mallory");
      for (let round = 0; round <= 3; round++)
        for (let v = 0; v < 4; v++)
          for (const type of [VOTE_PREVOTE, VOTE_PRECOMMIT] as const)
            mallory.broadcast(
              CHANNEL_CONSENSUS,
              encodeConsensusMessage({
                t: "vote",
                type,
                height: h,
                round,
                blockHash: null,
                validatorIndex: v,
                signature: new Uint8Array(randomBytes(64)),
              }),
            );
      // The forged votes may start height h before the transaction arrives (it then commits at
      // h + 1); either way height h had to get past round 0, whose proposer is away.
      const o = await net.submit(honest[0]!, net.attest(honest[0]!));
      assert.ok(o.height >= h, `committed at ${o.height}, before ${h}`);
      await net.waitHeight(o.height, honest);
      for (const i of honest) assert.ok(net.node(i).chain.commitOf(h).round >= 1);
      net.hub.reconnect(net.ids[p]!);
      await net.waitHeight(h);
      net.checkChains();
      net.assertHealthy();
    });
  });

  it("a validator's two conflicting precommits, and its two proposals for one round, are seen by every honest node and, reported by an organization, go on record", async () => {
    await withTestnet("intl", { nodes: 4 }, async (net) => {
      const h = (await net.settle()) + 1;
      // Validator 3's key signs two precommits for height h, round 0, from outside the network.
      const m = 3;
      net.hub.disconnect(net.ids[m]!);
      const honest = net.all.filter((i) => i !== m);
      const key = net.validatorKey(m);
      const publicKey = net.suite.publicKeyFromPrivate(key);
      const index = net
        .node(0)
        .chain.validators()
        .findIndex((v) => toHex(v.publicKey) === toHex(publicKey));
      const mallory = net.hub.join("mallory");
      for (const blockHash of [new Uint8Array(randomBytes(32)), null])
        mallory.broadcast(
          CHANNEL_CONSENSUS,
          encodeConsensusMessage({
            t: "vote",
            type: VOTE_PRECOMMIT,
            height: h,
            round: 0,
            blockHash,
            validatorIndex: index,
            signature: net.suite.sign(key, voteSignBytes(net.chainId, VOTE_PRECOMMIT, h, 0, blockHash)),
          }),
        );
      // Two different blocks proposed for a round in which validator 3 is the proposer.
      const chain = net.node(honest[0]!).chain;
      const round = [1, 2, 3, 4, 5, 6, 7, 8].find((r) => chain.proposerIndex(r) === index)!;
      const now = Date.now();
      for (const time of [now, now + 1]) {
        const prepared = chain.prepareBlock([], time, addressOf(net.suite, publicKey));
        mallory.broadcast(
          CHANNEL_CONSENSUS,
          encodeConsensusMessage({
            t: "proposal",
            height: h,
            round,
            validRound: -1,
            block: encodeBlockFromParts(prepared.block.header, prepared.txBytes),
            signature: net.suite.sign(key, proposalSignBytes(net.chainId, h, round, -1, prepared.hash)),
          }),
        );
      }
      await net.submit(honest[0]!, net.attest(honest[0]!));
      const kinds = (i: number) =>
        new Set(
          net
            .node(i)
            .observedEquivocations()
            .filter((e) => e.height === h)
            .map((e) => e.kind),
        );
      await waitFor(
        () => honest.every((i) => kinds(i).has("vote") && kinds(i).has("proposal")),
        () => `observed: ${JSON.stringify(honest.map((i) => [...kinds(i)]))}`,
      );
      const api = await buildApi(net.node(honest[0]!));
      try {
        const evidence = async () =>
          (await api.inject({ method: "GET", url: "/v1/evidence" })).json() as {
            observed: Array<{
              type: string;
              height: number;
              onRecord: boolean;
              validator: { publicKey: string };
              report: unknown;
            }>;
          };
        const seen = (await evidence()).observed;
        assert.deepEqual(seen.map((e) => e.type).sort(), ["precommit", "proposal"]);
        for (const e of seen) {
          assert.equal(e.height, h);
          assert.equal(e.validator.publicKey, toHex(publicKey));
          assert.equal(e.onRecord, false);
          // Organization 0's admin reports it, with the arguments exactly as the API gave them.
          const o = await net.submit(honest[0]!, net.sign(0, "evidence", "report", jsonToCbor(e.report)));
          assert.equal(o.receipt.code, "OK", `report of the ${e.type} pair`);
          assert.equal(o.receipt.events[0]!.attributes.org, chain.validators()[index]!.org);
        }
        assert.ok((await evidence()).observed.every((e) => e.onRecord));
      } finally {
        await api.close();
      }
      net.hub.reconnect(net.ids[m]!);
      const after = await net.submit(m, net.attest(m));
      await net.waitHeight(after.height);
      net.checkChains();
    });
  });

  it("an invalid block signed by the rightful proposer is not committed: validators prevote nil and a later round decides", async () => {
    await withTestnet("intl", { nodes: 4 }, async (net) => {
      const h = (await net.settle()) + 1;
      const p = net.node(0).chain.proposerIndex(0);
      const honest = net.all.filter((i) => i !== p);
      net.hub.disconnect(net.ids[p]!);
      // The proposer's key, used by someone else, for a block whose state root is wrong.
      const key = net.validatorKey(p);
      const prepared = net
        .node(honest[0]!)
        .chain.prepareBlock([], Date.now(), addressOf(net.suite, net.suite.publicKeyFromPrivate(key)));
      const stateRoot = prepared.block.header.stateRoot.slice();
      stateRoot[0]! ^= 0xff;
      const header = { ...prepared.block.header, stateRoot };
      const bad = blockHash(net.suite.hash, header);
      const mallory = net.hub.join("mallory");
      mallory.broadcast(
        CHANNEL_CONSENSUS,
        encodeConsensusMessage({
          t: "proposal",
          height: h,
          round: 0,
          validRound: -1,
          block: encodeBlockFromParts(header, prepared.txBytes),
          signature: net.suite.sign(key, proposalSignBytes(net.chainId, h, 0, -1, bad)),
        }),
      );
      await net.submit(honest[0]!, net.attest(honest[0]!));
      await net.waitHeight(h, honest);
      for (const i of honest) {
        assert.notEqual(net.hash(i, h), toHex(bad));
        assert.ok(
          net.node(i).chain.commitOf(h).round >= 1,
          `decided in round 0: proposer ${toHex(net.node(i).chain.block(h).header.proposer)}, expected not ${toHex(addressOf(net.suite, net.suite.publicKeyFromPrivate(key)))}${net.diagnose()}`,
        );
        const prevotes = net.traffic.votes(net.ids[i]!, { height: h, type: VOTE_PREVOTE });
        assert.ok(
          prevotes.some((v) => v.round === 0 && v.blockHash === null),
          `${net.ids[i]} prevoted nil`,
        );
        assert.ok(!prevotes.some((v) => v.blockHash !== null && toHex(v.blockHash) === toHex(bad)));
        assert.ok(
          net.logs.some(
            (l) =>
              l.node === net.ids[i] && l.msg === "proposed block is invalid" && l.fields.block === toHex(bad),
          ),
        );
      }
      net.hub.reconnect(net.ids[p]!);
      const o = await net.submit(p, net.attest(p));
      await net.waitHeight(o.height);
      net.checkChains();
      net.assertHealthy();
    });
  });
});

describe("validator set changes by governance (intl)", () => {
  it("four organizations add a fifth validator, which then signs; a restarted node follows; a removed validator stops signing", async () => {
    await withTestnet("intl", { nodes: 5, validators: 4, spareValidatorKeys: [4] }, async (net) => {
      const genesisSet = net.node(0).chain.genesis.validators;
      const newKey = net.suite.publicKeyFromPrivate(net.validatorKey(4));
      const added: Validator[] = [...genesisSet, { publicKey: newKey, power: 10, org: "dept4" }];

      const proposed = await net.submit(
        0,
        net.sign(0, "governance", "propose", {
          action: { kind: "addValidator", publicKey: newKey, power: 10, org: "dept4" },
        }),
      );
      const id = eventOf(proposed, "proposed").attributes.id as number;
      let last = proposed;
      for (const i of [1, 2, 3])
        last = await net.submit(i, net.sign(i, "governance", "vote", { id, approve: true }));
      const effective = eventOf(last, "passed").attributes.effectiveAt as number;
      assert.equal(effective, last.height + 2);
      await net.driveTo(effective + 1);

      const hash = (set: Validator[]) => toHex(validatorsHash(net.suite.hash, set));
      const chain = net.node(0).chain;
      assert.equal(toHex(chain.block(effective - 1).header.validatorsHash), hash(genesisSet));
      assert.equal(toHex(chain.block(effective - 1).header.nextValidatorsHash), hash(added));
      assert.equal(toHex(chain.block(effective).header.validatorsHash), hash(added));
      assert.equal(net.node(4).consensusStatus()!.validatorIndex, 4);
      // The new validator's signature is in commit certificates (its own, at least).
      const signsCommits = () =>
        net.all.some((i) => {
          const c = net.node(i);
          for (let h = effective; h <= c.chain.height; h++)
            if (c.chain.commitOf(h).signatures.some((s) => s.validatorIndex === 4)) return true;
          return false;
        });
      for (let k = 0; k < 4 && !signsCommits(); k++) await net.driveTo(net.node(0).chain.height + 1);
      assert.ok(signsCommits(), `validator 4 in no commit${net.diagnose()}`);
      net.checkChains();

      // A node restarted after the change catches up through blocks signed by the new set.
      await net.stop(1);
      const others = [0, 2, 3, 4];
      await net.driveTo(net.node(0).chain.height + 2, others);
      await net.start(1);
      await net.waitHeight(net.node(0).chain.height);
      await net.driveTo(net.node(0).chain.height + 1);
      net.checkChains();

      // Removing validator 3 (organization 4 votes now too).
      const removedKey = genesisSet[3]!.publicKey;
      const p2 = await net.submit(
        0,
        net.sign(0, "governance", "propose", { action: { kind: "removeValidator", publicKey: removedKey } }),
      );
      const id2 = eventOf(p2, "proposed").attributes.id as number;
      let last2 = p2;
      for (const i of [1, 2, 4])
        last2 = await net.submit(i, net.sign(i, "governance", "vote", { id: id2, approve: true }));
      const effective2 = eventOf(last2, "passed").attributes.effectiveAt as number;
      await net.driveTo(effective2 + 3);
      const reduced = added.filter((v) => toHex(v.publicKey) !== toHex(removedKey));
      assert.equal(toHex(net.node(0).chain.block(effective2).header.validatorsHash), hash(reduced));
      assert.equal(net.node(3).consensusStatus()!.validatorIndex, -1);
      for (const i of net.all)
        for (let h = effective2; h <= net.node(i).chain.height; h++)
          for (const s of net.node(i).chain.commitOf(h).signatures)
            assert.notEqual(toHex(reduced[s.validatorIndex]!.publicKey), toHex(removedKey));
      const late = net.traffic
        .votes("node3")
        .filter((v) => v.height >= effective2)
        .map((v) => `${v.height}/${v.round}`);
      assert.deepEqual(late, [], "the removed validator still votes");
      net.checkChains();
      net.assertHealthy();
    });
  });
});

describe("restart (gm)", () => {
  it("a validator restarted in the middle of a height never signs twice and rejoins", async () => {
    await withTestnet("gm", { nodes: 4 }, async (net) => {
      const h = (await net.settle()) + 1;
      const p = net.node(0).chain.proposerIndex(0);
      const x = (p + 1) % 4;
      // Everyone prevotes and precommits, but no precommit arrives: the height hangs in round 0.
      net.hub.dropWhere(isPrecommit);
      const pending = net.submitLater(p, net.attest(p), 30_000);
      await waitFor(
        () => net.ids.every((id) => net.traffic.votes(id, { height: h, type: VOTE_PRECOMMIT }).length > 0),
        () => `precommits at ${h}${net.diagnose()}`,
      );
      const before = net.traffic.votes(net.ids[x]!, { height: h }).length;
      await net.stop(x);
      await net.start(x);
      net.hub.dropWhere(undefined);
      assert.ok(await pending, `height ${h} not committed${net.diagnose()}`);
      await net.waitHeight(h);
      assert.ok(existsSync(join(homePaths(net.homes[x]!).consensus, "sign-state.json")));
      // Its votes of height 2 after the restart (SM2 signs anew) repeat what it signed before.
      assert.ok(net.traffic.votes(net.ids[x]!, { height: h }).length >= before);
      for (const v of net.traffic.votes(net.ids[x]!)) assert.equal(v.validatorIndex, x);
      let voted = false;
      for (let k = 0; k < 4 && !voted; k++) {
        const o = await net.submit(x, net.attest(x));
        await net.waitHeight(o.height);
        voted = net.traffic.voted(net.ids[x]!, o.height, VOTE_PRECOMMIT, net.hash(0, o.height));
      }
      assert.ok(voted, `${net.ids[x]} does not vote after its restart${net.diagnose()}`);
      net.checkChains();
      net.assertHealthy();
    });
  });
});
