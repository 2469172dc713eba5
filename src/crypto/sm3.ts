/**
 * SM3 cryptographic hash (GB/T 32905-2016), pure TypeScript, browser-safe (no node: imports).
 * Node code paths prefer native `createHash("sm3")`; this is the portable fallback and the
 * reference used by the SDK in browsers.
 */

const IV = new Uint32Array([
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
]);

/** T_j rotated left by j (mod 32), precomputed for the 64 rounds. */
const TJ = new Uint32Array(64);
for (let j = 0; j < 64; j++) {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  const r = j % 32;
  TJ[j] = r === 0 ? t : ((t << r) | (t >>> (32 - r))) >>> 0;
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));
const p0 = (x: number): number => x ^ rotl(x, 9) ^ rotl(x, 17);
const p1 = (x: number): number => x ^ rotl(x, 15) ^ rotl(x, 23);

function compress(V: Uint32Array, block: Uint8Array, off: number, W: Int32Array): void {
  for (let i = 0; i < 16; i++) {
    const o = off + 4 * i;
    W[i] =
      ((block[o] as number) << 24) |
      ((block[o + 1] as number) << 16) |
      ((block[o + 2] as number) << 8) |
      (block[o + 3] as number);
  }
  for (let j = 16; j < 68; j++) {
    W[j] =
      p1((W[j - 16] as number) ^ (W[j - 9] as number) ^ rotl(W[j - 3] as number, 15)) ^
      rotl(W[j - 13] as number, 7) ^
      (W[j - 6] as number);
  }
  let A = V[0] as number,
    B = V[1] as number,
    C = V[2] as number,
    D = V[3] as number;
  let E = V[4] as number,
    F = V[5] as number,
    G = V[6] as number,
    H = V[7] as number;
  for (let j = 0; j < 64; j++) {
    const a12 = rotl(A, 12);
    const ss1 = rotl((a12 + E + (TJ[j] as number)) | 0, 7);
    const ss2 = ss1 ^ a12;
    const wj = W[j] as number;
    const wj1 = wj ^ (W[j + 4] as number);
    let ff: number;
    let gg: number;
    if (j < 16) {
      ff = A ^ B ^ C;
      gg = E ^ F ^ G;
    } else {
      ff = (A & B) | (A & C) | (B & C);
      gg = (E & F) | (~E & G);
    }
    const tt1 = (ff + D + ss2 + wj1) | 0;
    const tt2 = (gg + H + ss1 + wj) | 0;
    D = C;
    C = rotl(B, 9);
    B = A;
    A = tt1;
    H = G;
    G = rotl(F, 19);
    F = E;
    E = p0(tt2);
  }
  V[0] ^= A;
  V[1] ^= B;
  V[2] ^= C;
  V[3] ^= D;
  V[4] ^= E;
  V[5] ^= F;
  V[6] ^= G;
  V[7] ^= H;
}

/** Incremental SM3 state. */
export class Sm3 {
  private readonly V = new Uint32Array(IV);
  private readonly buf = new Uint8Array(64);
  private readonly W = new Int32Array(68);
  private bufLen = 0;
  private total = 0; // bytes
  private done = false;

  update(data: Uint8Array): this {
    if (this.done) throw new Error("SM3: update after digest");
    let i = 0;
    this.total += data.length;
    if (this.bufLen > 0) {
      const take = Math.min(64 - this.bufLen, data.length);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return this;
      compress(this.V, this.buf, 0, this.W);
      this.bufLen = 0;
    }
    for (; i + 64 <= data.length; i += 64) compress(this.V, data, i, this.W);
    if (i < data.length) {
      this.buf.set(data.subarray(i), 0);
      this.bufLen = data.length - i;
    }
    return this;
  }

  digest(): Uint8Array {
    if (this.done) throw new Error("SM3: digest called twice");
    this.done = true;
    const bitLen = this.total * 8;
    const buf = this.buf;
    buf[this.bufLen++] = 0x80;
    if (this.bufLen > 56) {
      buf.fill(0, this.bufLen);
      compress(this.V, buf, 0, this.W);
      this.bufLen = 0;
    }
    buf.fill(0, this.bufLen);
    // 64-bit big-endian bit length (messages < 2^53 bits here).
    const hi = Math.floor(bitLen / 0x100000000);
    const lo = bitLen >>> 0;
    buf[56] = hi >>> 24;
    buf[57] = hi >>> 16;
    buf[58] = hi >>> 8;
    buf[59] = hi;
    buf[60] = lo >>> 24;
    buf[61] = lo >>> 16;
    buf[62] = lo >>> 8;
    buf[63] = lo;
    compress(this.V, buf, 0, this.W);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const v = this.V[i] as number;
      out[4 * i] = v >>> 24;
      out[4 * i + 1] = v >>> 16;
      out[4 * i + 2] = v >>> 8;
      out[4 * i + 3] = v;
    }
    return out;
  }
}

/** One-shot SM3 digest (32 bytes). */
export function sm3(data: Uint8Array): Uint8Array {
  return new Sm3().update(data).digest();
}
