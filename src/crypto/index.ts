/** Entry point of the crypto layer: pick a suite by id. */
import { InvalidInputError } from "../errors/index.js";
import { gmSuite } from "./gm.js";
import { intlSuite } from "./intl.js";
import type { CryptoSuite, SuiteId } from "./suite.js";

export { type HashFunction, hashFunction } from "./hash.js";
export type { CryptoSuite, KeyPair, SuiteId } from "./suite.js";
export { SUITE_IDS } from "./suite.js";

export function getSuite(id: SuiteId): CryptoSuite {
  switch (id) {
    case "intl":
      return intlSuite;
    case "gm":
      return gmSuite;
    default:
      throw new InvalidInputError("CRYPTO_UNKNOWN_SUITE", `unknown crypto suite: ${String(id)}`, {
        suite: id,
      });
  }
}
