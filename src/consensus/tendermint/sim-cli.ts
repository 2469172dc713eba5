/**
 * Runs many simulation seeds (simulation.ts) and summarises them.
 *
 *   node dist/consensus/tendermint/sim-cli.js --seeds 10000 [--from 1] [--verbose]
 *
 * Exit code 1 if any seed broke an invariant; each failing seed is printed with its scenario and
 * replays exactly with `--from <seed> --seeds 1 --verbose`.
 */
import { pathToFileURL } from "node:url";
import { type SimOptions, type SimResult, simulate } from "./simulation.js";

export interface SeedsSummary {
  seeds: number;
  violations: { seed: number; scenario: string; violations: string[] }[];
  /** Honest decisions (node × height) over all seeds. */
  decisions: number;
  events: number;
  elapsedMs: number;
  /** Worst simulated time from the heal to the liveness target, over the seeds. */
  maxLivenessMs: number;
  maxRound: number;
}

export function runSeeds(
  from: number,
  count: number,
  opts: Omit<SimOptions, "seed"> = {},
  onResult?: (r: SimResult) => void,
): SeedsSummary {
  const started = performance.now();
  const summary: SeedsSummary = {
    seeds: 0,
    violations: [],
    decisions: 0,
    events: 0,
    elapsedMs: 0,
    maxLivenessMs: 0,
    maxRound: 0,
  };
  for (let seed = from; seed < from + count; seed++) {
    const r = simulate({ ...opts, seed });
    summary.seeds++;
    summary.decisions += r.decisions;
    summary.events += r.events;
    summary.maxLivenessMs = Math.max(summary.maxLivenessMs, r.stats.livenessMs);
    summary.maxRound = Math.max(summary.maxRound, r.stats.maxRound);
    if (r.violations.length > 0)
      summary.violations.push({ seed, scenario: r.scenario, violations: r.violations });
    onResult?.(r);
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

function main(argv: string[]): number {
  let from = 1;
  let count = 1000;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--seeds") count = Number(argv[++i]);
    else if (a === "--from") from = Number(argv[++i]);
    else if (a === "--verbose") verbose = true;
    else {
      process.stderr.write(`unknown argument ${a}\nusage: sim-cli --seeds N [--from S] [--verbose]\n`);
      return 2;
    }
  }
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || count < 1) {
    process.stderr.write("--seeds and --from take integers\n");
    return 2;
  }
  const s = runSeeds(from, count, {}, (r) => {
    if (verbose)
      process.stdout.write(
        `seed ${r.seed}: ${r.violations.length === 0 ? "ok" : "VIOLATION"} decisions=${r.decisions} height=${r.minHonestHeight} ` +
          `events=${r.events} t=${r.simTimeMs} liveness=${r.stats.livenessMs}ms maxRound=${r.stats.maxRound} ${r.scenario}\n`,
      );
  });
  for (const v of s.violations) {
    process.stdout.write(`FAILED seed ${v.seed} (${v.scenario})\n`);
    for (const line of v.violations) process.stdout.write(`  ${line}\n`);
    process.stdout.write(
      `  replay: node dist/consensus/tendermint/sim-cli.js --from ${v.seed} --seeds 1 --verbose\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({ from, seeds: s.seeds, violations: s.violations.length, decisions: s.decisions, events: s.events, elapsedMs: s.elapsedMs, maxLivenessMs: s.maxLivenessMs, maxRound: s.maxRound })}\n`,
  );
  return s.violations.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
