/**
 * Property: whatever the checkpoint limits, the blocks and the moment of a crash, a store with
 * checkpoints (ADR 0021) reads the same values and trie as the model, computes the same roots as
 * a store that writes every block, and after a crash its change sets replay to the same roots.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { applyModel, hex, type Model, referenceRoot, sha256 } from "../state/test-support.js";
import { type StateChange, StateTrie } from "../state/trie.js";
import { ChainStore, type StoreOptions } from "./chain-store.js";

const KEYS = 12;
const change = fc.record({
  key: fc.integer({ min: 0, max: KEYS - 1 }).map((k) => Uint8Array.of(0x6b, k)),
  value: fc.option(fc.uint8Array({ minLength: 1, maxLength: 90 }), { nil: null, freq: 4 }),
});
const blocks = fc.array(fc.array(change, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 14 });
const limits = fc.record({
  checkpointBlocks: fc.integer({ min: 1, max: 5 }),
  checkpointBytes: fc.constantFrom(200, 2_000, 4 * 1024 * 1024),
});

/** A store with its own trie over it, as `Chain` has. */
class StoreWithTrie {
  readonly trie: StateTrie;
  private constructor(readonly store: ChainStore) {
    this.trie = new StateTrie(sha256, { getNode: (k) => store.getNode(k) });
  }

  static async open(dir: string, opts: Partial<StoreOptions>, genesis: boolean): Promise<StoreWithTrie> {
    const store = new ChainStore(dir, opts);
    await store.open();
    const node = new StoreWithTrie(store);
    if (genesis) {
      const empty = sha256(new Uint8Array(0));
      await store.writeGenesis(empty, {
        height: 0,
        changes: [],
        newNodes: [],
        staleNodeKeys: [],
        head: { height: 0, blockHash: empty, stateRoot: new Uint8Array(32), rootNodeKey: null, time: 0 },
      });
    }
    return node;
  }

  get height(): number {
    return this.store.head()?.height ?? 0;
  }

  async commit(changes: StateChange[]): Promise<Uint8Array> {
    const head = this.store.head();
    if (!head) throw new Error("no head");
    const height = head.height + 1;
    const update = this.trie.update(head.rootNodeKey, height, changes);
    await this.store.commitBlock({
      height,
      blockBytes: Uint8Array.of(height),
      commitBytes: Uint8Array.of(height),
      receiptsBytes: Uint8Array.of(0x80),
      txIds: [],
      changes,
      newNodes: update.newNodes,
      staleNodeKeys: update.staleNodeKeys,
      head: {
        height,
        blockHash: update.root,
        stateRoot: update.root,
        rootNodeKey: update.rootNodeKey,
        time: height,
      },
    });
    return update.root;
  }

  /** What `Chain.init` does after a crash: the change sets since the checkpoint, checked root by root. */
  replay(roots: readonly Uint8Array[]): void {
    const { from, to } = this.store.pendingHeights();
    let rootNodeKey = this.store.checkpointAtOrBelow(from - 1)?.rootNodeKey ?? null;
    for (let height = from; height <= to; height++) {
      const changes = this.store.changesAt(height);
      assert.ok(changes, `change set ${height} missing`);
      const update = this.trie.update(rootNodeKey, height, changes);
      assert.equal(hex(update.root), hex(roots[height]!), `replayed root at ${height}`);
      this.store.restoreBlock({ ...update, changes });
      rootNodeKey = update.rootNodeKey;
    }
  }

  /**
   * Every key's value through the store's index and through its trie matches the model; the
   * index is read with the state-key filter in use, so a key the filter lost would show here.
   */
  async check(model: Model, label: string): Promise<void> {
    assert.equal(await this.store.stateKeyFilterSettled(), true, `${label}: key filter in use`);
    const root = this.store.head()?.rootNodeKey ?? null;
    for (let k = 0; k < KEYS; k++) {
      const key = Uint8Array.of(0x6b, k);
      const want = model.get(hex(key))?.[1];
      const label2 = `${label}: key ${k}`;
      assert.equal(
        hex(this.store.getState(key) ?? new Uint8Array(0)),
        hex(want ?? new Uint8Array(0)),
        label2,
      );
      assert.equal(
        hex(this.trie.get(root, key) ?? new Uint8Array(0)),
        hex(want ?? new Uint8Array(0)),
        label2,
      );
    }
  }
}

describe("ChainStore checkpoints (property)", () => {
  it("match writing every block, and replay after a crash at any block", async () => {
    await fc.assert(
      fc.asyncProperty(blocks, limits, fc.nat(), async (list, opts, crashSeed) => {
        const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "zl-ckprop-")));
        const [refDir, liveDir, imageDir] = dirs as [string, string, string];
        try {
          const reference = await StoreWithTrie.open(refDir, { checkpointBlocks: 1 }, true);
          const live = await StoreWithTrie.open(liveDir, opts, true);
          let model: Model = new Map();
          const roots: Uint8Array[] = [new Uint8Array(32)];
          const crashAfter = crashSeed % (list.length + 1);
          let restarted: StoreWithTrie | undefined;
          for (let i = 0; i < list.length; i++) {
            const changes = list[i]!;
            model = applyModel(model, changes);
            const want = await reference.commit(changes);
            roots.push(want);
            assert.equal(hex(want), hex(referenceRoot(sha256, model)), "reference root");
            assert.equal(hex(await live.commit(changes)), hex(want), `root at ${i + 1}`);
            if (i + 1 === crashAfter) {
              // A copy of the live files is what a kill -9 now leaves: every write was synced.
              cpSync(liveDir, imageDir, { recursive: true });
              rmSync(join(imageDir, "LOCK"), { force: true });
            }
          }
          await live.check(model, "live");
          if (crashAfter > 0) {
            restarted = await StoreWithTrie.open(imageDir, opts, false);
            assert.equal(restarted.height, crashAfter);
            restarted.replay(roots);
            // It goes on with the blocks the crash cut off.
            for (let i = crashAfter; i < list.length; i++)
              assert.equal(
                hex(await restarted.commit(list[i]!)),
                hex(roots[i + 1]!),
                `root at ${i + 1} after restart`,
              );
            await restarted.check(model, "restarted");
            await restarted.store.close();
          }
          await live.store.close();
          await reference.store.close();
          const reopened = await StoreWithTrie.open(liveDir, opts, false);
          assert.deepEqual(reopened.store.pendingHeights(), { from: list.length + 1, to: list.length });
          await reopened.check(model, "reopened after close");
          await reopened.store.close();
        } finally {
          for (const d of dirs) rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 30 },
    );
  });
});
