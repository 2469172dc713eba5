/**
 * Genesis: the chain's founding document. It names the chain, its crypto suite, its chain-wide
 * parameters, the member organizations (departments) with their root public keys, and the
 * initial validators. Each organization's root key is enrolled as that organization's first
 * admin account, from which it enrols the rest.
 *
 * genesisHash = H(encode(canonical genesis)) — the prevHash of block 1.
 */
import { type CborValue, encode } from "../codec/cbor.js";
import { SUITE_IDS, type SuiteId } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";
import { fromHexOrUndefined, toHex } from "./bytes.js";
import type { Validator } from "./validators.js";

export interface ChainParams {
  /** Largest encoded transaction accepted. */
  maxTxBytes: number;
  /** Largest number of transactions in a block. */
  maxBlockTxs: number;
  /** Largest total size of a block's transactions. */
  maxBlockBytes: number;
  /** Blocks a governance proposal stays open for votes after the block that proposed it. */
  governanceVotingBlocks: number;
  /**
   * Delay d (≥ 2) between the block a in which a governance proposal passes and the first block
   * a + d that the change governs: the end-of-block hook of block a + d − 1 applies it, so that
   * header a + d − 1 already commits the next validator set.
   */
  validatorChangeDelay: number;
  /**
   * Whether license types are registered and changed only by governance vote (the actions
   * registerLicenseType / updateLicenseType): the direct calls licenses.registerType and
   * licenses.updateType are then refused with LICENSE_TYPE_BY_VOTE. The one boolean parameter.
   */
  licenseTypesByVote: boolean;
}

export interface GenesisOrg {
  id: string;
  name: string;
  code: string;
  rootPublicKey: Uint8Array;
}

export interface Genesis {
  chainId: string;
  suite: SuiteId;
  genesisTime: number;
  params: ChainParams;
  orgs: GenesisOrg[];
  validators: Validator[];
}

export const DEFAULT_PARAMS: ChainParams = {
  maxTxBytes: 64 * 1024,
  maxBlockTxs: 10_000,
  maxBlockBytes: 8 * 1024 * 1024,
  governanceVotingBlocks: 1000,
  validatorChangeDelay: 2,
  licenseTypesByVote: false,
};

/** The smallest validator-change delay: a change can never apply in the block that passed it. */
export const MIN_VALIDATOR_CHANGE_DELAY = 2;

/** JSON form of genesis (keys in hex), as written to genesis.json. */
export interface GenesisJson {
  chainId: string;
  suite: string;
  genesisTime: string;
  params?: Partial<ChainParams>;
  orgs: Array<{ id: string; name: string; code: string; rootPublicKey: string }>;
  validators: Array<{ publicKey: string; power: number; org: string }>;
}

function bad(message: string): never {
  throw new InvalidInputError("GENESIS_INVALID", `genesis: ${message}`);
}

/** Organization (department) identifiers: short lowercase names, e.g. "market", "tax". */
export const ORG_ID_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;

/** Unified social credit code (统一社会信用代码, GB 32100): 18 characters, no I, O, S, V or Z. */
export const USCC_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

const CHAIN_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function parseGenesis(json: unknown, publicKeyLength: (suite: SuiteId) => number): Genesis {
  const g = json as GenesisJson;
  if (!g || typeof g !== "object") bad("not a JSON object");
  if (typeof g.chainId !== "string" || !CHAIN_ID.test(g.chainId))
    bad("chainId must match [a-z0-9][a-z0-9-]{0,62}");
  if (!SUITE_IDS.includes(g.suite as SuiteId)) bad(`suite must be one of ${SUITE_IDS.join(", ")}`);
  const suite = g.suite as SuiteId;
  const time = Date.parse(g.genesisTime);
  if (!Number.isFinite(time) || time < 0) bad("genesisTime must be an ISO 8601 time");
  const params = { ...DEFAULT_PARAMS, ...(g.params ?? {}) };
  // A parameter whose default is a boolean must be a boolean; every other one a positive integer.
  for (const [k, v] of Object.entries(params)) {
    if (typeof (DEFAULT_PARAMS as unknown as Record<string, unknown>)[k] === "boolean") {
      if (typeof v !== "boolean") bad(`params.${k} must be true or false`);
    } else if (!Number.isSafeInteger(v) || (v as number) <= 0) bad(`params.${k} must be a positive integer`);
  }
  if (params.validatorChangeDelay < MIN_VALIDATOR_CHANGE_DELAY)
    bad(`params.validatorChangeDelay must be at least ${MIN_VALIDATOR_CHANGE_DELAY}`);
  const keyLen = publicKeyLength(suite);
  const key = (hex: unknown, where: string) => {
    const k = typeof hex === "string" ? fromHexOrUndefined(hex) : undefined;
    if (!k || k.length !== keyLen) bad(`${where}: expected a ${keyLen}-byte ${suite} public key in hex`);
    return k;
  };
  if (!Array.isArray(g.orgs) || g.orgs.length === 0) bad("orgs must list at least one member organization");
  const ids = new Set<string>();
  const orgs = g.orgs.map((o, i) => {
    if (typeof o.id !== "string" || !ORG_ID_PATTERN.test(o.id))
      bad(`orgs[${i}].id must match ${ORG_ID_PATTERN}`);
    if (ids.has(o.id)) bad(`orgs[${i}].id "${o.id}" is listed twice`);
    ids.add(o.id);
    if (typeof o.name !== "string" || o.name.length === 0 || o.name.length > 128)
      bad(`orgs[${i}].name is required`);
    if (typeof o.code !== "string" || !USCC_PATTERN.test(o.code))
      bad(`orgs[${i}].code must be an 18-character unified social credit code`);
    return {
      id: o.id,
      name: o.name,
      code: o.code,
      rootPublicKey: key(o.rootPublicKey, `orgs[${i}].rootPublicKey`),
    };
  });
  if (!Array.isArray(g.validators) || g.validators.length === 0)
    bad("validators must list at least one validator");
  const validators = g.validators.map((v, i) => {
    if (!ids.has(v.org)) bad(`validators[${i}].org "${v.org}" is not a member organization`);
    if (!Number.isSafeInteger(v.power) || v.power <= 0 || v.power > 1_000_000)
      bad(`validators[${i}].power must be 1..1000000`);
    return { publicKey: key(v.publicKey, `validators[${i}].publicKey`), power: v.power, org: v.org };
  });
  return { chainId: g.chainId, suite, genesisTime: time, params, orgs, validators };
}

export function genesisToJson(g: Genesis): GenesisJson {
  return {
    chainId: g.chainId,
    suite: g.suite,
    genesisTime: new Date(g.genesisTime).toISOString(),
    params: { ...g.params },
    orgs: g.orgs.map((o) => ({
      id: o.id,
      name: o.name,
      code: o.code,
      rootPublicKey: toHex(o.rootPublicKey),
    })),
    validators: g.validators.map((v) => ({ publicKey: toHex(v.publicKey), power: v.power, org: v.org })),
  };
}

export function encodeGenesis(g: Genesis): Uint8Array {
  const value: CborValue = {
    chainId: g.chainId,
    suite: g.suite,
    genesisTime: g.genesisTime,
    params: { ...g.params },
    orgs: g.orgs.map((o) => ({ id: o.id, name: o.name, code: o.code, rootPublicKey: o.rootPublicKey })),
    validators: g.validators.map((v) => ({ publicKey: v.publicKey, power: v.power, org: v.org })),
  };
  return encode(value);
}
