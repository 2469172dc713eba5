/**
 * Native SM2 verification equation (Node only): the `zl_sm2` addon built from
 * native/sm2_verify.c by `node-gyp` at install time (OpenSSL's SM2 curve from the node binary).
 *
 * Only GB/T 32918.2 §7.1 B1-B2, B4-B7 (range checks, t = r + s, [s]G + [t]P_A, compare) run
 * natively; Z_A and e = SM3(Z_A || M) are computed here with node:crypto's SM3, and signing
 * stays in sm2.ts. If the addon is missing, fails to load, fails its known-answer self-test,
 * or ZL_SM2_NATIVE=0 is set, `nativeSm2Addon` is undefined and the gm suite uses sm2.ts.
 */
import { digestOfParts } from "./digest.js";
import { fromHex, Lru, toHex } from "./lru.js";
import { loadNativeAddon, type NativeAddonLoad } from "./native-addon.js";
import { SM2_DEFAULT_ID, zaPrefix } from "./sm2.js";

/** Opaque parsed public key (optionally with a fixed-base table) owned by the addon. */
export type Sm2KeyHandle = { readonly __zlSm2KeyHandle: never };

export interface NativeSm2Addon {
  /** Equation only: key SEC1 (33/65 bytes) or handle, e = SM3(Z_A || M) (32 bytes), r||s (64). */
  verify(key: Uint8Array | Sm2KeyHandle, e: Uint8Array, signature: Uint8Array): boolean;
  /** Validated 65-byte uncompressed form of a 33/65-byte SEC1 key, or null. */
  decodePublicKey(publicKey: Uint8Array): Uint8Array | null;
  /** Parsed key handle; `table` adds a ~80 KB fixed-base table (≈2.3× faster verifies). */
  keyHandle(publicKey: Uint8Array, table: boolean): Sm2KeyHandle | null;
}

/** Path of the addon, relative to this file (dist/crypto/ → <repo>/build/Release/). */
const ADDON_PATH = "../../build/Release/zl_sm2.node";

// GB/T 32918.5-2017 Annex A (also test-vectors/gbt32918-sm2.json): P_A, e, r||s.
const KAT_PUB =
  "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" +
  "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
const KAT_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640";
const KAT_SIG =
  "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3" +
  "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

function selfTest(addon: NativeSm2Addon): boolean {
  const pub = fromHex(KAT_PUB);
  const e = fromHex(KAT_E);
  const sig = fromHex(KAT_SIG);
  const badE = e.slice();
  badE[31] = (badE[31] as number) ^ 1;
  const compressed = Uint8Array.of(0x02 | ((pub[64] as number) & 1), ...pub.subarray(1, 33));
  const decoded = addon.decodePublicKey(compressed);
  const handle = addon.keyHandle(compressed, true);
  return (
    addon.verify(pub, e, sig) === true &&
    addon.verify(compressed, e, sig) === true &&
    addon.verify(pub, badE, sig) === false &&
    decoded !== null &&
    toHex(decoded) === KAT_PUB &&
    handle !== null &&
    addon.verify(handle, e, sig) === true &&
    addon.verify(handle, badE, sig) === false
  );
}

export type NativeSm2Load = NativeAddonLoad<NativeSm2Addon>;

const ADDON_NAME = "native SM2 verifier";

/** Load and self-test the addon, ignoring ZL_SM2_NATIVE (tests use this to compare both paths). */
export function loadNativeSm2Addon(): NativeSm2Load {
  return loadNativeAddon(ADDON_PATH, ADDON_NAME, selfTest);
}

const loaded = loadNativeAddon(ADDON_PATH, ADDON_NAME, selfTest, "ZL_SM2_NATIVE");

/** The addon in use by the gm suite, or undefined (pure-JS path). */
export const nativeSm2Addon: NativeSm2Addon | undefined = loaded.addon;
export const nativeSm2Status: string = loaded.reason;
/** verify(pub 33|65 bytes, e 32 bytes, r||s 64 bytes) → boolean, or undefined without the addon. */
export const nativeSm2Verify:
  | ((publicKey: Uint8Array, e: Uint8Array, signature: Uint8Array) => boolean)
  | undefined = loaded.addon === undefined ? undefined : loaded.addon.verify;

const sm3 = (...parts: Uint8Array[]): Uint8Array => digestOfParts("sm3", parts);

const DEFAULT_PREFIX = zaPrefix(SM2_DEFAULT_ID);

interface Entry {
  /** 65-byte uncompressed, validated. */
  readonly pub: Uint8Array;
  /** Z_A for the default ID. */
  readonly za: Uint8Array;
  uses: number;
  handle: Sm2KeyHandle | undefined;
}

export interface NativeSm2VerifierOptions {
  /** Parsed-key cache size (LRU): 65-byte key + Z_A per entry. */
  cacheSize?: number;
  /** Verifies of one key after which it gets a native fixed-base table; 0 disables tables. */
  hotThreshold?: number;
  /** At most this many cached keys hold a table (~80 KB each) at a time. */
  maxTables?: number;
}

/**
 * Drop-in for `Sm2.verify` with the equation done natively. Same semantics: 64-byte r||s,
 * 33/65-byte SEC1 key (a valid point), optional signer ID (default "1234567812345678");
 * never throws, malformed input → false.
 */
export class NativeSm2Verifier {
  private readonly cache: Lru<string, Entry>;
  private readonly hotThreshold: number;
  private readonly maxTables: number;
  private tables = 0;

  constructor(
    private readonly addon: NativeSm2Addon,
    opts: NativeSm2VerifierOptions = {},
  ) {
    this.hotThreshold = opts.hotThreshold ?? 8;
    this.maxTables = opts.maxTables ?? 256;
    this.cache = new Lru<string, Entry>(opts.cacheSize ?? 4096, (_k, v) => {
      if (v.handle !== undefined) this.tables--; // the handle itself is freed by the GC
    });
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, id?: Uint8Array): boolean {
    try {
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      if (!(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
      if (id === undefined || id === SM2_DEFAULT_ID) {
        const entry = this.lookup(publicKey);
        if (entry === undefined) return false;
        return this.addon.verify(entry.handle ?? entry.pub, sm3(entry.za, message), signature);
      }
      if (!(id instanceof Uint8Array)) return false;
      const pub = this.addon.decodePublicKey(publicKey);
      if (pub === null) return false;
      const za = sm3(zaPrefix(id), pub.subarray(1));
      return this.addon.verify(pub, sm3(za, message), signature);
    } catch {
      return false;
    }
  }

  private lookup(publicKey: Uint8Array): Entry | undefined {
    if (publicKey.length !== 33 && publicKey.length !== 65) return undefined;
    const key = toHex(publicKey);
    let entry = this.cache.get(key);
    if (entry === undefined) {
      const pub = this.addon.decodePublicKey(publicKey);
      if (pub === null) return undefined;
      entry = { pub, za: sm3(DEFAULT_PREFIX, pub.subarray(1)), uses: 0, handle: undefined };
      this.cache.set(key, entry);
    }
    entry.uses++;
    if (
      this.hotThreshold > 0 &&
      entry.handle === undefined &&
      entry.uses >= this.hotThreshold &&
      this.tables < this.maxTables
    ) {
      const handle = this.addon.keyHandle(entry.pub, true);
      if (handle !== null) {
        entry.handle = handle;
        this.tables++;
      }
    }
    return entry;
  }
}
