/**
 * The `did:zl` DID method (W3C DID Core 1.0) for the organizations and accounts of a ZhengLian
 * chain. Browser-safe: no `node:` import. docs/adr/0014-credentials-and-dids.md defines it.
 *
 *   did:zl:<chainId>:<orgId>                an organization   (state org/<orgId>)
 *   did:zl:<chainId>:acct:<address hex>     an account        (state acct/<address>, 40 lower-case hex)
 *
 * Resolution reads the chain's state: the organization's root key or the account's key becomes
 * verification method `#key-1`, a JsonWebKey:
 *   intl: {kty: "OKP", crv: "Ed25519", x}        (RFC 8037)
 *   gm:   {kty: "EC", crv: "SM2", x, y}          (the uncompressed point; "SM2" is not a
 *                                                 registered JOSE curve name, see the ADR)
 * An account's document names its organization's DID as `controller`. A suspended organization
 * or account resolves with `deactivated: true` in the document metadata.
 */

import { encodePublicKey } from "../../crypto/sm2.js";
import type { SuiteId } from "../../crypto/suite.js";
import { readAccount, readOrg } from "../../execution/accounts.js";
import type { StateReader } from "../../execution/state-view.js";
import { fromHexOrUndefined, toHex } from "../../ledger/bytes.js";

export const DID_METHOD = "zl";
const CHAIN_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ORG_ID = /^[a-z][a-z0-9-]{1,31}$/;
const ADDRESS_HEX = /^[0-9a-f]{40}$/;

export type ParsedDid =
  | { chainId: string; kind: "org"; orgId: string }
  | { chainId: string; kind: "acct"; address: Uint8Array };

export function orgDid(chainId: string, orgId: string): string {
  return `did:zl:${chainId}:${orgId}`;
}

export function accountDid(chainId: string, address: Uint8Array): string {
  return `did:zl:${chainId}:acct:${toHex(address).toLowerCase()}`;
}

/** The verification method id used for every key: `<did>#key-1`. */
export const keyId = (did: string): string => `${did}#key-1`;

/** Parses a did:zl DID (a DID URL's fragment, if any, is ignored); undefined when not one. */
export function parseDid(did: string): ParsedDid | undefined {
  if (typeof did !== "string") return undefined;
  const bare = did.split("#")[0] as string;
  const parts = bare.split(":");
  if (parts[0] !== "did" || parts[1] !== DID_METHOD) return undefined;
  const chainId = parts[2];
  if (chainId === undefined || !CHAIN_ID.test(chainId)) return undefined;
  if (parts.length === 4 && ORG_ID.test(parts[3] as string))
    return { chainId, kind: "org", orgId: parts[3] as string };
  if (parts.length === 5 && parts[3] === "acct" && ADDRESS_HEX.test(parts[4] as string))
    return { chainId, kind: "acct", address: fromHexOrUndefined(parts[4] as string) as Uint8Array };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// base64url (RFC 4648 §5, no padding), dependency-free

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict base64url without padding; undefined for any other character or a bad length. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    acc = (acc << 6) | B64URL.indexOf(text[i] as string);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Non-zero trailing bits would give a second spelling of the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// Keys as JWK

export interface PublicJwk {
  kty: "OKP" | "EC";
  crv: "Ed25519" | "SM2";
  x: string;
  y?: string;
}

export function publicKeyToJwk(suite: SuiteId, publicKey: Uint8Array): PublicJwk {
  if (suite === "intl") return { kty: "OKP", crv: "Ed25519", x: base64url(publicKey) };
  const point = encodePublicKey(publicKey, false); // 04 || x || y
  return { kty: "EC", crv: "SM2", x: base64url(point.subarray(1, 33)), y: base64url(point.subarray(33, 65)) };
}

/** The raw on-chain public key of a JWK (32 bytes intl, 33 compressed gm); undefined if malformed. */
export function jwkToPublicKey(suite: SuiteId, jwk: unknown): Uint8Array | undefined {
  if (!jwk || typeof jwk !== "object") return undefined;
  const k = jwk as Record<string, unknown>;
  if (suite === "intl") {
    if (k.kty !== "OKP" || k.crv !== "Ed25519" || typeof k.x !== "string") return undefined;
    const x = fromBase64url(k.x);
    return x?.length === 32 ? x : undefined;
  }
  if (k.kty !== "EC" || k.crv !== "SM2" || typeof k.x !== "string" || typeof k.y !== "string")
    return undefined;
  const x = fromBase64url(k.x);
  const y = fromBase64url(k.y);
  if (x?.length !== 32 || y?.length !== 32) return undefined;
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(x, 1);
  raw.set(y, 33);
  try {
    return encodePublicKey(raw, true); // checks the point is on the curve
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// DID documents and resolution

export interface VerificationMethod {
  id: string;
  type: "JsonWebKey";
  controller: string;
  publicKeyJwk: PublicJwk;
}

export interface DidDocument {
  "@context": string[];
  id: string;
  controller?: string;
  verificationMethod: VerificationMethod[];
  authentication: string[];
  assertionMethod: string[];
}

export interface DidResolution {
  didDocument: DidDocument;
  didDocumentMetadata: { deactivated: boolean };
  /** The resolved key, raw as on chain. */
  publicKey: Uint8Array;
}

export const DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://www.w3.org/ns/cid/v1"];

export function didDocument(
  suite: SuiteId,
  did: string,
  publicKey: Uint8Array,
  controller?: string,
): DidDocument {
  const kid = keyId(did);
  return {
    "@context": [...DID_CONTEXTS],
    id: did,
    ...(controller ? { controller } : {}),
    verificationMethod: [
      { id: kid, type: "JsonWebKey", controller: did, publicKeyJwk: publicKeyToJwk(suite, publicKey) },
    ],
    authentication: [kid],
    assertionMethod: [kid],
  };
}

export interface ChainView {
  chainId: string;
  suite: SuiteId;
  state: StateReader;
}

/** Resolves a did:zl DID from chain state; undefined when it is not of this chain or not found. */
export function resolveDid(chain: ChainView, did: string): DidResolution | undefined {
  const p = parseDid(did);
  if (!p || p.chainId !== chain.chainId || did.includes("#")) return undefined;
  if (p.kind === "org") {
    const org = readOrg(chain.state, p.orgId);
    if (!org) return undefined;
    return {
      didDocument: didDocument(chain.suite, did, org.rootPublicKey),
      didDocumentMetadata: { deactivated: org.status !== "active" },
      publicKey: org.rootPublicKey,
    };
  }
  const acct = readAccount(chain.state, p.address);
  if (!acct) return undefined;
  const org = readOrg(chain.state, acct.org);
  return {
    didDocument: didDocument(chain.suite, did, acct.publicKey, orgDid(chain.chainId, acct.org)),
    didDocumentMetadata: {
      deactivated: acct.status !== "active" || (org !== undefined && org.status !== "active"),
    },
    publicKey: acct.publicKey,
  };
}
