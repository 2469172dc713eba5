/**
 * Light-client verification of ZhengLian headers (docs/light-client.md), after the CometBFT
 * light-client specification: starting from a trusted validator set, a client accepts a header
 * only with a commit certificate of the right validator set, follows validator-set changes
 * through state proofs, and then checks state proofs against the verified header's stateRoot.
 *
 * Pure and browser-safe: no `node:` imports, directly or transitively; hashing and signature
 * verification are passed in (`LightDeps`), and fetching is the caller's (`LightFetchers`).
 *
 * - Sequential rule (`verifyNextHeader`): header h+1 links to the trusted header h by prevHash,
 *   is signed by more than 2/3 of the power of the set that header h named as next.
 * - Skipping rule (`verifySkipping`): header H > h+1 is accepted when its commit holds more than
 *   2/3 of its own set's power and validators holding more than 1/3 of the trusted set's power
 *   signed it — sound only within the trusting period (see `SkipOptions`).
 */
import { decode } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";
import { encodeValidators, VALIDATORS_KEY } from "../execution/genesis-state.js";
import { blockHash, type Commit, type Header } from "../ledger/block.js";
import { equalBytes, toHex } from "../ledger/bytes.js";
import { encodeGenesis, type Genesis } from "../ledger/genesis.js";
import { readArray, readBytes, readMap, readText, readUint } from "../ledger/shape.js";
import { type Validator, type VerifyFn, validatorsHash, verifyCommit } from "../ledger/validators.js";
import type { StateProof } from "../state/proof.js";
import { type HashFn, verifyStateProof } from "../state/verify.js";

export { VALIDATORS_KEY };

/** The chain's hash and signature verification (e.g. from a crypto suite). */
export interface LightDeps {
  hash: HashFn;
  verify: VerifyFn;
}

/** What a light client trusts after verifying up to `height`. */
export interface TrustedState {
  chainId: string;
  height: number;
  /** Hash of the trusted header; at height 0 the genesis hash (block 1's prevHash). */
  blockHash: Uint8Array;
  /** Time of the trusted header (genesis time at height 0), milliseconds since the epoch. */
  time: number;
  /** The verified header; null at height 0, which has no header. */
  header: Header | null;
  /** The set that signs block height+1: it hashes to `header.nextValidatorsHash`. */
  validators: Validator[];
}

export type LightErrorCode =
  | "LC_WRONG_CHAIN"
  | "LC_NOT_ADJACENT"
  | "LC_HEIGHT_NOT_NEWER"
  | "LC_PREV_HASH_MISMATCH"
  | "LC_TIME_NOT_NEWER"
  | "LC_HEADER_FROM_FUTURE"
  | "LC_VALIDATORS_HASH_MISMATCH"
  | "LC_COMMIT_INVALID"
  | "LC_NEXT_SET_MISSING"
  | "LC_NEXT_SET_PROOF_INVALID"
  | "LC_TRUST_INSUFFICIENT"
  | "LC_TRUST_EXPIRED"
  | "LC_TRUST_ROOT_INVALID"
  | "LC_STATE_PROOF_INVALID"
  | "LC_FETCH_FAILED";

export interface LightFailure {
  ok: false;
  code: LightErrorCode;
  message: string;
  /** For LC_COMMIT_INVALID: the code returned by `verifyCommit` (e.g. COMMIT_NO_QUORUM). */
  reason?: string;
}

export type LightCheck = { ok: true; state: TrustedState } | LightFailure;
export type StateCheck = { ok: true } | LightFailure;

/**
 * A new validator set with its state proof: the value of VALIDATORS_KEY in the state after the
 * block that changed it. Give either the stored bytes (`encoded`) or the decoded set, which is
 * re-encoded canonically.
 */
export type ProvenValidatorSet =
  | { encoded: Uint8Array; proof: StateProof }
  | { validators: readonly Validator[]; proof: StateProof };

function fail(code: LightErrorCode, message: string, reason?: string): LightFailure {
  return reason === undefined ? { ok: false, code, message } : { ok: false, code, message, reason };
}

const copySet = (set: readonly Validator[]): Validator[] => set.map((v) => ({ ...v }));

/** Decodes the value of VALIDATORS_KEY (CBOR list of {publicKey, power, org}); throws if malformed. */
export function decodeValidatorSet(bytes: Uint8Array): Validator[] {
  return readArray(decode(bytes), "validators").map((item, i) => {
    const m = readMap(item, `validators[${i}]`);
    const power = readUint(m.power, `validators[${i}].power`);
    if (power === 0)
      throw new InvalidInputError("LEDGER_MALFORMED", `validators[${i}].power: expected a positive integer`);
    return {
      publicKey: readBytes(m.publicKey, `validators[${i}].publicKey`, 1, 128),
      power,
      org: readText(m.org, `validators[${i}].org`, 64),
    };
  });
}

/** The trust root of a chain's start: before block 1, signed by the genesis validators. */
export function trustGenesis(hash: HashFn, genesis: Genesis): TrustedState {
  return {
    chainId: genesis.chainId,
    height: 0,
    blockHash: hash(encodeGenesis(genesis)),
    time: genesis.genesisTime,
    header: null,
    validators: copySet(genesis.validators),
  };
}

/**
 * A trust root obtained out of band (a header hash published by the consortium, a checkpoint):
 * the header is taken as is; `validators` must be the set it names as next.
 */
export function trustHeader(hash: HashFn, header: Header, validators: readonly Validator[]): LightCheck {
  if (validators.length === 0) return fail("LC_TRUST_ROOT_INVALID", "the trusted validator set is empty");
  if (!equalBytes(validatorsHash(hash, validators), header.nextValidatorsHash))
    return fail(
      "LC_TRUST_ROOT_INVALID",
      `the validator set given does not hash to the nextValidatorsHash of header ${header.height}`,
    );
  return { ok: true, state: adopt(hash, header, copySet(validators)) };
}

function adopt(hash: HashFn, header: Header, validators: Validator[]): TrustedState {
  return {
    chainId: header.chainId,
    height: header.height,
    blockHash: blockHash(hash, header),
    time: header.time,
    header,
    validators,
  };
}

/** True iff `proof` shows `key` maps to `value` (null: absent) in the state of `header`. */
export function verifyStateAgainst(
  hash: HashFn,
  header: Header,
  key: Uint8Array,
  value: Uint8Array | null,
  proof: StateProof,
): StateCheck {
  if (verifyStateProof(hash, header.stateRoot, key, value, proof)) return { ok: true };
  return fail(
    "LC_STATE_PROOF_INVALID",
    `the state proof does not lead to the stateRoot of header ${header.height}`,
  );
}

/**
 * The set that signs block header.height+1: unchanged when nextValidatorsHash equals
 * validatorsHash, else the supplied set, proven under header.stateRoot and hashing to
 * nextValidatorsHash.
 */
function nextSetOf(
  hash: HashFn,
  header: Header,
  current: readonly Validator[],
  nextSet: ProvenValidatorSet | undefined,
): { ok: true; validators: Validator[] } | LightFailure {
  if (equalBytes(header.nextValidatorsHash, header.validatorsHash))
    return { ok: true, validators: copySet(current) };
  if (!nextSet)
    return fail(
      "LC_NEXT_SET_MISSING",
      `header ${header.height} changes the validator set; supply the new set with its state proof at height ${header.height}`,
    );
  const encoded = "encoded" in nextSet ? nextSet.encoded : encodeValidators(nextSet.validators);
  if (!verifyStateProof(hash, header.stateRoot, VALIDATORS_KEY, encoded, nextSet.proof))
    return fail(
      "LC_NEXT_SET_PROOF_INVALID",
      `the new validator set is not proven under the stateRoot of header ${header.height}`,
    );
  let validators: Validator[];
  try {
    validators = decodeValidatorSet(encoded);
  } catch (err: unknown) {
    return fail(
      "LC_NEXT_SET_PROOF_INVALID",
      `the proven validator set is malformed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (validators.length === 0)
    return fail("LC_NEXT_SET_PROOF_INVALID", `header ${header.height} hands over to an empty set`);
  if (!equalBytes(validatorsHash(hash, validators), header.nextValidatorsHash))
    return fail(
      "LC_NEXT_SET_PROOF_INVALID",
      `the proven validator set does not hash to the nextValidatorsHash of header ${header.height}`,
    );
  return { ok: true, validators };
}

function checkCommit(
  deps: LightDeps,
  validators: readonly Validator[],
  header: Header,
  commit: Commit,
): LightFailure | undefined {
  const c = verifyCommit(deps.hash, deps.verify, validators, header, commit);
  if (c.ok) return undefined;
  return fail(
    "LC_COMMIT_INVALID",
    `the commit of header ${header.height} does not verify: ${c.reason}`,
    c.reason,
  );
}

/** The header is of the trusted chain and above the trusted height; else the failure. */
function checkNewer(trusted: TrustedState, header: Header): LightFailure | undefined {
  if (header.chainId !== trusted.chainId)
    return fail("LC_WRONG_CHAIN", `header is of chain "${header.chainId}", not "${trusted.chainId}"`);
  if (header.height <= trusted.height)
    return fail(
      "LC_HEIGHT_NOT_NEWER",
      `header ${header.height} is not above the trusted height ${trusted.height}`,
    );
  return undefined;
}

/**
 * Sequential verification of the header right after the trusted one. On success the new trusted
 * state holds this header and the set for the block after it (`nextSet` is needed, and checked,
 * only when the header changes the set).
 */
export function verifyNextHeader(
  deps: LightDeps,
  trusted: TrustedState,
  header: Header,
  commit: Commit,
  nextSet?: ProvenValidatorSet,
): LightCheck {
  const newer = checkNewer(trusted, header);
  if (newer) return newer;
  if (header.height !== trusted.height + 1)
    return fail(
      "LC_NOT_ADJACENT",
      `header ${header.height} does not follow the trusted height ${trusted.height}; use verifySkipping`,
    );
  if (!equalBytes(header.prevHash, trusted.blockHash))
    return fail(
      "LC_PREV_HASH_MISMATCH",
      `header ${header.height} links to ${toHex(header.prevHash)}, not the trusted ${toHex(trusted.blockHash)}`,
    );
  if (header.time <= trusted.time)
    return fail("LC_TIME_NOT_NEWER", `header ${header.height} is not later than the trusted header`);
  if (!equalBytes(header.validatorsHash, validatorsHash(deps.hash, trusted.validators)))
    return fail(
      "LC_VALIDATORS_HASH_MISMATCH",
      `header ${header.height} names a signing set other than the one the trusted header handed over to`,
    );
  const bad = checkCommit(deps, trusted.validators, header, commit);
  if (bad) return bad;
  const next = nextSetOf(deps.hash, header, trusted.validators, nextSet);
  if (!next.ok) return next;
  return { ok: true, state: adopt(deps.hash, header, next.validators) };
}

/** Assumptions of the skipping rule. */
export interface SkipOptions {
  /** Current time, ms since the epoch (the caller's clock). */
  now: number;
  /**
   * How long after its time a trusted header may anchor a skip. Must be shorter than the time
   * during which validators that leave the set stay accountable (the consortium's agreed
   * unbonding/exit period): after it, a former >1/3 of the trusted set could sign a fork
   * without consequence.
   */
  trustingPeriodMs: number;
  /** Tolerated clock difference for headers that appear to be from the future (default 10 s). */
  maxClockDriftMs?: number;
}

/**
 * Skipping verification of a header above trusted.height + 1 (an adjacent header goes through
 * `verifyNextHeader`). `headerValidators` is the set that signed `header`, checked against its
 * validatorsHash. Accepted when:
 *   - the trusted state is within the trusting period and the header is newer but not ahead of
 *     `now` (beyond the drift);
 *   - validators holding more than 1/3 of the trusted set's power (matched by public key, with
 *     their power in the trusted set) signed the commit — so at least one correct trusted
 *     validator vouches for it;
 *   - the commit holds more than 2/3 of the header's own set.
 */
export function verifySkipping(
  deps: LightDeps,
  trusted: TrustedState,
  header: Header,
  commit: Commit,
  headerValidators: readonly Validator[],
  opts: SkipOptions,
  nextSet?: ProvenValidatorSet,
): LightCheck {
  const newer = checkNewer(trusted, header);
  if (newer) return newer;
  if (header.height === trusted.height + 1) return verifyNextHeader(deps, trusted, header, commit, nextSet);
  if (opts.now - trusted.time >= opts.trustingPeriodMs)
    return fail(
      "LC_TRUST_EXPIRED",
      `the trusted header ${trusted.height} is older than the trusting period; re-anchor on a fresh trust root`,
    );
  if (header.time <= trusted.time)
    return fail("LC_TIME_NOT_NEWER", `header ${header.height} is not later than the trusted header`);
  if (header.time > opts.now + (opts.maxClockDriftMs ?? 10_000))
    return fail("LC_HEADER_FROM_FUTURE", `header ${header.height} is dated after the local clock`);
  if (!equalBytes(header.validatorsHash, validatorsHash(deps.hash, headerValidators)))
    return fail(
      "LC_VALIDATORS_HASH_MISMATCH",
      `the validator set given does not hash to the validatorsHash of header ${header.height}`,
    );
  const bad = checkCommit(deps, headerValidators, header, commit);
  if (bad) return bad;

  const trustedPower = new Map<string, number>();
  let trustedTotal = 0;
  for (const v of trusted.validators) {
    trustedTotal += v.power;
    const id = toHex(v.publicKey);
    trustedPower.set(id, (trustedPower.get(id) ?? 0) + v.power);
  }
  const counted = new Set<string>();
  let overlap = 0;
  for (const s of commit.signatures) {
    const id = toHex((headerValidators[s.validatorIndex] as Validator).publicKey);
    if (counted.has(id)) continue;
    counted.add(id);
    overlap += trustedPower.get(id) ?? 0;
  }
  if (overlap * 3 <= trustedTotal)
    return fail(
      "LC_TRUST_INSUFFICIENT",
      `trusted validators holding ${overlap} of ${trustedTotal} power signed header ${header.height}; more than 1/3 is needed (verify an intermediate header first)`,
    );
  const next = nextSetOf(deps.hash, header, headerValidators, nextSet);
  if (!next.ok) return next;
  return { ok: true, state: adopt(deps.hash, header, next.validators) };
}

/** A header with its commit certificate. */
export interface SignedHeader {
  header: Header;
  commit: Commit;
}

/** Where a `LightClient` gets its data: any transport, any (untrusted) source. */
export interface LightFetchers {
  /** The header at `height` with its commit. */
  signedHeader(height: number): Promise<SignedHeader>;
  /** The value of VALIDATORS_KEY after block `height`, with its proof (asked only at a change). */
  provenValidators(height: number): Promise<ProvenValidatorSet>;
  /** The set that signed block `height` (needed only for skipping; checked against its header). */
  signingValidators?(height: number): Promise<Validator[]>;
}

async function fetched<T>(what: string, f: () => Promise<T>): Promise<{ ok: true; value: T } | LightFailure> {
  try {
    return { ok: true, value: await f() };
  } catch (err: unknown) {
    return fail(
      "LC_FETCH_FAILED",
      `cannot fetch ${what}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Holds a TrustedState and moves it forward, only ever to verified headers. */
export class LightClient {
  private current: TrustedState;

  constructor(
    private readonly deps: LightDeps,
    trusted: TrustedState,
  ) {
    this.current = trusted;
  }

  get trusted(): TrustedState {
    return this.current;
  }

  get height(): number {
    return this.current.height;
  }

  /** Verifies the next header (sequential rule) and adopts it on success. */
  step(header: Header, commit: Commit, nextSet?: ProvenValidatorSet): LightCheck {
    const r = verifyNextHeader(this.deps, this.current, header, commit, nextSet);
    if (r.ok) this.current = r.state;
    return r;
  }

  /**
   * Follows every header up to `targetHeight` (sequential rule). Stops at the first failure,
   * keeping the last verified state.
   */
  async sync(
    fetchers: LightFetchers,
    targetHeight: number,
    onVerified?: (state: TrustedState) => void,
  ): Promise<LightCheck> {
    while (this.current.height < targetHeight) {
      const h = this.current.height + 1;
      const sh = await fetched(`header ${h}`, () => fetchers.signedHeader(h));
      if (!sh.ok) return sh;
      const { header, commit } = sh.value;
      let nextSet: ProvenValidatorSet | undefined;
      if (!equalBytes(header.nextValidatorsHash, header.validatorsHash)) {
        const ns = await fetched(`the validator set at ${h}`, () => fetchers.provenValidators(h));
        if (!ns.ok) return ns;
        nextSet = ns.value;
      }
      const r = this.step(header, commit, nextSet);
      if (!r.ok) return r;
      onVerified?.(r.state);
    }
    return { ok: true, state: this.current };
  }

  /**
   * Jumps to `targetHeight` with the skipping rule, bisecting (verifying a header halfway first)
   * whenever the trusted set's overlap with a header's signers is too small.
   */
  async skipTo(fetchers: LightFetchers, targetHeight: number, opts: SkipOptions): Promise<LightCheck> {
    const signing = fetchers.signingValidators;
    if (!signing) return this.sync(fetchers, targetHeight);
    const pending = [targetHeight];
    while (pending.length > 0) {
      const h = pending[pending.length - 1] as number;
      if (h <= this.current.height) {
        pending.pop();
        continue;
      }
      const sh = await fetched(`header ${h}`, () => fetchers.signedHeader(h));
      if (!sh.ok) return sh;
      const { header, commit } = sh.value;
      const set = h === this.current.height + 1 ? this.current.validators : undefined;
      const vs = set ? { ok: true as const, value: set } : await fetched(`the set of ${h}`, () => signing(h));
      if (!vs.ok) return vs;
      let nextSet: ProvenValidatorSet | undefined;
      if (!equalBytes(header.nextValidatorsHash, header.validatorsHash)) {
        const ns = await fetched(`the validator set at ${h}`, () => fetchers.provenValidators(h));
        if (!ns.ok) return ns;
        nextSet = ns.value;
      }
      const r = verifySkipping(this.deps, this.current, header, commit, vs.value, opts, nextSet);
      if (r.ok) {
        this.current = r.state;
        pending.pop();
      } else if (r.code === "LC_TRUST_INSUFFICIENT") {
        pending.push(Math.floor((this.current.height + h) / 2));
      } else return r;
    }
    return { ok: true, state: this.current };
  }

  /** Checks a state proof against the trusted header. */
  verifyState(key: Uint8Array, value: Uint8Array | null, proof: StateProof): StateCheck {
    const header = this.current.header;
    if (!header) return fail("LC_STATE_PROOF_INVALID", "no header is trusted yet (height 0); sync first");
    return verifyStateAgainst(this.deps.hash, header, key, value, proof);
  }
}
