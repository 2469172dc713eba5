/**
 * The state at height 0, derived from genesis: one record per member organization, each
 * organization's root key enrolled as its first admin account, and the validator set.
 */
import { encode } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { addressOf } from "../ledger/tx.js";
import type { Validator } from "../ledger/validators.js";
import { accountKey, encodeAccount, encodeOrg, orgKey } from "./accounts.js";
import { stateKey } from "./state-view.js";

export interface GenesisStateInput {
  orgs: Array<{ id: string; name: string; code: string; rootPublicKey: Uint8Array }>;
  validators: Validator[];
}

export const VALIDATORS_KEY = stateKey("validators");

export function encodeValidators(validators: readonly Validator[]): Uint8Array {
  return encode(validators.map((v) => ({ publicKey: v.publicKey, power: v.power, org: v.org })));
}

export function genesisState(
  suite: CryptoSuite,
  g: GenesisStateInput,
): Array<{ key: Uint8Array; value: Uint8Array }> {
  const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  for (const o of g.orgs) {
    out.push({ key: orgKey(o.id), value: encodeOrg({ ...o, status: "active" }) });
    const address = addressOf(suite, o.rootPublicKey);
    out.push({
      key: accountKey(address),
      value: encodeAccount({
        address,
        publicKey: o.rootPublicKey,
        org: o.id,
        roles: ["admin"],
        status: "active",
        enrolledAt: 0,
      }),
    });
  }
  out.push({ key: VALIDATORS_KEY, value: encodeValidators(g.validators) });
  return out;
}
