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
import {
  commitFromCbor,
  type Header,
  headerFromCbor,
  type Receipt,
  receiptFromCbor,
} from "../ledger/block.js";
import { equalBytes, fromHex } from "../ledger/bytes.js";
import { verifyInclusion } from "../ledger/merkle.js";
import { encodeTxBody, type SignedTx, txFromCbor } from "../ledger/tx.js";
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

export interface TxInclusion {
  size: number;
  encodedTx: string;
  txPath: string[];
  encodedReceipt: string;
  receiptPath: string[];
  encodedHeader: string;
  commit: string;
}

export interface VerifiedTx {
  height: number;
  index: number;
  tx: SignedTx;
  receipt: Receipt;
  header: Header;
}

/**
 * Verifies that transaction `txId` is at `index` of the block at `height`, with the receipt
 * given: the commit certifies the header; RFC 6962 proofs lead from the encoded transaction to
 * txRoot and from the encoded receipt to resultsRoot; the transaction's id is the one asked for.
 */
export function verifyTxInclusion(
  suite: CryptoSuite,
  chainId: string,
  validators: readonly Validator[],
  txId: Uint8Array,
  index: number,
  p: TxInclusion,
): VerifiedTx {
  const hash = (d: Uint8Array) => suite.hash(d);
  const header = verifyHeaderCommit(suite, chainId, validators, fromHex(p.encodedHeader), fromHex(p.commit));
  if (p.size !== header.txCount)
    throw new RejectedError("PROOF_WRONG_SIZE", "proof tree size differs from the header's txCount");
  const txBytes = fromHex(p.encodedTx);
  const receiptBytes = fromHex(p.encodedReceipt);
  if (!verifyInclusion(hash, txBytes, index, p.size, p.txPath.map(fromHex), header.txRoot))
    throw new RejectedError("PROOF_INVALID", "the transaction is not in the block's txRoot at that index");
  if (!verifyInclusion(hash, receiptBytes, index, p.size, p.receiptPath.map(fromHex), header.resultsRoot))
    throw new RejectedError("PROOF_INVALID", "the receipt is not in the block's resultsRoot at that index");
  const tx = txFromCbor(decode(txBytes));
  const receipt = receiptFromCbor(decode(receiptBytes));
  if (!equalBytes(hash(encodeTxBody(tx.body)), txId) || !equalBytes(receipt.txId, txId))
    throw new RejectedError("PROOF_WRONG_TX", "the proven transaction is not the one asked for");
  return { height: header.height, index, tx, receipt, header };
}
