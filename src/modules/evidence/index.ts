/**
 * Evidence module (违规证据): proof on chain that a validator signed two different votes for the
 * same height, round and type, or two different proposals for the same height and round — the
 * acts by which a validator can break the safety of Tendermint. Any node sees such a pair when
 * both messages reach it (`GET /v1/evidence` lists what this node saw); an admin or supervisor of
 * any member organization reports it, execution checks both signatures itself, and the record
 * names the validator and its organization for the vote of the organizations that follows
 * (docs/governance.md: removeValidator, removeOrg).
 *
 *   evidence/<validator address>/<height, 12 digits>/<round>/<1 | 2 | proposal> → EvidenceRecord
 *   evidence/count                                                   → number of records (uint)
 *   evidence/seq/<n, 10 digits>                                      → the n-th record's key
 *
 * Only a validator of the current set can be reported, and only for a height within
 * EVIDENCE_MAX_AGE blocks: the set that signed an older height is not in the state that
 * execution reads, and a validator already removed has already been dealt with.
 */
import { type CborValue, decode, encode } from "../../codec/cbor.js";
import { InvalidInputError, RejectedError } from "../../errors/index.js";
import { defineCall, defineQuery, type Module } from "../../execution/module.js";
import { type StateReader, stateKey } from "../../execution/state-view.js";
import { proposalSignBytes, VOTE_PRECOMMIT, VOTE_PREVOTE, voteSignBytes } from "../../ledger/block.js";
import { equalBytes, fromHexOrUndefined, toHex } from "../../ledger/bytes.js";
import { readArray, readBytes, readMap, readUint } from "../../ledger/shape.js";
import { addressOf } from "../../ledger/tx.js";
import { readValidators } from "../governance/state.js";

/** Heights older than this (relative to the reporting block) can no longer be reported. */
export const EVIDENCE_MAX_AGE = 100_000;
/** `byValidator` looks at most at this many of the latest records. */
const MAX_SCAN = 10_000;

export interface SignedVote {
  /** 1 = prevote, 2 = precommit. */
  type: number;
  height: number;
  round: number;
  /** The block voted for, or null for nil. */
  blockHash: Uint8Array | null;
  /** The validator's public key. */
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface SignedProposal {
  height: number;
  round: number;
  /** −1, or the round of the polka that justified re-proposing the block. */
  validRound: number;
  blockHash: Uint8Array;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface EvidenceRecord {
  validator: Uint8Array;
  address: Uint8Array;
  org: string;
  height: number;
  round: number;
  /** The vote type (1 prevote, 2 precommit), or "proposal". */
  kind: number | "proposal";
  /** The two messages, in canonical order (by value, nil first), so one pair has one record. */
  pair: [SignedVote, SignedVote] | [SignedProposal, SignedProposal];
  reportedBy: Uint8Array;
  reporterOrg: string;
  reportedAt: number;
  txId: Uint8Array;
}

const COUNT_KEY = stateKey("evidence", "count");
const pad = (n: number, width: number) => String(n).padStart(width, "0");
export const evidenceKey = (address: Uint8Array, height: number, round: number, kind: number | "proposal") =>
  stateKey("evidence", toHex(address), pad(height, 12), String(round), String(kind));
const seqKey = (n: number) => stateKey("evidence", "seq", pad(n, 10));

function readVote(v: CborValue | undefined, field: string): SignedVote {
  const m = readMap(v, field);
  const type = readUint(m.type, `${field}.type`);
  if (type !== VOTE_PREVOTE && type !== VOTE_PRECOMMIT)
    throw new InvalidInputError("LEDGER_MALFORMED", `${field}.type: 1 (prevote) or 2 (precommit)`);
  return {
    type,
    height: readUint(m.height, `${field}.height`),
    round: readUint(m.round, `${field}.round`),
    blockHash: m.blockHash === null ? null : readBytes(m.blockHash, `${field}.blockHash`, 32, 32),
    publicKey: readBytes(m.publicKey, `${field}.publicKey`, 32, 65),
    signature: readBytes(m.signature, `${field}.signature`, 64, 64),
  };
}

function readProposal(v: CborValue | undefined, field: string): SignedProposal {
  const m = readMap(v, field);
  const validRound = m.validRound;
  if (typeof validRound !== "number" || !Number.isSafeInteger(validRound) || validRound < -1)
    throw new InvalidInputError("LEDGER_MALFORMED", `${field}.validRound: -1 or a round`);
  return {
    height: readUint(m.height, `${field}.height`),
    round: readUint(m.round, `${field}.round`),
    validRound,
    blockHash: readBytes(m.blockHash, `${field}.blockHash`, 32, 32),
    publicKey: readBytes(m.publicKey, `${field}.publicKey`, 32, 65),
    signature: readBytes(m.signature, `${field}.signature`, 64, 64),
  };
}

const proposalCbor = (p: SignedProposal): CborValue => ({
  height: p.height,
  round: p.round,
  validRound: p.validRound,
  blockHash: p.blockHash,
  publicKey: p.publicKey,
  signature: p.signature,
});

const voteCbor = (v: SignedVote): CborValue => ({
  type: v.type,
  height: v.height,
  round: v.round,
  blockHash: v.blockHash,
  publicKey: v.publicKey,
  signature: v.signature,
});

/** nil before any hash, then hashes in byte order. */
function compareValues(a: Uint8Array | null, b: Uint8Array | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Proposals by block hash, then by valid round. */
const compareProposals = (a: SignedProposal, b: SignedProposal): number =>
  compareValues(a.blockHash, b.blockHash) || a.validRound - b.validRound;

function encodeRecord(r: EvidenceRecord): Uint8Array {
  return encode({
    validator: r.validator,
    address: r.address,
    org: r.org,
    height: r.height,
    round: r.round,
    kind: r.kind,
    pair:
      r.kind === "proposal"
        ? (r.pair as SignedProposal[]).map(proposalCbor)
        : (r.pair as SignedVote[]).map(voteCbor),
    reportedBy: r.reportedBy,
    reporterOrg: r.reporterOrg,
    reportedAt: r.reportedAt,
    txId: r.txId,
  });
}

const kindName = (kind: CborValue | undefined) =>
  kind === "proposal" ? "proposal" : kind === VOTE_PREVOTE ? "prevote" : "precommit";

function recordJson(raw: Uint8Array): Record<string, unknown> {
  const m = readMap(decode(raw), "evidence");
  const pair = readArray(m.pair, "evidence.pair", 2).map((x) => readMap(x, "evidence.pair[]"));
  return {
    validator: toHex(m.validator as Uint8Array),
    address: toHex(m.address as Uint8Array),
    org: m.org,
    height: m.height,
    round: m.round,
    kind: kindName(m.kind),
    pair: pair.map((x) => ({
      blockHash: x.blockHash === null ? null : toHex(x.blockHash as Uint8Array),
      ...(m.kind === "proposal" ? { validRound: x.validRound } : {}),
      signature: toHex(x.signature as Uint8Array),
    })),
    reportedBy: toHex(m.reportedBy as Uint8Array),
    reporterOrg: m.reporterOrg,
    reportedAt: m.reportedAt,
    txId: toHex(m.txId as Uint8Array),
  };
}

export function readEvidenceCount(state: StateReader): number {
  const raw = state.get(COUNT_KEY);
  return raw ? (decode(raw) as number) : 0;
}

function badParam(message: string): never {
  throw new InvalidInputError("QUERY_BAD_PARAM", message);
}

type Report =
  | { kind: "votes"; pair: [SignedVote, SignedVote] }
  | { kind: "proposals"; pair: [SignedProposal, SignedProposal] };

export const evidenceModule: Module = {
  name: "evidence",
  calls: {
    report: defineCall<Report>({
      roles: ["admin", "supervisor"],
      summary: "Report two conflicting votes or proposals signed by one validator (双签证据)",
      parse(args) {
        const m = readMap(args, "args");
        if ((m.votes === undefined) === (m.proposals === undefined))
          throw new InvalidInputError("LEDGER_MALFORMED", "args: give exactly one of votes or proposals");
        if (m.votes !== undefined) {
          const l = readArray(m.votes, "args.votes", 2);
          return { kind: "votes", pair: [readVote(l[0], "args.votes[0]"), readVote(l[1], "args.votes[1]")] };
        }
        const l = readArray(m.proposals, "args.proposals", 2);
        return {
          kind: "proposals",
          pair: [readProposal(l[0], "args.proposals[0]"), readProposal(l[1], "args.proposals[1]")],
        };
      },
      handle(ctx, report) {
        const [a, b] = report.pair;
        if (a.height !== b.height || a.round !== b.round)
          throw new RejectedError(
            "EVIDENCE_NOT_CONFLICTING",
            "the two messages must be for the same height and round",
          );
        if (!equalBytes(a.publicKey, b.publicKey))
          throw new RejectedError("EVIDENCE_NOT_CONFLICTING", "the two messages are by different keys");
        let kind: number | "proposal";
        let pair: EvidenceRecord["pair"];
        let signBytes: (i: 0 | 1) => Uint8Array;
        if (report.kind === "votes") {
          const [va, vb] = report.pair;
          if (va.type !== vb.type)
            throw new RejectedError("EVIDENCE_NOT_CONFLICTING", "the two votes must be of the same type");
          if (compareValues(va.blockHash, vb.blockHash) === 0)
            throw new RejectedError("EVIDENCE_NOT_CONFLICTING", "the two votes are for the same value");
          kind = va.type;
          pair = compareValues(va.blockHash, vb.blockHash) < 0 ? [va, vb] : [vb, va];
          signBytes = (i) => {
            const v = report.pair[i];
            return voteSignBytes(ctx.chainId, v.type, v.height, v.round, v.blockHash);
          };
        } else {
          const [pa, pb] = report.pair;
          if (compareProposals(pa, pb) === 0)
            throw new RejectedError("EVIDENCE_NOT_CONFLICTING", "the two proposals are the same");
          kind = "proposal";
          pair = compareProposals(pa, pb) < 0 ? [pa, pb] : [pb, pa];
          signBytes = (i) => {
            const p = report.pair[i];
            return proposalSignBytes(ctx.chainId, p.height, p.round, p.validRound, p.blockHash);
          };
        }
        if (a.height > ctx.height)
          throw new RejectedError("EVIDENCE_FUTURE", `height ${a.height} is above the current ${ctx.height}`);
        if (ctx.height - a.height > EVIDENCE_MAX_AGE)
          throw new RejectedError(
            "EVIDENCE_TOO_OLD",
            `height ${a.height} is more than ${EVIDENCE_MAX_AGE} blocks ago`,
          );
        const validator = readValidators(ctx.state).find((v) => equalBytes(v.publicKey, a.publicKey));
        if (!validator)
          throw new RejectedError("EVIDENCE_NOT_VALIDATOR", "the key is not in the current validator set");
        for (const i of [0, 1] as const)
          if (!ctx.suite.verify(a.publicKey, signBytes(i), report.pair[i].signature))
            throw new RejectedError("EVIDENCE_BAD_SIGNATURE", "a signature does not verify");
        const address = addressOf(ctx.suite, a.publicKey);
        const key = evidenceKey(address, a.height, a.round, kind);
        if (ctx.state.get(key))
          throw new RejectedError("EVIDENCE_EXISTS", "this equivocation is already on record");
        ctx.state.set(
          key,
          encodeRecord({
            validator: a.publicKey,
            address,
            org: validator.org,
            height: a.height,
            round: a.round,
            kind,
            pair,
            reportedBy: ctx.sender.address,
            reporterOrg: ctx.sender.org,
            reportedAt: ctx.height,
            txId: ctx.txId,
          }),
        );
        const n = readEvidenceCount(ctx.state) + 1;
        ctx.state.set(COUNT_KEY, encode(n));
        ctx.state.set(seqKey(n), key);
        ctx.emit("equivocation", {
          validator: address,
          org: validator.org,
          height: a.height,
          round: a.round,
          kind,
        });
      },
    }),
  },
  queries: {
    list: defineQuery<{ from: number; limit: number }>({
      summary: "Equivocation records in the order they were reported (from: 1-based, limit ≤ 100)",
      parse(p) {
        const num = (name: string, dflt: number) => {
          const v = p[name];
          if (v === undefined) return dflt;
          if (!/^[0-9]{1,10}$/.test(v)) badParam(`${name}: a non-negative integer`);
          return Number(v);
        };
        const limit = num("limit", 50);
        if (limit < 1 || limit > 100) badParam("limit: 1..100");
        return { from: Math.max(1, num("from", 1)), limit };
      },
      run({ state }, { from, limit }) {
        const total = readEvidenceCount(state);
        const records: Record<string, unknown>[] = [];
        for (let n = from; n <= total && records.length < limit; n++) {
          const key = state.get(seqKey(n));
          const raw = key && state.get(key);
          if (raw) records.push({ seq: n, ...recordJson(raw) });
        }
        return { total, records };
      },
    }),
    byValidator: defineQuery<{ address: Uint8Array }>({
      summary: "Whether a validator (by address) has equivocation on record, and the records",
      parse(p) {
        const address = fromHexOrUndefined(p.address ?? "");
        if (address?.length !== 20) badParam("address: 40 hex characters");
        return { address };
      },
      run({ state }, { address }) {
        const total = readEvidenceCount(state);
        const prefix = toHex(address);
        const records: Record<string, unknown>[] = [];
        // Records are few (each is a validator's gravest fault): a bounded scan of the sequence.
        for (let n = Math.max(1, total - MAX_SCAN + 1); n <= total; n++) {
          const key = state.get(seqKey(n));
          const raw = key && state.get(key);
          if (!raw) continue;
          const r = recordJson(raw);
          if (r.address === prefix) records.push({ seq: n, ...r });
        }
        return { address: prefix, records };
      },
    }),
  },
};
