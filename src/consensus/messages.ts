/**
 * What validators and observers say to each other, on three channels of the peer network
 * (src/p2p/network.ts carries the bytes; this module gives them meaning):
 *
 *   channel 1, consensus:
 *     proposal = [1, height, round, validRound, blockBytes, signature]
 *     vote     = [2, type, height, round, blockHash | null, validatorIndex, signature]
 *   channel 2, transactions:  [signedTxBytes...]            (gossip of admitted transactions)
 *   channel 3, block sync:
 *     getBlock = [1, height]
 *     block    = [2, height, blockBytes, commitBytes]
 *     noBlock  = [3, height]
 *
 * All deterministic CBOR. A proposal carries the whole block: the value Tendermint agrees on is
 * the block hash, and a validator can only prevote for it after executing the block. Signatures
 * are over `proposalSignBytes` / `voteSignBytes` (src/ledger/block.ts). Decoding checks shape and
 * bounds only; signatures and meaning are checked by the consensus service.
 */
import { type CborValue, decode, encode } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";
import { VOTE_PRECOMMIT, VOTE_PREVOTE } from "../ledger/block.js";
import { readArray, readBytes, readUint } from "../ledger/shape.js";

export const CHANNEL_CONSENSUS = 1;
export const CHANNEL_TXS = 2;
export const CHANNEL_SYNC = 3;

/** Largest transaction batch one gossip message may carry. */
export const MAX_GOSSIP_TXS = 4096;

export interface ProposalMessage {
  t: "proposal";
  height: number;
  round: number;
  validRound: number;
  block: Uint8Array;
  signature: Uint8Array;
}

export interface VoteMessage {
  t: "vote";
  type: typeof VOTE_PREVOTE | typeof VOTE_PRECOMMIT;
  height: number;
  round: number;
  blockHash: Uint8Array | null;
  validatorIndex: number;
  signature: Uint8Array;
}

export type ConsensusMessage = ProposalMessage | VoteMessage;

export type SyncMessage =
  | { t: "getBlock"; height: number }
  | { t: "block"; height: number; block: Uint8Array; commit: Uint8Array }
  | { t: "noBlock"; height: number };

function malformed(what: string): never {
  throw new InvalidInputError("P2P_MESSAGE_MALFORMED", `malformed ${what} message`);
}

const MAX_ROUND = 1_000_000;

function readRound(v: CborValue | undefined, field: string): number {
  const r = readUint(v, field);
  if (r > MAX_ROUND) malformed(field);
  return r;
}

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return m.t === "proposal"
    ? encode([1, m.height, m.round, m.validRound, m.block, m.signature])
    : encode([2, m.type, m.height, m.round, m.blockHash, m.validatorIndex, m.signature]);
}

export function decodeConsensusMessage(bytes: Uint8Array, maxBytes: number): ConsensusMessage {
  const a = readArray(decode(bytes, maxBytes), "consensus message");
  if (a[0] === 1) {
    if (a.length !== 6) malformed("proposal");
    const validRound = a[3];
    if (typeof validRound !== "number" || !Number.isSafeInteger(validRound) || validRound < -1)
      malformed("proposal.validRound");
    const round = readRound(a[2], "proposal.round");
    if (validRound >= round) malformed("proposal.validRound");
    return {
      t: "proposal",
      height: readUint(a[1], "proposal.height"),
      round,
      validRound,
      block: readBytes(a[4], "proposal.block", 1, maxBytes),
      signature: readBytes(a[5], "proposal.signature", 64, 64),
    };
  }
  if (a[0] === 2) {
    if (a.length !== 7) malformed("vote");
    const type = a[1];
    if (type !== VOTE_PREVOTE && type !== VOTE_PRECOMMIT) malformed("vote.type");
    return {
      t: "vote",
      type,
      height: readUint(a[2], "vote.height"),
      round: readRound(a[3], "vote.round"),
      blockHash: a[4] === null ? null : readBytes(a[4], "vote.blockHash", 32, 32),
      validatorIndex: readUint(a[5], "vote.validatorIndex"),
      signature: readBytes(a[6], "vote.signature", 64, 64),
    };
  }
  return malformed("consensus");
}

export function encodeTxGossip(txs: readonly Uint8Array[]): Uint8Array {
  return encode([...txs]);
}

export function decodeTxGossip(bytes: Uint8Array, maxBytes: number, maxTxBytes: number): Uint8Array[] {
  const a = readArray(decode(bytes, maxBytes), "transaction gossip");
  if (a.length > MAX_GOSSIP_TXS) malformed("transaction gossip");
  return a.map((t, i) => readBytes(t, `txs[${i}]`, 1, maxTxBytes));
}

export function encodeSyncMessage(m: SyncMessage): Uint8Array {
  switch (m.t) {
    case "getBlock":
      return encode([1, m.height]);
    case "block":
      return encode([2, m.height, m.block, m.commit]);
    case "noBlock":
      return encode([3, m.height]);
  }
}

export function decodeSyncMessage(bytes: Uint8Array, maxBytes: number): SyncMessage {
  const a = readArray(decode(bytes, maxBytes), "sync message");
  if (a[0] === 1 && a.length === 2) return { t: "getBlock", height: readUint(a[1], "getBlock.height") };
  if (a[0] === 2 && a.length === 4)
    return {
      t: "block",
      height: readUint(a[1], "block.height"),
      block: readBytes(a[2], "block.block", 1, maxBytes),
      commit: readBytes(a[3], "block.commit", 1, maxBytes),
    };
  if (a[0] === 3 && a.length === 2) return { t: "noBlock", height: readUint(a[1], "noBlock.height") };
  return malformed("sync");
}
