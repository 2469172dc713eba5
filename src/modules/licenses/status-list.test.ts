import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { encode } from "../../codec/cbor.js";
import type { StateReader } from "../../execution/state-view.js";
import { Overlay } from "../../execution/state-view.js";
import { MemoryState } from "../../execution/test-chain.js";
import { buildLicenseId } from "./identifiers.js";
import {
  assignStatusIndex,
  encodeLicense,
  licenseKey,
  licensesInIndexOrder,
  readStatusIndex,
} from "./state.js";
import {
  bitsFromState,
  buildBitstring,
  decodeList,
  encodeList,
  entryStatus,
  getBit,
  STATUS_LIST_BITS,
  statusBit,
  statusListCredential,
} from "./status-list.js";
import { type License, STATUS_CODES, type StatusCode } from "./types.js";
import { statusEntries } from "./vc.js";

const MARKET = "11100000000000000X";
const TYPE_A = `${MARKET}001`;
const TYPE_B = `${MARKET}002`;
const idOf = (serial: string, typeCode = TYPE_A) =>
  buildLicenseId({ typeCode, issuerCode: MARKET, serial, version: 1 });

/** An independent decoder: manual base64url → bytes, then zlib gunzip. */
function independentDecode(encodedList: string): Uint8Array {
  assert.equal(encodedList[0], "u");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of encodedList.slice(1)) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `not base64url: ${ch}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return new Uint8Array(gunzipSync(Uint8Array.from(bytes)));
}
/** Bit i, read left to right (bit 0 = the most significant bit of byte 0). */
const bitAt = (b: Uint8Array, i: number) => ((b[Math.floor(i / 8)]! >> (7 - (i % 8))) & 1) === 1;

function record(licenseId: string, status: StatusCode): License {
  const z20 = new Uint8Array(20);
  return {
    licenseId,
    typeCode: TYPE_A,
    typeVersion: 1,
    issuerOrg: "market",
    issuer: z20,
    holder: new Uint8Array(32),
    commitments: { ZZBH: new Uint8Array(32) },
    validFrom: 0,
    validUntil: 1,
    status,
    statusHeight: 1,
    statusReason: null,
    statusBy: z20,
    previous: null,
    next: null,
    issuedAt: 1,
    holderAccount: z20,
  };
}

describe("Bitstring Status List", () => {
  it("maps statuses to purposes: revocation = 03/04/07, suspension = 02", () => {
    const rev = STATUS_CODES.filter((s) => statusBit(s, "revocation"));
    const sus = STATUS_CODES.filter((s) => statusBit(s, "suspension"));
    assert.deepEqual(rev, ["03", "04", "07"]);
    assert.deepEqual(sus, ["02"]);
  });

  it("builds a ≥ 131,072-bit list, GZIP + multibase base64url, decodable by an independent path", () => {
    const entries = [
      { index: 0, status: "01" as StatusCode },
      { index: 1, status: "03" as StatusCode },
      { index: 2, status: "02" as StatusCode },
      { index: 9, status: "07" as StatusCode },
      { index: 131_071, status: "04" as StatusCode },
    ];
    const rev = buildBitstring(entries, "revocation");
    assert.equal(rev.length * 8, STATUS_LIST_BITS);
    const enc = encodeList(rev);
    assert.match(enc, /^u[A-Za-z0-9_-]+$/);
    assert.ok(enc.length < 200, `a sparse list compresses well (${enc.length} chars)`);
    const plain = independentDecode(enc);
    assert.equal(plain.length, 16_384);
    const set = [];
    for (let i = 0; i < plain.length * 8; i++) if (bitAt(plain, i)) set.push(i);
    assert.deepEqual(set, [1, 9, 131_071]);
    assert.deepEqual(decodeList(enc), rev);
    const sus = independentDecode(encodeList(buildBitstring(entries, "suspension")));
    assert.ok(bitAt(sus, 2) && !bitAt(sus, 1) && !bitAt(sus, 0));
    // A type with more licenses grows by 131,072 bits at a time.
    assert.equal(
      buildBitstring([{ index: 131_072, status: "03" }], "revocation").length * 8,
      2 * STATUS_LIST_BITS,
    );
    assert.throws(() => decodeList(`u${Buffer.from(Uint8Array.of(1, 2)).toString("base64url")}`));
    assert.throws(() => decodeList("zabc"), RangeError);
    assert.throws(() => getBit(rev, STATUS_LIST_BITS), RangeError);
  });

  it("gives each license the next position of its type, kept in state (licidx…)", () => {
    const base = new MemoryState();
    const o = new Overlay(base);
    assert.equal(assignStatusIndex(o, TYPE_A, idOf("A1")), 0);
    assert.equal(assignStatusIndex(o, TYPE_B, idOf("B1", TYPE_B)), 0);
    assert.equal(assignStatusIndex(o, TYPE_A, idOf("A3")), 1);
    base.apply(o.changes());
    const o2 = new Overlay(base);
    assert.equal(assignStatusIndex(o2, TYPE_A, idOf("A4")), 2);
    base.apply(o2.changes());
    assert.equal(readStatusIndex(base, idOf("A4")), 2);
    assert.equal(readStatusIndex(base, idOf("B1", TYPE_B)), 0);
    assert.equal(readStatusIndex(base, idOf("A2")), undefined);
    assert.deepEqual(licensesInIndexOrder(base, TYPE_A), [idOf("A1"), idOf("A3"), idOf("A4")]);
    assert.deepEqual(licensesInIndexOrder(base, TYPE_B), [idOf("B1", TYPE_B)]);
  });

  it("derives the bits from license records: revoke sets, reinstate clears", () => {
    const ids = [idOf("A1"), idOf("A2"), idOf("A3")];
    const records = new Map<string, License>(ids.map((id) => [id, record(id, "01")]));
    const state: StateReader = {
      get(k) {
        for (const [id, r] of records)
          if (Buffer.from(licenseKey(id)).equals(Buffer.from(k))) return encodeLicense(r);
        return undefined;
      },
    };
    const bits = (purpose: "revocation" | "suspension") => {
      const b = bitsFromState(state, ids, purpose);
      return ids.map((_, i) => getBit(b, i));
    };
    assert.deepEqual(bits("revocation"), [false, false, false]);
    records.set(ids[1]!, record(ids[1]!, "02")); // suspend
    assert.deepEqual(bits("suspension"), [false, true, false]);
    records.set(ids[1]!, record(ids[1]!, "01")); // reinstate
    assert.deepEqual(bits("suspension"), [false, false, false]);
    records.set(ids[2]!, record(ids[2]!, "03")); // revoke
    assert.deepEqual(bits("revocation"), [false, false, true]);
    records.set(ids[0]!, record(ids[0]!, "05")); // superseded: neither list
    assert.deepEqual(
      [bits("revocation"), bits("suspension")],
      [
        [false, false, true],
        [false, false, false],
      ],
    );
    assert.ok(encode(0)); // codec loaded (records encode canonically)
  });

  it("publishes a BitstringStatusListCredential whose entry check reads the bit", () => {
    const base = "https://zl.example.gov.cn";
    const bits = buildBitstring([{ index: 5, status: "03" }], "revocation");
    const cred = statusListCredential({
      baseUrl: base,
      typeCode: TYPE_A,
      purpose: "revocation",
      issuer: "did:zl:zl-test:market",
      bits,
      validFrom: Date.parse("2026-01-01T00:00:00Z"),
    });
    assert.deepEqual(cred.type, ["VerifiableCredential", "BitstringStatusListCredential"]);
    assert.equal(cred.credentialSubject.type, "BitstringStatusList");
    assert.equal(cred.id, `${base}/v1/licenses/status/${TYPE_A}/revocation`);
    const [rev5, sus5] = statusEntries(base, TYPE_A, 5);
    const [rev6] = statusEntries(base, TYPE_A, 6);
    assert.equal(entryStatus(rev5!, cred), true);
    assert.equal(entryStatus(rev6!, cred), false);
    assert.throws(() => entryStatus(sus5!, cred), RangeError);
  });
});
