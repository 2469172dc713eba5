/**
 * License status published as W3C Bitstring Status List v1.0 credentials (Node-only: it uses
 * node:zlib for GZIP). docs/licenses.md "Status lists" and ADR 0014 describe the format.
 *
 * One list per license type and purpose:
 *   - "revocation": bit i = 1 iff the license with index i of the type has status 03 撤销,
 *     04 注销 or 07 吊销 (final);
 *   - "suspension": bit i = 1 iff it has status 02 暂扣 (cleared again by `reinstate`).
 * Bit 0 is the most significant bit of the first byte (the spec's "left-most" bit). A list has
 * at least 131,072 bits (16 KB), and grows by 131,072 bits at a time when a type has more
 * licenses. `encodedList` = "u" (multibase base64url) + base64url-no-pad(GZIP(bits)).
 *
 * The index of a license in its type's lists is its issue order, assigned by the `issue` and
 * `renew` calls and kept in state (state.ts `assignStatusIndex`), so every node reads the same
 * index with a proof, and a renewal gets its own.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { StateReader } from "../../execution/state-view.js";
import { base64url, fromBase64url } from "./did.js";
import { readLicense } from "./state.js";
import type { StatusCode } from "./types.js";
import { type StatusPurpose, statusListUrl, VC_CONTEXT_V2 } from "./vc.js";

/** The minimum list size of the specification (16 KB), for herd privacy. */
export const STATUS_LIST_BITS = 131_072;

const REVOKED: readonly StatusCode[] = ["03", "04", "07"];

/** Whether a license in `status` has its bit set in the list for `purpose`. */
export function statusBit(status: StatusCode, purpose: StatusPurpose): boolean {
  return purpose === "revocation" ? REVOKED.includes(status) : status === "02";
}

export function getBit(bits: Uint8Array, index: number): boolean {
  const byte = bits[index >> 3];
  if (byte === undefined)
    throw new RangeError(`index ${index} is outside the list (${bits.length * 8} bits)`);
  return ((byte >> (7 - (index & 7))) & 1) === 1;
}

export function setBit(bits: Uint8Array, index: number, value: boolean): void {
  const i = index >> 3;
  if (i >= bits.length) throw new RangeError(`index ${index} is outside the list (${bits.length * 8} bits)`);
  const mask = 1 << (7 - (index & 7));
  bits[i] = value ? (bits[i] as number) | mask : (bits[i] as number) & ~mask;
}

/** The size in bits of a list holding `count` entries: a multiple of 131,072, at least one. */
export const listSize = (count: number): number =>
  Math.max(1, Math.ceil(count / STATUS_LIST_BITS)) * STATUS_LIST_BITS;

/** The bitstring of one purpose from (index, status) pairs; `count` sizes it (default: max index + 1). */
export function buildBitstring(
  entries: Iterable<{ index: number; status: StatusCode }>,
  purpose: StatusPurpose,
  count?: number,
): Uint8Array {
  const list = [...entries];
  const n = count ?? list.reduce((m, e) => Math.max(m, e.index + 1), 0);
  const bits = new Uint8Array(listSize(n) / 8);
  for (const e of list) if (statusBit(e.status, purpose)) setBit(bits, e.index, true);
  return bits;
}

/** `encodedList`: "u" + base64url(GZIP(bits)). */
export function encodeList(bits: Uint8Array): string {
  return `u${base64url(new Uint8Array(gzipSync(bits, { level: 9 })))}`;
}

/** The bitstring of an `encodedList`; throws a RangeError when it is not one. */
export function decodeList(encodedList: string): Uint8Array {
  if (typeof encodedList !== "string" || !encodedList.startsWith("u"))
    throw new RangeError("encodedList must be multibase base64url (prefix u)");
  const gz = fromBase64url(encodedList.slice(1));
  if (!gz) throw new RangeError("encodedList is not base64url");
  const bits = new Uint8Array(gunzipSync(gz, { maxOutputLength: 64 * 1024 * 1024 }));
  if (bits.length * 8 < STATUS_LIST_BITS) throw new RangeError("the list is shorter than 131,072 bits");
  return bits;
}

// ---------------------------------------------------------------------------------------------
// Status list credentials

export interface StatusListCredential {
  "@context": string[];
  id: string;
  type: ["VerifiableCredential", "BitstringStatusListCredential"];
  issuer: string;
  validFrom: string;
  credentialSubject: {
    id: string;
    type: "BitstringStatusList";
    statusPurpose: StatusPurpose;
    encodedList: string;
  };
}

/** The bits of a type's list read from state: each license of the type in index order. */
export function bitsFromState(
  state: StateReader,
  licenseIds: readonly string[],
  purpose: StatusPurpose,
): Uint8Array {
  const entries: Array<{ index: number; status: StatusCode }> = [];
  licenseIds.forEach((id, index) => {
    const l = readLicense(state, id);
    if (l) entries.push({ index, status: l.status });
  });
  return buildBitstring(entries, purpose, licenseIds.length);
}

export function statusListCredential(opts: {
  baseUrl: string;
  typeCode: string;
  purpose: StatusPurpose;
  /** DID of the publisher: the type's defining organization. */
  issuer: string;
  bits: Uint8Array;
  /** ms; the block time of the state the bits come from. */
  validFrom: number;
}): StatusListCredential {
  const url = statusListUrl(opts.baseUrl, opts.typeCode, opts.purpose);
  return {
    "@context": [VC_CONTEXT_V2],
    id: url,
    type: ["VerifiableCredential", "BitstringStatusListCredential"],
    issuer: opts.issuer,
    validFrom: new Date(opts.validFrom).toISOString(),
    credentialSubject: {
      id: `${url}#list`,
      type: "BitstringStatusList",
      statusPurpose: opts.purpose,
      encodedList: encodeList(opts.bits),
    },
  };
}

/**
 * A credential's status under one entry, given the list credential the entry points to:
 * true when the bit is set. Throws a RangeError when the list does not match the entry.
 */
export function entryStatus(
  entry: { statusPurpose: string; statusListIndex: string; statusListCredential: string },
  list: Pick<StatusListCredential, "id" | "credentialSubject">,
): boolean {
  if (list.id !== entry.statusListCredential) throw new RangeError("the list is not the entry's");
  if (list.credentialSubject.statusPurpose !== entry.statusPurpose) throw new RangeError("purpose mismatch");
  if (!/^(0|[1-9][0-9]*)$/.test(entry.statusListIndex)) throw new RangeError("statusListIndex");
  return getBit(decodeList(list.credentialSubject.encodedList), Number(entry.statusListIndex));
}
