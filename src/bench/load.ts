/** Helpers shared by the benchmarks and the real-process tests: set-up and load generation. */
import { initHome } from "../cli/init.js";
import type { SuiteId } from "../crypto/suite.js";
import type { Role } from "../execution/accounts.js";
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import type { NodeConfig } from "../node/config.js";
import type { ZlClient } from "../sdk/client.js";
import type { Signer } from "../sdk/signer.js";

/** The unified social credit code of the benchmarks' organization "market". */
export const BENCH_ORG_CODE = "11100000000000000X";

/** A single-validator home for a benchmark: organization "market" with its admin key. */
export function initBenchHome(home: string, suite: SuiteId, config: Partial<NodeConfig>): void {
  initHome({
    home,
    suite,
    chainId: "zl-bench",
    orgId: "market",
    orgName: "Bench",
    orgCode: BENCH_ORG_CODE,
    port: 0,
    config,
  });
}

/** Enrolment of `accounts` with `roles`, signed by an organization's admin, nonces from `firstNonce`. */
export function enrolTxs(
  admin: Signer,
  chainId: string,
  accounts: readonly Signer[],
  roles: Role[],
  firstNonce = 0,
): DecodedTx[] {
  return accounts.map((s, i) =>
    admin.sign(chainId, {
      module: "membership",
      call: "enroll",
      args: { publicKey: s.publicKey, roles },
      nonce: firstNonce + i,
      expiry: 1_000_000,
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Submits a batch, retrying while the node answers 503 (its mempool is full: back-pressure), and
 * retrying the transactions it refused with MEMPOOL_FULL when the pool filled part-way through
 * the batch: dropped, they would leave their senders' later nonces waiting behind a gap.
 * Returns how many transactions the node refused for other reasons.
 */
export async function submitUntilAccepted(client: ZlClient, txs: readonly DecodedTx[]): Promise<number> {
  let pending = txs;
  let refused = 0;
  for (;;) {
    let results: Array<{ ok: boolean; error?: { code: string } }>;
    try {
      results = (await client.submitBatch(pending.map((t) => t.bytes))).results;
    } catch (err: unknown) {
      if ((err as { status?: number }).status !== 503) throw err;
      await sleep(20);
      continue;
    }
    const full: DecodedTx[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.ok) continue;
      if (r.error?.code === "MEMPOOL_FULL") full.push(pending[i]!);
      else refused++;
    }
    if (full.length === 0) return refused;
    pending = full;
    await sleep(20);
  }
}

/** Waits for a setup transaction to commit successfully; returns its height. */
export async function waitCommitted(client: ZlClient, tx: DecodedTx): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const t = (await client.getTx(toHex(tx.id)).catch(() => ({ status: "pending" }))) as {
      status: string;
      height?: number;
      receipt?: { code: string };
    };
    if (t.status === "committed") {
      if (t.receipt && t.receipt.code !== "OK")
        throw new Error(`setup transaction failed: ${t.receipt.code}`);
      return t.height ?? 0;
    }
    await sleep(50);
  }
  throw new Error("setup transaction did not commit within 30 s");
}
