/** Starts a node as a separate OS process and waits until its API answers (benchmarks, fault tests). */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ZL_BIN = fileURLToPath(new URL("../../bin/zl.js", import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  api: string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
}

export function spawnNode(home: string, timeoutMs = 30_000): Promise<NodeProcess> {
  // ZL_NODE_ARGS passes Node flags to the node processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.ZL_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
  const child = spawn(process.execPath, [...nodeArgs, ZL_BIN, "start", "--home", home, "--json"], {
    stdio: ["ignore", "pipe", "pipe"],
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
      reject(new Error(`node at ${home} did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffer = "";
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      buffer += line;
      try {
        const info = JSON.parse(buffer) as { api?: string };
        buffer = "";
        if (info.api) {
          clearTimeout(timer);
          resolve({ child, api: info.api, exited });
        }
      } catch {
        // the JSON document spans several lines; keep reading
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node at ${home} exited (${code}) before starting: ${stderr}`));
    });
  });
}
