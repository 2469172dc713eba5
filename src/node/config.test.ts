import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InvalidInputError } from "../errors/index.js";
import { DEFAULT_STORE_OPTIONS } from "../storage/chain-store.js";
import { DEFAULT_CONFIG, loadConfig, parseConfig } from "./config.js";

/** Asserts that `json` is refused with CONFIG_INVALID and a message naming `field`. */
function refused(json: unknown, field: string): void {
  assert.throws(
    () => parseConfig(json),
    (err: unknown) =>
      err instanceof InvalidInputError && err.code === "CONFIG_INVALID" && err.message.includes(field),
    `${JSON.stringify(json)} should be refused naming ${field}`,
  );
}

describe("node config", () => {
  it("fills what a file leaves out from the defaults, nested sections included", () => {
    assert.deepEqual(parseConfig({}), DEFAULT_CONFIG);
    const cfg = parseConfig({ api: { port: 8080 }, stateCheckpointBlocks: 1, p2p: { listen: { port: 0 } } });
    assert.equal(cfg.api.port, 8080);
    assert.equal(cfg.api.host, DEFAULT_CONFIG.api.host);
    assert.equal(cfg.stateCheckpointBlocks, 1);
    assert.equal(cfg.stateCheckpointMiB, DEFAULT_STORE_OPTIONS.checkpointBytes / (1024 * 1024));
    assert.equal(cfg.p2p.listen.port, 0);
    assert.equal(cfg.p2p.listen.host, DEFAULT_CONFIG.p2p.listen.host);
  });

  it("refuses each bad value with a coded error that names the field", () => {
    refused([], "not a JSON object");
    refused(null, "not a JSON object");
    refused({ api: { port: 70_000 } }, "api.port");
    refused({ api: { host: "" } }, "api.host");
    refused({ blockIntervalMs: 0 }, "blockIntervalMs");
    refused({ stateRetentionBlocks: 1.5 }, "stateRetentionBlocks");
    refused({ stateCheckpointBlocks: 0 }, "stateCheckpointBlocks");
    refused({ stateCheckpointMiB: "4" }, "stateCheckpointMiB");
    refused({ mempool: { maxTxs: -1 } }, "mempool.maxTxs");
    refused({ emptyBlocks: "yes" }, "emptyBlocks");
    refused({ p2p: { enabled: true, nodeId: "Bad Name" } }, "p2p.nodeId");
    refused({ p2p: { peers: ["no-port"] } }, "p2p.peers");
    refused({ p2p: { maxFrameBytes: 10 } }, "p2p.maxFrameBytes");
    refused({ consensus: { timeouts: { proposeMs: -5 } } }, "consensus.timeouts.proposeMs");
    refused({ logLevel: "loud" }, "logLevel");
  });

  it("names a missing file and a file that is not JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "zl-config-"));
    try {
      const path = join(dir, "config.json");
      assert.throws(
        () => loadConfig(path),
        (err: unknown) => err instanceof InvalidInputError && err.code === "CONFIG_MISSING",
      );
      writeFileSync(path, "{ not json");
      assert.throws(
        () => loadConfig(path),
        (err: unknown) =>
          err instanceof InvalidInputError && err.code === "CONFIG_INVALID" && err.message.includes(path),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
