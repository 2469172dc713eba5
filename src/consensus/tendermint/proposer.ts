/**
 * Weighted round-robin proposer selection (the priority-accumulation scheme CometBFT uses,
 * re-derived here): every validator holds an integer priority. One selection step
 *
 *   1. if the spread (max − min) exceeds 2 · total power, divides every priority by
 *      ceil(spread / (2 · total)) (keeps priorities bounded after set changes);
 *   2. centers the priorities (subtracts floor(sum / n)) so they stay near zero;
 *   3. adds each validator's power to its priority;
 *   4. picks the highest priority — ties go to the LOWEST validator index (set order is the
 *      canonical order committed to by validatorsHash) — and subtracts the total power from it.
 *
 * A validator with power w is therefore chosen about w / total of the time, evenly spread.
 *
 * Which state it is a function of: the proposer of (h, r) is a pure function of the validator set
 * and the priority state S_h of height h: apply r + 1 steps to a copy of S_h and take the last
 * choice. S_{h+1} is S_h after exactly one step, whatever round height h decided in, so every
 * validator agrees on S_h without agreeing on past rounds. S_start is all zeros for a genesis set.
 *
 * `ProposerSchedule` computes S_h from genesis (pure function of (validators, height, round),
 * memoized, O(n) per height the first time); a node whose set changes stores S_h with each
 * height's validator set and uses `proposerForRound` and `rebasePriorities` instead.
 *
 * Priorities are bigint so that no total power or history length can lose precision.
 */
import { toHex } from "../../ledger/bytes.js";

export interface WeightedValidator {
  power: number;
}

/** Priorities aligned with the validator set order. */
export interface ProposerState {
  readonly priorities: readonly bigint[];
}

export function genesisProposerState(validators: readonly WeightedValidator[]): ProposerState {
  return { priorities: validators.map(() => 0n) };
}

/** One selection step, in place; returns the chosen index. */
function step(prio: bigint[], powers: readonly bigint[], total: bigint): number {
  const n = prio.length;
  let min = prio[0]!;
  let max = prio[0]!;
  for (const p of prio) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const limit = 2n * total;
  if (max - min > limit) {
    const ratio = (max - min + limit - 1n) / limit;
    for (let i = 0; i < n; i++) prio[i] = prio[i]! / ratio; // bigint division truncates toward zero
  }
  let sum = 0n;
  for (const p of prio) sum += p;
  let avg = sum / BigInt(n);
  if (sum < 0n && avg * BigInt(n) !== sum) avg -= 1n; // floor, not truncation
  let best = 0;
  for (let i = 0; i < n; i++) {
    prio[i] = prio[i]! - avg + powers[i]!;
    if (prio[i]! > prio[best]!) best = i;
  }
  prio[best] = prio[best]! - total;
  return best;
}

function powersOf(validators: readonly WeightedValidator[]): { powers: bigint[]; total: bigint } {
  if (validators.length === 0) throw new RangeError("empty validator set");
  const powers = validators.map((v) => {
    if (!Number.isSafeInteger(v.power) || v.power <= 0)
      throw new RangeError("validator power must be a positive integer");
    return BigInt(v.power);
  });
  return { powers, total: powers.reduce((a, b) => a + b, 0n) };
}

/** Applies `times` steps; returns the new state and the index chosen by the last step. */
export function advance(
  validators: readonly WeightedValidator[],
  state: ProposerState,
  times: number,
): { state: ProposerState; chosen: number } {
  if (state.priorities.length !== validators.length)
    throw new RangeError("state does not match the validator set");
  const { powers, total } = powersOf(validators);
  const prio = [...state.priorities];
  let chosen = -1;
  for (let i = 0; i < times; i++) chosen = step(prio, powers, total);
  return { state: { priorities: prio }, chosen };
}

/** proposer(h, r) given S_h: the choice of the (r+1)-th step from S_h. */
export function proposerForRound(
  validators: readonly WeightedValidator[],
  stateAtHeight: ProposerState,
  round: number,
): number {
  return advance(validators, stateAtHeight, round + 1).chosen;
}

/** S_{h+1} from S_h. */
export function nextHeightState(
  validators: readonly WeightedValidator[],
  stateAtHeight: ProposerState,
): ProposerState {
  return advance(validators, stateAtHeight, 1).state;
}

/**
 * Carries priorities across a validator-set change (validators keyed by public key): continuing
 * validators keep theirs; a new one starts at −total (new set), behind everyone who has been
 * waiting, so joining cannot be used to jump the queue. The result is centered.
 */
export function rebasePriorities(
  previous: readonly { publicKey: Uint8Array }[],
  previousState: ProposerState,
  next: readonly (WeightedValidator & { publicKey: Uint8Array })[],
): ProposerState {
  const { total } = powersOf(next);
  const kept = new Map<string, bigint>();
  previous.forEach((v, i) => {
    kept.set(toHex(v.publicKey), previousState.priorities[i] ?? 0n);
  });
  const prio = next.map((v) => kept.get(toHex(v.publicKey)) ?? -total);
  let sum = 0n;
  for (const p of prio) sum += p;
  let avg = sum / BigInt(prio.length);
  if (sum < 0n && avg * BigInt(prio.length) !== sum) avg -= 1n;
  return { priorities: prio.map((p) => p - avg) };
}

/**
 * proposer(h, r) as a pure function of (validators, height, round) for a fixed validator set
 * starting at `startHeight`, with S_h memoized (checkpoints every 256 heights).
 */
export class ProposerSchedule {
  private readonly checkpoints = new Map<number, ProposerState>();
  private lastHeight: number;
  private lastState: ProposerState;
  private readonly roundCache = new Map<string, number>();

  constructor(
    private readonly validators: readonly WeightedValidator[],
    private readonly startHeight = 1,
  ) {
    this.lastHeight = startHeight;
    this.lastState = genesisProposerState(validators);
    this.checkpoints.set(startHeight, this.lastState);
  }

  stateAt(height: number): ProposerState {
    if (!Number.isSafeInteger(height) || height < this.startHeight)
      throw new RangeError(`no proposer state for height ${height}`);
    if (height < this.lastHeight) {
      const base = this.startHeight + Math.floor((height - this.startHeight) / 256) * 256;
      this.lastHeight = base;
      this.lastState = this.checkpoints.get(base)!;
    }
    while (this.lastHeight < height) {
      this.lastState = nextHeightState(this.validators, this.lastState);
      this.lastHeight++;
      if ((this.lastHeight - this.startHeight) % 256 === 0)
        this.checkpoints.set(this.lastHeight, this.lastState);
    }
    return this.lastState;
  }

  proposer(height: number, round: number): number {
    const key = `${height}:${round}`;
    const cached = this.roundCache.get(key);
    if (cached !== undefined) return cached;
    const p = proposerForRound(this.validators, this.stateAt(height), round);
    if (this.roundCache.size > 4096) this.roundCache.clear();
    this.roundCache.set(key, p);
    return p;
  }
}
