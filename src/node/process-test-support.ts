/** Helpers shared by the tests that run nodes as real OS processes and watch them over HTTP. */
import { existsSync, readFileSync } from "node:fs";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `GET /v1/status` of a node, or undefined while it does not answer (down, starting, cut off). */
export async function fetchStatus<T>(api: string): Promise<T | undefined> {
  try {
    const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `cond` every 100 ms; resolves with the time it took, or fails naming `what`. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await cond()) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The last lines of a node's log, for a failing test's message. */
export function logTail(path: string, lines = 25): string {
  if (!existsSync(path)) return `(no ${path})`;
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
