/**
 * Base45 (RFC 9285): bytes as text from the 45 characters of the QR code alphanumeric mode,
 * for payloads carried in a license QR code (亮证). Browser-safe.
 *
 * Two bytes [a, b] become n = 256·a + b written as three base-45 digits c, d, e with
 * n = c + 45·d + 45²·e (least significant first); a final odd byte becomes two digits.
 * Decoding is strict: a character outside the alphabet (including lower case), a length
 * of 1 mod 3, a triple over 65535 or a final pair over 255 is refused with a coded
 * InvalidInputError. Under these rules every accepted text has exactly one byte string and
 * encodes back to itself.
 */
import { InvalidInputError } from "../errors/index.js";

export const BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** Character code → digit value, or -1 (only codes below 128 can be in the alphabet). */
const DIGIT = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE45_ALPHABET.length; i++) table[BASE45_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function encodeBase45(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array))
    throw new InvalidInputError("BASE45_NOT_BYTES", "expected a byte array");
  let out = "";
  const pairsEnd = bytes.length - (bytes.length % 2);
  for (let i = 0; i < pairsEnd; i += 2) {
    let n = (bytes[i] as number) * 256 + (bytes[i + 1] as number);
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    out += BASE45_ALPHABET[c]! + BASE45_ALPHABET[d]! + BASE45_ALPHABET[e]!;
  }
  if (pairsEnd < bytes.length) {
    const n = bytes[pairsEnd] as number;
    const c = n % 45;
    out += BASE45_ALPHABET[c]! + BASE45_ALPHABET[(n - c) / 45]!;
  }
  return out;
}

function digitAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  const v = code < 128 ? (DIGIT[code] as number) : -1;
  if (v < 0)
    throw new InvalidInputError(
      "BASE45_INVALID_CHAR",
      `character at position ${i} is not in the Base45 alphabet`,
      { position: i },
    );
  return v;
}

export function decodeBase45(text: string): Uint8Array {
  if (typeof text !== "string")
    throw new InvalidInputError("BASE45_NOT_STRING", `expected a string, got ${typeof text}`);
  if (text.length % 3 === 1)
    throw new InvalidInputError(
      "BASE45_INVALID_LENGTH",
      `Base45 text of length ${text.length} is invalid (length mod 3 must be 0 or 2)`,
      { length: text.length },
    );
  const triples = Math.floor(text.length / 3);
  const out = new Uint8Array(triples * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  for (let t = 0; t < triples; t++) {
    const i = 3 * t;
    const n = digitAt(text, i) + 45 * digitAt(text, i + 1) + 2025 * digitAt(text, i + 2);
    if (n > 0xffff)
      throw new InvalidInputError(
        "BASE45_VALUE_OUT_OF_RANGE",
        `triple at position ${i} decodes to ${n}, over 65535`,
        { position: i },
      );
    out[o++] = n >> 8;
    out[o++] = n & 0xff;
  }
  if (text.length % 3 === 2) {
    const i = text.length - 2;
    const n = digitAt(text, i) + 45 * digitAt(text, i + 1);
    if (n > 0xff)
      throw new InvalidInputError(
        "BASE45_VALUE_OUT_OF_RANGE",
        `final pair at position ${i} decodes to ${n}, over 255`,
        { position: i },
      );
    out[o++] = n;
  }
  return out;
}
