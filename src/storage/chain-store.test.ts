import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ClassicLevel } from "classic-level";
import { FatalError } from "../errors/index.js";
import { ChainStore, STORAGE_FORMAT } from "./chain-store.js";

const GENESIS_WRITE = {
  height: 0,
  changes: [{ key: Uint8Array.of(1), value: Uint8Array.of(2) }],
  newNodes: [],
  staleNodeKeys: [],
  head: {
    height: 0,
    blockHash: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    rootNodeKey: null,
    time: 0,
  },
};

/** Sets (or with `undefined`, deletes) the store's format record behind its back. */
async function setFormatRecord(dir: string, value: Uint8Array | undefined): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  if (value === undefined) await db.del(Uint8Array.of(0x46));
  else await db.put(Uint8Array.of(0x46), value);
  await db.close();
}

describe("ChainStore storage format", () => {
  it("records its format with genesis and refuses a store of another format", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zl-store-"));
    try {
      const store = new ChainStore(dir);
      await store.open();
      await store.writeGenesis(new Uint8Array(32).fill(1), GENESIS_WRITE);
      await store.close();

      const again = new ChainStore(dir);
      await again.open(); // same format: opens
      assert.deepEqual([...(again.getState(Uint8Array.of(1)) ?? [])], [2]);
      await again.close();

      for (const [record, format] of [
        [undefined, 1], // format 1 wrote no record
        [Uint8Array.of(9), 9],
        [Uint8Array.of(2, 0), -1],
      ] as const) {
        await setFormatRecord(dir, record);
        await assert.rejects(
          () => new ChainStore(dir).open(), // closes its database before it throws
          (err: unknown) =>
            err instanceof FatalError &&
            err.code === "STORAGE_FORMAT_UNSUPPORTED" &&
            (err.meta as { format: number }).format === format &&
            err.message.includes(`reads format ${STORAGE_FORMAT}`),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
