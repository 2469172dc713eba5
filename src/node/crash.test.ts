/**
 * Crash safety with real OS processes: a node under load is killed with SIGKILL at random
 * moments and restarted, repeatedly. Every transaction the API reported committed (through the
 * commit subscription) must still be there, at the same height, in a block with the same hash,
 * and the restarted node must go on from its last committed height.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type NodeProcess, spawnNode } from "../bench/spawn-node.js";
import { initHome } from "../cli/init.js";
import { ZlClient } from "../sdk/client.js";
import { subscribeBlocks } from "../sdk/events.js";
import { Signer } from "../sdk/signer.js";
import { homePaths, readGenesisFile } from "./home.js";

interface Acked {
  height: number;
  blockHash: string;
}

describe("crash safety (kill -9 under load, real processes)", () => {
  const home = mkdtempSync(join(tmpdir(), "zl-crash-"));
  after(() => rmSync(home, { recursive: true, force: true }));

  it("loses no transaction reported committed, across repeated SIGKILLs", async () => {
    initHome({
      home,
      suite: "intl",
      chainId: "zl-crash",
      orgId: "market",
      orgName: "Crash test",
      orgCode: "11100000000000000X",
      port: 0,
      config: { blockIntervalMs: 15, logLevel: "warn", logFile: join(home, "node.log") },
    });
    const paths = homePaths(home);
    const genesis = readGenesisFile(paths.genesis);
    const admin = Signer.fromPem("intl", readFileSync(paths.key("admin"), "utf8"));
    const acked = new Map<string, Acked>();
    const blocks = new Map<number, string>();
    let maxAckedHeight = 0;
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const node: NodeProcess = await spawnNode(home);
      try {
        const client = new ZlClient(node.api, { genesis });
        // After a restart: everything acknowledged before is still there, unchanged.
        const status = await client.status();
        assert.ok(
          status.height >= maxAckedHeight,
          `restarted at ${status.height}, below acknowledged height ${maxAckedHeight}`,
        );
        for (const [height, hash] of blocks) {
          const b = (await client.getBlock(height)) as { hash: string };
          assert.equal(b.hash, hash, `block ${height} changed across a crash`);
        }
        for (const [id, a] of acked) {
          const tx = (await client.getTx(id)) as { status: string; height: number };
          assert.equal(tx.status, "committed", `acknowledged transaction ${id} lost`);
          assert.equal(tx.height, a.height);
        }
        let blocksThisRound = 0;
        const sub = await subscribeBlocks(node.api, (b) => {
          blocksThisRound++;
          blocks.set(b.height, b.hash);
          for (const tx of b.txs) acked.set(tx.id, { height: b.height, blockHash: b.hash });
        });
        let nonce = await client.nextNonce(admin.address);
        const killAfter = 300 + Math.floor(Math.random() * 700);
        const started = Date.now();
        let sent = 0;
        // Load until the kill: batches of signed attestations, as fast as the node takes them.
        // The kill comes at a random moment, but only once this round has committed something.
        while (Date.now() - started < killAfter || blocksThisRound === 0) {
          assert.ok(Date.now() - started < 30_000, `round ${round}: no block committed in 30 s`);
          const batch = Array.from({ length: 100 }, () =>
            admin.sign(genesis.chainId, {
              module: "attest",
              call: "record",
              args: {
                digest: randomBytes(32),
                kind: "crash",
                provenance: { system: "t", generatedAt: 1, method: "random" },
              },
              nonce: nonce++,
              expiry: 1_000_000,
            }),
          );
          const r = await client.submitBatch(batch.map((t) => t.bytes));
          sent += r.accepted;
          await new Promise((res) => setTimeout(res, 5));
        }
        node.child.kill("SIGKILL");
        await node.exited;
        sub.close();
        for (const a of acked.values()) maxAckedHeight = Math.max(maxAckedHeight, a.height);
        assert.ok(sent > 0);
      } finally {
        // A failed assertion must not leave the node running (the test would hang, not fail).
        node.child.kill("SIGKILL");
        await node.exited;
      }
    }
    // A final restart and check of everything acknowledged in all rounds.
    const node = await spawnNode(home);
    try {
      const client = new ZlClient(node.api, { genesis });
      for (const [id, a] of acked) {
        const tx = (await client.getTx(id)) as { status: string; height: number };
        assert.equal(tx.status, "committed", `acknowledged transaction ${id} lost`);
        assert.equal(tx.height, a.height);
      }
      assert.ok(acked.size > 100, `only ${acked.size} transactions were acknowledged`);
      const v = await client.queryVerified(`nonce/${admin.addressHex}`);
      assert.ok(v.value !== null);
      // State between checkpoints was rebuilt from the blocks' change sets after the kills
      // (ADR 0021), and proofs at past heights check against their headers.
      const replays = readFileSync(join(home, "node.log"), "utf8").match(
        /state replayed after an unclean stop/g,
      );
      assert.ok((replays?.length ?? 0) >= 1, "no restart replayed state since a checkpoint");
      for (const height of [1, Math.floor(maxAckedHeight / 2), maxAckedHeight - 1])
        if (height >= 1)
          assert.ok((await client.queryVerified(`nonce/${admin.addressHex}`, height)).value !== null);
    } finally {
      node.child.kill("SIGTERM");
      await node.exited;
    }
  });
});
