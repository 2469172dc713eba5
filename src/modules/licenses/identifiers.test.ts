/**
 * Tests for src/modules/licenses/identifiers.ts: pinned vectors with provenance
 * (test-vectors/identifiers.json), independent reference computations, and fast-check
 * properties (error detection of the check characters, build/parse round trips).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as fc from "fast-check";
import { InvalidInputError } from "../../errors/index.js";
import {
  buildLicenseId,
  checkResidentId,
  checkUscc,
  type IdFailureCode,
  LICENSE_ID_ROOT,
  LICENSE_SERIAL_MAX_LENGTH,
  MOD37_36_ALPHABET,
  mod37_36Check,
  mod37_36Valid,
  nextVersionId,
  parseLicenseId,
  USCC_ALPHABET,
  usccCheckChar,
} from "./identifiers.js";

interface Vectors {
  mod37_36: { vectors: { input: string; check: string }[] };
  uscc: { valid: { code: string }[]; invalid: { code: string; reason: IdFailureCode }[] };
  residentId: { valid: { id: string }[]; invalid: { id: string; reason: IdFailureCode }[] };
  licenseIds: {
    valid: {
      id: string;
      typeCode: string;
      issuerCode: string;
      serial: string;
      version: number;
      next?: string;
      warnings: string[];
    }[];
    invalid: { id: string; code: string }[];
  };
}

const V = JSON.parse(
  readFileSync(join(process.cwd(), "src/modules/licenses/test-vectors/identifiers.json"), "utf8"),
) as Vectors;

function assertCode(f: () => unknown, code: string, what: string): void {
  try {
    f();
  } catch (err: unknown) {
    assert.ok(err instanceof InvalidInputError, `${what}: threw ${String(err)}`);
    assert.equal(err.code, code, `${what}: code`);
    return;
  }
  assert.fail(`${what}: expected ${code}`);
}

// Independent reference for MOD 37,36: ISO/IEC 7064 hybrid systems accept a string (data +
// check) when running the recurrence over all of it leaves the last residue ≡ 1 (mod M).
// Here we search for the check character by brute force over that acceptance rule, which
// shares no formula for the check character with the implementation.
function refResidueOk(full: string): boolean {
  const M = 36;
  let p = M;
  for (let i = 0; i < full.length; i++) {
    const s = (p + MOD37_36_ALPHABET.indexOf(full[i] as string)) % M;
    if (i === full.length - 1) return s === 1;
    p = (2 * (s === 0 ? M : s)) % (M + 1);
  }
  return false;
}
function refMod37_36(data: string): string {
  const found = [...MOD37_36_ALPHABET].filter((c) => refResidueOk(data + c));
  assert.equal(found.length, 1, "exactly one check character satisfies the hybrid rule");
  return found[0] as string;
}

// Independent USCC reference: weights as powers of 3 mod 31 (1, 3, 9, 27, 19, …).
function refUsccCheck(first17: string): string {
  let sum = 0;
  let w = 1;
  for (const ch of first17) {
    sum += USCC_ALPHABET.indexOf(ch) * w;
    w = (w * 3) % 31;
  }
  const c = 31 - (sum % 31);
  return USCC_ALPHABET[c === 31 ? 0 : c] as string;
}

const alnum = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...MOD37_36_ALPHABET), minLength: min, maxLength: max });
const usccChars = (n: number) =>
  fc.string({ unit: fc.constantFrom(...USCC_ALPHABET), minLength: n, maxLength: n });
const validUscc = usccChars(17).map((p) => p + refUsccCheck(p));
const typeCodeArb = fc
  .tuple(validUscc, fc.integer({ min: 0, max: 999 }))
  .map(([u, n]) => u + String(n).padStart(3, "0"));

describe("ISO/IEC 7064 MOD 37,36", () => {
  test("published examples", () => {
    for (const v of V.mod37_36.vectors) {
      assert.equal(mod37_36Check(v.input), v.check, v.input);
      assert.equal(refMod37_36(v.input), v.check, `reference: ${v.input}`);
      assert.ok(mod37_36Valid(v.input + v.check));
    }
  });

  test("agrees with the brute-force reference", () => {
    fc.assert(
      fc.property(alnum(1, 40), (s) => mod37_36Check(s) === refMod37_36(s)),
      { numRuns: 500 },
    );
  });

  test("detects every single substitution", () => {
    fc.assert(
      fc.property(alnum(1, 30), fc.nat(), fc.integer({ min: 1, max: 35 }), (s, pos, delta) => {
        const full = s + mod37_36Check(s);
        const i = pos % full.length;
        const replaced = MOD37_36_ALPHABET[(MOD37_36_ALPHABET.indexOf(full[i] as string) + delta) % 36];
        const bad = full.slice(0, i) + replaced + full.slice(i + 1);
        return !mod37_36Valid(bad);
      }),
      { numRuns: 1000 },
    );
  });

  test("detects nearly all adjacent transpositions (hybrid systems do not promise all)", () => {
    // ISO/IEC 7064 hybrid systems detect all single substitutions but only nearly all
    // transpositions: e.g. IJ00 and JI00 share the check character X. Measure the rate.
    const samples = fc.sample(fc.tuple(alnum(2, 30), fc.nat()), { numRuns: 2000, seed: 36 });
    let differing = 0;
    let missed = 0;
    for (const [s, pos] of samples) {
      const full = s + mod37_36Check(s);
      const i = pos % (full.length - 1);
      if (full[i] === full[i + 1]) continue;
      differing++;
      const bad = full.slice(0, i) + full[i + 1] + full[i] + full.slice(i + 2);
      if (mod37_36Valid(bad)) missed++;
    }
    assert.ok(differing > 1500);
    assert.ok(missed / differing < 0.01, `missed ${missed} of ${differing}`);
    assert.equal(mod37_36Check("IJ00"), mod37_36Check("JI00"));
  });

  test("refuses empty input, lower case and other characters with codes", () => {
    assertCode(() => mod37_36Check(""), "ID_EMPTY", "empty");
    assertCode(() => mod37_36Check("abc"), "ID_BAD_CHARSET", "lower case");
    assertCode(() => mod37_36Check("A-B"), "ID_BAD_CHARSET", "hyphen");
    assertCode(() => mod37_36Check("证照"), "ID_BAD_CHARSET", "CJK");
    assertCode(() => mod37_36Check(42 as unknown as string), "ID_NOT_STRING", "number");
    assert.equal(mod37_36Valid(""), false);
    assert.equal(mod37_36Valid("M"), false);
    assert.equal(mod37_36Valid("a12425gabc1234002m"), false);
  });
});

describe("unified social credit code (GB 32100-2015)", () => {
  test("vectors", () => {
    for (const v of V.uscc.valid) {
      assert.deepEqual(checkUscc(v.code), { valid: true }, v.code);
      assert.equal(refUsccCheck(v.code.slice(0, 17)), v.code[17], `reference: ${v.code}`);
    }
    for (const v of V.uscc.invalid)
      assert.deepEqual(checkUscc(v.code), { valid: false, reason: v.reason }, v.code);
  });

  test("agrees with the reference and detects single substitutions", () => {
    fc.assert(
      fc.property(usccChars(17), fc.nat(17), fc.integer({ min: 1, max: 30 }), (p, i, delta) => {
        assert.equal(usccCheckChar(p), refUsccCheck(p));
        const code = p + usccCheckChar(p);
        assert.deepEqual(checkUscc(code), { valid: true });
        const replaced = USCC_ALPHABET[(USCC_ALPHABET.indexOf(code[i] as string) + delta) % 31];
        const bad = code.slice(0, i) + replaced + code.slice(i + 1);
        assert.deepEqual(checkUscc(bad), { valid: false, reason: "ID_BAD_CHECK_DIGIT" });
      }),
      { numRuns: 500 },
    );
  });

  test("never throws; reports non-strings", () => {
    assert.deepEqual(checkUscc(undefined as unknown as string), { valid: false, reason: "ID_NOT_STRING" });
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        const r = checkUscc(s);
        return typeof r.valid === "boolean" && (r.valid || typeof r.reason === "string");
      }),
      { numRuns: 500 },
    );
  });
});

describe("resident ID number (GB 11643-1999)", () => {
  test("vectors", () => {
    for (const v of V.residentId.valid)
      assert.deepEqual(checkResidentId(v.id), { valid: true }, "valid vector");
    for (const v of V.residentId.invalid)
      assert.deepEqual(checkResidentId(v.id), { valid: false, reason: v.reason }, `expected ${v.reason}`);
  });

  test("a birth date after asOf (in UTC+8) is refused", () => {
    const id = "440304200002290014";
    assert.equal(checkResidentId(id, { asOf: new Date("2000-02-28T15:59:59Z") }).reason, "ID_BAD_BIRTH_DATE");
    // 2000-02-28T16:00Z is 2000-02-29 00:00 in China Standard Time.
    assert.deepEqual(checkResidentId(id, { asOf: new Date("2000-02-28T16:00:00Z") }), { valid: true });
  });

  test("the result never contains the number or a part of it", () => {
    for (const v of [...V.residentId.valid, ...V.residentId.invalid]) {
      const text = JSON.stringify(checkResidentId(v.id));
      assert.ok(!text.includes(v.id.slice(0, 6)) && !text.includes(v.id.slice(6, 14)), "no leak");
    }
  });

  test("detects single digit substitutions in valid numbers", () => {
    const digits17 = fc.tuple(
      fc.constantFrom("110105", "440304", "310115", "650102"),
      fc.date({
        min: new Date("1900-01-01T00:00:00Z"),
        max: new Date("2020-12-31T00:00:00Z"),
        noInvalidDate: true,
      }),
      fc.integer({ min: 0, max: 999 }),
    );
    fc.assert(
      fc.property(digits17, fc.nat(16), fc.integer({ min: 1, max: 9 }), ([area, date, seq], i, delta) => {
        const ymd = date.toISOString().slice(0, 10).replaceAll("-", "");
        const first17 = area + ymd + String(seq).padStart(3, "0");
        const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum = 0;
        for (let k = 0; k < 17; k++) sum += Number(first17[k]) * (W[k] as number);
        const id = first17 + "10X98765432"[sum % 11];
        assert.deepEqual(checkResidentId(id), { valid: true });
        // Change one digit of the sequence code or of the check-relevant positions, keeping
        // the date and area valid (positions 14–16).
        const j = 14 + (i % 3);
        const bad = id.slice(0, j) + String((Number(id[j]) + delta) % 10) + id.slice(j + 1);
        assert.deepEqual(checkResidentId(bad), { valid: false, reason: "ID_BAD_CHECK_DIGIT" });
      }),
      { numRuns: 300 },
    );
  });
});

describe("e-license identifier (GB/T 36904)", () => {
  test("valid vectors parse, rebuild and renew", () => {
    for (const v of V.licenseIds.valid) {
      const p = parseLicenseId(v.id);
      assert.equal(p.typeCode, v.typeCode);
      assert.equal(p.issuerCode, v.issuerCode);
      assert.equal(p.serial, v.serial);
      assert.equal(p.version, v.version);
      assert.deepEqual(p.warnings, v.warnings);
      assert.equal(p.check, v.id.slice(-1));
      const body = v.id.slice(LICENSE_ID_ROOT.length + 1, -2).replaceAll(".", "");
      assert.equal(refMod37_36(body), p.check, "reference check character");
      assert.equal(buildLicenseId(v), v.id);
      assert.equal(
        buildLicenseId({ ...v, version: String(v.version).padStart(3, "0") }),
        v.id,
        "string version",
      );
      if (v.next !== undefined) assert.equal(nextVersionId(v.id), v.next);
    }
  });

  test("invalid vectors are refused with their codes", () => {
    for (const v of V.licenseIds.invalid) assertCode(() => parseLicenseId(v.id), v.code, v.id);
  });

  test("version 999 has no successor", () => {
    const last = V.licenseIds.valid.find((v) => v.version === 999);
    assert.ok(last);
    assertCode(() => nextVersionId(last.id), "ID_VERSION_EXHAUSTED", "999");
  });

  test("build rejects bad segments", () => {
    const ok = V.licenseIds.valid[0]!;
    const base = { typeCode: ok.typeCode, issuerCode: ok.issuerCode, serial: ok.serial, version: 1 };
    assertCode(
      () => buildLicenseId({ ...base, typeCode: "11100000MB0123456X0A1" }),
      "ID_BAD_TYPE_CODE",
      "type",
    );
    assertCode(() => buildLicenseId({ ...base, typeCode: "11100000MB0123456I001" }), "ID_BAD_TYPE_CODE", "I");
    assertCode(
      () => buildLicenseId({ ...base, issuerCode: "11350100MB1234567" }),
      "ID_BAD_ISSUER_CODE",
      "iss",
    );
    assertCode(() => buildLicenseId({ ...base, serial: "" }), "ID_BAD_SERIAL", "empty serial");
    assertCode(() => buildLicenseId({ ...base, serial: "AB-12" }), "ID_BAD_SERIAL", "hyphen");
    assertCode(() => buildLicenseId({ ...base, serial: "粤0001" }), "ID_BAD_SERIAL", "CJK");
    assertCode(
      () => buildLicenseId({ ...base, serial: "A".repeat(LICENSE_SERIAL_MAX_LENGTH + 1) }),
      "ID_BAD_SERIAL",
      "long",
    );
    for (const version of [0, 1000, 1.5, -1, "1", "0001", "000", Number.NaN])
      assertCode(() => buildLicenseId({ ...base, version }), "ID_BAD_VERSION", `version ${String(version)}`);
    assertCode(
      () => buildLicenseId({ ...base, serial: 7 as unknown as string }),
      "ID_NOT_STRING",
      "non-string",
    );
    assertCode(() => parseLicenseId(null as unknown as string), "ID_NOT_STRING", "null id");
  });

  test("round trip, renewal and tamper detection (property)", () => {
    const parts = fc.record({
      typeCode: typeCodeArb,
      issuerCode: validUscc,
      serial: alnum(1, LICENSE_SERIAL_MAX_LENGTH),
      version: fc.integer({ min: 1, max: 998 }),
    });
    fc.assert(
      fc.property(parts, fc.nat(), fc.integer({ min: 1, max: 35 }), (p, pos, delta) => {
        const id = buildLicenseId(p);
        const parsed = parseLicenseId(id);
        assert.deepEqual(
          { ...parsed, id: undefined, check: undefined },
          { ...p, id: undefined, check: undefined, warnings: [] },
        );
        const next = parseLicenseId(nextVersionId(id));
        assert.equal(next.version, p.version + 1);
        assert.equal(next.serial, p.serial);
        // Substitute one alphanumeric character after the root: never accepted silently.
        const start = LICENSE_ID_ROOT.length + 1;
        const candidates = [...id].map((c, i) => (i >= start && c !== "." ? i : -1)).filter((i) => i >= 0);
        const i = candidates[pos % candidates.length] as number;
        const replaced = MOD37_36_ALPHABET[(MOD37_36_ALPHABET.indexOf(id[i] as string) + delta) % 36];
        const bad = id.slice(0, i) + replaced + id.slice(i + 1);
        assert.throws(() => parseLicenseId(bad), InvalidInputError);
      }),
      { numRuns: 300 },
    );
  });
});
