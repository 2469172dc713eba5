/**
 * Offline QR presentations, in process: the licenses module runs on the shared test chain
 * (src/execution/test-chain.ts); its state is put into a state trie, and a header with that
 * state root is committed by a four-validator set, so each presentation carries a real proof
 * and a real commit certificate. Every failure code of `verifyPresentation` is produced, and
 * success is checked on both suites.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decode, encode } from "../../codec/cbor.js";
import { SUITE_IDS, type SuiteId } from "../../crypto/suite.js";
import { testChain } from "../../execution/test-chain.js";
import {
  blockHash,
  encodeCommit,
  encodeHeader,
  type Header,
  VOTE_PRECOMMIT,
  voteSignBytes,
} from "../../ledger/block.js";
import { utf8 } from "../../ledger/bytes.js";
import { type Validator, validatorsHash } from "../../ledger/validators.js";
import { licenseDigest, prepareLicense, verifyHolderCopy } from "../../sdk/licenses.js";
import { Signer } from "../../sdk/signer.js";
import { MemoryNodeStore } from "../../state/memory-store.js";
import { StateTrie } from "../../state/trie.js";
import { buildLicenseId } from "./identifiers.js";
import {
  buildPresentation,
  decodePresentation,
  encodePresentation,
  keySigner,
  type Presentation,
  presentationDigest,
  VerifiedHeaderCache,
  type VerifyPresentationOptions,
  verifyPresentation,
} from "./presentation.js";
import { DAY_MS } from "./types.js";

const MARKET = "11100000000000000X";
const TYPE = `${MARKET}001`;
const FIELDS = [
  { name: "ZZBH", type: "text", required: true },
  { name: "CZZT", type: "text", required: true },
  { name: "CZZTDM", type: "text", required: true },
  { name: "ZZBFRQ", type: "date", required: true },
  { name: "KZ_FDDBR", type: "text", required: false },
  { name: "KZ_ZCZB", type: "text", required: false },
  { name: "KZ_JYFW", type: "text", required: false },
];
const FACE = {
  ZZBH: "91110000MA01ABCD2X",
  CZZT: "北京示例科技有限公司",
  CZZTDM: "91110000MA01ABCD2X",
  ZZBFRQ: "2024-01-02",
  KZ_FDDBR: "张三",
  KZ_ZCZB: "1000万元人民币",
  KZ_JYFW: "技术开发、技术咨询、技术服务；软件开发；信息系统集成服务",
};
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const AUDIENCE = "bank:ICBC-BJ-0001";

function world(suiteId: SuiteId, fillerKeys = 0) {
  const c = testChain(suiteId);
  const suite = c.suite;
  const hash = (d: Uint8Array) => suite.hash(d);
  const run = (
    signer: Signer,
    module: string,
    call: string,
    args: import("../../codec/cbor.js").CborValue,
  ) => {
    const r = c.run([c.tx(signer, module, call, args)]);
    assert.equal(r.receipts[0]?.code, "OK", `${module}.${call}`);
  };
  const enrol = (roles: string[]) => {
    const s = Signer.generate(suite);
    run(c.adminA, "membership", "enroll", { publicKey: s.publicKey, roles });
    return s;
  };
  const issuer = enrol(["issuer"]);
  const holder = enrol(["holder"]);
  run(c.adminA, "licenses", "registerType", {
    typeCode: TYPE,
    name: "营业执照",
    fields: FIELDS,
    issuerOrgs: ["market"],
    maxValidityDays: 3650,
  });
  run(c.adminA, "licenses", "grantIssuer", { typeCode: TYPE, address: issuer.address });

  // A consortium of four validators (one per department); three signatures make a quorum.
  const vkeys = Array.from({ length: 4 }, () => suite.generateKeyPair());
  const validators: Validator[] = vkeys.map((k, i) => ({
    publicKey: k.publicKey,
    power: 10,
    org: `org${i}`,
  }));
  const vHash = validatorsHash(hash, validators);

  let serial = 0;
  const issue = (over: { validFrom?: number; validUntil?: number } = {}) => {
    const now = c.ctx().time;
    const licenseId = buildLicenseId({
      typeCode: TYPE,
      issuerCode: MARKET,
      serial: `A${++serial}`,
      version: 1,
    });
    const prepared = prepareLicense(suite, {
      licenseId,
      typeCode: TYPE,
      fields: FACE,
      holderDid: `did:zl:${holder.addressHex}`,
      holderAccount: holder.address,
      validFrom: over.validFrom ?? now,
      validUntil: over.validUntil ?? now + 365 * DAY_MS,
      issuer: { publicKey: issuer.publicKey, sign: () => new Uint8Array(64) },
    });
    run(issuer, "licenses", "issue", prepared.onChainArgs);
    return prepared;
  };

  // The trie of all state keys (plus optional filler keys, to model a large chain's proof depth).
  const store = new MemoryNodeStore();
  const trie = new StateTrie(hash, store);
  let rootKey: Uint8Array | null = null;
  let version = 0;
  const synced = new Map<string, Uint8Array>();
  if (fillerKeys > 0) {
    const changes = Array.from({ length: fillerKeys }, (_, i) => ({
      key: utf8(`filler/${i}`),
      value: encode({ n: i, pad: new Uint8Array(40) }),
    }));
    const up = trie.update(null, ++version, changes);
    store.apply(up, version);
    rootKey = up.rootNodeKey;
  }

  /** Commits the current state in a header at `time`, signed by validators `signers`. */
  const snapshot = (
    licenseId: string,
    opts: { time?: number; signers?: number[]; chainId?: string } = {},
  ) => {
    const changes = [];
    for (const [k, v] of c.state.map)
      if (synced.get(k) !== v) changes.push({ key: Buffer.from(k, "latin1"), value: v });
    for (const ch of changes) synced.set(ch.key.toString("latin1"), ch.value);
    const up = trie.update(
      rootKey,
      ++version,
      changes.map((ch) => ({ key: new Uint8Array(ch.key), value: ch.value })),
    );
    store.apply(up, version);
    rootKey = up.rootNodeKey;
    const header: Header = {
      chainId: opts.chainId ?? c.chainId,
      height: version + 100,
      time: opts.time ?? c.ctx().time,
      prevHash: new Uint8Array(32).fill(1),
      txRoot: new Uint8Array(32).fill(2),
      resultsRoot: new Uint8Array(32).fill(3),
      stateRoot: up.root,
      validatorsHash: vHash,
      nextValidatorsHash: vHash,
      proposer: hash(validators[0]!.publicKey).subarray(0, 20),
      txCount: 1,
    };
    const bh = blockHash(hash, header);
    const msg = voteSignBytes(header.chainId, VOTE_PRECOMMIT, header.height, 0, bh);
    const commit = {
      height: header.height,
      round: 0,
      blockHash: bh,
      signatures: (opts.signers ?? [0, 1, 2]).map((i) => ({
        validatorIndex: i,
        signature: suite.sign(vkeys[i]!.privateKey, msg),
      })),
    };
    const key = utf8(`license/${licenseId}`);
    return {
      header,
      encodedHeader: encodeHeader(header),
      encodedCommit: encodeCommit(commit),
      record: trie.get(rootKey, key)!,
      proof: trie.prove(rootKey, key),
    };
  };

  const holderKey = keySigner(suite, readHolderKey(holder));
  const present = (
    prepared: ReturnType<typeof issue>,
    o: {
      fields?: string[];
      audience?: string;
      createdAt?: number;
      key?: ReturnType<typeof keySigner>;
      snap?: ReturnType<typeof snapshot>;
    } = {},
  ) => {
    const snap = o.snap ?? snapshot(prepared.onChainArgs.licenseId);
    const disclosed = Object.fromEntries(
      (o.fields ?? ["ZZBH", "CZZT", "CZZTDM"]).map((f) => [f, prepared.holderCopy.fields[f]!]),
    );
    return buildPresentation(suite, {
      licenseId: prepared.onChainArgs.licenseId,
      disclosed,
      record: snap.record,
      proof: snap.proof,
      encodedHeader: snap.encodedHeader,
      encodedCommit: snap.encodedCommit,
      audience: o.audience ?? AUDIENCE,
      createdAt: o.createdAt ?? snap.header.time,
      holder: o.key ?? holderKey,
    });
  };
  const opts = (over: Partial<VerifyPresentationOptions> = {}): VerifyPresentationOptions => ({
    suite,
    chainId: c.chainId,
    validators,
    now: c.ctx().time + 1000,
    maxProofAgeMs: 24 * HOUR,
    audience: AUDIENCE,
    ...over,
  });
  /** Re-signs a modified presentation with `key` (a holder that tampers with its own data). */
  const resign = (p: Presentation, key = holderKey) => {
    const body = { ...p, holderPublicKey: key.publicKey };
    return encodePresentation({ ...body, signature: key.sign(presentationDigest(hash, body)) });
  };
  return {
    c,
    suite,
    hash,
    issuer,
    holder,
    holderKey,
    validators,
    vkeys,
    issue,
    snapshot,
    present,
    opts,
    resign,
    run,
  };
}

/** The Signer keeps its private key; the test derives it through a PEM round trip. */
function readHolderKey(s: Signer): Uint8Array {
  return s.suite.privateKeyFromPem(s.toPem());
}

const expectFail = (r: ReturnType<typeof verifyPresentation>, code: string) => {
  assert.equal(r.ok, false, `expected ${code}, got success`);
  if (!r.ok) assert.equal(r.code, code, r.message);
};

for (const suiteId of SUITE_IDS) {
  describe(`license presentations (${suiteId})`, () => {
    const w = world(suiteId);

    it("verifies a presentation of three fields; reports its size", () => {
      const lic = w.issue();
      const { text } = w.present(lic);
      assert.match(text, /^ZL1:[0-9A-Z $%*+\-./:]+$/);
      const r = verifyPresentation(w.opts({ seen: new Set() }), text);
      assert.equal(r.ok, true, r.ok ? "" : `${r.code}: ${r.message}`);
      if (!r.ok) return;
      assert.equal(r.licenseId, lic.onChainArgs.licenseId);
      assert.equal(r.typeCode, TYPE);
      assert.equal(r.issuerOrg, "market");
      assert.equal(r.status, "01");
      assert.deepEqual(r.fields, { ZZBH: FACE.ZZBH, CZZT: FACE.CZZT, CZZTDM: FACE.CZZTDM });
      assert.equal(r.holderAccount, w.holder.addressHex);
      assert.ok(text.length < 2900, `QR text is ${text.length} characters`);
      console.log(`# ${suiteId}: presentation with 3 fields, small state: ${text.length} base45 characters`);
    });

    it("the holder copy carries an issuer signature over the license digest", () => {
      const issuerKey = keySigner(w.suite, readHolderKey(w.issuer));
      const now = w.c.ctx().time;
      const p = prepareLicense(w.suite, {
        licenseId: buildLicenseId({ typeCode: TYPE, issuerCode: MARKET, serial: "SIG1", version: 1 }),
        typeCode: TYPE,
        fields: FACE,
        holderDid: "did:zl:x",
        holderAccount: w.holder.address,
        validFrom: now,
        validUntil: now + DAY_MS,
        issuer: issuerKey,
      });
      assert.equal(verifyHolderCopy(w.suite, p.holderCopy).issuer, w.issuer.addressHex);
      for (const s of Object.values(p.holderCopy.fields)) assert.ok(s.salt.length >= 16);
      assert.deepEqual(licenseDigest(w.suite, p.holderCopy), p.digest);
      const forged = { ...p.holderCopy, validUntil: p.holderCopy.validUntil + DAY_MS };
      assert.throws(() => verifyHolderCopy(w.suite, forged), /issuer signature/);
    });

    it("PRESENTATION_MALFORMED", () => {
      const { text } = w.present(w.issue());
      for (const bad of [
        "",
        "hello",
        "ZL1:",
        `ZL2:${text.slice(4)}`,
        `${text.slice(0, -5)}`,
        `${text}a`,
        "ZL1:AB",
      ])
        expectFail(verifyPresentation(w.opts(), bad), "PRESENTATION_MALFORMED");
    });

    it("COMMIT_*: wrong chain, too few signatures, forged signature, other validator set", () => {
      const lic = w.issue();
      const id = lic.onChainArgs.licenseId;
      expectFail(
        verifyPresentation(w.opts(), w.present(lic, { snap: w.snapshot(id, { chainId: "zl-other" }) }).text),
        "COMMIT_WRONG_CHAIN",
      );
      expectFail(
        verifyPresentation(w.opts(), w.present(lic, { snap: w.snapshot(id, { signers: [0, 1] }) }).text),
        "COMMIT_NO_QUORUM",
      );
      const { presentation } = w.present(lic);
      const sigs = presentation.commitSignatures.map((s) => ({ ...s, signature: s.signature.slice() }));
      sigs[1]!.signature[5]! ^= 1;
      expectFail(
        verifyPresentation(w.opts(), w.resign({ ...presentation, commitSignatures: sigs })),
        "COMMIT_BAD_SIGNATURE",
      );
      const others = w.validators.map(() => ({
        publicKey: w.suite.generateKeyPair().publicKey,
        power: 10,
        org: "x",
      }));
      expectFail(
        verifyPresentation(w.opts({ validators: others }), w.present(lic).text),
        "COMMIT_VALIDATOR_SET_MISMATCH",
      );
    });

    it("PROOF_INVALID: a record other than the committed one", () => {
      const lic = w.issue();
      const { presentation } = w.present(lic);
      const rec = decode(presentation.record) as Record<string, unknown>;
      const forged = encode({
        ...(rec as object),
        validUntil: (rec.validUntil as number) + 3650 * DAY_MS,
      } as never);
      expectFail(
        verifyPresentation(w.opts(), w.resign({ ...presentation, record: forged })),
        "PROOF_INVALID",
      );
      const siblings = presentation.siblings.slice(0, -1);
      expectFail(verifyPresentation(w.opts(), w.resign({ ...presentation, siblings })), "PROOF_INVALID");
    });

    it("HOLDER_SIGNATURE_INVALID and WRONG_HOLDER", () => {
      const lic = w.issue();
      const { presentation } = w.present(lic);
      const altered = encodePresentation({ ...presentation, audience: "bank:other" });
      expectFail(verifyPresentation(w.opts({ audience: "bank:other" }), altered), "HOLDER_SIGNATURE_INVALID");
      const stranger = keySigner(w.suite, w.suite.generateKeyPair().privateKey);
      expectFail(verifyPresentation(w.opts(), w.present(lic, { key: stranger }).text), "WRONG_HOLDER");
    });

    it("FIELD_TAMPERED: a changed value, another field's value, an uncommitted field", () => {
      const lic = w.issue();
      const { presentation } = w.present(lic);
      const d = presentation.disclosed;
      const changed = { ...d, CZZT: { value: "另一家公司", salt: d.CZZT!.salt } };
      expectFail(
        verifyPresentation(w.opts(), w.resign({ ...presentation, disclosed: changed })),
        "FIELD_TAMPERED",
      );
      const swapped = { ...d, CZZTDM: { ...d.ZZBH! } };
      expectFail(
        verifyPresentation(w.opts(), w.resign({ ...presentation, disclosed: swapped })),
        "FIELD_TAMPERED",
      );
      const extra = { ...d, KZ_XX: { value: "x", salt: new Uint8Array(16) } };
      expectFail(
        verifyPresentation(w.opts(), w.resign({ ...presentation, disclosed: extra })),
        "FIELD_TAMPERED",
      );
    });

    it("LICENSE_SUSPENDED, LICENSE_REVOKED, LICENSE_EXPIRED, LICENSE_NOT_YET_VALID", () => {
      const s = w.issue();
      w.run(w.issuer, "licenses", "suspend", { licenseId: s.onChainArgs.licenseId, reasonCode: "AUDIT" });
      expectFail(verifyPresentation(w.opts(), w.present(s).text), "LICENSE_SUSPENDED");
      const r = w.issue();
      w.run(w.issuer, "licenses", "revoke", { licenseId: r.onChainArgs.licenseId, reasonCode: "FRAUD" });
      const rv = verifyPresentation(w.opts(), w.present(r).text);
      expectFail(rv, "LICENSE_REVOKED");
      assert.equal(!rv.ok && rv.status, "03");
      const now = w.c.ctx().time;
      const e = w.issue({ validFrom: now, validUntil: now + 500 });
      const ep = w.present(e, { createdAt: now + 2000 });
      expectFail(verifyPresentation(w.opts({ now: now + 3000 }), ep.text), "LICENSE_EXPIRED");
      const n = w.issue({ validFrom: now + DAY_MS, validUntil: now + 2 * DAY_MS });
      expectFail(verifyPresentation(w.opts(), w.present(n).text), "LICENSE_NOT_YET_VALID");
    });

    it("PROOF_STALE, PRESENTATION_EXPIRED and PRESENTATION_FROM_FUTURE", () => {
      const lic = w.issue();
      const t = w.c.ctx().time;
      const old = w.snapshot(lic.onChainArgs.licenseId, { time: t - 25 * HOUR });
      expectFail(
        verifyPresentation(w.opts({ now: t }), w.present(lic, { snap: old, createdAt: t }).text),
        "PROOF_STALE",
      );
      // Within the limit the same old proof is accepted: the status is as of its height.
      assert.equal(
        verifyPresentation(
          w.opts({ now: t, maxProofAgeMs: 26 * HOUR }),
          w.present(lic, { snap: old, createdAt: t }).text,
        ).ok,
        true,
      );
      expectFail(
        verifyPresentation(w.opts({ now: t }), w.present(lic, { createdAt: t - 11 * MINUTE }).text),
        "PRESENTATION_EXPIRED",
      );
      expectFail(
        verifyPresentation(w.opts({ now: t }), w.present(lic, { createdAt: t + 10 * MINUTE }).text),
        "PRESENTATION_FROM_FUTURE",
      );
      const future = w.snapshot(lic.onChainArgs.licenseId, { time: t + HOUR });
      expectFail(
        verifyPresentation(w.opts({ now: t }), w.present(lic, { snap: future, createdAt: t }).text),
        "PRESENTATION_FROM_FUTURE",
      );
    });

    it("WRONG_AUDIENCE and PRESENTATION_REPLAYED", () => {
      const lic = w.issue();
      const { text } = w.present(lic, { audience: "bank:CCB-SH-0002" });
      expectFail(verifyPresentation(w.opts(), text), "WRONG_AUDIENCE");
      const seen = new Set<string>();
      const ok = w.present(lic).text;
      assert.equal(verifyPresentation(w.opts({ seen }), ok).ok, true);
      expectFail(verifyPresentation(w.opts({ seen }), ok), "PRESENTATION_REPLAYED");
      // A fresh presentation (new createdAt) of the same license is a new one.
      const again = w.present(lic, { createdAt: w.c.ctx().time + 10 }).text;
      assert.equal(verifyPresentation(w.opts({ seen }), again).ok, true);
    });

    it("caches verified headers by hash: repeated presentations of a height skip the commit check", () => {
      const lic = w.issue();
      const snap = w.snapshot(lic.onChainArgs.licenseId);
      const cache = new VerifiedHeaderCache(4);
      const first = w.present(lic, { snap });
      assert.equal(verifyPresentation(w.opts({ headerCache: cache }), first.text).ok, true);
      assert.equal(cache.size, 1);
      // Same header, commit signatures stripped: accepted only through the cache.
      const stripped = w.resign({
        ...first.presentation,
        commitSignatures: [],
        createdAt: first.presentation.createdAt + 1,
      });
      expectFail(verifyPresentation(w.opts(), stripped), "COMMIT_NO_QUORUM");
      assert.equal(verifyPresentation(w.opts({ headerCache: cache }), stripped).ok, true);
      // The cache never vouches for a header under another validator set.
      const others = w.validators.map(() => ({
        publicKey: w.suite.generateKeyPair().publicKey,
        power: 10,
        org: "x",
      }));
      expectFail(
        verifyPresentation(w.opts({ headerCache: cache, validators: others }), stripped),
        "COMMIT_VALIDATOR_SET_MISMATCH",
      );
    });

    it("decodes back to what was built (format round trip)", () => {
      const built = w.present(w.issue(), { fields: ["CZZT"] });
      const p = decodePresentation(built.text);
      assert.equal(encodePresentation(p), built.text);
      assert.deepEqual(p.record, built.presentation.record);
      assert.deepEqual(Object.keys(p.disclosed), ["CZZT"]);
    });
  });
}

describe("presentation size on a large chain", () => {
  it("stays under 2,900 base45 characters with 3 fields, 4 validators and 2^17 state keys", () => {
    for (const suiteId of SUITE_IDS) {
      const w = world(suiteId, 1 << 17);
      const lic = w.issue();
      const built = w.present(lic);
      const r = verifyPresentation(w.opts(), built.text);
      assert.equal(r.ok, true);
      const p = built.presentation;
      const cborBytes = (built.text.length - 4) * (2 / 3);
      console.log(
        `# ${suiteId}: ${built.text.length} chars (≈${Math.round(cborBytes)} B CBOR): record ${p.record.length} B, ` +
          `proof ${p.siblings.length} siblings, header ${p.encodedHeader.length} B, ${p.commitSignatures.length} commit signatures`,
      );
      assert.ok(built.text.length < 2900, `${built.text.length}`);
    }
  });
});

describe("presentation.ts is browser-safe", () => {
  it("imports no node: module, directly or transitively", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/(?:import|export)[^;]*?from\s+"([^"]+)"/g)) {
        const spec = m[1]!;
        assert.ok(!spec.startsWith("node:"), `${file} imports ${spec}`);
        if (spec.startsWith(".")) visit(join(dirname(file), spec));
        else assert.equal(spec, "cborg", `${file} imports the package ${spec}`);
      }
    };
    visit(join(dirname(fileURLToPath(import.meta.url)), "presentation.js"));
    assert.ok(seen.size > 5);
  });
});
