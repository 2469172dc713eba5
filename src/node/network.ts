/**
 * The node's peer network: mutual TLS with the node certificate its organization issued
 * (src/p2p/network.ts), admitting only nodes of the organizations that are members in the
 * committed state. Membership is re-read after every block; when it changes, connected peers are
 * re-checked and those of a removed organization are dropped.
 */
import { readFileSync } from "node:fs";
import { InvalidInputError } from "../errors/index.js";
import { activeOrgIds, readOrg } from "../execution/accounts.js";
import { toHex } from "../ledger/bytes.js";
import { encodeGenesis } from "../ledger/genesis.js";
import { PeerNetwork } from "../p2p/network.js";
import { homePaths } from "./home.js";
import type { NodeNetwork, ZlNode } from "./node.js";

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new InvalidInputError(
      "P2P_IDENTITY_MISSING",
      `no ${what} at ${path}; \`zl testnet init\` writes one, or issue one with \`zl node-cert issue\``,
    );
  }
}

export async function startNodeNetwork(node: ZlNode): Promise<NodeNetwork> {
  const paths = homePaths(node.home);
  const { p2p } = node.config;
  if (!p2p.nodeId)
    throw new InvalidInputError("CONFIG_INVALID", "config: p2p.nodeId is required to join a network");
  let roots = new Map<string, Uint8Array>();
  let rootsKey = "";
  const refresh = (): boolean => {
    const next = new Map<string, Uint8Array>();
    const state = node.chain.latest;
    const listed = activeOrgIds(state);
    const ids = listed.length > 0 ? listed : node.chain.genesis.orgs.map((o) => o.id);
    for (const id of ids) {
      const org = readOrg(state, id);
      if (org?.status === "active") next.set(id, org.rootPublicKey);
    }
    const key = [...next].map(([id, k]) => `${id}:${toHex(k)}`).join(",");
    const changed = key !== rootsKey;
    roots = next;
    rootsKey = key;
    return changed;
  };
  refresh();
  const network = await PeerNetwork.start({
    chainId: node.chain.genesis.chainId,
    genesisHash: node.suite.hash(encodeGenesis(node.chain.genesis)),
    nodeId: p2p.nodeId,
    suite: node.suite,
    listen: p2p.listen,
    peers: p2p.peers,
    tlsKeyPem: readPem(paths.nodeTlsKey, "node TLS key"),
    certPem: readPem(paths.nodeCert, "node certificate"),
    orgRoots: () => roots,
    maxFrameBytes: p2p.maxFrameBytes,
    log: node.log,
  });
  node.bus.subscribe(() => {
    if (refresh()) {
      node.log.info("member organizations changed; re-checking peers", { orgs: [...roots.keys()] });
      network.revalidate();
    }
  });
  return network;
}
