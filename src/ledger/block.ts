/**
 * Block headers, blocks, receipts and commit certificates, and their canonical encodings.
 *
 *   header  = [1, chainId, height, time, prevHash, txRoot, resultsRoot, stateRoot,
 *              validatorsHash, nextValidatorsHash, proposer, txCount]
 *   block   = [header, [signedTx...]]
 *   receipt = [txId, status, code, [event...]]      event = [module, type, {attributes}]
 *   commit  = [height, round, blockHash, [[validatorIndex, signature]...]]
 *   vote sign bytes = encode(["zl/vote", chainId, type, height, round, blockHash])
 *
 * blockHash = H(encode(header)); txRoot = RFC 6962 Merkle root over encoded signed transactions;
 * resultsRoot = the same over encoded receipts. The state root is that of the state after
 * executing this block's transactions (immediate execution).
 */
import { type CborValue, decode, encode, encodeArrayOfEncoded, splitArray } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";
import { readArray, readBytes, readMap, readText, readUint } from "./shape.js";
import { encodeSignedTx, type SignedTx, txFromCbor } from "./tx.js";

export const HEADER_VERSION = 1;

export interface Header {
  chainId: string;
  height: number;
  /** Milliseconds since the Unix epoch, as proposed. */
  time: number;
  prevHash: Uint8Array;
  txRoot: Uint8Array;
  resultsRoot: Uint8Array;
  stateRoot: Uint8Array;
  validatorsHash: Uint8Array;
  nextValidatorsHash: Uint8Array;
  /** Address of the proposing validator. */
  proposer: Uint8Array;
  txCount: number;
}

export interface Block {
  header: Header;
  txs: SignedTx[];
}

export interface Event {
  module: string;
  type: string;
  attributes: { [key: string]: CborValue };
}

export const TX_OK = 0;
export const TX_FAILED = 1;

export interface Receipt {
  txId: Uint8Array;
  status: typeof TX_OK | typeof TX_FAILED;
  /** "OK" or the coded reason the transaction failed (its state changes were discarded). */
  code: string;
  events: Event[];
}

export interface CommitSignature {
  validatorIndex: number;
  signature: Uint8Array;
}

export interface Commit {
  height: number;
  round: number;
  blockHash: Uint8Array;
  signatures: CommitSignature[];
}

export const VOTE_PREVOTE = 1;
export const VOTE_PRECOMMIT = 2;

export function headerToCbor(h: Header): CborValue[] {
  return [
    HEADER_VERSION,
    h.chainId,
    h.height,
    h.time,
    h.prevHash,
    h.txRoot,
    h.resultsRoot,
    h.stateRoot,
    h.validatorsHash,
    h.nextValidatorsHash,
    h.proposer,
    h.txCount,
  ];
}

export function headerFromCbor(v: CborValue): Header {
  const a = readArray(v, "header", 12);
  if (a[0] !== HEADER_VERSION)
    throw new InvalidInputError("LEDGER_HEADER_VERSION", `unsupported header version ${String(a[0])}`);
  return {
    chainId: readText(a[1], "header.chainId", 64),
    height: readUint(a[2], "header.height"),
    time: readUint(a[3], "header.time"),
    prevHash: readBytes(a[4], "header.prevHash", 32, 32),
    txRoot: readBytes(a[5], "header.txRoot", 32, 32),
    resultsRoot: readBytes(a[6], "header.resultsRoot", 32, 32),
    stateRoot: readBytes(a[7], "header.stateRoot", 32, 32),
    validatorsHash: readBytes(a[8], "header.validatorsHash", 32, 32),
    nextValidatorsHash: readBytes(a[9], "header.nextValidatorsHash", 32, 32),
    proposer: readBytes(a[10], "header.proposer", 20, 20),
    txCount: readUint(a[11], "header.txCount"),
  };
}

export const encodeHeader = (h: Header): Uint8Array => encode(headerToCbor(h));
export const blockHash = (hash: (d: Uint8Array) => Uint8Array, h: Header): Uint8Array =>
  hash(encodeHeader(h));

/** Blocks are stored with their transactions already encoded, so nothing is encoded twice. */
export function encodeBlockFromParts(header: Header, txBytes: Uint8Array[]): Uint8Array {
  return encodeArrayOfEncoded([encodeHeader(header), encodeArrayOfEncoded(txBytes)]);
}

export function encodeBlock(block: Block): Uint8Array {
  return encodeBlockFromParts(block.header, block.txs.map(encodeSignedTx));
}

export function decodeBlock(bytes: Uint8Array): Block {
  const [hv, txsV] = readArray(decode(bytes, Number.MAX_SAFE_INTEGER), "block", 2);
  return { header: headerFromCbor(hv as CborValue), txs: readArray(txsV, "block.txs").map(txFromCbor) };
}

export function receiptToCbor(r: Receipt): CborValue[] {
  return [r.txId, r.status, r.code, r.events.map((e) => [e.module, e.type, e.attributes])];
}

export const encodeReceipt = (r: Receipt): Uint8Array => encode(receiptToCbor(r));

export function receiptFromCbor(v: CborValue): Receipt {
  const a = readArray(v, "receipt", 4);
  const status = readUint(a[1], "receipt.status");
  if (status !== TX_OK && status !== TX_FAILED)
    throw new InvalidInputError("LEDGER_MALFORMED", "receipt.status: expected 0 or 1");
  return {
    txId: readBytes(a[0], "receipt.txId", 32, 32),
    status,
    code: readText(a[2], "receipt.code", 64),
    events: readArray(a[3], "receipt.events").map((ev, i) => {
      const e = readArray(ev, `receipt.events[${i}]`, 3);
      return {
        module: readText(e[0], "event.module", 32),
        type: readText(e[1], "event.type", 64),
        attributes: readMap(e[2], "event.attributes"),
      };
    }),
  };
}

export function commitToCbor(c: Commit): CborValue[] {
  return [c.height, c.round, c.blockHash, c.signatures.map((s) => [s.validatorIndex, s.signature])];
}

export const encodeCommit = (c: Commit): Uint8Array => encode(commitToCbor(c));

export function commitFromCbor(v: CborValue): Commit {
  const a = readArray(v, "commit", 4);
  return {
    height: readUint(a[0], "commit.height"),
    round: readUint(a[1], "commit.round"),
    blockHash: readBytes(a[2], "commit.blockHash", 32, 32),
    signatures: readArray(a[3], "commit.signatures").map((s, i) => {
      const p = readArray(s, `commit.signatures[${i}]`, 2);
      return {
        validatorIndex: readUint(p[0], "commit.validatorIndex"),
        signature: readBytes(p[1], "commit.signature", 64, 64),
      };
    }),
  };
}

export const decodeCommit = (bytes: Uint8Array): Commit => commitFromCbor(decode(bytes));

export function voteSignBytes(
  chainId: string,
  type: number,
  height: number,
  round: number,
  hash: Uint8Array | null,
): Uint8Array {
  return encode(["zl/vote", chainId, type, height, round, hash]);
}

/**
 * What a proposer signs for ⟨PROPOSAL, height, round, block, validRound⟩: the block travels beside
 * it and is named by its hash, so the signature covers exactly one block.
 *   proposal sign bytes = encode(["zl/proposal", chainId, height, round, validRound, blockHash])
 * validRound is −1 or the round of the polka that justifies re-proposing the block.
 */
export function proposalSignBytes(
  chainId: string,
  height: number,
  round: number,
  validRound: number,
  hash: Uint8Array,
): Uint8Array {
  return encode(["zl/proposal", chainId, height, round, validRound, hash]);
}

/**
 * A block's header (decoded and checked) and its transactions' encodings (views, undecoded): how
 * a node takes apart a proposed or synced block without decoding and re-encoding every
 * transaction. The caller decodes each transaction (`decodeTx` checks it is canonical).
 */
export function splitBlock(
  bytes: Uint8Array,
  maxTxs: number,
): { header: Header; headerBytes: Uint8Array; txBytes: Uint8Array[] } {
  const parts = splitArray(bytes, 2);
  if (parts.length !== 2) throw new InvalidInputError("LEDGER_MALFORMED", "block: expected [header, txs]");
  const headerBytes = parts[0]!;
  const header = headerFromCbor(decode(headerBytes));
  const txBytes = splitArray(parts[1]!, maxTxs);
  if (txBytes.length !== header.txCount)
    throw new InvalidInputError("LEDGER_MALFORMED", "block: txCount differs from the transactions carried");
  return { header, headerBytes, txBytes };
}
