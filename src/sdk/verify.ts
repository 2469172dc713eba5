/**
 * Verification of what a node returns, trusting only a validator set (from genesis or a
 * previously verified header) — never the node itself:
 *   1. the commit certificate carries signatures of more than 2/3 of the voting power over
 *      the header's hash (ledger/validators.ts `verifyCommit`);
 *   2. the state proof leads from the key and value to the header's stateRoot (state/verify.ts).
 */
import { decode } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { RejectedError } from "../errors/index.js";
import { commitFromCbor, type Header, headerFromCbor } from "../ledger/block.js";
import { equalBytes, fromHex } from "../ledger/bytes.js";
import { type Validator, verifyCommit } from "../ledger/validators.js";
import { decodeProof } from "../state/proof.js";
import { verifyStateProof } from "../state/verify.js";

export interface StateResponse {
  height: number;
  key: string;
  value: string | null;
  proof: string;
  encodedHeader: string;
  commit: string;
}

export interface VerifiedState {
  height: number;
  key: Uint8Array;
  value: Uint8Array | null;
  header: Header;
}

export function verifyHeaderCommit(
  suite: CryptoSuite,
  chainId: string,
  validators: readonly Validator[],
  encodedHeader: Uint8Array,
  encodedCommit: Uint8Array,
): Header {
  const header = headerFromCbor(decode(encodedHeader));
  if (header.chainId !== chainId)
    throw new RejectedError(
      "PROOF_WRONG_CHAIN",
      `the header is of chain "${header.chainId}", not the trusted "${chainId}"`,
    );
  const commit = commitFromCbor(decode(encodedCommit));
  const check = verifyCommit(
    (d) => suite.hash(d),
    (p, m, s) => suite.verify(p, m, s),
    validators,
    header,
    commit,
  );
  if (!check.ok) throw new RejectedError(check.reason, `commit certificate does not verify: ${check.reason}`);
  return header;
}

export function verifyStateResponse(
  suite: CryptoSuite,
  chainId: string,
  validators: readonly Validator[],
  expectedKey: Uint8Array,
  r: StateResponse,
): VerifiedState {
  const key = fromHex(r.key);
  if (!equalBytes(key, expectedKey))
    throw new RejectedError("PROOF_WRONG_KEY", "the node answered for a different key");
  const header = verifyHeaderCommit(suite, chainId, validators, fromHex(r.encodedHeader), fromHex(r.commit));
  if (header.height !== r.height)
    throw new RejectedError("PROOF_WRONG_HEIGHT", "header height differs from the answer's height");
  const value = r.value === null ? null : fromHex(r.value);
  const proof = decodeProof(fromHex(r.proof));
  if (!verifyStateProof((d) => suite.hash(d), header.stateRoot, key, value, proof))
    throw new RejectedError("PROOF_INVALID", "the state proof does not lead to the header's state root");
  return { height: header.height, key, value, header };
}
