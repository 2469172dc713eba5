/**
 * Turns a decision of the consensus core into the ledger's commit certificate
 * (`src/ledger/block.ts` Commit), the object light clients check with `verifyCommit`.
 */
import type { Commit } from "../../ledger/block.js";
import { fromHex } from "../../ledger/bytes.js";
import type { Decision } from "./types.js";

export function commitFromDecision(d: Decision): Commit {
  return {
    height: d.height,
    round: d.round,
    blockHash: fromHex(d.valueId),
    signatures: d.precommits.map((v) => {
      if (!v.signature)
        throw new TypeError(`precommit of validator ${v.validatorIndex} carries no signature`);
      return { validatorIndex: v.validatorIndex, signature: v.signature };
    }),
  };
}
