/**
 * `zl testnet init | start | stop | status`: a local consortium of N departments on loopback, each
 * running one validator node as its own OS process.
 *
 *   <dir>/testnet.json   the manifest: chain id, suite, and each node's home, API and P2P address
 *   <dir>/genesis.json   the shared genesis (also copied into every home)
 *   <dir>/node<i>/       a node home: genesis.json, config.json, node-cert.pem, keys/{admin,
 *                        validator,node-tls}.pem, data/, node.log, node.pid
 *
 * Department i has its own root key (its first admin account, keys/admin.pem), which issues the
 * certificate of its node's TLS key; the node admits only peers whose certificate chains to a
 * member organization.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { ZL_BIN } from "../bench/spawn-node.js";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";
import { toHex } from "../ledger/bytes.js";
import { DEFAULT_PARAMS, type GenesisJson } from "../ledger/genesis.js";
import { usccCheckChar } from "../modules/licenses/identifiers.js";
import { DEFAULT_CONFIG, type NodeConfig } from "../node/config.js";
import { homePaths, writePrivateKey } from "../node/home.js";
import { nodeProcessEnv } from "../node/process-env.js";
import { generateTlsKeyPair } from "../p2p/tls-key.js";
import { certificateToPem, issueNodeCertificate } from "../p2p/x509.js";

const DEPARTMENTS = [
  "市场监督管理局 Market Regulation",
  "税务局 Taxation",
  "人力资源和社会保障局 Human Resources and Social Security",
  "住房和城乡建设局 Housing and Urban-Rural Development",
  "人民法院 People's Court",
  "公安局 Public Security",
  "卫生健康委员会 Health Commission",
  "教育局 Education",
  "民政局 Civil Affairs",
  "交通运输局 Transport",
];

export interface TestnetNode {
  index: number;
  nodeId: string;
  org: string;
  home: string;
  api: string;
  p2p: string;
}

export interface TestnetManifest {
  chainId: string;
  suite: SuiteId;
  nodes: TestnetNode[];
}

export interface TestnetInitOptions {
  dir: string;
  nodes: number;
  suite: SuiteId;
  chainId?: string;
  /** First P2P port; node i listens on p2pPort + i. */
  p2pPort?: number;
  /** First API port; node i serves on apiPort + i. */
  apiPort?: number;
  /** Settings for every node's config.json. */
  config?: Partial<NodeConfig>;
  /** Validators among the nodes (the rest are observers); default all. */
  validators?: number;
}

/** A unified social credit code for the i-th test department (valid check character). */
export function deptCode(i: number): string {
  const first17 = `11110000${String(1_000_000_000 + i).slice(1)}`;
  return first17 + usccCheckChar(first17);
}

export function manifestPath(dir: string): string {
  return join(dir, "testnet.json");
}

export function readManifest(dir: string): TestnetManifest {
  const path = manifestPath(dir);
  if (!existsSync(path))
    throw new InvalidInputError(
      "TESTNET_MISSING",
      `no testnet at ${dir}; run \`zl testnet init --dir ${dir}\``,
    );
  return JSON.parse(readFileSync(path, "utf8")) as TestnetManifest;
}

/**
 * Verification threads per node when `nodes` nodes share this machine: its cores divided among
 * them, at least one. With the default (one per core in every node), four nodes on two cores run
 * eight verifying threads, and the switching between them costs more CPU per transaction than it
 * saves (see docs/performance.md).
 */
export function sharedVerifyThreads(nodes: number): number {
  return Math.max(1, Math.floor(availableParallelism() / nodes));
}

export function initTestnet(o: TestnetInitOptions): TestnetManifest {
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > 64)
    throw new InvalidInputError("TESTNET_BAD_SIZE", "--nodes must be 1..64");
  const validators = o.validators ?? o.nodes;
  if (!Number.isSafeInteger(validators) || validators < 1 || validators > o.nodes)
    throw new InvalidInputError("TESTNET_BAD_SIZE", "--validators must be 1..nodes");
  const dir = resolve(o.dir);
  if (existsSync(manifestPath(dir)))
    throw new InvalidInputError("TESTNET_EXISTS", `${manifestPath(dir)} exists; remove the directory first`);
  mkdirSync(dir, { recursive: true });
  const suite = getSuite(o.suite);
  const chainId = o.chainId ?? "zl-testnet";
  const p2pPort = o.p2pPort ?? 26_700;
  const apiPort = o.apiPort ?? 26_800;
  const now = Date.now();
  const members = Array.from({ length: o.nodes }, (_, i) => {
    const org = `dept${i}`;
    const root = suite.generateKeyPair();
    const validator = suite.generateKeyPair();
    const tls = generateTlsKeyPair();
    const nodeId = `node${i}`;
    const cert = issueNodeCertificate({
      suite,
      orgId: org,
      orgPrivateKey: root.privateKey,
      nodeId,
      tlsPublicKey: tls.publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 5 * 365 * 24 * 3600_000),
    });
    return { i, org, nodeId, root, validator, tls, cert };
  });
  const genesis: GenesisJson = {
    chainId,
    suite: o.suite,
    genesisTime: new Date(now).toISOString(),
    params: { ...DEFAULT_PARAMS },
    orgs: members.map((m) => ({
      id: m.org,
      name: DEPARTMENTS[m.i % DEPARTMENTS.length]!,
      code: deptCode(m.i),
      rootPublicKey: toHex(m.root.publicKey),
    })),
    validators: members
      .slice(0, validators)
      .map((m) => ({ publicKey: toHex(m.validator.publicKey), power: 10, org: m.org })),
  };
  const genesisText = `${JSON.stringify(genesis, null, 2)}\n`;
  writeFileSync(join(dir, "genesis.json"), genesisText);
  const nodes: TestnetNode[] = members.map((m) => {
    const home = join(dir, `node${m.i}`);
    const paths = homePaths(home);
    mkdirSync(paths.keys, { recursive: true });
    writeFileSync(paths.genesis, genesisText);
    writePrivateKey(suite, paths.key("admin"), m.root.privateKey);
    if (m.i < validators) writePrivateKey(suite, paths.key("validator"), m.validator.privateKey);
    writeFileSync(paths.nodeTlsKey, m.tls.privateKeyPem, { mode: 0o600 });
    writeFileSync(paths.nodeCert, certificateToPem(m.cert));
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      verifyThreads: sharedVerifyThreads(o.nodes),
      ...o.config,
      api: { host: "127.0.0.1", port: apiPort + m.i },
      p2p: {
        ...DEFAULT_CONFIG.p2p,
        ...o.config?.p2p,
        enabled: true,
        nodeId: m.nodeId,
        listen: { host: "127.0.0.1", port: p2pPort + m.i },
        peers: members.filter((x) => x.i !== m.i).map((x) => `127.0.0.1:${p2pPort + x.i}`),
      },
      logFile: join(home, "node.log"),
    };
    writeFileSync(paths.config, `${JSON.stringify(config, null, 2)}\n`);
    return {
      index: m.i,
      nodeId: m.nodeId,
      org: m.org,
      home,
      api: `http://127.0.0.1:${apiPort + m.i}`,
      p2p: `127.0.0.1:${p2pPort + m.i}`,
    };
  });
  const manifest: TestnetManifest = { chainId, suite: o.suite, nodes };
  writeFileSync(manifestPath(dir), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

const pidPath = (home: string) => join(home, "node.pid");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(home: string): number | undefined {
  if (!existsSync(pidPath(home))) return undefined;
  const pid = Number(readFileSync(pidPath(home), "utf8").trim());
  return Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** Starts one node of the testnet as a detached process logging to <home>/node.out. */
export function startTestnetNode(node: TestnetNode): number {
  const running = runningPid(node.home);
  if (running) return running;
  const out = openSync(join(node.home, "node.out"), "a");
  const child = spawn(process.execPath, [ZL_BIN, "start", "--home", node.home, "--json"], {
    detached: true,
    stdio: ["ignore", out, out],
    env: nodeProcessEnv(),
  });
  closeSync(out);
  child.unref();
  writeFileSync(pidPath(node.home), `${child.pid}\n`);
  return child.pid!;
}

export async function waitForApi(api: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${api}/v1/status`);
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export async function startTestnet(
  dir: string,
  timeoutMs = 30_000,
): Promise<Array<TestnetNode & { pid: number; up: boolean }>> {
  const m = readManifest(dir);
  const started = m.nodes.map((n) => ({ ...n, pid: startTestnetNode(n) }));
  return Promise.all(started.map(async (n) => ({ ...n, up: await waitForApi(n.api, timeoutMs) })));
}

/** Stops one node: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopTestnetNode(node: TestnetNode, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(node.home);
  if (!pid) return false;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(pidPath(node.home), { force: true });
  return true;
}

export async function stopTestnet(dir: string): Promise<Array<{ nodeId: string; stopped: boolean }>> {
  const m = readManifest(dir);
  return Promise.all(m.nodes.map(async (n) => ({ nodeId: n.nodeId, stopped: await stopTestnetNode(n) })));
}

export async function testnetStatus(
  dir: string,
): Promise<Array<{ nodeId: string; api: string; pid: number | null; status: unknown }>> {
  const m = readManifest(dir);
  return Promise.all(
    m.nodes.map(async (n) => {
      let status: unknown = null;
      try {
        const res = await fetch(`${n.api}/v1/status`);
        status = await res.json();
      } catch {
        // down
      }
      return { nodeId: n.nodeId, api: n.api, pid: runningPid(n.home) ?? null, status };
    }),
  );
}
