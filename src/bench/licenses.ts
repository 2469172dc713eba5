/**
 * `zl bench licenses`: e-licenses end to end on one machine.
 *
 * 1. Issuance: a durable single-validator node in its own OS process (spawn-node.ts) receives
 *    pre-signed licenses.issue transactions from many trusted issuer accounts over its HTTP API
 *    (batches, as in single-node.ts); throughput = committed OK issues / (first submission → last
 *    commit event).
 * 2. Offline verification: presentations of issued licenses (3 disclosed fields, proofs fetched
 *    from the node) are verified by `verifyPresentation` on this one thread, with the verified
 *    header cached by hash (decoded, with the top of its state tree hashed), so the
 *    per-presentation work is: base45 + CBOR decoding, the state proof, one holder signature and
 *    the disclosures. p50/p99 are per verification.
 * The raw single-core signature verification rate is measured in the same run for reference.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { measureVerifyRate } from "../crypto/verify-pool.js";
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import { buildLicenseId } from "../modules/licenses/identifiers.js";
import { VerifiedHeaderCache, verifyPresentation } from "../modules/licenses/presentation.js";
import { DAY_MS } from "../modules/licenses/types.js";
import { homePaths, readPrivateKey } from "../node/home.js";
import { ZlClient } from "../sdk/client.js";
import { subscribeBlocks } from "../sdk/events.js";
import { keySigner, type PreparedLicense, prepareLicense, presentLicense } from "../sdk/licenses.js";
import { Signer } from "../sdk/signer.js";
import { BENCH_ORG_CODE, initBenchHome, sleep, submitUntilAccepted, waitCommitted } from "./load.js";
import { percentile } from "./single-node.js";
import { spawnNode } from "./spawn-node.js";

export interface LicenseBenchOptions {
  suite: SuiteId;
  txs: number;
  issuers?: number;
  batch?: number;
  /** Time spent in the offline verification loop (ms). */
  verifyMs?: number;
  presentations?: number;
  log?: (m: string) => void;
}

export interface LicenseBenchResult {
  bench: "licenses";
  suite: SuiteId;
  txs: number;
  committed: number;
  failed: number;
  /** = issue_tps */
  tps: number;
  issue_tps: number;
  offline_verify_per_s: number;
  p50_ms: number;
  p99_ms: number;
  sig_verify_per_s: number;
  presentations: number;
  qr_chars: number;
  issuers: number;
  duration_s: number;
}

const MARKET = BENCH_ORG_CODE;
const TYPE = `${MARKET}001`;
const FIELDS = [
  { name: "ZZBH", type: "text", required: true },
  { name: "CZZT", type: "text", required: true },
  { name: "CZZTDM", type: "text", required: true },
  { name: "ZZBFRQ", type: "date", required: true },
  { name: "KZ_FDDBR", type: "text", required: false },
  { name: "KZ_JYFW", type: "text", required: false },
];

export async function runLicenseBench(o: LicenseBenchOptions): Promise<LicenseBenchResult> {
  const log = o.log ?? (() => {});
  const suite = getSuite(o.suite);
  const nIssuers = o.issuers ?? 50;
  const batch = o.batch ?? 500;
  const sigRate = measureVerifyRate(suite, 1000);
  log(`raw ${o.suite} signature verification: ${sigRate.toFixed(0)}/s on one core`);

  const home = mkdtempSync(join(tmpdir(), `zl-bench-lic-${o.suite}-`));
  initBenchHome(home, o.suite, { logLevel: "warn", logFile: join(home, "node.log") });
  const paths = homePaths(home);
  const node = await spawnNode(home).catch((err: unknown) => {
    rmSync(home, { recursive: true, force: true });
    throw err;
  });
  try {
    const client = new ZlClient(node.api);
    const g = await client.trustedGenesis();
    const admin = new Signer(suite, readPrivateKey(suite, paths.key("admin")));
    const issuers = Array.from({ length: nIssuers }, () => Signer.generate(suite));
    // Distinct holders, so that the offline phase verifies signatures of distinct keys.
    const nHolders = Math.max(1, Math.min(o.presentations ?? 64, o.txs));
    const holderKeys = Array.from({ length: nHolders }, () => suite.generateKeyPair());
    const holders = holderKeys.map((k) => new Signer(suite, k.privateKey));
    let nonce = 0;
    const adminTx = (module: string, call: string, args: import("../codec/cbor.js").CborValue) =>
      admin.sign(g.chainId, { module, call, args, nonce: nonce++, expiry: 1_000_000 });
    const setup = [
      ...issuers.map((s) => adminTx("membership", "enroll", { publicKey: s.publicKey, roles: ["issuer"] })),
      ...holders.map((h) => adminTx("membership", "enroll", { publicKey: h.publicKey, roles: ["holder"] })),
      adminTx("licenses", "registerType", {
        typeCode: TYPE,
        name: "营业执照",
        fields: FIELDS,
        issuerOrgs: ["market"],
        maxValidityDays: 3650,
      }),
      ...issuers.map((s) => adminTx("licenses", "grantIssuer", { typeCode: TYPE, address: s.address })),
    ];
    await client.submitBatch(setup.map((t) => t.bytes));
    await waitCommitted(client, setup.at(-1)!);
    // Issuer grants take effect from the next height; the node makes no empty blocks, so one
    // more transaction moves the chain past the grants.
    const filler = adminTx("membership", "enroll", {
      publicKey: Signer.generate(suite).publicKey,
      roles: ["official"],
    });
    await client.submitBatch([filler.bytes]);
    await waitCommitted(client, filler);

    log(`enrolled ${nIssuers} issuers; preparing and signing ${o.txs} licenses`);
    const now = Date.now();
    const prepared: PreparedLicense[] = [];
    const txs: DecodedTx[] = [];
    const issuerKeys = issuers.map((s) => keySigner(suite, suite.privateKeyFromPem(s.toPem())));
    for (let i = 0; i < o.txs; i++) {
      const k = i % nIssuers;
      const holder = holders[i % nHolders]!;
      const p = prepareLicense(suite, {
        licenseId: buildLicenseId({ typeCode: TYPE, issuerCode: MARKET, serial: `B${i}`, version: 1 }),
        typeCode: TYPE,
        fields: {
          ZZBH: `9111000${String(i).padStart(10, "0")}X`,
          CZZT: `北京示例科技有限公司${i}`,
          CZZTDM: `9111000${String(i).padStart(10, "0")}X`,
          ZZBFRQ: "2024-01-02",
          KZ_FDDBR: "张三",
          KZ_JYFW: "技术开发、技术咨询、技术服务；软件开发",
        },
        holderDid: `did:zl:${holder.addressHex}`,
        holderAccount: holder.address,
        validFrom: now,
        validUntil: now + 365 * DAY_MS,
        issuer: issuerKeys[k]!,
      });
      prepared.push(p);
      txs.push(
        issuers[k]!.sign(g.chainId, {
          module: "licenses",
          call: "issue",
          args: p.onChainArgs,
          nonce: Math.floor(i / nIssuers),
          expiry: 1_000_000,
        }),
      );
    }

    // Phase 1: issuance through the node.
    const ids = new Set(txs.map((t) => toHex(t.id)));
    let ok = 0;
    let failed = 0;
    let lastCommit = 0;
    const codes = new Map<string, number>();
    const sub = await subscribeBlocks(
      node.api,
      (b, at) => {
        for (const t of b.txs) {
          if (!ids.has(t.id)) continue;
          if (t.status === "ok") ok++;
          else {
            failed++;
            codes.set(t.code, (codes.get(t.code) ?? 0) + 1);
          }
          lastCommit = at;
        }
      },
      { view: "filtered" },
    );
    const start = performance.now();
    let rejected = 0;
    try {
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < txs.length; i += batch) {
        const chunk = txs.slice(i, i + batch);
        const p = submitUntilAccepted(client, chunk)
          .then((n) => {
            rejected += n;
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const deadline = performance.now() + 120_000;
      while (ok + failed < txs.length - rejected && performance.now() < deadline) await sleep(20);
    } finally {
      sub.close();
    }
    const seconds = (lastCommit - start) / 1000;
    const issueTps = ok / seconds;
    log(
      `issued ${ok}/${txs.length} in ${seconds.toFixed(2)} s: ${issueTps.toFixed(0)} tx/s` +
        (failed || rejected
          ? ` (failed ${failed}: ${[...codes].map(([c, n]) => `${c}×${n}`).join(", ")}; rejected ${rejected})`
          : ""),
    );

    // Phase 2: offline verification of presentations (header verified once, then cached).
    const texts: string[] = [];
    for (let i = 0; i < nHolders; i++) {
      const p = await presentLicense(client, {
        copy: prepared[i]!.holderCopy,
        fields: ["ZZBH", "CZZT", "CZZTDM"],
        audience: "bank:bench",
        holder: keySigner(suite, holderKeys[i]!.privateKey),
      });
      texts.push(p.text);
    }
    const cache = new VerifiedHeaderCache();
    const vNow = Date.now();
    const vopts = {
      suite,
      chainId: g.chainId,
      validators: g.validators,
      now: vNow,
      maxProofAgeMs: 24 * 3600_000,
      audience: "bank:bench",
      headerCache: cache,
    };
    for (const t of texts) {
      const r = verifyPresentation(vopts, t);
      if (!r.ok) throw new Error(`presentation does not verify: ${r.code} ${r.message}`);
    }
    const latencies: number[] = [];
    const verifyMs = o.verifyMs ?? 2000;
    const vStart = performance.now();
    let spent = 0;
    for (let i = 0; spent < verifyMs; i++) {
      const t0 = performance.now();
      verifyPresentation(vopts, texts[i % texts.length]!);
      const t1 = performance.now();
      latencies.push(t1 - t0);
      spent = t1 - vStart;
    }
    latencies.sort((a, b) => a - b);
    const verifyRate = latencies.length / (spent / 1000);
    log(
      `offline verification: ${verifyRate.toFixed(0)}/s (${latencies.length} in ${spent.toFixed(0)} ms); header cache ${cache.size}`,
    );
    return {
      bench: "licenses",
      suite: o.suite,
      txs: txs.length,
      committed: ok,
      failed: failed + rejected,
      tps: issueTps,
      issue_tps: issueTps,
      offline_verify_per_s: verifyRate,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      sig_verify_per_s: sigRate,
      presentations: texts.length,
      qr_chars: Math.max(...texts.map((t) => t.length)),
      issuers: nIssuers,
      duration_s: seconds,
    };
  } finally {
    node.child.kill("SIGTERM");
    await node.exited;
    rmSync(home, { recursive: true, force: true });
  }
}
