/**
 * Loading a native verifier addon built by `node-gyp` (binding.gyp → build/Release/): require it,
 * run its known-answer self-test, and say why it is or is not in use. An addon that is missing,
 * fails to load or fails its test is not used; the suite then verifies without it.
 */
import { createRequire } from "node:module";

export interface NativeAddonLoad<T> {
  addon: T | undefined;
  /** Why the addon is (not) in use, for logs and test skip messages. */
  reason: string;
}

/**
 * `path` is relative to this file (dist/crypto/ → <repo>/build/Release/); `name` reads as "native
 * SM2 verifier" in messages; `disabledBy` is the environment variable that turns it off when "0",
 * or undefined to ignore it (tests compare both paths).
 */
export function loadNativeAddon<T>(
  path: string,
  name: string,
  selfTest: (addon: T) => boolean,
  disabledBy?: string,
): NativeAddonLoad<T> {
  if (disabledBy !== undefined && process.env[disabledBy] === "0")
    return { addon: undefined, reason: `${name} disabled by ${disabledBy}=0` };
  let addon: T;
  try {
    addon = createRequire(import.meta.url)(path) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      addon: undefined,
      reason:
        code === "MODULE_NOT_FOUND"
          ? `${name} not built (${path} missing; run npm install / node-gyp rebuild)`
          : `${name} failed to load: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  try {
    if (!selfTest(addon)) return { addon: undefined, reason: `${name} failed its self-test` };
  } catch (err) {
    return {
      addon: undefined,
      reason: `${name} self-test threw: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return { addon, reason: `${name} loaded (${path.replace(/^(\.\.\/)+/, "")})` };
}
