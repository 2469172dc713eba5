/**
 * Node-local configuration (config.json in the node's home). Chain-wide rules live in genesis;
 * what may differ between nodes of one chain lives here.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from "../consensus/tendermint/state-machine.js";
import { InvalidInputError } from "../errors/index.js";
import type { Level } from "../log/logger.js";
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from "../mempool/mempool.js";
import { DEFAULT_STORE_OPTIONS } from "../storage/chain-store.js";

export interface NodeConfig {
  api: { host: string; port: number };
  /** How often a block is produced when transactions are waiting. */
  blockIntervalMs: number;
  /** Produce blocks even when there is nothing to include. */
  emptyBlocks: boolean;
  /** Past state kept provable, in blocks; older trie nodes are pruned. */
  stateRetentionBlocks: number;
  /**
   * The state index and trie are written at checkpoints: every this many blocks (1: with every
   * block), or sooner when `stateCheckpointMiB` of trie records wait in memory. A crash replays
   * the blocks since the last checkpoint on start (ADR 0021).
   */
  stateCheckpointBlocks: number;
  stateCheckpointMiB: number;
  mempool: MempoolLimits;
  /** Signature-verification worker threads (0 = one per core). */
  verifyThreads: number;
  logLevel: Level;
  /** Log file; empty = standard output. */
  logFile: string;
  p2p: P2pConfig;
  consensus: ConsensusConfig;
}

export interface P2pConfig {
  /**
   * Join a consortium network. Off, a chain of one validator whose key this node holds produces
   * blocks alone; on (or with more than one validator), the node runs Tendermint with its peers.
   */
  enabled: boolean;
  /** This node's name, as in its certificate (CN). */
  nodeId: string;
  listen: { host: string; port: number };
  /** Peers to dial and keep connected, "host:port". */
  peers: string[];
  /** Largest message accepted from a peer. */
  maxFrameBytes: number;
}

export interface ConsensusConfig {
  /** Round timeouts: timeoutX(r) = xMs + r · xDeltaMs. */
  timeouts: TimeoutConfig;
  /** Report consensus as stalled after this long without a commit while there is work. */
  stallAfterMs: number;
  /** A validator counts toward the visible voting power if heard from within this window (default 5 s). */
  visibleWindowMs?: number;
}

export const DEFAULT_CONFIG: NodeConfig = {
  api: { host: "127.0.0.1", port: 26657 },
  blockIntervalMs: 12,
  emptyBlocks: false,
  stateRetentionBlocks: 100_000,
  stateCheckpointBlocks: DEFAULT_STORE_OPTIONS.checkpointBlocks,
  stateCheckpointMiB: DEFAULT_STORE_OPTIONS.checkpointBytes / (1024 * 1024),
  mempool: DEFAULT_MEMPOOL_LIMITS,
  verifyThreads: 0,
  logLevel: "info",
  logFile: "",
  p2p: {
    enabled: false,
    nodeId: "",
    listen: { host: "127.0.0.1", port: 26656 },
    peers: [],
    maxFrameBytes: 16 * 1024 * 1024,
  },
  consensus: {
    timeouts: { ...DEFAULT_TIMEOUTS },
    stallAfterMs: 10_000,
    visibleWindowMs: 5000,
  },
};

const PEER_ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

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
    p2p: {
      ...DEFAULT_CONFIG.p2p,
      ...(c.p2p ?? {}),
      listen: { ...DEFAULT_CONFIG.p2p.listen, ...(c.p2p?.listen ?? {}) },
    },
    consensus: {
      ...DEFAULT_CONFIG.consensus,
      ...(c.consensus ?? {}),
      timeouts: { ...DEFAULT_CONFIG.consensus.timeouts, ...(c.consensus?.timeouts ?? {}) },
    },
  };
  const posInt = (v: unknown, name: string, min = 1) => {
    if (!Number.isSafeInteger(v) || (v as number) < min) bad(`${name} must be an integer >= ${min}`);
  };
  posInt(cfg.api.port, "api.port", 0);
  if (cfg.api.port > 65535) bad("api.port must be at most 65535");
  if (typeof cfg.api.host !== "string" || cfg.api.host.length === 0) bad("api.host is required");
  posInt(cfg.blockIntervalMs, "blockIntervalMs");
  posInt(cfg.stateRetentionBlocks, "stateRetentionBlocks");
  posInt(cfg.stateCheckpointBlocks, "stateCheckpointBlocks");
  posInt(cfg.stateCheckpointMiB, "stateCheckpointMiB");
  posInt(cfg.mempool.maxTxs, "mempool.maxTxs");
  posInt(cfg.mempool.maxBytes, "mempool.maxBytes");
  posInt(cfg.mempool.maxNonceGap, "mempool.maxNonceGap", 0);
  posInt(cfg.verifyThreads, "verifyThreads", 0);
  if (typeof cfg.emptyBlocks !== "boolean") bad("emptyBlocks must be true or false");
  if (typeof cfg.p2p.enabled !== "boolean") bad("p2p.enabled must be true or false");
  if (cfg.p2p.enabled && !NODE_ID.test(cfg.p2p.nodeId))
    bad("p2p.nodeId must match [a-z0-9][a-z0-9-]{0,62} (the CN of the node certificate)");
  posInt(cfg.p2p.listen.port, "p2p.listen.port", 0);
  if (cfg.p2p.listen.port > 65535) bad("p2p.listen.port must be at most 65535");
  if (
    !Array.isArray(cfg.p2p.peers) ||
    cfg.p2p.peers.some((p) => typeof p !== "string" || !PEER_ADDRESS.test(p))
  )
    bad('p2p.peers must be a list of "host:port"');
  posInt(cfg.p2p.maxFrameBytes, "p2p.maxFrameBytes", 1024);
  for (const [k, v] of Object.entries(cfg.consensus.timeouts)) posInt(v, `consensus.timeouts.${k}`, 0);
  posInt(cfg.consensus.stallAfterMs, "consensus.stallAfterMs");
  if (cfg.consensus.visibleWindowMs !== undefined)
    posInt(cfg.consensus.visibleWindowMs, "consensus.visibleWindowMs", 100);
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
