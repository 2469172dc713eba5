/** A block built and executed but not yet committed: what consensus decides on and storage writes. */
import type { Block } from "../ledger/block.js";
import type { TrieUpdate } from "../state/trie.js";
import type { BlockResult } from "./engine.js";

export interface PreparedBlock {
  block: Block;
  hash: Uint8Array;
  txBytes: Uint8Array[];
  result: BlockResult;
  receiptsBytes: Uint8Array[];
  /** The block's state changes (computed once: the trie update and the store both use them). */
  changes: Array<{ key: Uint8Array; value: Uint8Array | null }>;
  trie: TrieUpdate;
}
