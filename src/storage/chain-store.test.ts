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

/** Runs `body` on a store in a new directory with genesis written; removes the directory after. */
async function withGenesisStore(body: (store: ChainStore, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "zl-store-"));
  try {
    const store = new ChainStore(dir);
    await store.open();
    await store.writeGenesis(new Uint8Array(32).fill(1), GENESIS_WRITE);
    await body(store, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("ChainStore storage format", () => {
  it("records its format with genesis and refuses a store of another format", async () => {
    await withGenesisStore(async (store, dir) => {
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
    });
  });
});

describe("ChainStore change sets", () => {
  it("keeps a block's change set of any size for replay, and the values across a checkpoint", async () => {
    await withGenesisStore(async (store, dir) => {
      // Larger than the codec's default bound of 4 MiB, as a full block's changes may be.
      const big = Array.from({ length: 5 }, (_, i) => ({
        key: Uint8Array.of(7, i),
        value: new Uint8Array(1024 * 1024).fill(i + 1),
      }));
      const w = { ...blockWrite(1, 1), changes: [...big, { key: Uint8Array.of(1), value: null }] };
      await store.commitBlock(w);
      const changes = store.changesAt(1);
      assert.equal(changes?.length, 6);
      assert.deepEqual(changes?.[4]?.value?.subarray(0, 3), Uint8Array.of(5, 5, 5));
      assert.equal(changes?.[5]?.value, null);
      assert.equal(store.getState(Uint8Array.of(1)), undefined); // deleted, before any checkpoint
      await store.close();
      const again = new ChainStore(dir);
      await again.open();
      assert.equal(again.getState(Uint8Array.of(1)), undefined); // deleted on disk by the checkpoint
      assert.equal(again.getState(Uint8Array.of(7, 2))?.length, 1024 * 1024);
      await again.close();
    });
  });
});

describe("ChainStore format upgrade", () => {
  it("opens a store of format 2 as format 3, with its head as the checkpoint", async () => {
    await withGenesisStore(async (store, dir) => {
      await store.commitBlock(blockWrite(1, 2));
      await store.close(); // the checkpoint is now at 1
      // Format 2 wrote the state with every block and had no checkpoint record.
      await setFormatRecord(dir, Uint8Array.of(2));
      const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
        keyEncoding: "view",
        valueEncoding: "view",
      });
      await db.open();
      await db.del(Uint8Array.of(0x57));
      await db.close();

      const upgraded = new ChainStore(dir);
      await upgraded.open();
      assert.equal(upgraded.checkpointAt, 1);
      assert.deepEqual(upgraded.pendingHeights(), { from: 2, to: 1 });
      assert.deepEqual([...(upgraded.getState(Uint8Array.of(9, 1)) ?? [])], [1]);
      await upgraded.close();
      const check = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
        keyEncoding: "view",
        valueEncoding: "view",
      });
      await check.open();
      assert.deepEqual([...((await check.get(Uint8Array.of(0x46))) ?? [])], [STORAGE_FORMAT]);
      await check.close();
    });
  });
});

const txId = (height: number, i: number) => Uint8Array.of(height, i >> 8, i & 0xff, ...new Uint8Array(29));

/** A block write with `txs` transactions and one state change, all records recognisable by height. */
function blockWrite(height: number, txs: number) {
  const tag = (n: number) => new Uint8Array(32).fill(n);
  return {
    height,
    blockBytes: Uint8Array.of(0xb0, height),
    commitBytes: Uint8Array.of(0xc0, height),
    receiptsBytes: Uint8Array.of(0x80),
    txIds: Array.from({ length: txs }, (_, i) => txId(height, i)),
    changes: [{ key: Uint8Array.of(9, height), value: Uint8Array.of(height) }],
    newNodes: [],
    staleNodeKeys: [],
    head: { height, blockHash: tag(height), stateRoot: tag(height), rootNodeKey: null, time: height },
  };
}

describe("ChainStore block writes", () => {
  it("keeps each write's records to itself, one after another and when writes overlap", async () => {
    await withGenesisStore(async (store, dir) => {
      // One after another: a large block, then smaller ones (a reused batch must start empty).
      await store.commitBlock(blockWrite(1, 500));
      await store.commitBlock(blockWrite(2, 3));
      // Two writes in flight at once (as a block and a pruning pass may be).
      await Promise.all([store.commitBlock(blockWrite(3, 200)), store.commitBlock(blockWrite(4, 1))]);
      await store.close();

      const again = new ChainStore(dir);
      await again.open();
      for (const [height, txs] of [
        [1, 500],
        [2, 3],
        [3, 200],
        [4, 1],
      ] as const) {
        assert.deepEqual([...(again.getBlockBytes(height) ?? [])], [0xb0, height], `block ${height}`);
        assert.deepEqual([...(again.getCommitBytes(height) ?? [])], [0xc0, height]);
        assert.deepEqual([...(again.getState(Uint8Array.of(9, height)) ?? [])], [height]);
        for (const i of [0, txs - 1])
          assert.deepEqual(again.txLocation(txId(height, i)), { height, index: i });
      }
      assert.equal(again.txLocation(txId(2, 3)), undefined);
      await again.close();
    });
  });
});

describe("ChainStore state-key filter", () => {
  /** A block writing `count` state keys [0x61, height, i, i] (values [i]) and deleting none. */
  const keysBlock = (height: number, count: number) => ({
    ...blockWrite(height, 0),
    changes: Array.from({ length: count }, (_, i) => ({
      key: Uint8Array.of(0x61, height, i >> 8, i & 0xff),
      value: Uint8Array.of(i & 0xff),
    })),
  });

  it("answers keys never written without the database, and finds every key on disk after a reopen", async () => {
    await withGenesisStore(async (store, dir) => {
      await store.commitBlock(keysBlock(1, 300));
      await store.commitBlock({
        ...keysBlock(2, 1),
        changes: [{ key: Uint8Array.of(0x61, 1, 0, 7), value: null }],
      });
      await store.close();

      const again = new ChainStore(dir);
      await again.open();
      assert.equal(await again.stateKeyFilterSettled(), true);
      const before = again.stateKeyFilterStats();
      assert.equal(before.ready, true);
      assert.ok(before.keys >= 300, `${before.keys} keys scanned`);
      for (let i = 0; i < 300; i++) {
        const k = Uint8Array.of(0x61, 1, i >> 8, i & 0xff);
        // Key 7 was deleted before it ever reached the disk: the filter may well not know it.
        if (i !== 7) assert.equal(again.mayHoldStateKey(k), true, `key ${i}`);
        assert.deepEqual([...(again.getState(k) ?? [])], i === 7 ? [] : [i & 0xff], `key ${i}`);
      }
      const answered = again.stateKeyFilterStats().absentAnswers;
      let absent = 0;
      for (let i = 0; i < 1000; i++) {
        const k = Uint8Array.of(0x62, i >> 8, i & 0xff);
        assert.equal(again.getState(k), undefined);
        if (!again.mayHoldStateKey(k)) absent++;
      }
      assert.ok(absent > 950, `${absent} of 1000 absent keys recognised`);
      assert.equal(again.stateKeyFilterStats().absentAnswers - answered, absent);
      await again.close();
    });
  });

  it("holds the keys written while it scans the disk", async () => {
    await withGenesisStore(async (store, dir) => {
      // 72,000 keys: more than the filter's first stage holds (65,536).
      for (let h = 1; h <= 8; h++) await store.commitBlock(keysBlock(h, 9000));
      await store.close();

      const again = new ChainStore(dir, { checkpointBlocks: 2 });
      await again.open();
      // Blocks 9 (held in memory) and 10 (a checkpoint) are committed while the scan runs.
      const writing = again.commitBlock(keysBlock(9, 500));
      assert.equal(again.stateKeyFilterStats().ready, false);
      await writing;
      await again.commitBlock(keysBlock(10, 500));
      assert.equal(await again.stateKeyFilterSettled(), true);
      assert.ok(again.stateKeyFilterStats().bytes > (65_536 * 10) / 8, "a second stage");
      for (let h = 1; h <= 10; h++)
        for (let i = 0; i < (h >= 9 ? 500 : 9000); i++)
          if (!again.mayHoldStateKey(Uint8Array.of(0x61, h, i >> 8, i & 0xff)))
            assert.fail(`key ${i} of block ${h} missing from the filter`);
      await again.close();
    });
  });

  it("stops its scan when the store is closed first, and then reads from the database", async () => {
    await withGenesisStore(async (store, dir) => {
      for (let h = 1; h <= 4; h++) await store.commitBlock(keysBlock(h, 1000));
      await store.close();
      const again = new ChainStore(dir);
      await again.open();
      await again.close();
      assert.equal(await again.stateKeyFilterSettled(), false);
      assert.equal(again.mayHoldStateKey(Uint8Array.of(0x62)), true);
    });
  });
});

describe("ChainStore value cache", () => {
  it("gives the latest value after each checkpoint, for keys it holds and keys never read", async () => {
    await withGenesisStore(async (store) => {
      const read = Uint8Array.of(0x63, 1);
      const unread = Uint8Array.of(0x63, 2);
      const write = (height: number, v: number) => ({
        ...blockWrite(height, 0),
        changes: [
          { key: read, value: Uint8Array.of(v) },
          { key: unread, value: Uint8Array.of(v) },
        ],
      });
      await store.close();
      const again = new ChainStore(store.dir, { checkpointBlocks: 1 });
      await again.open();
      await again.commitBlock(write(1, 1)); // a checkpoint: both on disk
      assert.deepEqual([...(again.getState(read) ?? [])], [1]); // now cached
      await again.commitBlock(write(2, 2)); // a checkpoint: the cached one is refreshed
      assert.deepEqual([...(again.getState(read) ?? [])], [2]);
      assert.deepEqual([...(again.getState(unread) ?? [])], [2]);
      await again.commitBlock(write(3, 3));
      assert.deepEqual([...(again.getState(read) ?? [])], [3]);
      assert.deepEqual([...(again.getState(unread) ?? [])], [3]);
      await again.close();
    });
  });
});
