/** Starts nodes as separate OS processes and waits until their APIs answer (benchmarks, fault tests). */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FatalError } from "../errors/index.js";
import { nodeProcessEnv } from "../node/process-env.js";

export const ZL_BIN = fileURLToPath(new URL("../../bin/zl.js", import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  api: string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
}

/**
 * Finds the API address in what `zl start --json` prints: a JSON document, on one line or over
 * several. Lines before it that are not JSON (Node's warnings, or V8 tracing asked for through
 * ZL_NODE_ARGS) are skipped rather than read as the start of the document.
 */
export class StartupReader {
  private buffer = "";

  /** The API address once the document is complete, otherwise undefined. */
  push(line: string): string | undefined {
    if (this.buffer === "" && !line.startsWith("{")) return undefined;
    this.buffer += line;
    let info: { api?: unknown };
    try {
      info = JSON.parse(this.buffer) as { api?: unknown };
    } catch {
      return undefined; // the document spans several lines; keep reading
    }
    this.buffer = "";
    return typeof info.api === "string" ? info.api : undefined;
  }
}

export function spawnNode(home: string, timeoutMs = 30_000): Promise<NodeProcess> {
  // ZL_NODE_ARGS passes Node flags to the node processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.ZL_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
  const child = spawn(process.execPath, [...nodeArgs, ZL_BIN, "start", "--home", home, "--json"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: nodeProcessEnv(),
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 8192) stderr = stderr.slice(-8192);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new FatalError(
          "NODE_START_TIMEOUT",
          `node at ${home} did not start within ${timeoutMs} ms: ${stderr}`,
        ),
      );
    }, timeoutMs);
    const startup = new StartupReader();
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const api = startup.push(line);
      if (api === undefined) return;
      clearTimeout(timer);
      resolve({ child, api, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new FatalError(
          "NODE_START_FAILED",
          `node at ${home} exited (${code}) before starting: ${stderr.trim()}`,
        ),
      );
    });
  });
}

/**
 * Starts a node for each home, all at once. If any fails to start, the others are stopped (and
 * waited for) before the first failure is thrown: a failed start leaves no node running.
 */
export async function spawnNodes(homes: readonly string[], timeoutMs?: number): Promise<NodeProcess[]> {
  const settled = await Promise.allSettled(homes.map((h) => spawnNode(h, timeoutMs)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure === undefined) return settled.map((s) => (s as PromiseFulfilledResult<NodeProcess>).value);
  const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  for (const p of started) p.child.kill("SIGTERM");
  await Promise.all(started.map((p) => p.exited));
  throw failure.reason;
}
