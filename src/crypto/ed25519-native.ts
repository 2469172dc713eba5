/**
 * Ed25519 verification for keys that sign often (Node only): the `zl_ed25519` addon built from
 * native/ed25519_verify.c by `node-gyp` at install time (ADR 0022).
 *
 * A key with `hotThreshold` valid signatures gets a native handle holding a table of its
 * multiples, which makes each later verification about 2.5 times faster than libsodium's on an
 * idle core; other keys, and every key when the addon is absent, are verified by libsodium. Both
 * accept exactly the same signatures (docs/protocol.md, "Ed25519 as used here";
 * src/crypto/ed25519-native.test.ts checks them against each other). A verifying thread's chunk
 * goes through `verifyMany`, which checks the hot keys' signatures in blocks sharing one field
 * inversion (ADR 0024). If the addon is missing, fails to load, fails its known-answer self-test,
 * or ZL_ED25519_NATIVE=0 is set, `nativeEd25519Addon` is undefined.
 */
import { fromHex, Lru, toHex } from "./lru.js";
import { loadNativeAddon, type NativeAddonLoad } from "./native-addon.js";
import type { SignatureItem } from "./suite.js";

/** Opaque key with its precomputed table, owned by the addon (about 32 KiB). */
export type Ed25519KeyHandle = { readonly __zlEd25519KeyHandle: never };

export interface NativeEd25519Addon {
  /** A handle for a 32-byte public key, or null if no signature can verify under it. */
  keyHandle(publicKey: Uint8Array): Ed25519KeyHandle | null;
  /** The protocol's acceptance rule for (handle's key, message, 64-byte signature). */
  verify(key: Ed25519KeyHandle, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * `verify` for each item of three arrays of one length, answers (1 or 0) written to `out`;
   * cheaper per item than `verify`, as items share work. Throws ZL_ED25519_INTERNAL as `verify` does.
   */
  verifyBatch(
    keys: readonly Ed25519KeyHandle[],
    messages: readonly Uint8Array[],
    signatures: readonly Uint8Array[],
    out: Uint8Array,
  ): void;
}

/** Path of the addon, relative to this file (dist/crypto/ → <repo>/build/Release/). */
const ADDON_PATH = "../../build/Release/zl_ed25519.node";

// RFC 8032 §7.1 TEST 2 (also test-vectors/rfc8032-ed25519.json).
const KAT_PUB = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const KAT_MSG = "72";
const KAT_SIG =
  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

function selfTest(addon: NativeEd25519Addon): boolean {
  const handle = addon.keyHandle(fromHex(KAT_PUB));
  if (handle === null) return false;
  const msg = fromHex(KAT_MSG);
  const sig = fromHex(KAT_SIG);
  const badSig = sig.slice();
  badSig[63] = (badSig[63] as number) ^ 1;
  const identity = new Uint8Array(32);
  identity[0] = 1;
  return (
    addon.verify(handle, msg, sig) === true &&
    addon.verify(handle, Uint8Array.of(0x73), sig) === false &&
    addon.verify(handle, msg, badSig) === false &&
    addon.keyHandle(identity) === null
  );
}

export type NativeEd25519Load = NativeAddonLoad<NativeEd25519Addon>;

const ADDON_NAME = "native Ed25519 verifier";

/** Loads and self-tests the addon, ignoring ZL_ED25519_NATIVE (tests use this to compare both paths). */
export function loadNativeEd25519Addon(): NativeEd25519Load {
  return loadNativeAddon(ADDON_PATH, ADDON_NAME, selfTest);
}

const loaded = loadNativeAddon(ADDON_PATH, ADDON_NAME, selfTest, "ZL_ED25519_NATIVE");

/** The addon in use by the intl suite, or undefined (libsodium for every key). */
export const nativeEd25519Addon: NativeEd25519Addon | undefined = loaded.addon;
export const nativeEd25519Status: string = loaded.reason;

export interface HotKeyVerifierOptions {
  /** Keys remembered (LRU), with their use counts and handles. */
  cacheSize?: number;
  /** Valid signatures of one key after which it gets a handle; a handle costs about 3.5 verifications. */
  hotThreshold?: number;
  /** At most this many remembered keys hold a handle (about 32 KiB each; an evicted key's is freed by the GC). */
  maxTables?: number;
}

interface Entry {
  uses: number;
  handle: Ed25519KeyHandle | null | undefined;
}

/**
 * Routes each verification to a key's native handle once the key is hot, and to `fallback`
 * (libsodium) before that. Inputs are checked by the caller: Uint8Arrays, a 32-byte key and a
 * 64-byte signature (the addon refuses other lengths, where libsodium would read a prefix).
 *
 * Only signatures that verify count towards a key's heat and only such keys are remembered, so
 * junk signatures under many keys can neither flush the cache nor take the table slots.
 */
export class HotKeyVerifier {
  private readonly cache: Lru<string, Entry>;
  private readonly hotThreshold: number;
  private readonly maxTables: number;
  private tables = 0;

  constructor(
    private readonly addon: NativeEd25519Addon,
    private readonly fallback: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean,
    opts: HotKeyVerifierOptions = {},
  ) {
    this.hotThreshold = opts.hotThreshold ?? 4;
    this.maxTables = opts.maxTables ?? 256;
    this.cache = new Lru<string, Entry>(opts.cacheSize ?? 4096, (_k, v) => {
      if (v.handle) this.tables--; // the handle itself is freed by the GC
    });
  }

  /** Keys that hold a handle now. */
  get tableCount(): number {
    return this.tables;
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const key = toHex(publicKey);
    const entry = this.cache.get(key);
    if (entry?.handle) {
      try {
        return this.addon.verify(entry.handle, message, signature);
      } catch {
        // ZL_ED25519_INTERNAL: the addon could not compute an answer; libsodium gives it.
        return this.fallback(publicKey, message, signature);
      }
    }
    return this.verifyCold(key, entry, publicKey, message, signature);
  }

  /**
   * `verify` for many items (lengths checked by the caller), answers written to `out`: items under
   * hot keys go to the addon in one batch, the others one by one to libsodium.
   */
  verifyMany(items: readonly SignatureItem[], out: Uint8Array): void {
    const handles: Ed25519KeyHandle[] = [];
    const messages: Uint8Array[] = [];
    const signatures: Uint8Array[] = [];
    const at: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as SignatureItem;
      const key = toHex(it.publicKey);
      const entry = this.cache.get(key);
      if (entry?.handle) {
        handles.push(entry.handle);
        messages.push(it.message);
        signatures.push(it.signature);
        at.push(i);
      } else {
        out[i] = this.verifyCold(key, entry, it.publicKey, it.message, it.signature) ? 1 : 0;
      }
    }
    if (handles.length === 0) return;
    const answers = new Uint8Array(handles.length);
    try {
      this.addon.verifyBatch(handles, messages, signatures, answers);
    } catch {
      // ZL_ED25519_INTERNAL: the addon could not compute an answer; libsodium gives them.
      for (let j = 0; j < at.length; j++) {
        const it = items[at[j] as number] as SignatureItem;
        answers[j] = this.fallback(it.publicKey, it.message, it.signature) ? 1 : 0;
      }
    }
    for (let j = 0; j < at.length; j++) out[at[j] as number] = answers[j] as number;
  }

  /**
   * A key without a handle (`entry`: its cache entry, just looked up, if any): libsodium, and a
   * valid signature counts towards the key's heat.
   */
  private verifyCold(
    key: string,
    entry: Entry | undefined,
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    if (!this.fallback(publicKey, message, signature)) return false;
    let hot = entry;
    if (hot === undefined) {
      hot = { uses: 0, handle: undefined };
      this.cache.set(key, hot);
    }
    hot.uses++;
    if (hot.handle === undefined && hot.uses >= this.hotThreshold && this.tables < this.maxTables) {
      // A key under which a signature verified always gets one; null is kept for safety.
      hot.handle = this.addon.keyHandle(publicKey);
      if (hot.handle) this.tables++;
    }
    return true;
  }
}
