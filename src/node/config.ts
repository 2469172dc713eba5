/**
 * Node-local configuration (config.json in the node's home). Chain-wide rules live in genesis;
 * what may differ between nodes of one chain lives here.
 */
import { readFileSync } from "node:fs";
import { InvalidInputError } from "../errors/index.js";
import type { Level } from "../log/logger.js";
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from "../mempool/mempool.js";

export interface NodeConfig {
  api: { host: string; port: number };
  /** How often a block is produced when transactions are waiting. */
  blockIntervalMs: number;
  /** Produce blocks even when there is nothing to include. */
  emptyBlocks: boolean;
  /** Past state kept provable, in blocks; older trie nodes are pruned. */
  stateRetentionBlocks: number;
  mempool: MempoolLimits;
  /** Signature-verification worker threads (0 = one per core). */
  verifyThreads: number;
  logLevel: Level;
  /** Log file; empty = standard output. */
  logFile: string;
}

export const DEFAULT_CONFIG: NodeConfig = {
  api: { host: "127.0.0.1", port: 26657 },
  blockIntervalMs: 25,
  emptyBlocks: false,
  stateRetentionBlocks: 100_000,
  mempool: DEFAULT_MEMPOOL_LIMITS,
  verifyThreads: 0,
  logLevel: "info",
  logFile: "",
};

function bad(message: string): never {
  throw new InvalidInputError("CONFIG_INVALID", `config: ${message}`);
}

export function parseConfig(json: unknown): NodeConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) bad("not a JSON object");
  const c = json as Partial<NodeConfig>;
  const cfg: NodeConfig = {
    ...DEFAULT_CONFIG,
    ...c,
    api: { ...DEFAULT_CONFIG.api, ...(c.api ?? {}) },
    mempool: { ...DEFAULT_CONFIG.mempool, ...(c.mempool ?? {}) },
  };
  const posInt = (v: unknown, name: string, min = 1) => {
    if (!Number.isSafeInteger(v) || (v as number) < min) bad(`${name} must be an integer >= ${min}`);
  };
  posInt(cfg.api.port, "api.port", 0);
  if (cfg.api.port > 65535) bad("api.port must be at most 65535");
  if (typeof cfg.api.host !== "string" || cfg.api.host.length === 0) bad("api.host is required");
  posInt(cfg.blockIntervalMs, "blockIntervalMs");
  posInt(cfg.stateRetentionBlocks, "stateRetentionBlocks");
  posInt(cfg.mempool.maxTxs, "mempool.maxTxs");
  posInt(cfg.mempool.maxBytes, "mempool.maxBytes");
  posInt(cfg.mempool.maxNonceGap, "mempool.maxNonceGap", 0);
  posInt(cfg.verifyThreads, "verifyThreads", 0);
  if (typeof cfg.emptyBlocks !== "boolean") bad("emptyBlocks must be true or false");
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(cfg.logLevel))
    bad("logLevel is not a level");
  return cfg;
}

export function loadConfig(path: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new InvalidInputError("CONFIG_MISSING", `no config at ${path}; run \`zl init\` first`);
  }
  try {
    return parseConfig(JSON.parse(text));
  } catch (err: unknown) {
    if (err instanceof SyntaxError) bad(`${path} is not valid JSON: ${err.message}`);
    throw err;
  }
}
