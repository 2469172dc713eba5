export { EMPTY_HASH, type HashFn, internalHash, leafHash } from "./hashing.js";
export { MemoryNodeStore } from "./memory-store.js";
export { decodeProof, encodeProof, type StateProof, type StateProofLeaf } from "./proof.js";
export { type NodeReader, type StateChange, StateTrie, type TrieUpdate } from "./trie.js";
export { verifyStateProof } from "./verify.js";
