/**
 * State checkpoints (ADR 0021): the state index and trie reach the disk every few blocks, each
 * block's change set with the block. The same blocks must give the same roots and proofs whatever
 * the interval; a crash between checkpoints must lose nothing; pruning must keep every height of
 * the retention window provable.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ClassicLevel } from "classic-level";
import { encode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import { FatalError, NotFoundError } from "../errors/index.js";
import { ModuleRegistry } from "../execution/engine.js";
import { VOTE_PRECOMMIT, voteSignBytes } from "../ledger/block.js";
import { toHex, u64be, utf8 } from "../ledger/bytes.js";
import { type Genesis, parseGenesis } from "../ledger/genesis.js";
import { addressOf, signTx } from "../ledger/tx.js";
import { silentLogger } from "../log/logger.js";
import { nativeModules } from "../modules/index.js";
import { encodeProof } from "../state/proof.js";
import { ChainStore, type StoreOptions } from "../storage/chain-store.js";
import { Chain } from "./chain.js";

const suite = getSuite("intl");
const adminSeed = new Uint8Array(32).fill(0x31);
const validatorSeed = new Uint8Array(32).fill(0x32);
const adminPub = suite.publicKeyFromPrivate(adminSeed);
const genesis: Genesis = parseGenesis(
  {
    chainId: "zl-checkpoints",
    suite: "intl",
    genesisTime: "2026-01-01T00:00:00.000Z",
    orgs: [
      { id: "market", name: "市场监督管理局", code: "11100000000000000X", rootPublicKey: toHex(adminPub) },
    ],
    validators: [{ publicKey: toHex(suite.publicKeyFromPrivate(validatorSeed)), power: 10, org: "market" }],
  },
  (id) => getSuite(id).publicKeyLength,
);
const NONCE_KEY = utf8(`nonce/${toHex(addressOf(suite, adminPub))}`);
const TX_PER_BLOCK = 3;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openChain(dir: string, opts: Partial<StoreOptions>): Promise<Chain> {
  const store = new ChainStore(dir, opts);
  await store.open();
  const chain = new Chain(store, suite, genesis, new ModuleRegistry(nativeModules()), silentLogger());
  await chain.init();
  return chain;
}

async function newChain(opts: Partial<StoreOptions>): Promise<{ chain: Chain; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "zl-checkpoint-"));
  dirs.push(dir);
  return { chain: await openChain(dir, opts), dir };
}

/** Commits blocks up to `height`, each with TX_PER_BLOCK attestations: the same blocks on every chain. */
async function commitUpTo(chain: Chain, height: number): Promise<void> {
  for (let h = chain.height + 1; h <= height; h++) {
    const txs = Array.from({ length: TX_PER_BLOCK }, (_, i) => {
      const nonce = (h - 1) * TX_PER_BLOCK + i;
      return signTx(suite, adminSeed, {
        chainId: genesis.chainId,
        sender: adminPub,
        nonce,
        expiry: 10_000,
        module: "attest",
        call: "record",
        args: {
          digest: suite.hash(utf8(`document ${nonce}`)),
          kind: "contract",
          provenance: { system: "qyxx", generatedAt: 1767225600000, method: "scan" },
        },
      });
    });
    const p = chain.prepareBlock(txs, 1767225600000 + h * 1000, addressOf(suite, adminPub));
    assert.equal(p.result.included.length, TX_PER_BLOCK, `block ${h} left transactions out`);
    const signature = suite.sign(validatorSeed, voteSignBytes(genesis.chainId, VOTE_PRECOMMIT, h, 0, p.hash));
    await chain.commit(p, {
      height: h,
      round: 0,
      blockHash: p.hash,
      signatures: [{ validatorIndex: 0, signature }],
    });
  }
}

/** What a verifier sees of a key at every height from `from`: the value and the encoded proof. */
function provenHistory(chain: Chain, from: number): string[] {
  const out: string[] = [];
  for (let h = from; h <= chain.height; h++) {
    const s = chain.stateAt(NONCE_KEY, h);
    assert.equal(toHex(s.header.stateRoot), toHex(chain.block(h).header.stateRoot));
    out.push(`${h} ${toHex(s.value ?? new Uint8Array(0))} ${toHex(encodeProof(s.proof))}`);
  }
  return out;
}

async function countRecords(dir: string, prefix: string): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  let n = 0;
  const p = prefix.charCodeAt(0);
  for await (const _ of db.keys({ gte: Uint8Array.of(p), lt: Uint8Array.of(p + 1) })) n++;
  await db.close();
  return n;
}

/** A copy of a live store's files: what a kill -9 at this moment leaves (every write was synced). */
function crashImage(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), "zl-checkpoint-crash-"));
  dirs.push(copy);
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, "LOCK"), { force: true });
  return copy;
}

describe("state checkpoints", () => {
  it("give the same roots and proofs at every height as writing with every block, with fewer trie records", async () => {
    const every = await newChain({ checkpointBlocks: 1 });
    const sparse = await newChain({ checkpointBlocks: 5 });
    await commitUpTo(every.chain, 12);
    await commitUpTo(sparse.chain, 12);
    assert.equal(toHex(sparse.chain.head().stateRoot), toHex(every.chain.head().stateRoot));
    // Heights 11 and 12 are past the last checkpoint (10); 1–4 and 6–9 lie between checkpoints.
    assert.equal(sparse.chain.store.checkpointAt, 10);
    assert.deepEqual(provenHistory(sparse.chain, 1), provenHistory(every.chain, 1));

    await every.chain.store.close();
    await sparse.chain.store.close(); // writes a checkpoint at 12
    const everyNodes = await countRecords(every.dir, "n");
    const sparseNodes = await countRecords(sparse.dir, "n");
    assert.ok(
      sparseNodes < everyNodes,
      `trie records: ${sparseNodes} with checkpoints, ${everyNodes} without`,
    );

    const reopened = await openChain(sparse.dir, { checkpointBlocks: 5 });
    assert.equal(reopened.store.checkpointAt, 12);
    const again = await openChain(every.dir, { checkpointBlocks: 1 });
    assert.deepEqual(provenHistory(reopened, 1), provenHistory(again, 1));
    await reopened.store.close();
    await again.store.close();
  });

  it("lose nothing in a crash between checkpoints: the change sets replay to the headers' roots", async () => {
    const reference = await newChain({ checkpointBlocks: 1 });
    const live = await newChain({ checkpointBlocks: 4 });
    await commitUpTo(reference.chain, 11);
    await commitUpTo(live.chain, 11);
    assert.equal(live.chain.store.checkpointAt, 8);
    const image = crashImage(live.dir);

    const restarted = await openChain(image, { checkpointBlocks: 4 });
    assert.equal(restarted.height, 11);
    assert.deepEqual(restarted.store.pendingHeights(), { from: 9, to: 11 });
    assert.deepEqual(provenHistory(restarted, 1), provenHistory(reference.chain, 1));
    // It goes on from there, and its next checkpoint holds what the replay rebuilt.
    await commitUpTo(restarted, 14);
    await commitUpTo(reference.chain, 14);
    assert.equal(restarted.store.checkpointAt, 12);
    assert.deepEqual(provenHistory(restarted, 1), provenHistory(reference.chain, 1));
    await restarted.store.close();
    await live.chain.store.close();
    await reference.chain.store.close();
  });

  it("refuse to start on a change set that does not give its header's state root", async () => {
    const live = await newChain({ checkpointBlocks: 4 });
    await commitUpTo(live.chain, 6);
    const image = crashImage(live.dir);
    await live.chain.store.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(image, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await db.open();
    await db.put(Uint8Array.of(0x64, ...u64be(6)), encode([[NONCE_KEY, Uint8Array.of(1)]]));
    await db.close();
    await assert.rejects(
      () => openChain(image, { checkpointBlocks: 4 }),
      (err: unknown) =>
        err instanceof FatalError &&
        err.code === "STORAGE_CORRUPT" &&
        err.message.includes("block 6's change set"),
    );
  });

  it("keep every height from the oldest kept provable after pruning, and refuse the ones before", async () => {
    const reference = await newChain({ checkpointBlocks: 1 });
    const pruned = await newChain({ checkpointBlocks: 4 });
    await commitUpTo(reference.chain, 14);
    await commitUpTo(pruned.chain, 14);
    const deleted = await pruned.chain.store.pruneState(10); // replays now start from checkpoint 8
    assert.ok(deleted > 0, "pruning deleted no trie record");
    assert.equal(pruned.chain.store.oldestProvableHeight(), 10);
    assert.deepEqual(provenHistory(pruned.chain, 10), provenHistory(reference.chain, 10));
    for (const h of [1, 7, 9])
      assert.throws(
        () => pruned.chain.stateAt(NONCE_KEY, h),
        (err: unknown) => err instanceof NotFoundError && err.code === "STATE_HEIGHT_PRUNED",
        `height ${h}`,
      );
    await pruned.chain.store.close();
    await reference.chain.store.close();
    // Change sets after the base checkpoint remain (9–11, 13 and 14: a checkpoint's block needs
    // none), and the checkpoints from it on (8, 12 and 14).
    assert.equal(await countRecords(pruned.dir, "d"), 5);
    assert.equal(await countRecords(pruned.dir, "R"), 3);
  });
});
