/**
 * JSON ↔ CBOR for transaction arguments typed by people and scripts: a string "0x…" (even-length
 * hex) becomes a byte string; everything else maps directly. Bytes come back as "0x…".
 */
import type { CborValue } from "../codec/cbor.js";
import { InvalidInputError } from "../errors/index.js";
import { fromHexOrUndefined, toHex } from "../ledger/bytes.js";

export function jsonToCbor(v: unknown, path = "args"): CborValue {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v))
      throw new InvalidInputError("ARGS_NOT_INTEGER", `${path}: only integers are allowed`);
    return v;
  }
  if (typeof v === "string") {
    if (v.startsWith("0x")) {
      const b = fromHexOrUndefined(v.slice(2));
      if (!b)
        throw new InvalidInputError(
          "ARGS_BAD_HEX",
          `${path}: "0x…" must be followed by an even number of hex digits`,
        );
      return b;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonToCbor(x, `${path}[${i}]`));
  if (typeof v === "object") {
    const out: { [k: string]: CborValue } = {};
    for (const [k, x] of Object.entries(v as object)) out[k] = jsonToCbor(x, `${path}.${k}`);
    return out;
  }
  throw new InvalidInputError("ARGS_UNSUPPORTED", `${path}: unsupported JSON value`);
}

export function cborToJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(cborToJson);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cborToJson(x)]));
  return v;
}
