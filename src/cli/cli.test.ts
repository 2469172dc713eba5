/**
 * The README's five-minute tour, run as a user would: `zl` in real processes against a real
 * node — init, start, status, tx send, query (with proof verification), keys, enrol.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type NodeProcess, spawnNode, ZL_BIN } from "../bench/spawn-node.js";

const run = promisify(execFile);

async function zl(...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [ZL_BIN, ...args, "--json"]);
  return JSON.parse(stdout);
}

for (const suite of ["intl", "gm"]) {
  describe(`zl CLI tour (${suite})`, () => {
    const home = join(mkdtempSync(join(tmpdir(), "zl-cli-")), "node");
    let node: NodeProcess;
    before(async () => {
      const init = (await zl("init", "--home", home, "--suite", suite, "--port", "0")) as { suite: string };
      assert.equal(init.suite, suite);
      node = await spawnNode(home);
    });
    after(async () => {
      node.child.kill("SIGTERM");
      await node.exited;
      rmSync(join(home, ".."), { recursive: true, force: true });
    });

    it("status, attest, query with proof, new key, enrol", async () => {
      const status = (await zl("status", "--api", node.api)) as {
        chainId: string;
        suite: string;
        height: number;
      };
      assert.deepEqual([status.chainId, status.suite], ["zl-local", suite]);
      const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
      const args = JSON.stringify({
        digest: `0x${digest}`,
        kind: "contract",
        provenance: { system: "qyxx", generatedAt: 1767225600000, method: "scan" },
      });
      const sent = (await zl(
        "tx",
        "send",
        "--home",
        home,
        "--api",
        node.api,
        "--module",
        "attest",
        "--call",
        "record",
        "--args",
        args,
      )) as {
        status: string;
        receipt: { code: string };
      };
      assert.equal(sent.status, "committed");
      assert.equal(sent.receipt.code, "OK");
      const q = (await zl("query", "--home", home, "--api", node.api, `attest/${digest}`)) as {
        verified: boolean;
        value: { kind: string; org: string };
      };
      assert.equal(q.verified, true);
      assert.equal(q.value.kind, "contract");
      assert.equal(q.value.org, "market");
      const key = (await zl("keys", "new", "clerk", "--home", home, "--suite", suite)) as {
        publicKey: string;
        address: string;
      };
      const enrol = (await zl(
        "tx",
        "send",
        "--home",
        home,
        "--api",
        node.api,
        "--module",
        "membership",
        "--call",
        "enroll",
        "--args",
        JSON.stringify({ publicKey: `0x${key.publicKey}`, roles: ["official"] }),
      )) as { receipt: { code: string } };
      assert.equal(enrol.receipt.code, "OK");
      const acct = (await zl("query", "--home", home, "--api", node.api, `acct/${key.address}`)) as {
        value: { roles: string[] };
      };
      assert.deepEqual(acct.value.roles, ["official"]);
    });

    it("reports bad input with a code and a non-zero exit", async () => {
      await assert.rejects(
        run(process.execPath, [
          ZL_BIN,
          "tx",
          "send",
          "--home",
          home,
          "--api",
          node.api,
          "--module",
          "attest",
          "--call",
          "record",
          "--args",
          "{bad",
        ]),
        (err: { code: number; stderr: string }) => {
          assert.equal(err.code, 2);
          assert.match(err.stderr, /CLI_BAD_ARGS/);
          return true;
        },
      );
    });

    it("evidence list and report on a chain where no validator equivocated", async () => {
      const listed = (await zl("evidence", "list", "--home", home, "--api", node.api)) as {
        observed: unknown[];
        onRecord: { total: number; records: unknown[] };
      };
      assert.deepEqual(listed.observed, []);
      assert.deepEqual([listed.onRecord.total, listed.onRecord.records], [0, []]);
      const reported = (await zl("evidence", "report", "--home", home, "--api", node.api)) as {
        reported: unknown[];
      };
      assert.deepEqual(reported.reported, []);
    });

    it("issues a node certificate with the organization's root key and checks it", async () => {
      const issued = (await zl("node-cert", "issue", "--home", home, "--node-id", "market-node1")) as {
        nodeId: string;
        org: string;
      };
      assert.deepEqual([issued.nodeId, issued.org], ["market-node1", "market"]);
      const shown = (await zl("node-cert", "show", "--home", home)) as { valid: boolean; nodeId: string };
      assert.equal(shown.valid, true);
      assert.equal(shown.nodeId, "market-node1");
      // A key that is no organization's root cannot issue.
      await zl("keys", "new", "stranger", "--home", home, "--suite", suite);
      await assert.rejects(
        zl("node-cert", "issue", "--home", home, "--node-id", "x", "--org-key", "stranger"),
        /P2P_NOT_AN_ORG_ROOT/,
      );
    });
  });
}
