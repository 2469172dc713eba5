/**
 * The worked example of docs/licenses.md, run as people would: `zl` in real processes against a
 * real node. The market department registers the business-license type (营业执照); an official
 * issues a license to an enterprise; the enterprise authorizes a bank; the bank verifies online
 * and offline from the QR text and records the use; the official revokes the license; both
 * verifications then fail with LICENSE_REVOKED.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type NodeProcess, spawnNode, ZL_BIN } from "../bench/spawn-node.js";

const run = promisify(execFile);

async function zl(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [ZL_BIN, ...args, "--json"]);
  return JSON.parse(stdout);
}

/** A command expected to exit non-zero: its exit code and its JSON answer. */
async function zlFails(...args: string[]): Promise<{ exit: number; out: Record<string, unknown> }> {
  try {
    await run(process.execPath, [ZL_BIN, ...args, "--json"]);
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string };
    return { exit: e.code, out: JSON.parse(e.stdout) };
  }
  throw new Error(`zl ${args.join(" ")} succeeded`);
}

const MARKET = "11100000000000000X";
const TYPE = `${MARKET}001`;
const FACE = {
  ZZBH: "91110000MA01ABCD2X",
  CZZT: "北京示例科技有限公司",
  CZZTDM: "91110000MA01ABCD2X",
  ZZBFRQ: "2024-01-02",
  KZ_FDDBR: "张三",
};
const BANK_ID = "bank:ICBC-BJ-0001";

for (const suite of ["intl", "gm"]) {
  describe(`zl license: the worked example (${suite})`, () => {
    const dir = mkdtempSync(join(tmpdir(), "zl-lic-"));
    const home = join(dir, "node");
    let node: NodeProcess;
    let api: string;
    const at = () => ["--home", home, "--api", api];
    const send = async (key: string, module: string, call: string, args: unknown) => {
      const r = (await zl(
        "tx",
        "send",
        ...at(),
        "--key",
        key,
        "--module",
        module,
        "--call",
        call,
        "--args",
        JSON.stringify(args),
      )) as {
        receipt: { code: string };
      };
      assert.equal(r.receipt.code, "OK", `${module}.${call}`);
    };

    before(async () => {
      await zl("init", "--home", home, "--suite", suite, "--port", "0");
      node = await spawnNode(home);
      api = node.api;
    });
    after(async () => {
      node.child.kill("SIGTERM");
      await node.exited;
      rmSync(dir, { recursive: true, force: true });
    });

    it("issue, grant, present, verify online and offline, use, revoke", async () => {
      // The cast: an official (issuer), an enterprise (holder), a bank (relying party).
      const keys: Record<string, { publicKey: string; address: string }> = {};
      for (const name of ["official", "enterprise", "bank"])
        keys[name] = (await zl("keys", "new", name, "--home", home, "--suite", suite)) as never;
      await send("admin", "membership", "enroll", {
        publicKey: `0x${keys.official!.publicKey}`,
        roles: ["issuer"],
      });
      await send("admin", "membership", "enroll", {
        publicKey: `0x${keys.enterprise!.publicKey}`,
        roles: ["holder"],
      });
      await send("admin", "membership", "enroll", {
        publicKey: `0x${keys.bank!.publicKey}`,
        roles: ["official"],
      });

      // 1. The department registers the type and makes the official a trusted issuer.
      await send("admin", "licenses", "registerType", {
        typeCode: TYPE,
        name: "营业执照",
        fields: [
          { name: "ZZBH", type: "text", required: true },
          { name: "CZZT", type: "text", required: true },
          { name: "CZZTDM", type: "text", required: true },
          { name: "ZZBFRQ", type: "date", required: true },
          { name: "KZ_FDDBR", type: "text", required: false },
        ],
        issuerOrgs: ["market"],
        maxValidityDays: 3650,
      });
      await send("admin", "licenses", "grantIssuer", {
        typeCode: TYPE,
        address: `0x${keys.official!.address}`,
      });

      // 2. The official issues; the holder copy is written for the enterprise.
      const copy = join(dir, "license.json");
      const issued = (await zl(
        "license",
        "issue",
        ...at(),
        "--key",
        "official",
        "--type-code",
        TYPE,
        "--serial",
        "A0000001",
        "--fields",
        JSON.stringify(FACE),
        "--holder-did",
        "did:zl:enterprise-0001",
        "--holder-account",
        keys.enterprise!.address,
        "--valid-days",
        "365",
        "--out",
        copy,
      )) as { licenseId: string; code: string; holderCopy: string };
      assert.equal(issued.code, "OK");
      assert.match(
        issued.licenseId,
        /^1\.2\.156\.3005\.2\.11100000000000000X001\.11100000000000000X\.A0000001\.001\./,
      );
      const licenseId = issued.licenseId;
      const held = JSON.parse(readFileSync(copy, "utf8"));
      assert.equal(held.fields.CZZT.value, FACE.CZZT);
      // Nothing personal on chain: the record holds commitments only.
      const st = (await zl("license", "status", licenseId, ...at())) as {
        valid: boolean;
        status: string;
        record: unknown;
      };
      assert.deepEqual([st.valid, st.status], [true, "01"]);
      assert.ok(!JSON.stringify(st.record).includes(FACE.CZZT));

      // 3. The enterprise authorizes the bank (grant 0000000001).
      const now = Date.now();
      await send("enterprise", "licenses", "grant", {
        licenseId,
        relyingParty: `0x${keys.bank!.address}`,
        purpose: "个人经营贷款审核",
        fields: ["ZZBH", "CZZT", "CZZTDM"],
        from: now,
        until: now + 30 * 86_400_000,
      });

      // 4. The enterprise shows a QR code to the bank.
      const present = async () =>
        (
          (await zl(
            "license",
            "present",
            ...at(),
            "--copy",
            copy,
            "--fields",
            "ZZBH,CZZT,CZZTDM",
            "--audience",
            BANK_ID,
            "--key",
            "enterprise",
          )) as {
            qr: string;
            chars: number;
          }
        ).qr;
      const qr = await present();
      assert.match(qr, /^ZL1:/);
      assert.ok(qr.length < 2900, `${qr.length} characters`);

      // 5. The bank verifies online (current status, proofs) and offline (the QR alone).
      const online = (await zl("license", "verify", ...at(), "--qr", qr, "--audience", BANK_ID)) as {
        ok: boolean;
        mode: string;
        typeName: string;
        fields: Record<string, string>;
      };
      assert.deepEqual([online.ok, online.mode, online.typeName], [true, "online", "营业执照"]);
      assert.deepEqual(online.fields, { ZZBH: FACE.ZZBH, CZZT: FACE.CZZT, CZZTDM: FACE.CZZTDM });
      const genesis = join(home, "genesis.json");
      const seen = join(dir, "seen.txt");
      const offline = [
        "license",
        "verify",
        "--offline",
        "--genesis",
        genesis,
        "--audience",
        BANK_ID,
        "--seen",
        seen,
      ];
      const off = (await zl(...offline, "--qr", qr)) as {
        ok: boolean;
        mode: string;
        status: string;
        issuerOrg: string;
      };
      assert.deepEqual([off.ok, off.mode, off.status, off.issuerOrg], [true, "offline", "01", "market"]);
      assert.ok(existsSync(seen));
      const replay = await zlFails(...offline, "--qr", qr);
      assert.deepEqual([replay.exit, replay.out.code], [4, "PRESENTATION_REPLAYED"]);
      const other = await zlFails(
        "license",
        "verify",
        "--offline",
        "--genesis",
        genesis,
        "--audience",
        "bank:other",
        "--qr",
        qr,
      );
      assert.equal(other.out.code, "WRONG_AUDIENCE");
      const tampered = qr.slice(0, 200) + (qr[200] === "A" ? "B" : "A") + qr.slice(201);
      const bad = await zlFails("license", "verify", "--offline", "--genesis", genesis, "--qr", tampered);
      assert.equal(bad.exit, 4);

      // 6. The bank records the use under its grant (用证记录).
      const used = (await zl(
        "license",
        "use",
        ...at(),
        "--key",
        "bank",
        "--license-id",
        licenseId,
        "--grant-id",
        "0000000001",
        "--service-item",
        "11100000000013127D3000117000",
        "--business-serial",
        "LOAN-2024-000001",
        "--reason",
        "个人经营贷款审核",
      )) as { code: string };
      assert.equal(used.code, "OK");

      // 7. The official revokes the license.
      await send("official", "licenses", "revoke", {
        licenseId,
        reasonCode: "FRAUD",
        reasonText: "依据行政许可法第六十九条",
      });

      // 8. Online, the same QR now fails; offline, a fresh presentation carries the revoked record.
      const onlineAfter = await zlFails("license", "verify", ...at(), "--qr", qr, "--audience", BANK_ID);
      assert.deepEqual(
        [onlineAfter.exit, onlineAfter.out.code, onlineAfter.out.status],
        [4, "LICENSE_REVOKED", "03"],
      );
      const fresh = await present();
      const offlineAfter = await zlFails(...offline, "--qr", fresh);
      assert.deepEqual(
        [offlineAfter.exit, offlineAfter.out.code, offlineAfter.out.status],
        [4, "LICENSE_REVOKED", "03"],
      );
      const stAfter = (await zl("license", "status", licenseId, ...at())) as {
        valid: boolean;
        reason: string;
      };
      assert.deepEqual([stAfter.valid, stAfter.reason], [false, "REVOKED"]);
    });

    it("prepare writes a holder copy and prints licenses.issue arguments (no node needed)", async () => {
      const copy = join(dir, "prepared.json");
      await zl("keys", "new", "issuer2", "--home", home, "--suite", suite);
      const r = (await zl(
        "license",
        "prepare",
        "--home",
        home,
        "--key",
        "issuer2",
        "--type-code",
        TYPE,
        "--serial",
        "P1",
        "--issuer-code",
        MARKET,
        "--fields",
        JSON.stringify({ ZZBH: "X1", CZZT: "某公司" }),
        "--holder-did",
        "did:zl:x",
        "--holder-account",
        "00".repeat(20),
        "--out",
        copy,
      )) as { licenseId: string; onChainArgs: { commitments: Record<string, string>; holder: string } };
      assert.deepEqual(Object.keys(r.onChainArgs.commitments).sort(), ["CZZT", "ZZBH"]);
      assert.match(r.onChainArgs.holder, /^0x[0-9a-f]{64}$/);
      const held = JSON.parse(readFileSync(copy, "utf8"));
      assert.equal(held.licenseId, r.licenseId);
      assert.ok(held.fields.ZZBH.salt.length >= 2 + 32);
    });
  });
}
