/**
 * In-memory node store for tests and simulation: a NodeReader plus an applier that records,
 * per version, which nodes became stale, so pruning can be exercised exactly as the storage
 * layer does it.
 */
import { latin1String } from "../ledger/bytes.js";
import type { NodeReader, TrieUpdate } from "./trie.js";

export class MemoryNodeStore implements NodeReader {
  private readonly nodes = new Map<string, Uint8Array>();
  /** version at which nodes became stale -> their keys */
  private readonly staleIndex = new Map<number, Uint8Array[]>();

  getNode(nodeKey: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(latin1String(nodeKey));
  }

  hasNode(nodeKey: Uint8Array): boolean {
    return this.nodes.has(latin1String(nodeKey));
  }

  /** Number of stored nodes. */
  get size(): number {
    return this.nodes.size;
  }

  /** Write the update's new nodes and index its stale nodes under `version`. */
  apply(update: TrieUpdate, version: number): void {
    for (const [k, v] of update.newNodes) this.nodes.set(latin1String(k), v);
    if (update.staleNodeKeys.length > 0) {
      const list = this.staleIndex.get(version) ?? [];
      for (const k of update.staleNodeKeys) list.push(k);
      this.staleIndex.set(version, list);
    }
  }

  /** Keys of nodes that became stale at a version <= `version` (not yet pruned). */
  staleThrough(version: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [v, list] of this.staleIndex) if (v <= version) out.push(...list);
    return out;
  }

  /** Delete the given nodes; returns how many existed. */
  prune(nodeKeys: Iterable<Uint8Array>): number {
    let n = 0;
    for (const k of nodeKeys) if (this.nodes.delete(latin1String(k))) n++;
    return n;
  }

  /**
   * Delete every node that became stale at a version <= `version`: afterwards the trees of all
   * versions >= `version` remain fully readable.
   */
  pruneThrough(version: number): number {
    let n = 0;
    for (const [v, list] of [...this.staleIndex]) {
      if (v > version) continue;
      n += this.prune(list);
      this.staleIndex.delete(v);
    }
    return n;
  }
}
