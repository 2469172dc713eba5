/**
 * E-license module (电子证照, GB/T 36901…36905): the catalogue of license types, their trusted
 * issuers, the licenses themselves with their status history links, the holders' grants to
 * relying parties (用证授权) and the use log (用证记录). No personal data goes on chain: a
 * license holds its identifier, one salted commitment per face field (commitments.ts), a
 * pseudonymous holder id, its status, and who did what. docs/licenses.md describes it in full.
 *
 * State (keys built with `stateKey`, values canonical CBOR maps; heights are block heights,
 * times are ms since the Unix epoch compared with block time):
 *
 *   lictype/<typeCode>                → {typeCode, name, definingOrg, version,
 *                                        fields: [{name, type: text|date|int|bytes, required}],
 *                                        issuerOrgs: [orgId], maxValidityDays, registeredAt, updatedAt}
 *   licissuer/<typeCode>/<address>    → {org, grants: [{from, until | null}]}
 *                                        authorized at height h iff some from ≤ h < until
 *   license/<licenseId>               → {licenseId, typeCode, typeVersion, issuerOrg, issuer, holder,
 *                                        commitments: {field: bytes32}, validFrom, validUntil,
 *                                        status: 01|02|03|04|05|06|07|99, statusHeight, statusReason
 *                                        {code, text} | null, statusBy, previous, next, issuedAt,
 *                                        holderAccount}
 *   licgrant/<licenseId>/<grantId>    → {grantId, relyingParty, purpose, fields, from, until,
 *                                        createdAt, withdrawnAt | null}
 *   licgrantcount/<licenseId>         → number of grants (grantId = the sequence, 10 digits)
 *   licuse/<licenseId>/<seq>          → {seq, grantId, by, org, serviceItemCode, businessSerial,
 *                                        reasonCommitment, height, time}   (seq: u32, 10 digits)
 *   licusecount/<licenseId>           → number of uses (the last seq)
 *   licidx/<licenseId>                → its position in the type's status lists (issue order)
 *   licbyidx/<typeCode>/<index>       → the licenseId at that position (index: 10 digits)
 *   licidxcount/<typeCode>            → number of positions given
 */
import { InvalidInputError } from "../../errors/index.js";
import { defineQuery, type Module } from "../../execution/module.js";
import { fromHexOrUndefined } from "../../ledger/bytes.js";
import { grant } from "./calls/grant.js";
import { grantIssuer } from "./calls/grant-issuer.js";
import { issue } from "./calls/issue.js";
import { recordUse } from "./calls/record-use.js";
import { registerType } from "./calls/register-type.js";
import { renew } from "./calls/renew.js";
import { reinstate, revoke, suspend } from "./calls/status.js";
import { updateType } from "./calls/update-type.js";
import { withdrawGrant } from "./calls/withdraw-grant.js";
import { withdrawIssuer } from "./calls/withdraw-issuer.js";
import {
  decodeGrant,
  decodeUse,
  grantCountKey,
  grantKey,
  issuerGrantedAt,
  licenseStatus,
  readCount,
  readIssuer,
  readLicense,
  readType,
  seqText,
  useCountKey,
  useKey,
} from "./state.js";
import { TYPE_CODE_PATTERN } from "./types.js";

export { issuerGrantedAt, licenseStatus } from "./state.js";
export type {
  Grant,
  IssuerRecord,
  License,
  LicenseType,
  StatusCode,
  StatusReason,
  UseEntry,
} from "./types.js";

const LICENSE_ID_QUERY = /^1\.2\.156\.3005\.2\.[0-9A-Z.]{1,150}$/;
const MAX_PAGE = 500;

function badParam(message: string): never {
  throw new InvalidInputError("QUERY_BAD_PARAM", message);
}

function pLicenseId(p: Record<string, string>): string {
  const id = p.licenseId;
  if (typeof id !== "string" || !LICENSE_ID_QUERY.test(id))
    badParam("licenseId: a GB/T 36904 license identifier");
  return id;
}

function pTypeCode(p: Record<string, string>): string {
  const t = p.typeCode;
  if (typeof t !== "string" || !TYPE_CODE_PATTERN.test(t))
    badParam("typeCode: a 21-character license type code");
  return t;
}

function pAddress(p: Record<string, string>): Uint8Array {
  const a = fromHexOrUndefined(p.address ?? "");
  if (a?.length !== 20) badParam("address: 40 hex characters");
  return a;
}

function pUint(p: Record<string, string>, name: string, dflt?: number): number {
  const v = p[name];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== "string" || !/^[0-9]{1,15}$/.test(v)) badParam(`${name}: a non-negative integer`);
  return Number(v);
}

interface Page {
  licenseId: string;
  from: number;
  limit: number;
}

function pPage(p: Record<string, string>): Page {
  const from = pUint(p, "from", 1);
  const limit = pUint(p, "limit", 100);
  if (from < 1 || limit < 1 || limit > MAX_PAGE) badParam(`from ≥ 1, 1 ≤ limit ≤ ${MAX_PAGE}`);
  return { licenseId: pLicenseId(p), from, limit };
}

export const licensesModule: Module = {
  name: "licenses",
  calls: {
    registerType,
    updateType,
    grantIssuer,
    withdrawIssuer,
    issue,
    suspend,
    reinstate,
    revoke,
    renew,
    grant,
    withdrawGrant,
    recordUse,
  },
  queries: {
    type: defineQuery<{ typeCode: string }>({
      summary: "A license type (证照类型) of the catalogue",
      parse: (p) => ({ typeCode: pTypeCode(p) }),
      run: (ctx, { typeCode }) => readType(ctx.state, typeCode) ?? null,
    }),
    license: defineQuery<{ licenseId: string }>({
      summary: "A license record: identifiers, commitments, holder pseudonym, status and links",
      parse: (p) => ({ licenseId: pLicenseId(p) }),
      run: (ctx, { licenseId }) => readLicense(ctx.state, licenseId) ?? null,
    }),
    status: defineQuery<{ licenseId: string; time: number }>({
      summary: "Whether a license is valid at a time (ms): {valid, reason, status, next}",
      parse: (p) => ({ licenseId: pLicenseId(p), time: pUint(p, "time") }),
      run(ctx, { licenseId, time }) {
        const l = readLicense(ctx.state, licenseId);
        return l ? { licenseId, ...licenseStatus(l, time), next: l.next } : null;
      },
    }),
    grants: defineQuery<Page>({
      summary: "A license's grants to relying parties, in order (from, limit)",
      parse: pPage,
      run(ctx, { licenseId, from, limit }) {
        const count = readCount(ctx.state, grantCountKey(licenseId));
        const out = [];
        for (let n = from; n <= count && out.length < limit; n++) {
          const raw = ctx.state.get(grantKey(licenseId, seqText(n)));
          if (raw) out.push(decodeGrant(raw));
        }
        return out;
      },
    }),
    uses: defineQuery<Page>({
      summary: "A license's use log (用证记录), in order (from, limit)",
      parse: pPage,
      run(ctx, { licenseId, from, limit }) {
        const count = readCount(ctx.state, useCountKey(licenseId));
        const out = [];
        for (let n = from; n <= count && out.length < limit; n++) {
          const raw = ctx.state.get(useKey(licenseId, n));
          if (raw) out.push(decodeUse(raw));
        }
        return out;
      },
    }),
    issuer: defineQuery<{ typeCode: string; address: Uint8Array }>({
      summary: "An account's trusted-issuer history for a license type",
      parse: (p) => ({ typeCode: pTypeCode(p), address: pAddress(p) }),
      run: (ctx, { typeCode, address }) => readIssuer(ctx.state, typeCode, address) ?? null,
    }),
    issuerAt: defineQuery<{ typeCode: string; address: Uint8Array; height: number }>({
      summary: "Whether an account was a trusted issuer of a license type at a height",
      parse: (p) => ({ typeCode: pTypeCode(p), address: pAddress(p), height: pUint(p, "height") }),
      run: (ctx, { typeCode, address, height }) =>
        issuerGrantedAt(readIssuer(ctx.state, typeCode, address), height),
    }),
  },
};
