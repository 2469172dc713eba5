/**
 * Attestation module (存证): a department records the digest of a document or data set with its
 * provenance — who, which system, when and how it was generated — so that, per the people's
 * courts' online litigation rules (2021, arts. 16–18), both the on-chain record and its origin
 * can be examined. Only digests and provenance metadata go on chain, never the content.
 *
 *   attest/<digest hex> → {digest, kind, org, by, height, time, provenance}
 */
import { type CborValue, decode, encode } from "../../codec/cbor.js";
import { InvalidInputError, RejectedError } from "../../errors/index.js";
import { defineCall, defineQuery, type Module } from "../../execution/module.js";
import { stateKey } from "../../execution/state-view.js";
import { fromHexOrUndefined, toHex } from "../../ledger/bytes.js";
import { readBytes, readMap, readText } from "../../ledger/shape.js";

export interface Provenance {
  /** The system that produced the data (业务系统). */
  system: string;
  /** When the source data was generated, ms since the Unix epoch, as stated by the submitter. */
  generatedAt: number;
  /** How it was generated or collected (e.g. "scan", "form", "export"). */
  method: string;
}

export interface AttestArgs {
  digest: Uint8Array;
  kind: string;
  provenance: Provenance;
}

export const attestKey = (digest: Uint8Array) => stateKey("attest", toHex(digest));

export const attestModule: Module = {
  name: "attest",
  calls: {
    record: defineCall<AttestArgs>({
      roles: ["admin", "issuer", "official"],
      summary: "Record a document digest with its provenance (存证)",
      parse(args) {
        const m = readMap(args, "args");
        const p = readMap(m.provenance, "args.provenance");
        const generatedAt = p.generatedAt;
        if (typeof generatedAt !== "number" || !Number.isSafeInteger(generatedAt) || generatedAt < 0)
          throw new InvalidInputError(
            "LEDGER_MALFORMED",
            "args.provenance.generatedAt: expected ms since the Unix epoch",
          );
        return {
          digest: readBytes(m.digest, "args.digest", 32, 64),
          kind: readText(m.kind, "args.kind", 64),
          provenance: {
            system: readText(p.system, "args.provenance.system", 128),
            generatedAt,
            method: readText(p.method, "args.provenance.method", 64),
          },
        };
      },
      handle(ctx, args) {
        const key = attestKey(args.digest);
        if (ctx.state.get(key))
          throw new RejectedError("ATTEST_EXISTS", `digest ${toHex(args.digest)} is already attested`);
        const record: CborValue = {
          digest: args.digest,
          kind: args.kind,
          org: ctx.sender.org,
          by: ctx.sender.address,
          height: ctx.height,
          time: ctx.time,
          txId: ctx.txId,
          provenance: { ...args.provenance },
        };
        ctx.state.set(key, encode(record));
        ctx.emit("attested", { digest: args.digest, kind: args.kind, org: ctx.sender.org });
      },
    }),
  },
  queries: {
    get: defineQuery<{ digest: Uint8Array }>({
      summary: "The attestation of a digest, if any",
      parse(p) {
        const digest = fromHexOrUndefined(p.digest ?? "");
        if (!digest || digest.length < 32)
          throw new InvalidInputError("QUERY_BAD_PARAM", "digest: hex of a 32–64-byte digest");
        return { digest };
      },
      run(ctx, { digest }) {
        const raw = ctx.state.get(attestKey(digest));
        return raw ? decode(raw) : null;
      },
    }),
  },
};
