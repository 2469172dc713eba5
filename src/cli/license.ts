/**
 * `zl license …`: e-licenses from the command line — prepare and issue (issuer), present (holder:
 * a QR text with a fresh proof), verify (relying party: online with proofs, or offline from the
 * QR alone), use (record a use under a grant) and status. Also registers `zl bench licenses`.
 * Every command takes `--json`. Exit codes: 2 bad input, 3 transaction failed, 4 not valid.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { runLicenseBench } from "../bench/licenses.js";
import { decode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import { type CryptoSuite, SUITE_IDS, type SuiteId } from "../crypto/suite.js";
import { InvalidInputError, ZlError } from "../errors/index.js";
import { decodeOrg } from "../execution/accounts.js";
import { fromHexOrUndefined, toHex } from "../ledger/bytes.js";
import { buildLicenseId } from "../modules/licenses/identifiers.js";
import {
  decodePresentation,
  type PresentationResult,
  verifyPresentation,
} from "../modules/licenses/presentation.js";
import { decodeLicense, licenseKey, licenseStatus } from "../modules/licenses/state.js";
import { DAY_MS } from "../modules/licenses/types.js";
import { readPrivateKey } from "../node/home.js";
import { cborToJson, jsonToCbor } from "../sdk/args.js";
import {
  holderCopyFromJson,
  holderCopyToJson,
  keySigner,
  prepareLicense,
  presentLicense,
  recordLicenseUse,
  verifyLicenseOnline,
} from "../sdk/licenses.js";
import {
  apiOption,
  clientFor,
  genesisOf,
  homeOption,
  keyFile,
  out,
  parseJson,
  signerFor,
  signingClient,
} from "./common.js";

function address(text: string, what: string): Uint8Array {
  const a = fromHexOrUndefined(text.replace(/^0x/, ""));
  if (a?.length !== 20) throw new InvalidInputError("CLI_BAD_ARGS", `${what}: 40 hex characters`);
  return a;
}

function uint(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(text))
    throw new InvalidInputError("CLI_BAD_ARGS", `${what}: a non-negative integer`);
  return Number(text);
}

interface PrepareOpts {
  home: string;
  suite: SuiteId;
  typeCode: string;
  licenseId?: string;
  serial?: string;
  issuerCode?: string;
  fields: string;
  holderDid: string;
  holderAccount: string;
  validFrom?: string;
  validUntil?: string;
  validDays: string;
  key: string;
  out: string;
  json?: boolean;
}

function prepareFrom(suite: CryptoSuite, o: PrepareOpts, issuerCode: string | undefined) {
  const licenseId =
    o.licenseId ??
    (o.serial && issuerCode
      ? buildLicenseId({ typeCode: o.typeCode, issuerCode, serial: o.serial, version: 1 })
      : undefined);
  if (!licenseId)
    throw new InvalidInputError("CLI_BAD_ARGS", "give --license-id, or --serial with --issuer-code");
  const fields = jsonToCbor(parseJson(o.fields, "--fields"), "fields");
  if (typeof fields !== "object" || fields === null || Array.isArray(fields) || fields instanceof Uint8Array)
    throw new InvalidInputError("CLI_BAD_ARGS", "--fields must be a JSON object {name: value}");
  const validFrom = uint(o.validFrom, "--valid-from") ?? Date.now();
  const validUntil = uint(o.validUntil, "--valid-until") ?? validFrom + Number(o.validDays) * DAY_MS;
  const issuer = signerFor(suite, o.home, o.key);
  return {
    issuer,
    prepared: prepareLicense(suite, {
      licenseId,
      typeCode: o.typeCode,
      fields,
      holderDid: o.holderDid,
      holderAccount: address(o.holderAccount, "--holder-account"),
      validFrom,
      validUntil,
      issuer: keySigner(suite, readPrivateKey(suite, keyFile(o.home, o.key))),
    }),
  };
}

const prepareOptions = (c: Command) =>
  c
    .requiredOption("--type-code <code>", "license type code (21 characters)")
    .option("--license-id <id>", "the GB/T 36904 identifier")
    .option("--serial <serial>", "serial (流水号), to build the identifier with --issuer-code, version 001")
    .option("--issuer-code <uscc>", "the issuing organization's code")
    .requiredOption("--fields <json>", 'face fields as JSON, e.g. {"ZZBH":"…","CZZT":"…"}')
    .requiredOption("--holder-did <did>", "the holder's DID (only its salted pseudonym goes on chain)")
    .requiredOption("--holder-account <address>", "the holder's enrolled account (40 hex)")
    .option("--valid-from <ms>", "start of validity (ms; default now)")
    .option("--valid-until <ms>", "end of validity (ms)")
    .option("--valid-days <n>", "validity in days when --valid-until is not given", "365")
    .option("--key <name>", "issuer key name under <home>/keys, or a PEM path", "issuer")
    .requiredOption("--out <file>", "where to write the holder copy (JSON; deliver it off chain)")
    .addOption(homeOption())
    .option("--json", "print JSON");

export function registerLicenseCommands(program: Command): void {
  const lic = program
    .command("license")
    .description("e-licenses (电子证照): prepare, issue, present, verify, use, status");

  prepareOptions(lic.command("prepare"))
    .description("issuer: commit the fields, write the holder copy, print the arguments of licenses.issue")
    .addOption(
      new Option("--suite <suite>", "crypto suite when the home has no genesis")
        .choices(SUITE_IDS as string[])
        .default("intl"),
    )
    .action((o: PrepareOpts) => {
      const suite = getSuite(genesisOf(o)?.suite ?? o.suite);
      const { prepared } = prepareFrom(suite, o, o.issuerCode);
      writeFileSync(o.out, `${JSON.stringify(holderCopyToJson(prepared.holderCopy), null, 2)}\n`, {
        mode: 0o600,
      });
      const args = cborToJson(prepared.onChainArgs);
      out(
        !!o.json,
        { licenseId: prepared.onChainArgs.licenseId, holderCopy: o.out, onChainArgs: args },
        `holder copy written to ${o.out}\nlicenses.issue arguments:\n${JSON.stringify(args, null, 2)}`,
      );
    });

  prepareOptions(lic.command("issue"))
    .description("issuer: prepare, send licenses.issue with the issuer key and write the holder copy")
    .addOption(apiOption())
    .action(async (o: PrepareOpts & { api: string }) => {
      const client = clientFor(o);
      const suite = await client.suite();
      let issuerCode = o.issuerCode;
      if (!o.licenseId && !issuerCode) {
        // The issuer's organization code, read with proofs: acct/<address> → org/<id>.
        const me = signerFor(suite, o.home, o.key);
        const acct = await client.queryVerified(`acct/${me.addressHex}`);
        if (!acct.value) throw new ZlError("LICENSE_ACCOUNT_NOT_FOUND", `the key ${o.key} is not enrolled`);
        const orgId = (decode(acct.value) as { org: string }).org;
        const org = await client.queryVerified(`org/${orgId}`);
        if (!org.value) throw new ZlError("LICENSE_UNKNOWN_ORG", `no organization ${orgId}`);
        issuerCode = decodeOrg(org.value).code;
      }
      const { issuer, prepared } = prepareFrom(suite, o, issuerCode);
      const r = await client.send(
        issuer,
        { module: "licenses", call: "issue", args: prepared.onChainArgs },
        { wait: true },
      );
      const ok = r.receipt?.status === "ok";
      if (ok)
        writeFileSync(o.out, `${JSON.stringify(holderCopyToJson(prepared.holderCopy), null, 2)}\n`, {
          mode: 0o600,
        });
      else process.exitCode = 3;
      out(
        !!o.json,
        {
          licenseId: prepared.onChainArgs.licenseId,
          tx: r.id,
          height: r.height,
          code: r.receipt?.code,
          holderCopy: ok ? o.out : null,
        },
        ok
          ? `issued ${prepared.onChainArgs.licenseId} at height ${r.height} (tx ${r.id}); holder copy: ${o.out}`
          : `licenses.issue failed: ${r.receipt?.code ?? r.status}`,
      );
    });

  lic
    .command("present")
    .description("holder: fetch a fresh proof and print a QR presentation (ZL1:…) of the chosen fields")
    .requiredOption("--copy <file>", "the holder copy (JSON) from the issuer")
    .option("--fields <names>", "comma-separated fields to disclose", "")
    .requiredOption("--audience <id>", "the verifier the presentation is for")
    .option("--key <name>", "the holder account's key under <home>/keys, or a PEM path", "holder")
    .option("--height <h>", "prove at this height (default: latest)")
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (o) => {
      const client = clientFor(o);
      const suite = await client.suite();
      const copy = holderCopyFromJson(parseJson(readFileSync(o.copy, "utf8"), o.copy));
      const p = await presentLicense(client, {
        copy,
        fields: (o.fields as string).split(",").filter(Boolean),
        audience: o.audience,
        holder: keySigner(suite, readPrivateKey(suite, keyFile(o.home, o.key))),
        height: uint(o.height, "--height"),
      });
      out(!!o.json, { qr: p.text, chars: p.text.length, height: p.height, digest: p.digest }, p.text);
    });

  lic
    .command("verify")
    .description("relying party: verify a QR presentation, online (current status, with proofs) or --offline")
    .requiredOption("--qr <text>", "the QR text (ZL1:…)")
    .option(
      "--offline",
      "no network: check the presentation's own proof and commit against the genesis validators",
    )
    .option("--genesis <path>", "trusted genesis (default: <home>/genesis.json)")
    .option(
      "--max-age-ms <n>",
      "offline: the oldest acceptable proof (now − header time)",
      String(24 * 3600_000),
    )
    .option("--audience <id>", "this verifier's id; a presentation for another is refused")
    .option(
      "--seen <file>",
      "replay log: digests of accepted presentations, one per line (created if missing)",
    )
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (o) => {
      const g = genesisOf(o);
      if (o.offline && !g)
        throw new ZlError("GENESIS_MISSING", "offline verification needs --genesis (or a home with one)");
      const seenLines =
        o.seen && existsSync(o.seen) ? readFileSync(o.seen, "utf8").split("\n").filter(Boolean) : [];
      const seen = o.seen ? new Set<string>(seenLines) : undefined;
      const now = Date.now();
      let result: PresentationResult | Awaited<ReturnType<typeof verifyLicenseOnline>>;
      let mode: "offline" | "online";
      if (o.offline) {
        mode = "offline";
        result = verifyPresentation(
          {
            suite: getSuite(g!.suite),
            chainId: g!.chainId,
            validators: g!.validators,
            now,
            maxProofAgeMs: Number(uint(o.maxAgeMs, "--max-age-ms")),
            audience: o.audience,
            seen,
          },
          o.qr,
        );
      } else {
        mode = "online";
        const client = clientFor(o);
        const genesis = await client.trustedGenesis();
        // The presentation itself (holder, signature, fields, audience, replay) with its own
        // proof, whatever its age; then the license's current record from the node, with proofs.
        const pres = verifyPresentation(
          {
            suite: getSuite(genesis.suite),
            chainId: genesis.chainId,
            validators: genesis.validators,
            now,
            maxProofAgeMs: Number.POSITIVE_INFINITY,
            audience: o.audience,
            seen,
          },
          o.qr,
        );
        if (!pres.ok && !pres.code.startsWith("LICENSE_")) result = pres;
        else {
          const p = decodePresentation(o.qr);
          result = await verifyLicenseOnline(client, p.licenseId, p.disclosed, { now });
          if (!result.ok && pres.ok && seen) seen.delete(pres.digest);
        }
      }
      if (o.seen && seen) writeFileSync(o.seen, [...seen].map((d) => `${d}\n`).join(""));
      const view = { mode, ...(cborToJson(result) as object) };
      out(
        !!o.json,
        view,
        result.ok
          ? `VALID (${mode}): ${result.licenseId} type ${result.typeCode}, issued by ${result.issuerOrg}, status ${result.status} at height ${result.height}\n${JSON.stringify(cborToJson(result.fields), null, 2)}`
          : `NOT VALID (${mode}): ${result.code}: ${result.message}`,
      );
      if (!result.ok) process.exitCode = 4;
    });

  lic
    .command("use")
    .description("relying party: record a use of the license under the holder's grant (licenses.recordUse)")
    .requiredOption("--license-id <id>", "the license")
    .requiredOption("--grant-id <id>", "the grant (10 digits)")
    .requiredOption("--service-item <code>", "事项编码")
    .requiredOption("--business-serial <serial>", "业务流水号")
    .requiredOption("--reason <text>", "申请事由 (only its salted commitment goes on chain)")
    .option("--key <name>", "the relying party's key", "bank")
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (o) => {
      const { client, signer } = await signingClient(o);
      const { result, reasonSalt } = await recordLicenseUse(client, signer, {
        licenseId: o.licenseId,
        grantId: o.grantId,
        serviceItemCode: o.serviceItem,
        businessSerial: o.businessSerial,
        reason: o.reason,
      });
      if (result.receipt?.status !== "ok") process.exitCode = 3;
      out(
        !!o.json,
        {
          tx: result.id,
          height: result.height,
          code: result.receipt?.code,
          reasonSalt: `0x${toHex(reasonSalt)}`,
        },
        `recordUse: ${result.receipt?.code ?? result.status} (tx ${result.id}); keep the reason salt 0x${toHex(reasonSalt)}`,
      );
    });

  lic
    .command("status <licenseId>")
    .description("a license's record and validity now, read with proof and commit verification")
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (licenseId: string, o) => {
      const client = clientFor(o);
      const v = await client.queryVerified(licenseKey(licenseId));
      if (!v.value) {
        out(
          !!o.json,
          { licenseId, height: v.height, found: false },
          `no license ${licenseId} at height ${v.height}`,
        );
        process.exitCode = 4;
        return;
      }
      const record = decodeLicense(v.value);
      const s = licenseStatus(record, Date.now());
      out(
        !!o.json,
        { licenseId, height: v.height, verified: true, found: true, ...s, record: cborToJson(record) },
        `${licenseId} @ ${v.height} (proof and commit verified): ${s.valid ? "valid" : "NOT valid"} — status ${s.status} ${s.reason}`,
      );
    });

  // `zl bench licenses`, next to the existing `zl bench`.
  // The parent's own options (--suite, --txs, --json) count only before the word `licenses`.
  const bench = program.commands.find((c) => c.name() === "bench") ?? program.command("bench");
  program.enablePositionalOptions();
  bench.enablePositionalOptions();
  bench
    .command("licenses")
    .description(
      "benchmark e-licenses: issuance tx/s through a real node, offline presentation verifications/s",
    )
    .addOption(
      new Option("--suite <suite>", "intl, gm or both").choices([...SUITE_IDS, "both"]).default("both"),
    )
    .option("--txs <n>", "licenses to issue", "2000")
    .option("--verify-ms <n>", "time spent verifying presentations, per suite", "2000")
    .option("--json", "print JSON")
    .action(async (o) => {
      const suites: SuiteId[] = o.suite === "both" ? [...SUITE_IDS] : [o.suite];
      const results = [];
      for (const s of suites)
        results.push(
          await runLicenseBench({
            suite: s,
            txs: Number(o.txs),
            verifyMs: Number(o.verifyMs),
            log: o.json ? () => {} : (m) => console.error(m),
          }),
        );
      out(
        !!o.json,
        results.length === 1 ? results[0] : results,
        results
          .map(
            (r) =>
              `suite ${r.suite}: issued ${r.committed}/${r.txs} at ${r.issue_tps.toFixed(0)} tx/s; offline verification ${r.offline_verify_per_s.toFixed(0)}/s on one core (p50 ${r.p50_ms.toFixed(3)} ms, p99 ${r.p99_ms.toFixed(3)} ms); raw signature verification ${r.sig_verify_per_s.toFixed(0)}/s; QR ${r.qr_chars} characters`,
          )
          .join("\n"),
      );
    });
}
