/** A minimal DER writer/reader: just enough for SPKI / PKCS#8 / RFC 5915 EC keys. Browser-safe. */
import { InvalidInputError } from "../errors/index.js";

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  CTX1: 0xa1,
} as const;

function lengthBytes(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) out.unshift(l & 0xff);
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const c of contents) len += c.length;
  const head = [tag, ...lengthBytes(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let o = head.length;
  for (const c of contents) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Encode a dotted OID string. */
export function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map((x) => Number.parseInt(x, 10));
  const bytes: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const enc: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    bytes.push(...enc);
  }
  return tlv(TAG.OID, Uint8Array.from(bytes));
}

export function smallInt(n: number): Uint8Array {
  return tlv(TAG.INTEGER, Uint8Array.of(n));
}

export interface Node {
  tag: number;
  /** Contents (value bytes). */
  value: Uint8Array;
  /** Total encoded length (header + value). */
  size: number;
}

function bad(what: string): InvalidInputError {
  return new InvalidInputError("CRYPTO_BAD_KEY", `malformed DER: ${what}`);
}

/** Read one TLV at `offset`. */
export function read(buf: Uint8Array, offset = 0): Node {
  if (offset + 2 > buf.length) throw bad("truncated header");
  const tag = buf[offset] as number;
  let len = buf[offset + 1] as number;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw bad("bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    hdr += n;
  }
  if (offset + hdr + len > buf.length) throw bad("truncated value");
  return { tag, value: buf.subarray(offset + hdr, offset + hdr + len), size: hdr + len };
}

/** Read a constructed value's children. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let o = 0; o < node.value.length; ) {
    const c = read(node.value, o);
    out.push(c);
    o += c.size;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (node === undefined || node.tag !== tag) throw bad(`expected ${what}`);
  return node;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
