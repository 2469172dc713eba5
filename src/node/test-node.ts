/** Test support: a real node (real LevelDB, real HTTP) in a temporary home. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveApi } from "../api/server.js";
import { initHome } from "../cli/init.js";
import type { SuiteId } from "../crypto/suite.js";
import { silentLogger } from "../log/logger.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";
import type { NodeConfig } from "./config.js";
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
