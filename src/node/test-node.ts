/** Test support: a real node (real LevelDB, real HTTP) in a temporary home. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveApi } from "../api/server.js";
import { initHome } from "../cli/init.js";
import { deptCode, initTestnet } from "../cli/testnet.js";
import type { SuiteId } from "../crypto/suite.js";
import { silentLogger } from "../log/logger.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";
import type { NodeConfig } from "./config.js";
import { freePortBase } from "./fault-proxy.js";
import { homePaths, readGenesisFile } from "./home.js";
import { ZlNode } from "./node.js";

export interface TestNode {
  home: string;
  node: ZlNode;
  client: ZlClient;
  admin: Signer;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestNode(suite: SuiteId, config: Partial<NodeConfig> = {}): Promise<TestNode> {
  const home = mkdtempSync(join(tmpdir(), `zl-test-${suite}-`));
  initHome({
    home,
    suite,
    chainId: "zl-test",
    orgId: "market",
    orgName: "市场监督管理局",
    orgCode: "11100000000000000X",
    port: 0,
    config: { blockIntervalMs: 20, logLevel: "silent", ...config },
  });
  const paths = homePaths(home);
  const genesis = readGenesisFile(paths.genesis);
  const admin = Signer.fromPem(suite, readFileSync(paths.key("admin"), "utf8"));
  const t: TestNode = {
    home,
    node: await ZlNode.start(home, { logger: silentLogger(), frontend: serveApi }),
    client: undefined as never,
    admin,
    async restart() {
      await t.node.stop();
      t.node = await ZlNode.start(home, { logger: silentLogger(), frontend: serveApi });
      t.client = new ZlClient(t.node.apiUrl, { genesis });
    },
    async close() {
      await t.node.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  t.client = new ZlClient(t.node.apiUrl, { genesis });
  return t;
}

export interface TestNetwork {
  dir: string;
  nodes: ZlNode[];
  /** One client per node, each trusting the shared genesis. */
  clients: ZlClient[];
  /** Root key (first admin) of each department, dept<i>. */
  admins: Signer[];
  orgIds: string[];
  orgCodes: string[];
  close(): Promise<void>;
}

/**
 * Test support: `n` department nodes running Tendermint over real mutual TLS in this process, each
 * with its HTTP API, on random loopback ports, with short round timeouts.
 */
export async function startTestNetwork(suite: SuiteId, n = 4): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `zl-testnet-${suite}-`));
  // Peer ports below the ephemeral range and free when chosen (the APIs take any free port).
  const base = await freePortBase(n);
  const manifest = initTestnet({ dir, nodes: n, suite, p2pPort: base, apiPort: base + n });
  const genesis = readGenesisFile(join(dir, "genesis.json"));
  const nodes: ZlNode[] = [];
  const close = async () => {
    for (const x of nodes) await x.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const m of manifest.nodes)
      nodes.push(
        await ZlNode.start(m.home, {
          logger: silentLogger(),
          frontend: serveApi,
          overrides: {
            api: { host: "127.0.0.1", port: 0 },
            blockIntervalMs: 20,
            consensus: {
              timeouts: {
                proposeMs: 1000,
                proposeDeltaMs: 200,
                prevoteMs: 300,
                prevoteDeltaMs: 100,
                precommitMs: 300,
                precommitDeltaMs: 100,
              },
              stallAfterMs: 5000,
            },
          },
        }),
      );
    const deadline = Date.now() + 20_000;
    while (nodes.some((x) => x.peers().length < n - 1)) {
      if (Date.now() > deadline) throw new Error("test network did not connect");
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err: unknown) {
    // Nodes already started would keep the test process alive.
    await close();
    throw err;
  }
  return {
    dir,
    nodes,
    clients: nodes.map((x) => new ZlClient(x.apiUrl, { genesis })),
    admins: manifest.nodes.map((m) =>
      Signer.fromPem(suite, readFileSync(homePaths(m.home).key("admin"), "utf8")),
    ),
    orgIds: manifest.nodes.map((m) => m.org),
    orgCodes: manifest.nodes.map((_, i) => deptCode(i)),
    close,
  };
}
