/**
 * A Bloom filter over byte keys that grows with what it holds: "certainly absent" or "maybe
 * present". The store asks it before LevelDB when a state key is in none of its caches, because
 * most such keys were never written — an attestation's or a new licence's key is looked up to
 * refuse a duplicate — and LevelDB answers "absent" only after searching its memtable and every
 * level (medians of 3.5–8.1 µs at 10⁵–4·10⁵ records on an idle core, against 0.3–0.7 µs here:
 * `node dist/storage/absent-lookup.bench.js`).
 *
 * Bloom (1970) with the growth of Almeida et al., "Scalable Bloom Filters" (2007): when a stage
 * holds its capacity, a new stage of twice the capacity and more bits per key is added, so the
 * false-positive rate stays bounded however many keys arrive and no key is ever re-hashed.
 * Probes use double hashing (Kirsch and Mitzenmacher, 2006): i-th probe = (h1 + i·h2) mod m, for a
 * stage of m bits; stages are sized exactly (capacity × bits per key), so the rates are the
 * textbook ones: 0.8 % at 10 bits and 7 probes, 0.3 % at 12, 0.1 % at 14, ...
 *
 * A false positive costs one LevelDB lookup; a false negative would be a wrong answer, and cannot
 * happen: a key added is found by every later query. Keys are not removed (a deleted key stays a
 * "maybe"). The hash is not keyed: keys chosen to collide only cost their submitter lookups.
 */

/** Keys the first stage holds before the next is added. */
const FIRST_STAGE_KEYS = 1 << 16;
/** Bits per key in the first stage (k = 7 probes, about 0.8 % false positives) ... */
const FIRST_STAGE_BITS_PER_KEY = 10;
/** ... and in each later stage, this many more (tightening keeps the sum of the rates bounded). */
const BITS_PER_KEY_STEP = 2;

/**
 * Largest stage, in bits: probes are 32-bit numbers, and a stage this large (512 MiB, about 3·10⁸
 * keys in) is kept for what follows, at a rising false-positive rate, rather than not allocated.
 */
const MAX_STAGE_BITS = 2 ** 32;

interface Stage {
  readonly words: Uint32Array;
  readonly bits: number;
  readonly probes: number;
  readonly capacity: number;
  added: number;
}

function newStage(capacity: number, bitsPerKey: number): Stage {
  const bits = Math.min(MAX_STAGE_BITS, Math.ceil((capacity * bitsPerKey) / 32) * 32);
  return {
    words: new Uint32Array(bits / 32),
    bits,
    probes: Math.max(1, Math.round(bitsPerKey * Math.LN2)),
    capacity: bits === MAX_STAGE_BITS ? Number.POSITIVE_INFINITY : capacity,
    added: 0,
  };
}

/** MurmurHash3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class KeyFilter {
  private readonly stages: Stage[] = [newStage(FIRST_STAGE_KEYS, FIRST_STAGE_BITS_PER_KEY)];
  private h1 = 0;
  private h2 = 0;

  /** Keys added (a key already answered "maybe" is not added again). */
  get size(): number {
    let n = 0;
    for (const s of this.stages) n += s.added;
    return n;
  }

  /** Bytes of filter held. */
  get bytes(): number {
    let n = 0;
    for (const s of this.stages) n += s.words.byteLength;
    return n;
  }

  /**
   * Adds `key` unless the filter already answers "maybe" for it: a key written again and again
   * (a sender's nonce) takes no more room, and skipping a key that only collides is safe, since
   * bits are never cleared.
   */
  add(key: Uint8Array): void {
    this.hash(key);
    if (this.hashedMayBePresent()) return;
    let stage = this.stages[this.stages.length - 1] as Stage;
    if (stage.added >= stage.capacity) {
      const bitsPerKey = FIRST_STAGE_BITS_PER_KEY + BITS_PER_KEY_STEP * this.stages.length;
      stage = newStage(stage.capacity * 2, bitsPerKey);
      this.stages.push(stage);
    }
    let h = this.h1;
    for (let i = 0; i < stage.probes; i++) {
      const bit = h % stage.bits;
      const w = bit >>> 5;
      stage.words[w] = (stage.words[w] as number) | (1 << (bit & 31));
      h = (h + this.h2) >>> 0;
    }
    stage.added++;
  }

  /** False only if `key` was never added. */
  mightContain(key: Uint8Array): boolean {
    this.hash(key);
    return this.hashedMayBePresent();
  }

  /** Whether some stage has every bit of the key last hashed. */
  private hashedMayBePresent(): boolean {
    for (const stage of this.stages) {
      let h = this.h1;
      let all = true;
      for (let i = 0; i < stage.probes; i++) {
        const bit = h % stage.bits;
        if (((stage.words[bit >>> 5] as number) & (1 << (bit & 31))) === 0) {
          all = false;
          break;
        }
        h = (h + this.h2) >>> 0;
      }
      if (all) return true;
    }
    return false;
  }

  /** Two independent 32-bit hashes of the bytes (FNV-1a and a multiplicative mix), into h1, h2. */
  private hash(key: Uint8Array): void {
    let a = 0x811c9dc5;
    let b = key.length ^ 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key[i] as number;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.h1 = fmix32(a);
    // Never 0, so a key's probes are not all one position.
    this.h2 = (fmix32(b) | 1) >>> 0;
  }
}
