/**
 * Four department nodes in one process over real mutual TLS (the default network of
 * src/node/network.ts): they commit together, and when the organizations vote a department out,
 * its node is disconnected and cannot come back, while the remaining three keep committing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decode } from "../codec/cbor.js";
import { readOrg } from "../execution/accounts.js";
import { until } from "../p2p/test-support.js";
import { ZlClient } from "../sdk/client.js";
import type { ZlNode } from "./node.js";
import { startTestNetwork, type TestNetwork } from "./test-node.js";

const WAIT_MS = 20_000;

describe("membership decides who may connect (4 nodes, real TLS, in one process)", () => {
  let net: TestNetwork;
  let nodes: ZlNode[];
  let chainId: string;

  before(async () => {
    net = await startTestNetwork("intl", 4);
    nodes = net.nodes;
    chainId = nodes[0]!.chain.genesis.chainId;
  });

  after(async () => {
    await net.close();
  });

  const admin = (i: number) => net.admins[i]!;

  async function send(i: number, call: string, args: Record<string, unknown>, nonce: number): Promise<void> {
    const tx = admin(i).sign(chainId, {
      module: "governance",
      call,
      args: args as never,
      nonce,
      expiry: 1_000_000,
    });
    const [r] = await nodes[i]!.submit([tx.bytes]);
    assert.ok(r?.ok, `submit ${call} by dept${i}: ${r && !r.ok ? r.error.message : ""}`);
  }

  it("connects only members, and drops a department the others voted out", async () => {
    await until(() => nodes.every((n) => n.peers().length === 3), "a full mesh of 4", WAIT_MS);
    const scrape = await nodes[0]!.metrics.registry.metrics();
    assert.match(scrape, /^zl_consensus_total_power 40$/m);
    assert.match(scrape, /^zl_p2p_peers 3$/m);
    assert.match(scrape, /^zl_consensus_stalled 0$/m);

    await send(0, "propose", { action: { kind: "removeOrg", id: "dept3" } }, 0);
    await until(() => nodes[0]!.chain.height >= 1, "the proposal to commit", WAIT_MS);
    await send(1, "vote", { id: 1, approve: true }, 0);
    await send(2, "vote", { id: 1, approve: true }, 0);

    // Three of four organizations approve: dept3 is removed, with its validator.
    await until(
      () => readOrg(nodes[0]!.chain.latest, "dept3")?.status === "removed",
      "dept3 removed",
      30_000,
    );
    await until(() => nodes[0]!.chain.validators().length === 3, "the set to shrink to 3", WAIT_MS);
    await until(
      () => nodes.slice(0, 3).every((n) => n.peers().every((p) => p.nodeId !== "node3")),
      "the members to drop node3",
      WAIT_MS,
    );
    // It stays out: its certificate no longer chains to a member organization.
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(nodes.slice(0, 3).every((n) => n.peers().every((p) => p.nodeId !== "node3")));
    assert.equal(nodes[3]!.peers().length, 0);

    // The remaining three (all of the new set's power) keep committing.
    const h = nodes[0]!.chain.height;
    const tx = admin(1).sign(chainId, {
      module: "attest",
      call: "record",
      args: {
        digest: new Uint8Array(32).fill(9),
        kind: "after-removal",
        provenance: { system: "t", generatedAt: 1, method: "m" },
      },
      nonce: 1,
      expiry: 1_000_000,
    });
    await nodes[1]!.submit([tx.bytes]);
    await until(() => nodes.slice(0, 3).every((n) => n.chain.height > h), "commits without dept3", WAIT_MS);
    const hashes = nodes.slice(0, 3).map((n) => n.chain.block(h + 1).header.stateRoot.join(","));
    assert.equal(new Set(hashes).size, 1);

    // A client trusting only genesis still verifies reads signed by the new set: its light
    // client follows the change header by header.
    const client = new ZlClient(nodes[1]!.apiUrl);
    const org = await client.queryVerified("org/dept3");
    assert.equal((decode(org.value!) as { status: string }).status, "removed");
    assert.ok(org.height > h);
  });
});
