/**
 * Strict readers for decoded CBOR: each checks one field's type and bounds and throws a coded
 * InvalidInputError naming the field, so a malformed transaction or block is refused with a
 * message that says exactly what is wrong.
 */
import type { CborValue } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";

function fail(field: string, expected: string): never {
  throw new InvalidInputError("LEDGER_MALFORMED", `${field}: expected ${expected}`, { field });
}

export function readArray(v: CborValue | undefined, field: string, length?: number): CborValue[] {
  if (!Array.isArray(v)) fail(field, "an array");
  if (length !== undefined && v.length !== length) fail(field, `an array of ${length} items`);
  return v;
}

export function readBytes(
  v: CborValue | undefined,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(field, "a byte string");
  if (v.length < min || v.length > max)
    fail(field, min === max ? `${min} bytes` : `between ${min} and ${max} bytes`);
  return v;
}

export function readUint(v: CborValue | undefined, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(field, "an unsigned safe integer");
  return v;
}

export function readText(v: CborValue | undefined, field: string, max = 256, pattern?: RegExp): string {
  if (typeof v !== "string") fail(field, "a text string");
  if (v.length > max) fail(field, `at most ${max} characters`);
  if (pattern && !pattern.test(v)) fail(field, `text matching ${pattern}`);
  return v;
}

export function readMap(v: CborValue | undefined, field: string): { [key: string]: CborValue } {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    fail(field, "a map");
  return v as { [key: string]: CborValue };
}
