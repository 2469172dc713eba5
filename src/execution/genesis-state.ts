/**
 * The state at height 0, derived from genesis: one record per member organization, each
 * organization's root key enrolled as its first admin account, the list of organization ids, and
 * the validator set. Governance admits later organizations with the same records (`orgRecords`).
 */
import { decode, encode } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { readArray, readBytes, readMap, readText, readUint } from "../ledger/shape.js";
import { addressOf } from "../ledger/tx.js";
import type { Validator } from "../ledger/validators.js";
import { accountKey, encodeAccount, encodeOrg, encodeOrgIds, ORGS_KEY, orgKey } from "./accounts.js";
import { stateKey } from "./state-view.js";

export interface GenesisStateInput {
  orgs: Array<{ id: string; name: string; code: string; rootPublicKey: Uint8Array }>;
  validators: Validator[];
}

export const VALIDATORS_KEY = stateKey("validators");

export function encodeValidators(validators: readonly Validator[]): Uint8Array {
  return encode(validators.map((v) => ({ publicKey: v.publicKey, power: v.power, org: v.org })));
}

export type MemberOrgInput = GenesisStateInput["orgs"][number];

/**
 * The records that make an organization a member at `height`: its org record (active) and its
 * root key enrolled as its first admin account. The caller adds its id to the `orgs` list.
 */
export function orgRecords(
  suite: CryptoSuite,
  o: MemberOrgInput,
  height: number,
): Array<{ key: Uint8Array; value: Uint8Array }> {
  const org = { id: o.id, name: o.name, code: o.code, rootPublicKey: o.rootPublicKey };
  const address = addressOf(suite, o.rootPublicKey);
  return [
    { key: orgKey(o.id), value: encodeOrg({ ...org, status: "active" }) },
    {
      key: accountKey(address),
      value: encodeAccount({
        address,
        publicKey: o.rootPublicKey,
        org: o.id,
        roles: ["admin"],
        status: "active",
        enrolledAt: height,
      }),
    },
  ];
}

export function genesisState(
  suite: CryptoSuite,
  g: GenesisStateInput,
): Array<{ key: Uint8Array; value: Uint8Array }> {
  const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  for (const o of g.orgs) out.push(...orgRecords(suite, o, 0));
  out.push({ key: ORGS_KEY, value: encodeOrgIds(g.orgs.map((o) => o.id)) });
  out.push({ key: VALIDATORS_KEY, value: encodeValidators(g.validators) });
  return out;
}

export function decodeValidators(bytes: Uint8Array): Validator[] {
  return readArray(decode(bytes), "validators").map((v, i) => {
    const m = readMap(v, `validators[${i}]`);
    return {
      publicKey: readBytes(m.publicKey, `validators[${i}].publicKey`),
      power: readUint(m.power, `validators[${i}].power`),
      org: readText(m.org, `validators[${i}].org`, 32),
    };
  });
}
