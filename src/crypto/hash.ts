/** Browser-safe hash selection per suite (no node: imports). */
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidInputError } from "../errors/index.js";
import { sm3 } from "./sm3.js";
import type { SuiteId } from "./suite.js";

export type HashFunction = (data: Uint8Array) => Uint8Array;

const sha256Fn: HashFunction = (data) => sha256(data);

/** The suite's 32-byte digest: SHA-256 for `intl`, SM3 for `gm`. */
export function hashFunction(id: SuiteId): HashFunction {
  switch (id) {
    case "intl":
      return sha256Fn;
    case "gm":
      return sm3;
    default:
      throw new InvalidInputError("CRYPTO_UNKNOWN_SUITE", `unknown crypto suite: ${String(id)}`, {
        suite: id,
      });
  }
}
