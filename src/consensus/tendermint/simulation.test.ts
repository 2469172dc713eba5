/**
 * Seeded network simulation of the Tendermint core (simulation.ts): safety after every decision,
 * validity of every commit, guard and evidence invariants, and liveness after the heal, over a few
 * hundred seeds. A failing seed is printed with its scenario and a replay command; it replays
 * exactly because everything random comes from the seed.
 *
 * Longer runs: `node dist/consensus/tendermint/sim-cli.js --seeds 10000`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runSeeds } from "./sim-cli.js";
import { Rng, simulate } from "./simulation.js";

const SEEDS = 300;

describe("Tendermint simulation", () => {
  test(`seeds 1..${SEEDS}: no safety, validity, guard, evidence or liveness violation`, () => {
    const s = runSeeds(1, SEEDS);
    for (const v of s.violations) {
      process.stderr.write(
        `FAILED seed ${v.seed} (${v.scenario})\n${v.violations.map((l) => `  ${l}\n`).join("")}`,
      );
      process.stderr.write(
        `  replay: node dist/consensus/tendermint/sim-cli.js --from ${v.seed} --seeds 1 --verbose\n`,
      );
    }
    process.stderr.write(
      `simulation: ${s.seeds} seeds, ${s.violations.length} violations, ${s.decisions} honest decisions, ` +
        `${s.events} events, ${s.elapsedMs} ms, worst liveness ${s.maxLivenessMs} ms simulated, max round ${s.maxRound}\n`,
    );
    assert.deepEqual(
      s.violations.map((v) => v.seed),
      [],
    );
    assert.ok(s.decisions > SEEDS * 10, "the network makes progress");
  });

  test("a seed replays exactly", () => {
    for (const seed of [7, 42, 1234]) {
      const a = simulate({ seed });
      const b = simulate({ seed });
      assert.deepEqual(a, b);
    }
  });

  test("the scenarios exercise every fault", () => {
    let byzantine = 0;
    let crashes = 0;
    let partitions = 0;
    let evidence = 0;
    let refusals = 0;
    let rounds = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = simulate({ seed });
      if (!r.scenario.includes("byz=[]")) byzantine++;
      crashes += r.stats.crashes;
      partitions += r.stats.partitions;
      evidence += r.stats.evidence;
      refusals += r.stats.guardRefusals;
      rounds = Math.max(rounds, r.stats.maxRound);
    }
    assert.ok(byzantine > 20, `byzantine scenarios: ${byzantine}`);
    assert.ok(crashes > 20, `crashes: ${crashes}`);
    assert.ok(partitions > 20, `partitions: ${partitions}`);
    assert.ok(evidence > 0, `evidence: ${evidence}`);
    assert.ok(refusals > 0, `guard refusals after restarts: ${refusals}`);
    assert.ok(rounds >= 2, `max round: ${rounds}`);
  });

  test("mulberry32 is deterministic and roughly uniform", () => {
    const a = new Rng(99);
    const b = new Rng(99);
    const xs = Array.from({ length: 1000 }, () => a.next());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b.next()),
    );
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean > 0.45 && mean < 0.55);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });
});
