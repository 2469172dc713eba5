/**
 * `zl bench block`: the main-thread cost of one transaction on the block path, without HTTP,
 * signature checks or other processes — decode (as admission does), build and execute the block
 * (`Chain.prepareBlock`: execution, state trie, Merkle roots) and commit it to a real LevelDB
 * store (the synchronous part, then the wait for the synced write). One process, one thread of
 * JavaScript: the figures move far less with the machine's other load than a node benchmark's, so
 * they show what a change to execution, the trie, the codec or storage is worth.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { ModuleRegistry } from "../execution/engine.js";
import type { PreparedBlock } from "../execution/prepared-block.js";
import type { Commit } from "../ledger/block.js";
import { type DecodedTx, decodeTx } from "../ledger/tx.js";
import { silentLogger } from "../log/logger.js";
import { nativeModules } from "../modules/index.js";
import { Chain } from "../node/chain.js";
import { homePaths, readGenesisFile, readPrivateKey } from "../node/home.js";
import { Signer } from "../sdk/signer.js";
import { ChainStore } from "../storage/chain-store.js";
import { enrolTxs, initBenchHome } from "./load.js";

export interface BlockPathOptions {
  suite: SuiteId;
  /** Transactions per block. */
  blockTxs: number;
  blocks: number;
}

export interface BlockPathResult {
  bench: "block-path";
  suite: SuiteId;
  block_txs: number;
  blocks: number;
  /** Main-thread µs per transaction, medians over the blocks. */
  decode_us_per_tx: number;
  prepare_us_per_tx: number;
  commit_sync_us_per_tx: number;
  /** From the start of the commit to the synced write's completion. */
  commit_total_us_per_tx: number;
  /** The process's CPU time per transaction over the timed blocks (all threads: LevelDB's too). */
  cpu_us_per_tx: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runBlockPathBench(o: BlockPathOptions): Promise<BlockPathResult> {
  const suite = getSuite(o.suite);
  const home = mkdtempSync(join(tmpdir(), `zl-bench-block-${o.suite}-`));
  const store = new ChainStore(homePaths(home).data);
  try {
    initBenchHome(home, o.suite, {});
    const paths = homePaths(home);
    const genesis = readGenesisFile(paths.genesis);
    await store.open();
    const chain = new Chain(store, suite, genesis, new ModuleRegistry(nativeModules()), silentLogger());
    await chain.init();
    // The single validator's own commit certificate is not what is measured: any signature does.
    const commitOf = (p: PreparedBlock): Commit => ({
      height: p.block.header.height,
      round: 0,
      blockHash: p.hash,
      signatures: [{ validatorIndex: 0, signature: new Uint8Array(suite.signatureLength) }],
    });
    let time = genesis.genesisTime;
    const nextTime = () => {
      time += 1000;
      return time;
    };
    const proposer = new Uint8Array(20);
    const run = async (txs: readonly DecodedTx[]) => {
      const p = chain.prepareBlock(txs, nextTime(), proposer);
      await chain.commit(p, commitOf(p));
      return p;
    };
    const admin = new Signer(suite, readPrivateKey(suite, paths.key("admin")));
    const senders = Array.from({ length: 200 }, () => Signer.generate(suite));
    await run(enrolTxs(admin, genesis.chainId, senders, ["official"]));

    const total = o.blockTxs * o.blocks;
    const raw: Uint8Array[] = [];
    for (let j = 0; j < total; j++)
      raw.push(
        senders[j % senders.length]!.sign(genesis.chainId, {
          module: "attest",
          call: "record",
          args: {
            digest: randomBytes(32),
            kind: "bench",
            provenance: { system: "zl-bench", generatedAt: genesis.genesisTime, method: "random" },
          },
          nonce: Math.floor(j / senders.length),
          expiry: 1_000_000,
        }).bytes,
      );

    const decodeUs: number[] = [];
    const prepareUs: number[] = [];
    const commitSyncUs: number[] = [];
    const commitTotalUs: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < o.blocks; b++) {
      const t0 = performance.now();
      const txs = raw
        .slice(b * o.blockTxs, (b + 1) * o.blockTxs)
        .map((r) => decodeTx(suite, r, genesis.params.maxTxBytes));
      const t1 = performance.now();
      const p = chain.prepareBlock(txs, nextTime(), proposer);
      const t2 = performance.now();
      const written = chain.commit(p, commitOf(p));
      const t3 = performance.now();
      await written;
      const t4 = performance.now();
      if (p.result.included.length !== o.blockTxs)
        throw new Error(`block ${b}: ${p.result.excluded.length} transactions left out`);
      const per = 1000 / o.blockTxs;
      decodeUs.push((t1 - t0) * per);
      prepareUs.push((t2 - t1) * per);
      commitSyncUs.push((t3 - t2) * per);
      commitTotalUs.push((t4 - t2) * per);
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      bench: "block-path",
      suite: o.suite,
      block_txs: o.blockTxs,
      blocks: o.blocks,
      decode_us_per_tx: median(decodeUs),
      prepare_us_per_tx: median(prepareUs),
      commit_sync_us_per_tx: median(commitSyncUs),
      commit_total_us_per_tx: median(commitTotalUs),
      cpu_us_per_tx: (cpu.user + cpu.system) / total,
    };
  } finally {
    await store.close().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}
