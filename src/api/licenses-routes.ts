/**
 * Credential interoperability routes (docs/licenses.md "Verifiable Credentials"; ADR 0014):
 *
 *   GET  /v1/dids/:did                            the DID document of a did:zl organization or account
 *   GET  /v1/licenses/:licenseId/status-index     a license's index in its type's status lists
 *   GET  /v1/licenses/status/:typeCode/:purpose   the type's Bitstring Status List credential
 *   POST /v1/licenses/vc/verify                   verify a license vc+jwt against chain state now
 *
 * Everything is read from the latest committed state. The node holds no issuer key, so the status list credential it serves is unsigned:
 * its bits are a function of chain state at the height named in the `zl-height` and
 * `zl-state-root` response headers, which a verifier may recompute from proven records (or the
 * type's defining organization may sign the same credential with `signVcJwt` and publish it).
 */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { InvalidInputError, NotFoundError } from "../errors/index.js";
import { toHex } from "../ledger/bytes.js";
import { accountDid, type ChainView, orgDid, resolveDid } from "../modules/licenses/did.js";
import {
  issuerGrantedAt,
  licenseStatus,
  licensesInIndexOrder,
  readIssuer,
  readLicense,
  readStatusIndex,
  readType,
} from "../modules/licenses/state.js";
import { bitsFromState, statusListCredential } from "../modules/licenses/status-list.js";
import {
  didKeyResolver,
  licenseIdOfVc,
  STATUS_PURPOSES,
  type StatusPurpose,
  statusEntries,
  verifyVcJwt,
} from "../modules/licenses/vc.js";
import type { ZlNode } from "../node/node.js";

const LICENSE_ID = "^1\\.2\\.156\\.3005\\.2\\.[0-9A-Z.]{1,150}$";
const TYPE_CODE = "^[0-9A-HJ-NP-RTUW-Y]{18}[0-9]{3}$";

export function registerLicenseRoutes(app: FastifyInstance, node: ZlNode): void {
  const { chain, suite } = node;
  const view = (): ChainView => ({ chainId: chain.genesis.chainId, suite: suite.id, state: chain.latest });
  const baseUrl = (req: { protocol: string; host: string }) => `${req.protocol}://${req.host}`;

  app.get<{ Params: { did: string } }>(
    "/v1/dids/:did",
    {
      schema: {
        summary: "Resolve a did:zl DID to its DID document (latest state) · DID 解析",
        tags: ["credentials"],
        params: Type.Object({ did: Type.String({ pattern: "^did:zl:[a-z0-9:-]+$", maxLength: 160 }) }),
      },
    },
    async (req) => {
      const r = resolveDid(view(), req.params.did);
      if (!r) throw new NotFoundError("DID_NOT_FOUND", `no DID ${req.params.did} on this chain`);
      return { didDocument: r.didDocument, didDocumentMetadata: r.didDocumentMetadata, height: chain.height };
    },
  );

  app.get<{ Params: { licenseId: string } }>(
    "/v1/licenses/:licenseId/status-index",
    {
      schema: {
        summary:
          "A license's index in its type's status lists, and its credentialStatus entries · 状态列表索引",
        tags: ["credentials"],
        params: Type.Object({ licenseId: Type.String({ pattern: LICENSE_ID }) }),
      },
    },
    async (req) => {
      const record = readLicense(chain.latest, req.params.licenseId);
      const index = readStatusIndex(chain.latest, req.params.licenseId);
      if (!record || index === undefined)
        throw new NotFoundError("LICENSE_NOT_FOUND", `no license ${req.params.licenseId}`);
      return {
        licenseId: req.params.licenseId,
        typeCode: record.typeCode,
        index,
        credentialStatus: statusEntries(baseUrl(req), record.typeCode, index),
        height: chain.height,
      };
    },
  );

  app.get<{ Params: { typeCode: string; purpose: StatusPurpose } }>(
    "/v1/licenses/status/:typeCode/:purpose",
    {
      schema: {
        summary:
          "A license type's Bitstring Status List credential (unsigned; bits from chain state) · 状态列表",
        tags: ["credentials"],
        params: Type.Object({
          typeCode: Type.String({ pattern: TYPE_CODE }),
          purpose: Type.Union(STATUS_PURPOSES.map((p) => Type.Literal(p))),
        }),
      },
    },
    async (req, reply) => {
      const { typeCode, purpose } = req.params;
      const type = readType(chain.latest, typeCode);
      if (!type) throw new NotFoundError("LICENSE_TYPE_NOT_FOUND", `no license type ${typeCode}`);
      const head = chain.head();
      const ids = licensesInIndexOrder(chain.latest, typeCode);
      const credential = statusListCredential({
        baseUrl: baseUrl(req),
        typeCode,
        purpose,
        issuer: orgDid(chain.genesis.chainId, type.definingOrg),
        bits: bitsFromState(chain.latest, ids, purpose),
        validFrom: head.time,
      });
      void reply.header("zl-height", String(head.height)).header("zl-state-root", toHex(head.stateRoot));
      return credential;
    },
  );

  app.post<{ Body: { jwt: string } }>(
    "/v1/licenses/vc/verify",
    {
      schema: {
        summary: "Verify a license credential (vc+jwt) with on-chain keys and current status · 验证凭证",
        tags: ["credentials"],
        body: Type.Object(
          { jwt: Type.String({ minLength: 1, maxLength: 256 * 1024 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const v = view();
      const now = Date.now();
      const r = verifyVcJwt(
        req.body.jwt,
        didKeyResolver(suite, (did) => resolveDid(v, did)),
        { now },
      );
      const height = chain.height;
      if (!r.ok) return { ok: false, code: r.code, message: r.message, height };
      const licenseId = licenseIdOfVc(r.credential);
      if (!licenseId)
        throw new InvalidInputError("VC_NOT_A_LICENSE", "the credential id is not urn:zl:license:…");
      const record = readLicense(v.state, licenseId);
      const no = (code: string, message: string) => ({ ok: false, code, message, licenseId, height });
      if (!record) return no("LICENSE_NOT_FOUND", `no license ${licenseId}`);
      const subject = r.credential.credentialSubject as Record<string, unknown> | undefined;
      if (r.issuer !== accountDid(v.chainId, record.issuer))
        return no("VC_ISSUER_MISMATCH", "the credential's issuer is not the license's issuing account");
      if (
        subject?.id !== accountDid(v.chainId, record.holderAccount) ||
        subject.typeCode !== record.typeCode ||
        r.credential.validFrom !== new Date(record.validFrom).toISOString() ||
        r.credential.validUntil !== new Date(record.validUntil).toISOString()
      )
        return no("VC_RECORD_MISMATCH", "holder, type or validity differ from the on-chain record");
      if (!issuerGrantedAt(readIssuer(v.state, record.typeCode, record.issuer), record.issuedAt))
        return no("ISSUER_NOT_AUTHORIZED", "the issuer was not a trusted issuer of the type at issue");
      const status = licenseStatus(record, now);
      return {
        ok: true,
        licenseId,
        valid: status.valid,
        reason: status.reason,
        status: status.status,
        next: record.next,
        issuer: r.issuer,
        subject: subject.id,
        height,
      };
    },
  );
}
