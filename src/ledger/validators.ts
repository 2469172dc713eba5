/**
 * Validator sets and commit-certificate verification (pure; used by the node, the SDK and
 * light clients alike).
 *
 *   validatorsHash = MerkleRoot([encode([publicKey, power]) for each validator, in set order])
 *
 * A commit certifies a block when validators holding more than two thirds of the set's total
 * voting power signed the precommit vote for that block hash at that height and round.
 */
import { encode } from "../codec/cbor.js";
import { blockHash, type Commit, type Header, VOTE_PRECOMMIT, voteSignBytes } from "./block.js";
import { equalBytes, toHex } from "./bytes.js";
import { type HashFn, merkleRoot } from "./merkle.js";

export interface Validator {
  publicKey: Uint8Array;
  power: number;
  /** Organization (department) that runs this validator. */
  org: string;
}

export type VerifyFn = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export function validatorsHash(hash: HashFn, validators: readonly Validator[]): Uint8Array {
  return merkleRoot(
    hash,
    validators.map((v) => encode([v.publicKey, v.power])),
  );
}

export function totalPower(validators: readonly Validator[]): number {
  return validators.reduce((sum, v) => sum + v.power, 0);
}

/** Strictly more than two thirds of `total`, computed without floating point. */
export function isQuorum(power: number, total: number): boolean {
  return power * 3 > total * 2;
}

export type CommitCheck = { ok: true; signedPower: number } | { ok: false; reason: string };

export function verifyCommit(
  hash: HashFn,
  verify: VerifyFn,
  validators: readonly Validator[],
  header: Header,
  commit: Commit,
): CommitCheck {
  const expectedHash = blockHash(hash, header);
  if (commit.height !== header.height) return { ok: false, reason: "COMMIT_HEIGHT_MISMATCH" };
  if (!equalBytes(commit.blockHash, expectedHash)) return { ok: false, reason: "COMMIT_BLOCK_HASH_MISMATCH" };
  if (!equalBytes(header.validatorsHash, validatorsHash(hash, validators)))
    return { ok: false, reason: "COMMIT_VALIDATOR_SET_MISMATCH" };
  const message = voteSignBytes(header.chainId, VOTE_PRECOMMIT, commit.height, commit.round, expectedHash);
  const seen = new Set<number>();
  let signed = 0;
  for (const s of commit.signatures) {
    const v = validators[s.validatorIndex];
    if (!v) return { ok: false, reason: "COMMIT_UNKNOWN_VALIDATOR" };
    if (seen.has(s.validatorIndex)) return { ok: false, reason: "COMMIT_DUPLICATE_SIGNATURE" };
    seen.add(s.validatorIndex);
    if (!verify(v.publicKey, message, s.signature)) return { ok: false, reason: "COMMIT_BAD_SIGNATURE" };
    signed += v.power;
  }
  if (!isQuorum(signed, totalPower(validators))) return { ok: false, reason: "COMMIT_NO_QUORUM" };
  return { ok: true, signedPower: signed };
}

export const validatorId = (v: Validator): string => toHex(v.publicKey);
