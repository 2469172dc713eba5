/**
 * Network faults with real OS processes: four validators (one per department) whose every
 * connection runs through a fault-injecting TCP proxy (fault-proxy.ts), under steady load from
 * this process. Repeatedly a validator is killed with SIGKILL and restarted on the same home, or
 * cut off from the others through the proxy and healed. The network is observed as a black box,
 * through the nodes' HTTP API and logs only. Afterwards:
 *   (a) all nodes hold the same block at every height up to the common height;
 *   (b) every transaction an API acknowledged as committed is in the block of the height it was
 *       reported at, on every node;
 *   (c) every stored commit certificate verifies against the validator set and certifies that
 *       block, and no node observed an equivocation (refusals of the double-sign guard are the
 *       guard working and are allowed) or halted;
 *   (d) restarted validators caught up;
 *   (e) while one validator was cut off the other three kept committing, the isolated one saw
 *       less than a quorum of voting power, and after healing it caught up.
 * Set ZL_FAULT_SUITES=intl,gm to run the national suite as well; ZL_FAULT_KEEP=1 keeps the homes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { enrolTxs } from "../bench/load.js";
import { type NodeProcess, spawnNode, spawnNodes } from "../bench/spawn-node.js";
import { initTestnet } from "../cli/testnet.js";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { decodeBlock, decodeCommit } from "../ledger/block.js";
import { fromHex, toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import { verifyCommit } from "../ledger/validators.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";
import type { NodeConfig } from "./config.js";
import { FaultProxy, freePortBase } from "./fault-proxy.js";
import { homePaths, readGenesisFile, readPrivateKey } from "./home.js";
import { fetchStatus, logTail, sleep, waitFor } from "./process-test-support.js";

const NODES = 4;
const SENDERS = 24;
/** Transactions each sender has in flight (consecutive nonces). */
const WINDOW = 4;

interface Status {
  height: number;
  latestBlockHash: string;
  consensus: {
    height: number;
    round: number;
    stalled: boolean;
    quorumVisible: boolean;
    visiblePower: number;
  };
  peers: Array<{ nodeId: string; height: number }>;
}

interface BlockJson {
  height: number;
  hash: string;
  txs: string[];
  encoded: { block: string; commit: string };
}

interface Ack {
  height: number;
  node: number;
}

/**
 * Steady load: each sender account has WINDOW attestations in flight, each submitted with
 * `?wait` to a healthy node (its own first); an answer other than "committed" is settled by
 * looking the transaction up on the healthy nodes and resubmitting the same bytes if no node
 * knows it. Records every transaction an API acknowledged as committed, with its height.
 */
class Load {
  readonly acked = new Map<string, Ack>();
  readonly healthy: boolean[] = Array(NODES).fill(true);
  submits = 0;
  unsettled = 0;
  private stopping = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly clients: ZlClient[],
    private readonly chainId: string,
    private readonly senders: Signer[],
  ) {}

  start(): void {
    this.workers = this.senders.map((s, i) => this.run(s, i % NODES));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  private pick(preferred: number, attempt: number): number | undefined {
    for (let k = 0; k < NODES; k++) {
      const n = (preferred + attempt + k) % NODES;
      if (this.healthy[n]) return n;
    }
    return undefined;
  }

  private async run(sender: Signer, preferred: number): Promise<void> {
    let next = 0;
    const slot = async () => {
      while (!this.stopping) {
        const tx = sender.sign(this.chainId, {
          module: "attest",
          call: "record",
          args: {
            digest: randomBytes(32),
            kind: "fault",
            provenance: { system: "network-fault.test", generatedAt: Date.now(), method: "random" },
          },
          nonce: next++,
          expiry: 1_000_000,
        });
        if (!(await this.settle(tx, preferred))) this.unsettled++;
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, slot));
  }

  /** True once the transaction was acknowledged committed; false if the load stopped first. */
  private async settle(tx: DecodedTx, preferred: number): Promise<boolean> {
    const id = toHex(tx.id);
    for (let attempt = 0; !this.stopping; attempt++) {
      const n = this.pick(preferred, attempt);
      if (n === undefined) {
        await sleep(100);
        continue;
      }
      try {
        this.submits++;
        const r = await this.clients[n]!.submitRaw(tx.bytes, { wait: true, timeoutMs: 3_000 });
        if (r.status === "committed") {
          this.acked.set(id, { height: r.height!, node: n });
          return true;
        }
      } catch {
        // refused (already pending or committed, mempool full) or the node is down: look it up
      }
      let pause = 50;
      for (let k = 0; k < NODES; k++) {
        const m = this.pick(preferred, attempt + k);
        if (m === undefined) break;
        try {
          const t = (await this.clients[m]!.getTx(id)) as { status: string; height?: number };
          if (t.status === "committed") {
            this.acked.set(id, { height: t.height!, node: m });
            return true;
          }
          if (t.status === "pending") {
            pause = 200; // it will commit or be resubmitted elsewhere
            break;
          }
        } catch {
          // not found there, or the node is down
        }
      }
      await sleep(pause);
    }
    return false;
  }
}

interface LogScan {
  guardRefusals: number;
  equivocations: string[];
  halts: string[];
}

function scanLog(path: string): LogScan {
  const out: LogScan = { guardRefusals: 0, equivocations: [], halts: [] };
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec: { msg?: string };
    try {
      rec = JSON.parse(line) as { msg?: string };
    } catch {
      continue; // a line cut short by SIGKILL
    }
    if (rec.msg === "double-sign guard refused to sign") out.guardRefusals++;
    else if (rec.msg === "equivocation observed") out.equivocations.push(line);
    else if (rec.msg === "consensus halted") out.halts.push(line);
  }
  return out;
}

const suites = (process.env.ZL_FAULT_SUITES ?? "intl").split(",") as SuiteId[];

for (const suiteId of suites)
  describe(`network faults with ${NODES} validator processes behind a fault proxy (${suiteId})`, () => {
    const dir = mkdtempSync(join(tmpdir(), `zl-netfault-${suiteId}-`));
    const procs: Array<NodeProcess | undefined> = Array(NODES).fill(undefined);
    let proxy: FaultProxy | undefined;
    const killAll = () => {
      for (const p of procs)
        if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    };
    process.once("exit", killAll); // a last resort should the runner die before `after`

    after(async () => {
      killAll();
      await Promise.all(procs.map((p) => p?.exited));
      await proxy?.close();
      if (process.env.ZL_FAULT_KEEP === "1") console.error(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    });

    it("keeps one chain and every acknowledged transaction across kill -9, restarts and isolation", {
      timeout: 420_000,
    }, async () => {
      const t0 = Date.now();
      const log = (m: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
      const base = await freePortBase(2 * NODES);
      const manifest = initTestnet({
        dir,
        nodes: NODES,
        suite: suiteId,
        chainId: "zl-netfault",
        p2pPort: base,
        apiPort: base + NODES,
      });
      proxy = await FaultProxy.start(manifest.nodes.map((n) => Number(n.p2p.split(":")[1])));
      const homes = manifest.nodes.map((n) => n.home);
      for (const [i, home] of homes.entries()) {
        const path = homePaths(home).config;
        const config = JSON.parse(readFileSync(path, "utf8")) as NodeConfig;
        config.blockIntervalMs = 50;
        config.logLevel = "info";
        config.consensus = {
          ...config.consensus,
          timeouts: {
            proposeMs: 500,
            proposeDeltaMs: 200,
            prevoteMs: 300,
            prevoteDeltaMs: 100,
            precommitMs: 300,
            precommitDeltaMs: 100,
          },
          stallAfterMs: 2000,
        };
        config.verifyThreads = 1; // four nodes share two cores
        config.p2p.peers = proxy.peersOf(i);
        writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
      }
      const suite = getSuite(suiteId);
      const genesis = readGenesisFile(homePaths(homes[0]!).genesis);
      const heights = async () =>
        Promise.all(manifest.nodes.map(async (n) => (await fetchStatus<Status>(n.api))?.height));
      let load: Load | undefined;

      try {
        const started = await spawnNodes(homes);
        started.forEach((p, i) => {
          procs[i] = p;
        });
        const clients = started.map((p) => new ZlClient(p.api, { genesis }));
        await waitFor(
          "the full mesh of peers",
          async () =>
            (await Promise.all(started.map((p) => fetchStatus<Status>(p.api)))).every(
              (s) => s?.peers.length === NODES - 1,
            ),
          30_000,
        );
        log("4 validators up and connected through the proxy");

        // Sender accounts, enrolled as officials of department 0 by its admin.
        const admin = new Signer(suite, readPrivateKey(suite, homePaths(homes[0]!).key("admin")));
        const senders = Array.from({ length: SENDERS }, () => Signer.generate(suite));
        const enrol = enrolTxs(admin, genesis.chainId, senders, ["official"]);
        await clients[0]!.submitBatch(enrol.slice(0, -1).map((t) => t.bytes));
        const last = await clients[0]!.submitRaw(enrol.at(-1)!.bytes, { wait: true, timeoutMs: 20_000 });
        assert.equal(last.status, "committed", "the enrolment did not commit");
        log(`${SENDERS} senders enrolled at height ${last.height}`);

        load = new Load(clients, genesis.chainId, senders);
        load.start();
        const loadStarted = Date.now();
        await sleep(2_000);

        /** Heights of the nodes other than v; waits until each has gained `by` blocks. */
        const othersProgress = async (v: number, by: number, timeoutMs: number, what: string) => {
          const from = await heights();
          const others = [0, 1, 2, 3].filter((j) => j !== v);
          return waitFor(
            `${what}: the other validators to commit ${by} more blocks (from ${from.join(",")})`,
            async () => {
              const h = await heights();
              return others.every((j) => (h[j] ?? 0) >= (from[j] ?? 0) + by);
            },
            timeoutMs,
          );
        };
        /** Waits until node v is within one block of the highest of the others. */
        const caughtUp = async (v: number, what: string) =>
          waitFor(
            `${what}: node${v} to catch up`,
            async () => {
              const h = await heights();
              const top = Math.max(...h.filter((x, j) => j !== v && x !== undefined).map((x) => x!));
              return h[v] !== undefined && h[v]! >= top - 1;
            },
            45_000,
          );

        const victims = [0, 1, 2, 3].sort(() => Math.random() - 0.5);
        const plan: Array<{ fault: "kill" | "isolate"; v: number }> = [
          { fault: "kill", v: victims[0]! },
          { fault: "isolate", v: victims[1]! },
          { fault: "kill", v: victims[2]! },
          { fault: "isolate", v: victims[3]! },
        ];
        const isolations: Array<{ v: number; quorumLostSeen: boolean; othersGained: number }> = [];
        for (const { fault, v } of plan) {
          if (fault === "kill") {
            load.healthy[v] = false;
            const p = procs[v]!;
            p.child.kill("SIGKILL");
            await p.exited;
            log(`node${v} killed (SIGKILL)`);
            const ms = await othersProgress(v, 3, 30_000, `node${v} down`);
            log(`the other 3 committed 3 blocks in ${ms} ms`);
            await sleep(1_000);
            const restarted = await spawnNode(homes[v]!);
            procs[v] = restarted;
            clients[v] = new ZlClient(restarted.api, { genesis });
            const cms = await caughtUp(v, "after restart");
            load.healthy[v] = true;
            log(`node${v} restarted and caught up in ${cms} ms`);
          } else {
            load.healthy[v] = false;
            const before = await heights();
            proxy.isolate(v);
            log(`node${v} isolated`);
            // Poll the isolated node: its view of the voting power drops below a quorum once the
            // visibility window (5 s) passes without messages of the others.
            let quorumLostSeen = false;
            let maxIsolatedHeight = 0;
            let heightAtQuorumLost = 0;
            const isolatedAt = Date.now();
            const others = [0, 1, 2, 3].filter((j) => j !== v);
            let othersGained = 0;
            // Isolated for at least 6 s, and until the others have committed 3 blocks meanwhile
            // and the isolated node has said it lost the quorum (at most 30 s: a loaded machine
            // commits slowly).
            for (;;) {
              const s = await fetchStatus<Status>(manifest.nodes[v]!.api);
              if (s && !s.consensus.quorumVisible && !quorumLostSeen) {
                quorumLostSeen = true;
                heightAtQuorumLost = s.height;
              }
              if (s && quorumLostSeen) maxIsolatedHeight = Math.max(maxIsolatedHeight, s.height);
              const during = await heights();
              othersGained = Math.min(...others.map((j) => (during[j] ?? 0) - (before[j] ?? 0)));
              const elapsed = Date.now() - isolatedAt;
              if ((elapsed >= 6_000 && quorumLostSeen && othersGained >= 3) || elapsed > 60_000) break;
              await sleep(200);
            }
            proxy.heal(v);
            log(
              `node${v} healed after ${Date.now() - isolatedAt} ms; others gained ≥ ${othersGained} blocks; quorum lost seen: ${quorumLostSeen}`,
            );
            // Messages already received may still have been processed after the cut; once it sees
            // no quorum, it commits nothing more.
            assert.ok(
              maxIsolatedHeight === heightAtQuorumLost,
              `isolated node${v} went from ${heightAtQuorumLost} to ${maxIsolatedHeight} without a quorum`,
            );
            isolations.push({ v, quorumLostSeen, othersGained });
            const cms = await caughtUp(v, "after healing");
            load.healthy[v] = true;
            log(`node${v} caught up ${cms} ms after healing`);
          }
          await sleep(1_000);
        }

        await sleep(1_500);
        await load.stop();
        const loadSeconds = (Date.now() - loadStarted) / 1000;
        log(`load stopped: ${load.acked.size} acknowledged, ${load.submits} submissions`);

        // (d) Every node converges (without load no new blocks are made).
        await waitFor(
          "all nodes to reach the same height",
          async () => {
            const h = await heights();
            return h.every((x) => x !== undefined && x === h[0]);
          },
          45_000,
        );
        const final = (await heights()) as number[];
        const top = Math.max(...final);
        for (const [i, h] of final.entries()) assert.ok(h >= top - 1, `node${i} at ${h}, others at ${top}`);
        const common = Math.min(...final);
        log(`all at height ${common}`);

        // (e) Isolation: the others went on, the isolated node saw it had no quorum.
        for (const iso of isolations) {
          assert.ok(
            iso.othersGained >= 3,
            `while node${iso.v} was isolated the others gained only ${iso.othersGained}`,
          );
          assert.ok(iso.quorumLostSeen, `isolated node${iso.v} never reported quorumVisible=false`);
        }

        // (a)+(c) One chain: every height, the same block everywhere, each commit valid for it.
        const blockTxs = new Map<number, Set<string>>();
        const blockMeta = new Map<number, { time: number; round: number }>();
        const heightsToCheck = Array.from({ length: common }, (_, k) => k + 1);
        const concurrency = 8;
        for (let k = 0; k < heightsToCheck.length; k += concurrency) {
          await Promise.all(
            heightsToCheck.slice(k, k + concurrency).map(async (h) => {
              const blocks = (await Promise.all(clients.map((c) => c.getBlock(h)))) as unknown as BlockJson[];
              const hashes = blocks.map((b) => b.hash);
              assert.equal(new Set(hashes).size, 1, `block ${h} differs between nodes: ${hashes.join(" ")}`);
              for (const [i, b] of blocks.entries()) {
                const block = decodeBlock(fromHex(b.encoded.block));
                const commit = decodeCommit(fromHex(b.encoded.commit));
                const check = verifyCommit(
                  suite.hash,
                  suite.verify,
                  genesis.validators,
                  block.header,
                  commit,
                );
                assert.ok(
                  check.ok,
                  `node${i}: commit of block ${h} does not verify: ${JSON.stringify(check)}`,
                );
                assert.equal(
                  toHex(commit.blockHash),
                  b.hash,
                  `node${i}: commit of ${h} certifies another block`,
                );
              }
              blockTxs.set(h, new Set(blocks[0]!.txs));
              blockMeta.set(h, {
                time: decodeBlock(fromHex(blocks[0]!.encoded.block)).header.time,
                round: decodeCommit(fromHex(blocks[0]!.encoded.commit)).round,
              });
            }),
          );
        }

        // (b) Every acknowledged transaction, at its height, on every node.
        assert.ok(load.acked.size > 200, `only ${load.acked.size} transactions were acknowledged`);
        for (const [id, a] of load.acked) {
          assert.ok(
            a.height <= common,
            `tx ${id} acknowledged at ${a.height} above the common height ${common}`,
          );
          assert.ok(
            blockTxs.get(a.height)?.has(id),
            `tx ${id} acknowledged by node${a.node} at ${a.height} is not in that block`,
          );
        }
        // ... and through the transaction API, for a sample.
        const sample = [...load.acked].sort(() => Math.random() - 0.5).slice(0, 100);
        for (const [id, a] of sample)
          for (const [i, c] of clients.entries()) {
            const t = (await c.getTx(id)) as { status: string; height: number };
            assert.equal(t.status, "committed", `node${i}: acknowledged tx ${id} not committed`);
            assert.equal(
              t.height,
              a.height,
              `node${i}: tx ${id} at ${t.height}, acknowledged at ${a.height}`,
            );
          }

        // (c) No validator signed conflicting messages; none halted.
        const scans = homes.map((h) => scanLog(join(h, "node.log")));
        const refusals = scans.map((s) => s.guardRefusals);
        assert.deepEqual(
          scans.flatMap((s) => s.equivocations),
          [],
          "a node observed an equivocation",
        );
        assert.deepEqual(
          scans.flatMap((s) => s.halts),
          [],
          "a node halted",
        );
        const gaps = heightsToCheck
          .slice(1)
          .map((h) => blockMeta.get(h)!.time - blockMeta.get(h - 1)!.time)
          .sort((x, y) => x - y);
        const laterRounds = [...blockMeta.entries()]
          .filter(([, m]) => m.round > 0)
          .map(([h, m]) => `${h}:r${m.round}`);
        log(
          `blocks: median interval ${gaps[Math.floor(gaps.length / 2)]} ms, decided after round 0: ${laterRounds.join(" ")}; ${Math.round(load.acked.size / loadSeconds)} tx/s acknowledged`,
        );
        log(
          `checked ${common} heights on ${NODES} nodes and ${load.acked.size} acknowledged transactions; double-sign guard refusals per node: ${refusals.join(",")}; proxy refused ${proxy.stats.refused.join(",")}; total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
      } catch (err: unknown) {
        for (const [i, h] of homes.entries())
          console.error(`--- node${i} ${h}/node.log (tail)\n${logTail(join(h, "node.log"))}`);
        throw err;
      } finally {
        await load?.stop(); // the senders would otherwise keep the test process alive
      }
    });
  });
